"""The core under real faults: a Secret Service frozen mid-call, a store unreadable for a moment.

* A ``gnome-keyring-daemon`` stopped with SIGSTOP never answers: lookups for
  many origins that start while it hangs must cost one stuck thread (one
  D-Bus call), each waiting at most until that call's deadline, and the
  store must answer again once the daemon runs.
* A store briefly unreadable (another tool rewriting it) makes a lookup find
  nothing; the 401 that follows must earn a fresh lookup, so the request
  succeeds instead of failing for the whole ``negative_ttl``, in every client.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from authadapter import RegistryAuth
from authadapter.providers.rattler import rattler_credentials_path
from tests.conftest import service_unavailable
from tests.fixtures_security import count
from tests.support import LoopbackServer, Received, Reply, SecretService

Start = Callable[..., LoopbackServer]
TOKEN = "fault-token-73519"


def _daemon_pid(service: SecretService) -> int:
    """The gnome-keyring-daemon serving ``service``'s private bus (found through /proc)."""
    wanted = f"DBUS_SESSION_BUS_ADDRESS={service.address}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"gnome-keyring-daemon" in command and wanted in environment.split(b"\0"):
            return int(entry.name)
    raise AssertionError("the private gnome-keyring-daemon was not found")


@pytest.fixture
def frozen(secret_service: SecretService) -> Iterator[Callable[[bool], None]]:
    """``frozen(True)`` stops the daemon (SIGSTOP), ``frozen(False)`` lets it run again."""
    pid = _daemon_pid(secret_service)

    def freeze(stop: bool) -> None:
        os.kill(pid, signal.SIGSTOP if stop else signal.SIGCONT)

    try:
        yield freeze
    finally:
        os.kill(pid, signal.SIGCONT)


def _keyring_threads() -> int:
    return sum(
        1 for thread in threading.enumerate() if thread.name.startswith("authadapter-keyring")
    )


@pytest.mark.service
def test_a_frozen_keyring_costs_one_thread_whatever_the_number_of_origins(
    secret_service: SecretService, frozen: Callable[[bool], None]
) -> None:
    auth = RegistryAuth(order=["keyring"], timeout=1.0, config=False)
    origins = [f"https://host-{n}.example.org/simple/" for n in range(24)]
    frozen(True)
    started = time.monotonic()
    with ThreadPoolExecutor(len(origins)) as pool:
        resolutions = list(pool.map(auth.resolve, origins))
    elapsed = time.monotonic() - started
    stuck = _keyring_threads()
    count("faults: origins looked up while the Secret Service was frozen", len(origins))

    assert [r.credential for r in resolutions] == [None] * len(origins)
    assert stuck == 1  # one call in flight, not one per origin
    assert elapsed < 3.0  # each lookup waited at most until that call's deadline (1 s)

    frozen(False)
    for _ in range(100):  # the stuck call returns once the daemon runs again
        if _keyring_threads() == 0:
            break
        time.sleep(0.05)
    import keyring.core

    backend = keyring.core.load_env()
    assert backend is not None
    backend.set_password("rattler", "late.example.org", json.dumps({"BearerToken": TOKEN}))
    assert auth.resolve("https://late.example.org/x").credential is not None


def _store(credentials: dict[str, object] | None, *, torn: bool = False) -> Path:
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "" if credentials is None else json.dumps(credentials)
    path.write_text(text[: len(text) // 2] if torn else text)
    return path


def _rewritten_on_first_refusal(server_key: str, torn: bool) -> Callable[..., Reply]:
    """A registry demanding the token; its first refusal lets "another tool" finish its write."""
    refused: list[Received] = []

    def handler(server: LoopbackServer, request: Received) -> Reply:
        if request.authorization == f"Bearer {TOKEN}":
            return Reply(200, {}, b"ok")
        if not refused:
            _store({server_key: {"BearerToken": TOKEN}})
        refused.append(request)
        return Reply(401, {"WWW-Authenticate": "Bearer"})

    return handler


def _requests_get(auth: RegistryAuth, url: str) -> int:
    with requests.Session() as session:
        session.auth = auth
        return session.get(url, timeout=30).status_code


def _httpx_get(auth: RegistryAuth, url: str) -> int:
    with httpx.Client(auth=auth) as client:
        return client.get(url).status_code


def _httpx_async_get(auth: RegistryAuth, url: str) -> int:
    import anyio

    async def get() -> int:
        async with httpx.AsyncClient(auth=auth) as client:
            return (await client.get(url)).status_code

    return anyio.run(get)


def _aiohttp_get(auth: RegistryAuth, url: str) -> int:
    import asyncio

    import aiohttp

    from authadapter import AiohttpAuth

    async def get() -> int:
        async with (
            aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session,
            session.get(url) as response,
        ):
            return response.status

    return asyncio.run(get())


def _niquests() -> Any:
    try:
        import niquests
    except ImportError:
        service_unavailable("niquests is not installed (noxfile.py: install_niquests)")
    return niquests


def _niquests_get(auth: RegistryAuth, url: str) -> int:
    niquests = _niquests()
    from authadapter import NiquestsAuth

    with niquests.Session() as session:
        session.auth = NiquestsAuth(auth)
        status: int = session.get(url, timeout=30).status_code
        return status


def _niquests_async_get(auth: RegistryAuth, url: str) -> int:
    import asyncio

    niquests = _niquests()
    from authadapter import AsyncNiquestsAuth

    async def get() -> int:
        async with niquests.AsyncSession() as session:
            session.auth = AsyncNiquestsAuth(auth)
            response = await session.get(url, timeout=30)
            status: int = response.status_code
            return status

    return asyncio.run(get())


CLIENTS = {
    "requests": _requests_get,
    "httpx": _httpx_get,
    "httpx-async": _httpx_async_get,
    "aiohttp": _aiohttp_get,
    "niquests": _niquests_get,
    "niquests-async": _niquests_async_get,
}


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("torn", [True, False], ids=["torn-file", "empty-file"])
def test_a_401_after_a_store_was_briefly_unreadable_finds_the_credential(
    loopback_server: Start, client: str, torn: bool
) -> None:
    server = loopback_server("127.0.0.1")
    key = f"127.0.0.1:{server.port}"
    _store({key: {"BearerToken": TOKEN}}, torn=True) if torn else _store(None)
    server.handler = _rewritten_on_first_refusal(key, torn)
    auth = RegistryAuth(order=["rattler-credentials-file"], negative_ttl=300, config=False)

    status = CLIENTS[client](auth, f"{server.url}/simple/pkg/")
    count("faults: transient store failures recovered on the first 401")

    assert status == 200
    assert [r.authorization for r in server.received] == [None, f"Bearer {TOKEN}"]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_store_that_stays_empty_is_asked_again_at_most_once_per_failure_ttl(
    loopback_server: Start, client: str
) -> None:
    server = loopback_server("127.0.0.1")
    server.handler = lambda server, request: Reply(401, {"WWW-Authenticate": "Bearer"})
    _store(None)
    auth = RegistryAuth(
        order=["rattler-credentials-file"], negative_ttl=300, failure_ttl=30, config=False
    )

    statuses = [CLIENTS[client](auth, f"{server.url}/simple/{n}/") for n in range(10)]

    assert statuses == [401] * 10
    assert len(server.received) == 10  # nothing re-sent: nothing new was found
    assert auth.chain.stats().lookups == 2  # the first request's, and one after a 401
