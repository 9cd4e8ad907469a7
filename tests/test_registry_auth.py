"""RegistryAuth's per-request path in both clients, against real loopback servers.

What a user would notice is counted: how often the store was asked and how
many requests the server saw, with which credential.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import requests

from authadapter import (
    BearerToken,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    ProviderError,
    RawToken,
    RegistryAuth,
)
from tests.fixtures_security import Static
from tests.support import LoopbackServer, NeedsTheLoop, Received, Reply, require_authorization

Servers = Callable[..., LoopbackServer]


class Rotating:
    """A store whose token changes on every lookup (tok-1, tok-2, ...); counts its lookups."""

    name = "rotating"

    def __init__(self, blocking: bool = False) -> None:
        self.blocking = blocking
        self.calls = 0
        self._lock = threading.Lock()

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        with self._lock:
            self.calls += 1
            return Found(BearerToken(f"tok-{self.calls}"), "rotating store")


def always(status: int, www_authenticate: str) -> Callable[[LoopbackServer, Received], Reply]:
    def handler(server: LoopbackServer, request: Received) -> Reply:
        return Reply(status, {"WWW-Authenticate": www_authenticate})

    return handler


def sent(server: LoopbackServer) -> list[str | None]:
    return [r.authorization for r in server.received]


def requests_session(auth: RegistryAuth) -> requests.Session:
    session = requests.Session()
    session.auth = auth
    session.trust_env = False
    return session


def test_warm_requests_do_not_ask_the_store_again(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-1"))
    store = Rotating()
    auth = RegistryAuth([store])
    with httpx.Client(auth=auth) as client:
        statuses = [client.get(f"{server.url}/simple/p{n}/").status_code for n in range(5)]
    session = requests_session(auth)
    statuses += [session.get(f"{server.url}/files/{n}").status_code for n in range(5)]
    assert statuses == [200] * 10
    assert store.calls == 1


def test_invalidate_makes_the_next_request_look_again(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1")
    store = Rotating()
    auth = RegistryAuth([store])
    with httpx.Client(auth=auth) as client:
        client.get(server.url)
        auth.invalidate(server.url + "/anything")
        client.get(server.url)
        client.get(server.url)
        auth.invalidate()
        client.get(server.url)
    assert sent(server) == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2", "Bearer tok-3"]


def test_httpx_401_with_a_rotated_token_retries_once(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating()
    with httpx.Client(auth=RegistryAuth([store])) as client:
        first = client.get(server.url + "/simple/")
        second = client.get(server.url + "/simple/")
    assert (first.status_code, second.status_code) == (200, 200)
    assert sent(server) == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert store.calls == 2


def test_requests_401_with_a_rotated_token_retries_once(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating()
    session = requests_session(RegistryAuth([store]))
    first = session.get(server.url + "/simple/")
    second = session.get(server.url + "/simple/")
    assert (first.status_code, second.status_code) == (200, 200)
    assert sent(server) == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert store.calls == 2


async def test_async_httpx_401_with_a_rotated_token_retries_once(
    loopback_server: Servers,
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating(blocking=True)
    async with httpx.AsyncClient(auth=RegistryAuth([store])) as client:
        first = await client.get(server.url + "/simple/")
        second = await client.get(server.url + "/simple/")
    assert (first.status_code, second.status_code) == (200, 200)
    assert sent(server) == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert store.calls == 2


@pytest.mark.parametrize(
    ("status", "www_authenticate", "requests_seen"),
    [
        (401, 'Bearer realm="r"', 2),
        (403, 'Bearer error="invalid_token"', 2),
        (403, 'Bearer error="insufficient_scope"', 1),
    ],
)
@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_a_rejection_is_retried_at_most_once(
    loopback_server: Servers, client: str, status: int, www_authenticate: str, requests_seen: int
) -> None:
    server = loopback_server("127.0.0.1", always(status, www_authenticate))
    store = Rotating()
    auth = RegistryAuth([store])
    if client == "httpx":
        with httpx.Client(auth=auth) as http:
            response_status = http.get(server.url).status_code
    else:
        response_status = requests_session(auth).get(server.url).status_code
    assert response_status == status
    assert len(server.received) == requests_seen
    assert store.calls == requests_seen


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_a_refused_credential_the_store_still_holds_is_not_sent_again(
    loopback_server: Servers, client: str
) -> None:
    server = loopback_server("127.0.0.1", always(401, 'Bearer realm="r"'))
    store = Static({"127.0.0.1": BearerToken("refused-01")})
    auth = RegistryAuth([store])
    if client == "httpx":
        with httpx.Client(auth=auth) as http:
            response_status = http.get(server.url).status_code
    else:
        response_status = requests_session(auth).get(server.url).status_code
    assert response_status == 401
    assert sent(server) == ["Bearer refused-01"]
    assert store.calls == 2  # the refusal made it look again, and it found the same one


def test_httpx_never_replays_a_streamed_body(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating()

    def upload() -> Iterator[bytes]:
        yield b"part one, "
        yield b"part two"

    with httpx.Client(auth=RegistryAuth([store])) as client:
        response = client.post(server.url + "/upload", content=upload())
    assert response.status_code == 401
    assert len(server.received) == 1
    assert store.calls == 2  # it did look again, and found it could not re-send


def test_httpx_replays_a_bytes_body(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    with httpx.Client(auth=RegistryAuth([Rotating()])) as client:
        response = client.post(server.url + "/upload", content=b"payload")
    assert response.status_code == 200
    assert [r.body for r in server.received] == [b"payload", b"payload"]


def test_requests_never_replays_a_streamed_body(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating()

    def upload() -> Iterator[bytes]:
        yield b"part one, "
        yield b"part two"

    session = requests_session(RegistryAuth([store]))
    response = session.post(server.url + "/upload", data=upload(), headers={"Content-Length": "18"})
    assert response.status_code == 401
    assert len(server.received) == 1


async def test_a_cold_lookup_does_not_block_the_event_loop(loopback_server: Servers) -> None:
    """The store answers only once another task on the loop has run: a blocked loop deadlocks."""
    server = loopback_server("127.0.0.1", require_authorization("Bearer loop-ok"))
    store = NeedsTheLoop()

    auth = RegistryAuth([store])
    async with httpx.AsyncClient(auth=auth) as client, anyio.create_task_group() as group:
        group.start_soon(store.ticker)
        response = await client.get(server.url)
    assert response.status_code == 200
    assert store.ticks == 3


async def test_sixty_four_tasks_on_one_cold_origin_ask_the_store_once() -> None:
    store = Rotating(blocking=True)
    auth = RegistryAuth([store])
    results: list[str | None] = []

    async def one() -> None:
        resolution = await auth.resolve_async("https://repo.example.org/simple/")
        assert resolution.credential is not None
        results.append(resolution.credential.authorization())

    async with anyio.create_task_group() as group:
        for _ in range(64):
            group.start_soon(one)
    assert results == ["Bearer tok-1"] * 64
    assert store.calls == 1


async def test_tasks_waiting_on_an_uncacheable_answer_still_get_one() -> None:
    class NeverCache:
        name = "never-cache"
        blocking = True
        calls = 0

        def lookup(self, origin: Origin, url: str) -> LookupResult:
            NeverCache.calls += 1
            return Found(BearerToken("once"), "test", ttl=0)

    auth = RegistryAuth([NeverCache()])
    results = []

    async def one() -> None:
        results.append((await auth.resolve_async("https://h.example/")).credential)

    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(one)
    assert results == [BearerToken("once")] * 8
    assert 1 <= NeverCache.calls <= 8


def test_a_store_past_the_timeout_does_not_stop_the_request(
    loopback_server: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-1"))
    release = threading.Event()

    class Hung:
        name = "hung-secret-service"
        blocking = True

        def lookup(self, origin: Origin, url: str) -> LookupResult:
            release.wait(30)
            return Miss()

    try:
        auth = RegistryAuth([Hung(), Rotating()], timeout=0.05)
        with caplog.at_level(logging.WARNING, logger="authadapter"):
            response = httpx.get(server.url, auth=auth)
    finally:
        release.set()
    assert response.status_code == 200
    assert "hung-secret-service" in caplog.text


class Answering:
    """A store that always gives the same kind of answer; counts its lookups."""

    name = "answering"
    blocking = False

    def __init__(self, answer: LookupResult) -> None:
        self.answer = answer
        self.calls = 0

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        return self.answer


@pytest.mark.parametrize(
    ("answer", "lifetime"),
    [
        (Found(BearerToken("tok-1"), "test"), 10),
        (Miss(), 20),
        (Failure("store unreadable"), 3),
    ],
    ids=["ttl", "negative_ttl", "failure_ttl"],
)
def test_each_lifetime_given_to_registry_auth_decides_when_the_store_is_asked_again(
    answer: LookupResult, lifetime: float
) -> None:
    now = [0.0]
    store = Answering(answer)
    auth = RegistryAuth(
        [store], ttl=10, negative_ttl=20, failure_ttl=3, config=False, clock=lambda: now[0]
    )
    url = "https://repo.example.org/"
    auth.resolve(url)
    now[0] = lifetime - 0.5
    auth.resolve(url)
    assert store.calls == 1
    now[0] = lifetime + 0.5
    auth.resolve(url)
    assert store.calls == 2


@pytest.mark.parametrize(
    ("cache", "runs"),
    [("never", 3), ("session", 1), ("expires", 1)],
)
def test_a_cargo_plugins_cache_answer_decides_how_often_it_runs(
    tmp_path: Path, cache: str, runs: int
) -> None:
    """The plugin's own lifetime reaches the chain through the real Cargo provider."""
    from authadapter.providers.cargo.provider import CargoProvider

    log = tmp_path / "runs"
    expiry = f',"expiration":{int(time.time()) + 3600}' if cache == "expires" else ""
    plugin = tmp_path / "plugin"
    plugin.write_text(
        "#!/bin/sh\n"
        f"echo run >> '{log}'\n"
        "echo '{\"v\":[1]}'\n"
        "read request\n"
        f'echo \'{{"Ok":{{"kind":"get","token":"plugtok","cache":"{cache}"{expiry},'
        '"operation_independent":true}}\'\n'
    )
    plugin.chmod(0o755)
    cargo_home = tmp_path / "cargo"
    cargo_home.mkdir()
    (cargo_home / "config.toml").write_text(
        f'[registry]\nglobal-credential-providers = ["{plugin}"]\n'
        '[registries.mine]\nindex = "sparse+https://crates.example.org/index/"\n'
    )
    environ = {"CARGO_HOME": str(cargo_home), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    auth = RegistryAuth([CargoProvider(cwd=tmp_path, environ=environ)])
    for n in range(3):
        resolution = auth.resolve(f"https://crates.example.org/index/cr/at/crate-{n}")
        assert resolution.credential == RawToken("plugtok")
    assert log.read_text().count("run") == runs


@pytest.mark.parametrize("allowed", [False, True])
def test_a_subdomain_of_localhost_is_not_taken_for_loopback(
    allowed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """glibc's usual resolver asks DNS for ``*.localhost``: plain http there is refused."""
    seen: list[str | None] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200)

    store = Static({"registry.localhost": BearerToken("local-registry-1")})
    hosts = ["registry.localhost"] if allowed else []
    auth = RegistryAuth([store], allow_http_hosts=hosts, config=False)
    with (
        httpx.Client(auth=auth, transport=httpx.MockTransport(transport)) as client,
        caplog.at_level(logging.WARNING, logger="authadapter"),
    ):
        client.get("http://registry.localhost/simple/")
    assert seen == (["Bearer local-registry-1"] if allowed else [None])
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert bool(warned) is not allowed


async def test_tasks_waiting_on_a_lookup_share_its_fatal_error_without_asking_again() -> None:
    class Refusing:
        name = "plugin"
        blocking = True

        def __init__(self) -> None:
            self.calls = 0

        def lookup(self, origin: Origin, url: str) -> LookupResult:
            self.calls += 1
            time.sleep(0.05)  # long enough for every task to arrive during the lookup
            return Failure("plugin said no", fatal=True)

    store = Refusing()
    auth = RegistryAuth([store], config=False)

    async def request() -> BaseException | None:
        try:
            await auth.resolve_async("https://repo.example.org/x")
        except ProviderError as error:
            return error
        return None

    errors = await asyncio.gather(*(request() for _ in range(16)))
    assert [str(e) for e in errors] == ["plugin: plugin said no"] * 16
    assert len({id(e) for e in errors}) == 16  # each task its own copy, its own traceback
    assert store.calls == 1
