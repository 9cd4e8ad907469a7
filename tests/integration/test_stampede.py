"""Many clients hitting one cold origin at once cause one store lookup, end to end.

Real loopback servers, real httpx and requests clients sharing one
``RegistryAuth``; the store is slow on purpose so that every request arrives
while the first lookup is still running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import anyio
import httpx
import requests

from authadapter import BearerToken, Found, LookupResult, Origin, RegistryAuth
from tests.support import LoopbackServer, require_authorization

Servers = Callable[..., LoopbackServer]
CLIENTS = 64


class SlowStore:
    """A keyring-like store: blocking, 50 ms per lookup, counts its lookups."""

    name = "slow-store"
    blocking = True

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        with self._lock:
            self.calls += 1
        time.sleep(0.05)
        return Found(BearerToken("stampede"), "slow store")


def start(loopback_server: Servers, host: str) -> LoopbackServer:
    return loopback_server(host, require_authorization("Bearer stampede"))


def run_threads(target: Callable[[int], int]) -> list[int | str]:
    barrier = threading.Barrier(CLIENTS)
    statuses: list[int | str] = []

    def worker(n: int) -> None:
        barrier.wait()
        try:
            statuses.append(target(n))
        except Exception as error:  # shown in the assertion instead of lost in a thread
            statuses.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_sixty_four_httpx_threads(loopback_server: Servers) -> None:
    server = start(loopback_server, "127.0.0.2")
    store = SlowStore()
    limits = httpx.Limits(max_connections=CLIENTS)
    with httpx.Client(auth=RegistryAuth([store]), limits=limits) as client:
        statuses = run_threads(lambda n: client.get(f"{server.url}/simple/p{n}/").status_code)
    assert statuses == [200] * CLIENTS
    assert store.calls == 1
    assert len(server.received) == CLIENTS


def test_sixty_four_requests_threads(loopback_server: Servers) -> None:
    server = start(loopback_server, "127.0.0.3")
    store = SlowStore()
    auth = RegistryAuth([store])

    def get(n: int) -> int:
        with requests.Session() as session:
            session.auth = auth
            return session.get(f"{server.url}/simple/p{n}/").status_code

    assert run_threads(get) == [200] * CLIENTS
    assert store.calls == 1
    assert len(server.received) == CLIENTS


async def test_sixty_four_asyncio_tasks(loopback_server: Servers) -> None:
    server = start(loopback_server, "127.0.0.4")
    store = SlowStore()
    statuses: list[int | str] = []
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(auth=RegistryAuth([store]), limits=limits) as client:

        async def get(n: int) -> None:
            try:
                statuses.append((await client.get(f"{server.url}/simple/p{n}/")).status_code)
            except Exception as error:
                statuses.append(repr(error))

        async with anyio.create_task_group() as group:
            for n in range(CLIENTS):
                group.start_soon(get, n)
    assert statuses == [200] * CLIENTS
    assert store.calls == 1
    assert len(server.received) == CLIENTS
