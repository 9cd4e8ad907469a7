"""The httpx adapter: apply the core's decision, and ask it again after a rejection.

A flow yields the request with the ``Authorizer``'s decision applied, and,
if the response rejects it, the same request once more with the credential
``Authorizer.reconsider`` gives. The sync and async flows differ only in
how they ask (a cold lookup in the async flow runs off the event loop);
every decision is the core's.

httpx follows redirects itself and shows the auth flow only the final
response. Its redirect handling already drops ``Authorization`` when the
origin changes; what this flow adds is a second chance at the end: if the
final origin rejects the request and has a credential of its own, or the
credential that was sent was stale, the request is sent once more.

What the flow cannot do is change a redirect hop: a conda token that a server
copies into a cross-origin ``Location`` would be followed with the token. The
response event hooks below (``redirect_guard``; ``event_hooks()`` builds the
client argument) see every hop before httpx builds the next request and take
the token out. ``patch_httpx`` installs them; a client built by hand needs
``event_hooks=event_hooks()``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx

from ._logfilter import install_log_filter
from ._policy import REPLAYABLE_WITHOUT_BODY, location_without_foreign_token
from ._urls import conda_token_in_path

if TYPE_CHECKING:
    from ._authorizer import Authorizer, Decision

__all__ = ["async_flow", "async_redirect_guard", "event_hooks", "redirect_guard", "sync_flow"]

install_log_filter()  # the client's own logs must not show a conda token


def sync_flow(
    authorizer: Authorizer, request: httpx.Request
) -> Generator[httpx.Request, httpx.Response, None]:
    decision = authorizer.decide(str(request.url), "Authorization" in request.headers)
    response = yield apply(request, decision)
    status = response.status_code
    if status == 401 or status == 403:
        retry = authorizer.reconsider(decision, *rejection(response))
        if retry is not None:
            yield resend(response.request, retry)


async def async_flow(
    authorizer: Authorizer, request: httpx.Request
) -> AsyncGenerator[httpx.Request, httpx.Response]:
    decision = await authorizer.decide_async(str(request.url), "Authorization" in request.headers)
    response = yield apply(request, decision)
    status = response.status_code
    if status == 401 or status == 403:
        retry = await authorizer.reconsider_async(decision, *rejection(response))
        if retry is not None:
            yield resend(response.request, retry)


def apply(request: httpx.Request, decision: Decision) -> httpx.Request:
    """``request`` with ``decision`` applied to it."""
    if decision.url is not None:
        request.url = httpx.URL(decision.url)
    if decision.authorization is not None:
        request.headers["Authorization"] = decision.authorization
    return request


def rejection(response: httpx.Response) -> tuple[int, str | None, str, str | None, bool]:
    """What ``Authorizer.reconsider`` needs to know of a response and the request it answers."""
    last = response.request
    return (
        response.status_code,
        response.headers.get("WWW-Authenticate"),
        str(last.url),
        last.headers.get("Authorization"),
        replayable(last),
    )


def resend(last: httpx.Request, retry: Decision) -> httpx.Request:
    """A copy of ``last`` carrying the credential of ``retry`` instead of its own."""
    headers = httpx.Headers(last.headers)
    headers.pop("Authorization", None)
    request = httpx.Request(
        last.method, last.url, headers=headers, stream=last.stream, extensions=last.extensions
    )
    return apply(request, retry)


def replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream) or (
        request.method in REPLAYABLE_WITHOUT_BODY and "Content-Length" not in request.headers
    )


def redirect_target(request_url: httpx.URL, location: str) -> httpx.URL:
    """Where httpx will go for ``location``, resolved as its client resolves it."""
    url = httpx.URL(location)
    if url.scheme and not url.host:
        url = url.copy_with(host=request_url.host)
    if url.is_relative_url:
        url = request_url.join(url)
    return url


def redirect_guard(response: httpx.Response) -> None:
    """Response event hook: no conda token follows a redirect off its origin.

    Runs for every hop, before httpx builds the next request, so it also
    protects ``follow_redirects=False`` callers who send ``next_request``.
    """
    location = response.headers.get("Location")
    if location is None or not response.has_redirect_location:
        return
    request_url = response.request.url
    if conda_token_in_path(str(request_url)) is None:
        return
    try:
        target = redirect_target(request_url, location)
    except httpx.InvalidURL:
        return  # httpx refuses to follow it and raises on its own
    cleaned = location_without_foreign_token(str(request_url), str(target))
    if cleaned is not None:
        response.headers["Location"] = cleaned


async def async_redirect_guard(response: httpx.Response) -> None:
    """``redirect_guard`` for ``httpx.AsyncClient``, which awaits its hooks."""
    redirect_guard(response)


def event_hooks(*, asynchronous: bool = False) -> dict[str, list[Callable[..., Any]]]:
    """The ``event_hooks`` argument that protects redirects of an httpx client.

    httpx follows redirects inside one auth step, so ``RegistryAuth`` never
    sees the hops; a conda token that the server copied into a ``Location``
    leaving the origin would be followed. This response hook removes it at
    every hop. Pass ``asynchronous=True`` for ``httpx.AsyncClient``, which
    awaits its hooks. Merge the lists if the client has hooks of its own.
    ``patch_httpx`` installs it on every client it authenticates.
    """
    hook: Callable[..., Any] = async_redirect_guard if asynchronous else redirect_guard
    return {"response": [hook]}
