"""The aiohttp middleware against real loopback servers: what httpx and requests users get.

A host that is not loopback (for the plain-http rule) is a real server too:
aiohttp's resolver is told that ``registry.example`` is 127.0.0.2, so
nothing leaves the machine while the URL names a remote host.
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from authadapter import (
    AiohttpAuth,
    Authorizer,
    BearerToken,
    CondaToken,
    RegistryAuth,
)
from tests.fixtures_security import KINDS, Static, canary, canary_credential
from tests.support import LoopbackServer, NeedsTheLoop, require_authorization
from tests.test_registry_auth import Rotating, always, sent

Servers = Callable[..., LoopbackServer]


async def get(auth: Any, url: str, **kwargs: Any) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session,
        session.get(url, **kwargs) as response,
    ):
        return response.status, await response.text()


@pytest.mark.parametrize("kind", KINDS)
async def test_every_kind_round_trips(loopback_server: Servers, kind: str) -> None:
    credential = canary_credential(kind)
    server = loopback_server("127.0.0.2")
    auth = RegistryAuth([Static({"127.0.0.2": credential})])
    async with aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session:
        async with session.get(server.url + "/chan/repodata.json?x=1") as response:
            assert response.status == 200
        async with session.post(server.url + "/upload", data=b"body") as response:
            assert response.status == 200
    first, second = server.received
    if isinstance(credential, CondaToken):
        assert first.path == f"/t/{credential.token}/chan/repodata.json?x=1"
        assert first.authorization is None
    else:
        assert first.path == "/chan/repodata.json?x=1"
        assert first.authorization == credential.authorization()
    assert second.body == b"body"


async def test_a_401_with_a_rotated_token_retries_once(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    store = Rotating(blocking=True)
    auth = Authorizer([store], config=False)
    async with aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session:
        for _ in range(2):
            async with session.get(server.url + "/simple/") as response:
                assert response.status == 200
    assert sent(server) == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert store.calls == 2


async def test_a_post_body_is_sent_again_with_the_re_send(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-2"))
    auth = RegistryAuth([Rotating()])
    async with (
        aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session,
        session.post(server.url + "/upload", data=b"payload") as response,
    ):
        assert response.status == 200
    assert [r.body for r in server.received] == [b"payload", b"payload"]


@pytest.mark.parametrize(
    ("status", "www_authenticate", "requests_seen"),
    [
        (401, 'Bearer realm="r"', 2),
        (403, 'Bearer error="invalid_token"', 2),
        (403, 'Bearer error="insufficient_scope"', 1),
    ],
)
async def test_a_rejection_is_retried_at_most_once(
    loopback_server: Servers, status: int, www_authenticate: str, requests_seen: int
) -> None:
    server = loopback_server("127.0.0.1", always(status, www_authenticate))
    store = Rotating()
    response_status, _ = await get(RegistryAuth([store]), server.url)
    assert response_status == status
    assert len(server.received) == requests_seen
    assert store.calls == requests_seen


class TestLeftAlone:
    """A request that brings credentials gets exactly those, and the store is not asked."""

    async def test_an_authorization_header(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        headers = {"Authorization": "Bearer mine-0123"}
        await get(RegistryAuth([store]), server.url + "/", headers=headers)
        assert sent(server) == ["Bearer mine-0123"]
        assert store.calls == 0

    async def test_url_userinfo(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        await get(RegistryAuth([store]), f"http://bob:pw-0123@127.0.0.2:{server.port}/")
        assert sent(server) == ["Basic " + base64.b64encode(b"bob:pw-0123").decode()]
        assert store.calls == 0


class RemoteName(AbstractResolver):
    """Resolves every name to one loopback address, so a 'remote' URL reaches a real server."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=self.address,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("allowed", [False, True], ids=["refused", "allowed"])
async def test_plain_http_to_a_remote_host_follows_the_rule(
    loopback_server: Servers, caplog: pytest.LogCaptureFixture, allowed: bool
) -> None:
    server = loopback_server("127.0.0.2", require_authorization("Bearer remote-0123"))
    store = Static({"registry.example": BearerToken("remote-0123")})
    auth = RegistryAuth([store], allow_http_hosts=["registry.example"] if allowed else [])
    url = f"http://registry.example:{server.port}/simple/"
    connector = aiohttp.TCPConnector(resolver=RemoteName("127.0.0.2"))
    with caplog.at_level(logging.WARNING, logger="authadapter"):
        async with aiohttp.ClientSession(
            connector=connector, middlewares=[AiohttpAuth(auth)]
        ) as session:
            for _ in range(2):
                async with session.get(url) as response:
                    assert response.status == (200 if allowed else 401)
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

    async with anyio.create_task_group() as group:
        group.start_soon(store.ticker)
        status, _ = await get(RegistryAuth([store]), server.url)
    assert status == 200
    assert store.ticks == 3


def test_a_copy_carries_no_secret_and_works(loopback_server: Servers) -> None:
    """The default chain (here: a netrc file) is rebuilt where the copy is loaded."""
    import asyncio

    secret = canary("pickled")
    expected = "Basic " + base64.b64encode(f"alice:{secret}".encode()).decode()
    server = loopback_server("127.0.0.2", require_authorization(expected))
    netrc = Path(os.environ["HOME"], ".netrc")
    netrc.write_text(f"machine 127.0.0.2 login alice password {secret}\n")
    netrc.chmod(0o600)
    auth = AiohttpAuth()
    assert asyncio.run(get(auth, server.url))[0] == 200  # the cache now holds the secret
    data = pickle.dumps(auth)
    assert secret.encode() not in data
    assert asyncio.run(get(pickle.loads(data), server.url))[0] == 200
    assert sent(server) == [expected, expected]


def test_anything_else_is_refused_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="RegistryAuth or an Authorizer, not str"):
        AiohttpAuth("token")  # type: ignore[arg-type]


async def test_a_request_without_a_credential_goes_unchanged(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.2", always(200, ""))
    await get(RegistryAuth([Static({})]), server.url + "/a?b=c")
    [received] = server.received
    assert (received.path, received.authorization) == ("/a?b=c", None)
