"""A mirror script spreads its downloads over processes and a Dask cluster, all authenticated.

The session (a ``requests.Session`` whose auth is a ``RegistryAuth`` with
the default chain) is pickled to every task: by ``ProcessPoolExecutor`` with
the spawn and the fork start methods, and by a real ``distributed``
``LocalCluster`` with worker processes. The token lives only in a rattler
credentials file named by ``RATTLER_AUTH_FILE``, which the workers inherit;
each worker looks it up itself. The pickled bytes hold no secret although
the session had already used the token.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import distributed
import pytest
import requests

from authadapter import RegistryAuth
from tests.fixtures_security import canary
from tests.support import LoopbackServer, Received, Reply

Servers = Callable[..., LoopbackServer]
FILES = 24


def download(session: requests.Session, url: str) -> tuple[int, str]:
    """One file of the mirror: its status and the digest of what arrived."""
    response = session.get(url, timeout=30)
    return response.status_code, hashlib.sha256(response.content).hexdigest()


def registry(token: str) -> Callable[[LoopbackServer, Received], Reply]:
    def handler(server: LoopbackServer, request: Received) -> Reply:
        if request.authorization != f"Bearer {token}":
            return Reply(401, {"WWW-Authenticate": 'Bearer realm="mirror"'})
        return Reply(200, {"Content-Type": "application/octet-stream"}, request.path.encode() * 64)

    return handler


@pytest.fixture
def mirror(
    loopback_server: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[LoopbackServer, str, list[str]]:
    token = canary("mirror")
    server = loopback_server("127.0.0.2", registry(token))
    store = tmp_path / "credentials.json"
    store.write_text(json.dumps({"127.0.0.2": {"BearerToken": token}}))
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(store))
    urls = [f"{server.url}/chan/noarch/pkg-{n}.conda" for n in range(FILES)]
    return server, token, urls


def expected(urls: list[str]) -> list[tuple[int, str]]:
    paths = [url.split("/", 3)[3] for url in urls]
    return [(200, hashlib.sha256(f"/{p}".encode() * 64).hexdigest()) for p in paths]


def session_that_has_used_its_token(url: str) -> requests.Session:
    session = requests.Session()
    session.auth = RegistryAuth()
    session.trust_env = False
    assert session.get(url, timeout=10).status_code == 200  # the token is in its cache now
    return session


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_process_pool_downloads_everything_authenticated(
    mirror: tuple[LoopbackServer, str, list[str]], method: str
) -> None:
    server, token, urls = mirror
    session = session_that_has_used_its_token(urls[0])
    data = pickle.dumps(session)
    assert token.encode() not in data
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(download, [session] * len(urls), urls))
    assert results == expected(urls)
    assert [r.authorization for r in server.received] == [f"Bearer {token}"] * (len(urls) + 1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_dask_cluster_downloads_everything_authenticated(
    mirror: tuple[LoopbackServer, str, list[str]],
) -> None:
    server, token, urls = mirror
    session = session_that_has_used_its_token(urls[0])
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        futures = client.map(download, [session] * len(urls), urls, pure=False)
        results = client.gather(futures)
        workers = client.run(lambda: __import__("os").getpid())
    assert results == expected(urls)
    assert len(set(workers.values())) == 2  # two worker processes
    assert [r.authorization for r in server.received] == [f"Bearer {token}"] * (len(urls) + 1)
