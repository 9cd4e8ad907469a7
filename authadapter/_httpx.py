"""The httpx adapter: one auth flow, driven synchronously or asynchronously.

The flow is a generator in httpx's style that yields either a request to send
or a ``Lookup`` to perform; the sync driver resolves lookups in place, the
async driver off the event loop (a cold lookup may query a keyring or run a
subprocess), so both clients share every decision.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ._chain import Resolution
from ._origin import Origin
from ._policy import (
    REPLAYABLE_WITHOUT_BODY,
    carries,
    credential_rejected,
    leave_alone,
    location_without_foreign_token,
)
from ._urls import conda_token_in_path, strip_conda_token

if TYPE_CHECKING:
    from ._registry_auth import RegistryAuth

__all__ = ["async_flow", "async_redirect_guard", "event_hooks", "redirect_guard", "sync_flow"]


@dataclass(frozen=True, slots=True)
class Lookup:
    url: str
    fresh: bool


Step = httpx.Request | Lookup
Flow = Generator[Step, httpx.Response | Resolution, None]


def with_credential(
    request: httpx.Request, auth: RegistryAuth, resolution: Resolution, url: str | None = None
) -> bool:
    """Apply ``resolution`` to ``request`` (whose URL is ``url``); whether anything was applied."""
    original = str(request.url) if url is None else url
    url = strip_conda_token(original) if "/t/" in original else original
    applied = auth.plan(url, resolution)
    if applied is None:
        return False
    if applied.url != original:
        request.url = httpx.URL(applied.url)
    if applied.authorization is not None:
        request.headers["Authorization"] = applied.authorization
    return True


def replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream) or (
        request.method in REPLAYABLE_WITHOUT_BODY and "Content-Length" not in request.headers
    )


def flow(auth: RegistryAuth, request: httpx.Request) -> Flow:
    url = str(request.url)
    if leave_alone(url, request.headers):
        yield request
        return
    resolution = yield Lookup(url, fresh=False)
    assert isinstance(resolution, Resolution)
    with_credential(request, auth, resolution, url)
    response = yield request
    assert isinstance(response, httpx.Response)
    status = response.status_code
    if status < 400 or not credential_rejected(status, response.headers.get("WWW-Authenticate")):
        return
    last = response.request
    last_url = str(last.url)
    used = resolution.credential
    if (
        Origin.from_url(last_url) != resolution.origin
        or used is None
        or not carries(last.headers.get("Authorization"), last_url, used)
    ):
        used = None
    fresh = yield Lookup(last_url, fresh=used is not None)
    assert isinstance(fresh, Resolution)
    if fresh.credential is None or fresh.credential == used or not replayable(last):
        return
    headers = httpx.Headers(last.headers)
    headers.pop("Authorization", None)
    retry = httpx.Request(
        last.method, last.url, headers=headers, stream=last.stream, extensions=last.extensions
    )
    if with_credential(retry, auth, fresh):
        yield retry


def sync_flow(
    auth: RegistryAuth, request: httpx.Request
) -> Generator[httpx.Request, httpx.Response, None]:
    steps = flow(auth, request)
    answer: httpx.Response | Resolution | None = None
    while True:
        try:
            step = steps.send(answer)  # type: ignore[arg-type]
        except StopIteration:
            return
        if isinstance(step, Lookup):
            if step.fresh:
                auth.invalidate(step.url)
            answer = auth.chain.resolve(step.url)
        else:
            answer = yield step


async def async_flow(
    auth: RegistryAuth, request: httpx.Request
) -> AsyncGenerator[httpx.Request, httpx.Response]:
    steps = flow(auth, request)
    answer: httpx.Response | Resolution | None = None
    while True:
        try:
            step = steps.send(answer)  # type: ignore[arg-type]
        except StopIteration:
            return
        if isinstance(step, Lookup):
            if step.fresh:
                auth.invalidate(step.url)
            answer = await auth.resolve_async(step.url)
        else:
            answer = yield step


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
