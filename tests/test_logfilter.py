"""The HTTP clients' own log records never show a conda token authadapter put into a URL.

Every client runs at DEBUG through one scenario: the store's first token is
rejected (401), a fresh lookup gives another, the re-send is redirected to
another origin with the token copied into the ``Location``. Every record of
the run, formatted with its traceback, is searched for both tokens, and the
request lines are checked to be there with only the token replaced.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable, Iterator

import aiohttp
import httpx
import pytest
import requests

from authadapter import (
    AiohttpAuth,
    CondaToken,
    Found,
    LookupResult,
    Miss,
    Origin,
    RegistryAuth,
    httpx_event_hooks,
)
from tests.conftest import service_unavailable
from tests.fixtures_security import Static, canary
from tests.support import LoopbackServer, Received, Reply

Servers = Callable[..., LoopbackServer]
CLIENTS = ["requests", "httpx", "httpx-async", "aiohttp", "niquests", "niquests-async"]
# the request lines each client logs, with the path as it must appear
REQUEST_LINES = {
    "requests": ['"GET /t/***/chan/x.json HTTP/1.1" 401', '"GET /t/***/chan/x.json HTTP/1.1" 302'],
    "niquests": ['"GET /t/***/chan/x.json HTTP/1.1" 401', '"GET /t/***/chan/x.json HTTP/1.1" 302'],
    "httpx": ["/t/***/chan/x.json", '"HTTP/1.1 401 Unauthorized"'],
}


class RotatingConda:
    """A store whose conda token for one host changes on every lookup."""

    name = "rotating-conda"
    blocking = True

    def __init__(self, host: str, tokens: list[str]) -> None:
        self.host = host
        self.tokens = iter(tokens)
        self.lock = threading.Lock()

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        if origin.host != self.host:
            return Miss()
        with self.lock:
            return Found(CondaToken(next(self.tokens)), "test")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def fetch(client: str, auth: RegistryAuth, url: str) -> int:
    if client == "requests":
        with requests.Session() as session:
            session.auth = auth
            return session.get(url, timeout=10).status_code
    if client == "httpx":
        with httpx.Client(auth=auth, follow_redirects=True, event_hooks=httpx_event_hooks()) as c:
            return c.get(url).status_code
    if client.startswith("niquests"):
        try:
            import niquests
        except ImportError:
            service_unavailable("niquests is not installed (noxfile.py: install_niquests)")
        from authadapter import AsyncNiquestsAuth, NiquestsAuth

        if client == "niquests":
            with niquests.Session() as session:
                session.auth = NiquestsAuth(auth)
                return session.get(url, timeout=10).status_code or 0

    async def asynchronous() -> int:
        if client == "httpx-async":
            async with httpx.AsyncClient(
                auth=auth,
                follow_redirects=True,
                event_hooks=httpx_event_hooks(asynchronous=True),
            ) as client_:
                return (await client_.get(url)).status_code
        if client == "aiohttp":
            async with (
                aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session,
                session.get(url) as response,
            ):
                return response.status
        async with niquests.AsyncSession() as async_session:
            async_session.auth = AsyncNiquestsAuth(auth)
            return (await async_session.get(url, timeout=10)).status_code or 0

    return asyncio.run(asynchronous())


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


@pytest.mark.parametrize("client", CLIENTS)
def test_no_client_log_shows_a_token_through_a_401_and_a_redirect(
    client: str, loopback_server: Servers, debug_logs: pytest.LogCaptureFixture
) -> None:
    stale, fresh = canary("stale"), canary("fresh")
    target = loopback_server("127.0.0.3")

    def first_handler(server: LoopbackServer, request: Received) -> Reply:
        if fresh not in request.path:
            return Reply(401, {"WWW-Authenticate": 'Bearer realm="x"'})
        return Reply(302, {"Location": target.url + request.path})

    first = loopback_server("127.0.0.2", first_handler)
    auth = RegistryAuth([RotatingConda("127.0.0.2", [stale, fresh])])
    assert fetch(client, auth, first.url + "/chan/x.json") == 200
    assert [r.path for r in target.received] == ["/chan/x.json"]
    logged = everything_logged(debug_logs)
    assert stale not in logged
    assert fresh not in logged
    for line in REQUEST_LINES.get(client.removesuffix("-async"), []):
        assert line in logged  # logged, with the token replaced and nothing else changed


def test_arguments_tracebacks_and_handlers_see_the_masked_record(
    loopback_server: Servers, debug_logs: pytest.LogCaptureFixture
) -> None:
    token = CondaToken(canary("conda"))
    auth = RegistryAuth([Static({"127.0.0.2": token})])
    url = auth.authorizer.decide("http://127.0.0.2:9/chan/").url
    assert url is not None
    assert token.token in url
    seen: list[logging.LogRecord] = []

    class Theirs(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    theirs = Theirs()
    logger = logging.getLogger("urllib3.connectionpool")
    logger.addHandler(theirs)
    try:
        logger.debug("%s %s %d", "GET", httpx.URL(url), 200)
        logger.debug("mapping %(url)s", {"url": url})
        try:
            raise ValueError(f"could not fetch {url}")
        except ValueError:
            logger.exception("failed")
        logger.info("nothing secret here: %s", "/t/callers-own-token/")
    finally:
        logger.removeHandler(theirs)
    messages = [record.getMessage() for record in seen]
    assert messages[0] == "GET http://127.0.0.2:9/t/***/chan/ 200"
    assert seen[0].args == ("GET", "http://127.0.0.2:9/t/***/chan/", 200)
    assert messages[1] == "mapping http://127.0.0.2:9/t/***/chan/"
    assert "could not fetch http://127.0.0.2:9/t/***/chan/" in str(seen[2].exc_text)
    assert messages[3] == "nothing secret here: /t/callers-own-token/"
    assert token.token not in everything_logged(debug_logs)


@pytest.mark.canary_exempt("shows that a forgotten token is no longer known to the filter")
def test_the_filter_keeps_no_token_once_no_chain_holds_it(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    secret = "forgotten-" + canary()
    auth = RegistryAuth([Static({"127.0.0.2": CondaToken(secret)})])
    auth.resolve("http://127.0.0.2/")
    logger = logging.getLogger("urllib3.connectionpool")
    logger.debug("GET /t/%s/x", secret)
    auth.invalidate()
    logger.debug("GET /t/%s/y", secret)
    del auth
    gc.collect()
    messages = [r.getMessage() for r in debug_logs.records if r.name == logger.name]
    assert messages == ["GET /t/***/x", f"GET /t/{secret}/y"]
