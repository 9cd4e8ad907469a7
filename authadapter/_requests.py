"""The requests adapter: apply on the way out, check on the way back.

requests calls its ``auth`` once per ``Session.send`` and never for the hops
of a redirect, which it builds from a copy of the first request. So the
adapter works in two places: ``prepare`` applies the credential to the first
request and registers a response hook; the hook, called for every response,
removes the first origin's conda token from a redirect that leaves the origin
and, on a rejection, re-sends once with a fresh credential (the approach
pip's ``MultiDomainBasicAuth`` takes). requests itself drops
``Authorization`` when a redirect changes host, port or scheme.

A request that brings its own credentials is left alone, but still gets the
redirect hook: a conda token the caller put in the path stays on its origin
too. URL credentials (``user:pass@``) are sent as Basic auth, as requests
itself would send them if no ``auth`` were set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.utils import requote_uri

from ._chain import Resolution
from ._credentials import Credential
from ._origin import Origin
from ._policy import (
    carries,
    credential_rejected,
    leave_alone,
    location_without_foreign_token,
)
from ._urls import strip_conda_token

if TYPE_CHECKING:
    from ._registry_auth import RegistryAuth

__all__ = ["prepare"]


def prepare(auth: RegistryAuth, request: requests.PreparedRequest) -> requests.PreparedRequest:
    url = request.url or ""
    if leave_alone(url, request.headers):
        request.register_hook("response", guard_redirect)  # type: ignore[no-untyped-call]
        return request
    resolution = auth.chain.resolve(url)
    request.register_hook(  # type: ignore[no-untyped-call]
        "response", ResponseHook(auth, request, apply(auth, request, resolution))
    )
    return request


class ResponseHook:
    """The response hook of one ``Session.send``: what was sent, kept up to date.

    requests builds every redirect hop from a copy of the first request, so
    after a re-send with a fresh credential the first request is changed too:
    otherwise each hop would go out with the credential just found stale, be
    rejected, and cost another lookup and another request. One re-send per
    origin for the whole send, hops included, as in httpx, whose auth flow
    wraps its redirects: a server that answers every re-send with a redirect
    back to a 401 gets one, not one per hop.
    """

    __slots__ = ("auth", "request", "retried", "sent")

    def __init__(
        self, auth: RegistryAuth, request: requests.PreparedRequest, sent: Credential | None
    ) -> None:
        self.auth = auth
        self.request = request
        self.sent = sent
        self.retried: set[Origin] = set()

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        return handle_response(self, response, kwargs)


def apply(
    auth: RegistryAuth, request: requests.PreparedRequest, resolution: Resolution
) -> Credential | None:
    url = request.url or ""
    if "/t/" in url:
        url = strip_conda_token(url)
    applied = auth.plan(url, resolution)
    if applied is None:
        return None
    request.url = applied.url
    if applied.authorization is not None:
        request.headers["Authorization"] = applied.authorization
    return resolution.credential


def replayable(request: requests.PreparedRequest) -> bool:
    if request.body is None:
        return True
    return isinstance(request.body, (bytes, str))


def redirect_target(request_url: str, location: str) -> str:
    """Where requests will go for ``location``, resolved as ``resolve_redirects`` does."""
    if location.startswith("//"):
        location = f"{urlsplit(request_url).scheme}:{location}"
    if not urlsplit(location).netloc:
        return urljoin(request_url, requote_uri(location))
    return str(requote_uri(location))


def guard_redirect(response: requests.Response, **kwargs: Any) -> requests.Response:
    """Take the first origin's conda token out of a cross-origin ``Location``."""
    if response.is_redirect:
        last_url = response.request.url or ""
        target = redirect_target(last_url, response.headers["Location"])
        cleaned = location_without_foreign_token(last_url, target)
        if cleaned is not None:
            response.headers["Location"] = cleaned
    return response


def handle_response(
    hook: ResponseHook, response: requests.Response, send_options: dict[str, Any]
) -> requests.Response:
    auth = hook.auth
    last = response.request
    last_url = last.url or ""
    if response.is_redirect:
        return guard_redirect(response)
    if not credential_rejected(response.status_code, response.headers.get("WWW-Authenticate")):
        return response
    origin = Origin.from_url(last_url)
    if origin in hook.retried:
        return response
    sent = hook.sent
    used = (
        sent
        if sent is not None and carries(last.headers.get("Authorization"), last_url, sent)
        else None
    )
    if used is not None:
        auth.invalidate(last_url)
    fresh = auth.chain.resolve_origin(origin, last_url)
    if fresh.credential is None or fresh.credential == used or not replayable(last):
        return response
    retry = last.copy()
    retry.headers.pop("Authorization", None)
    if apply(auth, retry, fresh) is None:
        return response
    hook.retried.add(origin)
    if origin == Origin.from_url(hook.request.url or ""):  # so the hops that follow carry it
        hook.sent = fresh.credential
        first = hook.request.headers
        first.pop("Authorization", None)
        if "Authorization" in retry.headers:
            first["Authorization"] = retry.headers["Authorization"]
    response.content  # noqa: B018  (free the connection before re-using it)
    response.raw.release_conn()
    adapter = response.connection
    new_response: requests.Response = adapter.send(retry, **send_options)
    new_response.history.append(response)
    new_response.request = retry
    return new_response
