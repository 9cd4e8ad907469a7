"""The niquests adapters (``Session`` and ``AsyncSession``) against real loopback servers.

A host that is not loopback (for the plain-http rule) is a real server too:
niquests' in-memory resolver maps ``registry.example`` to 127.0.0.2.

niquests is installed by noxfile.py beside the real urllib3 (its dependency
urllib3-future would otherwise replace it); the first test checks that
requests still has the real one.
"""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import logging
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import REQUIRE_SERVICES

if importlib.util.find_spec("niquests") is None:
    reason = "niquests is not installed (noxfile.py: install_niquests)"
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

import niquests

from authadapter import (
    AsyncNiquestsAuth,
    BearerToken,
    CondaToken,
    NiquestsAuth,
    RegistryAuth,
)
from tests.fixtures_security import KINDS, Static, canary, canary_credential
from tests.support import LoopbackServer, NeedsTheLoop, require_authorization
from tests.test_registry_auth import Rotating, always, sent

Servers = Callable[..., LoopbackServer]


def get(auth: Any, url: str, asynchronous: bool = False, **kwargs: Any) -> int:
    """One GET through a fresh ``Session`` or ``AsyncSession``; the status."""
    if asynchronous:

        async def main() -> int:
            async with niquests.AsyncSession(**kwargs) as session:
                session.auth = AsyncNiquestsAuth(auth)
                session.trust_env = False
                return (await session.get(url, timeout=10)).status_code or 0

        return anyio.run(main)
    with niquests.Session(**kwargs) as session:
        session.auth = NiquestsAuth(auth)
        session.trust_env = False
        return session.get(url, timeout=10).status_code or 0


def test_requests_keeps_the_real_urllib3() -> None:
    """urllib3-future was installed as ``urllib3_future`` only, not over ``urllib3``."""
    import requests
    import urllib3

    future_files = importlib.metadata.files("urllib3-future") or []
    assert not [f for f in future_files if str(f).startswith("urllib3/")]
    real_files = importlib.metadata.files("urllib3") or []
    assert any(str(f) == "urllib3/__init__.py" for f in real_files)
    assert Path(urllib3.__file__).parent.name == "urllib3"
    pool_manager = requests.adapters.PoolManager
    assert sys.modules[pool_manager.__module__].__file__.startswith(
        str(Path(urllib3.__file__).parent)
    )


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips(loopback_server: Servers, kind: str, asynchronous: bool) -> None:
    credential = canary_credential(kind)
    server = loopback_server("127.0.0.2")
    auth = RegistryAuth([Static({"127.0.0.2": credential})])
    assert get(auth, server.url + "/chan/repodata.json?x=1", asynchronous) == 200
    [received] = server.received
    if isinstance(credential, CondaToken):
        assert received.path == f"/t/{credential.token}/chan/repodata.json?x=1"
        assert received.authorization is None
    else:
        assert received.path == "/chan/repodata.json?x=1"
        assert received.authorization == credential.authorization()


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_401_with_a_rotated_token_retries_once(
    loopback_server: Servers, asynchronous: bool
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating(blocking=True)
    auth = RegistryAuth([store])
    assert get(auth, server.url + "/simple/", asynchronous) == 200
    assert get(auth, server.url + "/simple/", asynchronous) == 200
    assert sent(server) == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert store.calls == 2


def test_a_post_body_is_sent_again_with_the_re_send(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    with niquests.Session() as session:
        session.auth = NiquestsAuth(RegistryAuth([Rotating()]))
        assert session.post(server.url + "/upload", data=b"payload").status_code == 200
    assert [r.body for r in server.received] == [b"payload", b"payload"]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("status", "www_authenticate", "requests_seen"),
    [
        (401, 'Bearer realm="r"', 2),
        (403, 'Bearer error="invalid_token"', 2),
        (403, 'Bearer error="insufficient_scope"', 1),
    ],
)
def test_a_rejection_is_retried_at_most_once(
    loopback_server: Servers,
    status: int,
    www_authenticate: str,
    requests_seen: int,
    asynchronous: bool,
) -> None:
    server = loopback_server("127.0.0.1", always(status, www_authenticate))
    store = Rotating()
    assert get(RegistryAuth([store]), server.url, asynchronous) == status
    assert len(server.received) == requests_seen
    assert store.calls == requests_seen


class TestLeftAlone:
    """A request that brings credentials gets exactly those, and the store is not asked."""

    def test_an_authorization_header(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        with niquests.Session() as session:
            session.auth = NiquestsAuth(RegistryAuth([store]))
            session.get(server.url, headers={"Authorization": "Bearer mine-0123"})
        assert sent(server) == ["Bearer mine-0123"]
        assert store.calls == 0

    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_url_userinfo(self, loopback_server: Servers, asynchronous: bool) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        get(RegistryAuth([store]), f"http://bob:pw-0123@127.0.0.2:{server.port}/", asynchronous)
        assert sent(server) == ["Basic " + base64.b64encode(b"bob:pw-0123").decode()]
        assert store.calls == 0


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("allowed", [False, True], ids=["refused", "allowed"])
def test_plain_http_to_a_remote_host_follows_the_rule(
    loopback_server: Servers, caplog: pytest.LogCaptureFixture, allowed: bool, asynchronous: bool
) -> None:
    server = loopback_server("127.0.0.2", require_authorization("Bearer remote-0123"))
    store = Static({"registry.example": BearerToken("remote-0123")})
    auth = RegistryAuth([store], allow_http_hosts=["registry.example"] if allowed else [])
    url = f"http://registry.example:{server.port}/simple/"
    resolver = "in-memory://default/?hosts=registry.example:127.0.0.2"
    with caplog.at_level(logging.WARNING, logger="authadapter"):
        for _ in range(2):
            assert get(auth, url, asynchronous, resolver=resolver) == (200 if allowed else 401)
    if allowed:
        assert sent(server) == ["Bearer remote-0123"] * 2
    else:
        assert sent(server) == [None, None]  # and the 401 earns no re-send over plain http
        [warning] = [r for r in caplog.records if "plain http" in r.getMessage()]
        assert "registry.example" in warning.getMessage()


async def test_a_cold_lookup_does_not_block_the_event_loop(loopback_server: Servers) -> None:
    """The store answers only once another task on the loop has run: a blocked loop deadlocks."""
    server = loopback_server("127.0.0.1", require_authorization("Bearer loop-ok"))
    store = NeedsTheLoop()

    async with niquests.AsyncSession() as session, anyio.create_task_group() as group:
        session.auth = AsyncNiquestsAuth(RegistryAuth([store]))
        group.start_soon(store.ticker)
        response = await session.get(server.url)
    assert response.status_code == 200
    assert store.ticks == 3


def test_a_session_copy_carries_no_secret_and_works(loopback_server: Servers) -> None:
    """The default chain (here: a netrc file) is rebuilt where the copy is loaded."""
    secret = canary("pickled")
    expected = "Basic " + base64.b64encode(f"alice:{secret}".encode()).decode()
    server = loopback_server("127.0.0.2", require_authorization(expected))
    netrc = Path(os.environ["HOME"], ".netrc")
    netrc.write_text(f"machine 127.0.0.2 login alice password {secret}\n")
    netrc.chmod(0o600)
    auth = NiquestsAuth()
    assert get(auth, server.url) == 200  # the cache now holds the secret
    data = pickle.dumps(auth)
    assert secret.encode() not in data
    assert get(pickle.loads(data), server.url) == 200
    assert sent(server) == [expected, expected]
