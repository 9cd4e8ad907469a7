"""The niquests adapter: requests' shape, for ``niquests.Session`` and ``AsyncSession``.

niquests keeps requests' model: the session calls its ``auth`` once per
send, builds every redirect hop from a copy of the first request, drops
``Authorization`` when a hop changes host, port or scheme, and calls the
request's response hooks for every response. So the adapter works as the
requests one does: the auth applies the ``Authorizer``'s decision and
registers a response hook that removes the first origin's conda token from
a redirect leaving the origin and, after a rejection, re-sends once with
what ``reconsider`` gives.

``AsyncNiquestsAuth`` is the same with the I/O awaited: ``AsyncSession``
awaits an auth whose ``__call__`` is a coroutine, so a cold lookup runs off
the event loop (``decide_async``), and awaits coroutine hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import niquests
from niquests.structures import CaseInsensitiveDict
from niquests.utils import requote_uri

from ._authorizer import authorizer_of
from ._logfilter import install_log_filter
from ._policy import location_without_foreign_token, requests_style_redirect_target

if TYPE_CHECKING:
    from ._authorizer import Authorizer, Decision
    from ._origin import Origin
    from ._registry_auth import RegistryAuth

__all__ = ["AsyncNiquestsAuth", "NiquestsAuth"]

install_log_filter()


class NiquestsAuth:
    """Registry credentials for ``niquests.Session``: ``session.auth = NiquestsAuth()``.

    ``auth`` is a ``RegistryAuth`` or an ``Authorizer`` to share its cache
    and settings with other clients; without one, a new ``Authorizer()``
    reads the configuration file. A copy (``pickle``) carries the
    configuration, never a credential.
    """

    __slots__ = ("authorizer",)

    def __init__(self, auth: RegistryAuth | Authorizer | None = None) -> None:
        self.authorizer = authorizer_of(auth)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.authorizer.chain!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.authorizer,))

    def __call__(self, request: niquests.PreparedRequest) -> niquests.PreparedRequest:
        decision = self.authorizer.decide(request.url or "", "Authorization" in headers(request))
        return prepare(request, decision, ResponseHook(self.authorizer, request, decision))


class AsyncNiquestsAuth(NiquestsAuth):
    """Registry credentials for ``niquests.AsyncSession``; a cold lookup never blocks the loop."""

    __slots__ = ()

    async def __call__(  # type: ignore[override]
        self, request: niquests.PreparedRequest
    ) -> niquests.PreparedRequest:
        authorizer = self.authorizer
        url, has_authorization = request.url or "", "Authorization" in headers(request)
        decision = await authorizer.decide_async(url, has_authorization)
        hook = AsyncResponseHook(authorizer, request, decision)
        return prepare(request, decision, hook.__call__)


def headers(request: niquests.PreparedRequest) -> CaseInsensitiveDict[str | bytes, str | bytes]:
    """The request's headers (niquests types them optional; a prepared request has them)."""
    if request.headers is None:
        request.headers = CaseInsensitiveDict()
    return request.headers


def prepare(
    request: niquests.PreparedRequest, decision: Decision, hook: Any
) -> niquests.PreparedRequest:
    if decision.url is not None:
        request.url = decision.url
    if decision.authorization is not None:
        headers(request)["Authorization"] = decision.authorization
    request.hooks["response"].append(hook)
    return request


class ResponseHook:
    """The response hook of one send: what was sent, kept up to date (see ``_requests``)."""

    __slots__ = ("authorizer", "request", "retried", "sent")

    def __init__(
        self, authorizer: Authorizer, request: niquests.PreparedRequest, sent: Decision
    ) -> None:
        self.authorizer = authorizer
        self.request = request
        self.sent = sent
        self.retried: set[Origin] = set()

    def __call__(self, response: niquests.Response, **kwargs: Any) -> niquests.Response:
        if response.is_redirect:
            return guard_redirect(response)
        if not self.rejected(response):
            return response
        retry = self.authorizer.reconsider(self.sent, *rejection(response))
        request = self.resend(response, retry)
        if request is None:
            return response
        response.content  # noqa: B018  (free the connection before re-using it)
        response.close()
        new_response: niquests.Response = response.connection.send(request, **kwargs)
        return followed(new_response, response, request)

    def rejected(self, response: niquests.Response) -> bool:
        """A rejection of an origin not yet re-sent to in this send."""
        status = response.status_code
        if status != 401 and status != 403:
            return False
        origin = self.authorizer.chain.origin_of(response.request.url or "")  # type: ignore[union-attr]
        return origin not in self.retried

    def resend(
        self, response: niquests.Response, retry: Decision | None
    ) -> niquests.PreparedRequest | None:
        """The request to send again with ``retry``; later hops of this send carry it too."""
        if retry is None:
            return None
        last = response.request
        assert last is not None  # niquests sets it on every response
        request = last.copy()
        headers(request).pop("Authorization", None)
        if retry.url is not None:
            request.url = retry.url
        if retry.authorization is not None:
            headers(request)["Authorization"] = retry.authorization
        chain = self.authorizer.chain
        origin = chain.origin_of(last.url or "")
        self.retried.add(origin)
        first = self.request
        if origin == chain.origin_of(first.url or ""):
            self.sent = retry
            headers(first).pop("Authorization", None)
            if retry.authorization is not None:
                headers(first)["Authorization"] = retry.authorization
        return request


class AsyncResponseHook(ResponseHook):
    """``ResponseHook`` for ``AsyncSession``: the fresh lookup and the re-send are awaited."""

    __slots__ = ()

    async def __call__(  # type: ignore[override]
        self, response: niquests.AsyncResponse, **kwargs: Any
    ) -> niquests.Response:
        if response.is_redirect:
            return guard_redirect(response)
        if not self.rejected(response):
            return response
        retry = await self.authorizer.reconsider_async(self.sent, *rejection(response))
        request = self.resend(response, retry)
        if request is None:
            return response
        await response.content
        await response.close()
        new_response = await response.connection.send(request, **kwargs)
        return followed(new_response, response, request)


def rejection(response: niquests.Response) -> tuple[int, str | None, str, str | None, bool]:
    """What ``Authorizer.reconsider`` needs to know of a response and the request it answers."""
    last = response.request
    assert last is not None
    authorization = headers(last).get("Authorization")
    return (
        response.status_code or 0,
        response.headers.get("WWW-Authenticate"),
        last.url or "",
        authorization if isinstance(authorization, str) else None,
        last.body is None or isinstance(last.body, bytes | str),
    )


def followed(
    new: niquests.Response, old: niquests.Response, request: niquests.PreparedRequest
) -> niquests.Response:
    """The response to a re-send, in the place of ``old``; its redirect guarded too.

    The re-send bypasses the session, so no hook of this send sees its
    response: a redirect it answers with is guarded here, before niquests
    follows it.
    """
    new.history.append(old)
    new.request = request
    return guard_redirect(new) if new.is_redirect else new


def redirect_target(request_url: str, location: str) -> str:
    """Where niquests will go for ``location``."""
    return requests_style_redirect_target(request_url, location, requote_uri)


def guard_redirect(response: niquests.Response) -> niquests.Response:
    """Take the first origin's conda token out of a cross-origin ``Location``."""
    last_url = response.request.url or "" if response.request is not None else ""
    target = redirect_target(last_url, response.headers["Location"])
    cleaned = location_without_foreign_token(last_url, target)
    if cleaned is not None:
        response.headers["Location"] = cleaned
    return response
