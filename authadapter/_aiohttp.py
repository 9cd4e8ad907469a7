"""The aiohttp adapter: one client middleware (aiohttp >= 3.12) over the core.

aiohttp calls a session's middlewares once for every hop, redirects
included, with the request it is about to send. So one middleware does what
the requests adapter spreads over its auth and a response hook: each hop
gets the ``Authorizer``'s decision for its own URL (``decide_async``: a cold
lookup runs off the event loop), a redirect leaving the origin loses the
first origin's conda token from its ``Location``, and a rejection earns the
one re-send ``reconsider_async`` allows, through the same handler.

aiohttp itself drops ``Authorization`` when a redirect changes origin, and
the middleware adds it to each request, never to the session's headers, so
nothing set for one hop is carried into the next.

The one private touch: aiohttp reads the redirect target from
``response.headers``, a read-only view, so ``guard_redirect`` replaces that
view; if aiohttp's internals change so that the replacement does not show,
it fails closed with ``InvalidUrlRedirectClientError`` rather than follow
the token (tests/integration/test_redirects.py would fail too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._authorizer import authorizer_of
from ._logfilter import install_log_filter
from ._policy import location_without_foreign_token
from ._urls import conda_token_in_path

if TYPE_CHECKING:
    from ._authorizer import Authorizer, Decision
    from ._registry_auth import RegistryAuth

__all__ = ["AiohttpAuth"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})

install_log_filter()


class AiohttpAuth:
    """Registry credentials for aiohttp: ``aiohttp.ClientSession(middlewares=[AiohttpAuth()])``.

    ``auth`` is a ``RegistryAuth`` or an ``Authorizer`` to share its cache
    and settings with other clients; without one, a new ``Authorizer()``
    reads the configuration file. A request that brings its own
    credentials (``auth=``, an ``Authorization`` header, ``user:pass@`` in
    the URL, a ``/t/<token>/`` path) is sent as the caller wrote it.
    A copy (``pickle``) carries the configuration, never a credential.
    """

    __slots__ = ("authorizer",)

    def __init__(self, auth: RegistryAuth | Authorizer | None = None) -> None:
        self.authorizer = authorizer_of(auth)

    def __repr__(self) -> str:
        return f"AiohttpAuth({self.authorizer.chain!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AiohttpAuth, (self.authorizer,))

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        authorizer = self.authorizer
        decision = await authorizer.decide_async(
            str(request.url), "Authorization" in request.headers
        )
        apply(request, decision)
        response = guard_redirect(request, await handler(request))
        status = response.status
        if status != 401 and status != 403:
            return response
        retry = await authorizer.reconsider_async(
            decision,
            status,
            response.headers.get("WWW-Authenticate"),
            str(request.url),
            request.headers.get("Authorization"),
            replayable(request),
        )
        if retry is None:
            return response
        response.release()
        request.headers.popall("Authorization", None)
        apply(request, retry)
        return guard_redirect(request, await handler(request))


def apply(request: aiohttp.ClientRequest, decision: Decision) -> None:
    if decision.url is not None:
        request.url = URL(decision.url, encoded=True)
    if decision.authorization is not None:
        request.headers["Authorization"] = decision.authorization


def replayable(request: aiohttp.ClientRequest) -> bool:
    """Whether aiohttp can send the body again (bytes, a seekable file, no body)."""
    body = request.body
    return not isinstance(body, aiohttp.payload.Payload) or not body.consumed


def guard_redirect(
    request: aiohttp.ClientRequest, response: aiohttp.ClientResponse
) -> aiohttp.ClientResponse:
    """Take the request's conda token out of a ``Location`` that leaves its origin."""
    if response.status not in _REDIRECTS:
        return response
    location = response.headers.get("Location")
    request_url = str(request.url)
    if location is None or conda_token_in_path(request_url) is None:
        return response
    try:
        target = str(request.url.join(URL(location)))
    except ValueError:
        return response  # aiohttp refuses to follow it and raises on its own
    cleaned = location_without_foreign_token(request_url, target)
    if cleaned is None:
        return response
    headers = CIMultiDict(response.headers)
    headers["Location"] = cleaned
    response._headers = CIMultiDictProxy(headers)
    getattr(response, "_cache", {}).pop("headers", None)  # ``headers`` is a cached property
    if response.headers.get("Location") != cleaned:  # fail closed if aiohttp's internals change
        response.close()
        raise aiohttp.InvalidUrlRedirectClientError(
            URL(cleaned), "authadapter could not remove a conda token from this redirect"
        )
    return response
