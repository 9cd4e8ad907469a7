"""The httpx adapter against real loopback servers: every credential kind, sync and async.

MockTransport appears only where a real server cannot: a host that is not
loopback (for the plain-http rule), so nothing leaves the machine.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authadapter import (
    Authorizer,
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    RawToken,
    RegistryAuth,
    httpx_event_hooks,
)
from tests.fixtures_security import Static, canary, count
from tests.support import LoopbackServer, Received, Reply

Servers = Callable[..., LoopbackServer]


def expect(credential: Credential) -> Callable[[LoopbackServer, Received], Reply]:
    """200 only when ``credential`` arrived the way its kind is sent, else 401."""

    def handler(server: LoopbackServer, request: Received) -> Reply:
        header = credential.authorization()
        if header is not None:
            ok = request.authorization == header
        else:
            ok = request.path.startswith(urlsplit(credential.rewrite_url("http://h/")).path)
        return Reply(200 if ok else 401, {"WWW-Authenticate": 'Basic realm="x"'})

    return handler


def kinds() -> list[Credential]:
    return [
        BearerToken(canary("bearer")),
        BasicCredential("alice", canary("basic")),
        CondaToken(canary("conda")),
        RawToken(canary("raw")),
    ]


@pytest.mark.parametrize("index", range(4), ids=["bearer", "basic", "conda", "raw"])
def test_every_kind_round_trips_with_the_sync_client(loopback_server: Servers, index: int) -> None:
    credential = kinds()[index]
    server = loopback_server("127.0.0.2", expect(credential))
    auth = RegistryAuth([Static({"127.0.0.2": credential})])
    with httpx.Client(auth=auth) as client:
        response = client.get(server.url + "/channel/noarch/repodata.json?x=1")
    assert response.status_code == 200
    [received] = server.received
    if isinstance(credential, CondaToken):
        assert received.path == f"/t/{credential.token}/channel/noarch/repodata.json?x=1"
        assert received.authorization is None
    else:
        assert received.path == "/channel/noarch/repodata.json?x=1"


@pytest.mark.parametrize("index", range(4), ids=["bearer", "basic", "conda", "raw"])
async def test_every_kind_round_trips_with_the_async_client(
    loopback_server: Servers, index: int
) -> None:
    credential = kinds()[index]
    server = loopback_server("127.0.0.3", expect(credential))
    auth = RegistryAuth([Static({"127.0.0.3": credential})])
    async with httpx.AsyncClient(auth=auth) as client:
        first = await client.get(server.url + "/a")
        second = await client.post(server.url + "/b", content=b"body")
    assert (first.status_code, second.status_code) == (200, 200)
    assert [r.body for r in server.received] == [b"", b"body"]


def test_raw_token_is_sent_verbatim(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.2")
    auth = RegistryAuth([Static({"127.0.0.2": RawToken("Bearer cargo-style-0123")})])
    httpx.get(server.url + "/", auth=auth)
    assert server.received[0].authorization == "Bearer cargo-style-0123"


def test_a_port_key_wins_over_the_host_and_stays_on_its_port(loopback_server: Servers) -> None:
    one = loopback_server("127.0.0.4")
    two = loopback_server("127.0.0.4")
    store = Static(
        {f"127.0.0.4:{one.port}": BearerToken("port-only-1"), "127.0.0.4": RawToken("host-wide-2")}
    )
    auth = RegistryAuth([store])
    httpx.get(one.url + "/", auth=auth)
    httpx.get(two.url + "/", auth=auth)
    assert one.received[0].authorization == "Bearer port-only-1"
    assert two.received[0].authorization == "host-wide-2"


class TestLeftAlone:
    """A request that brings credentials gets exactly those, and the store is not asked."""

    def test_an_authorization_header(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        headers = {"Authorization": "Bearer mine-0123"}
        httpx.get(server.url + "/", auth=RegistryAuth([store]), headers=headers)
        assert server.received[0].authorization == "Bearer mine-0123"
        assert store.calls == 0

    def test_url_userinfo_is_sent_as_basic_as_httpx_would(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        url = f"http://us%40er:p%3Ass@127.0.0.2:{server.port}/x"
        httpx.get(url, auth=RegistryAuth([store]))
        httpx.get(url)
        expected = "Basic " + base64.b64encode(b"us@er:p:ss").decode()
        assert [r.authorization for r in server.received] == [expected, expected]
        assert store.calls == 0

    def test_a_conda_token_path(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": CondaToken("from-the-store-1")})
        httpx.get(server.url + "/t/theirs-01/chan/", auth=RegistryAuth([store]))
        assert server.received[0].path == "/t/theirs-01/chan/"
        assert server.received[0].authorization is None
        assert store.calls == 0

    async def test_the_same_with_the_async_client(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        auth = RegistryAuth([store])
        async with httpx.AsyncClient(auth=auth) as client:
            await client.get(server.url + "/", headers={"Authorization": "Bearer mine-0123"})
            await client.get(f"http://u:p@127.0.0.2:{server.port}/")
            await client.get(server.url + "/t/theirs-01/")
        assert [r.authorization for r in server.received] == [
            "Bearer mine-0123",
            "Basic " + base64.b64encode(b"u:p").decode(),
            None,
        ]
        assert store.calls == 0


def test_no_credential_means_the_request_goes_unchanged(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.2")
    httpx.get(server.url + "/p?q=1", auth=RegistryAuth([Static({})]))
    assert (server.received[0].path, server.received[0].authorization) == ("/p?q=1", None)


class Recorder:
    """A MockTransport handler for hosts that are not loopback (nothing leaves the machine)."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers={"WWW-Authenticate": "Bearer"})


def test_plain_http_to_a_remote_host_is_refused_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    store = Static(
        {"repo.example.org": BearerToken(canary()), "other.example.org": CondaToken(canary())}
    )
    auth = RegistryAuth([store])
    transport = httpx.MockTransport(recorder)
    with (
        caplog.at_level(logging.WARNING, logger="authadapter"),
        httpx.Client(auth=auth, transport=transport) as client,
    ):
        for _ in range(3):
            client.get("http://repo.example.org/simple/")
        client.get("http://other.example.org/chan/")
    assert [r.headers.get("Authorization") for r in recorder.requests] == [None] * 4
    assert str(recorder.requests[3].url) == "http://other.example.org/chan/"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "repo.example.org" in warnings[0]
    assert "allow_http_hosts" in warnings[0]
    assert "other.example.org" in warnings[1]


def test_plain_http_is_allowed_for_hosts_the_user_named() -> None:
    recorder = Recorder()
    auth = RegistryAuth(
        [Static({"repo.example.org": BearerToken("opted-in-01")})],
        allow_http_hosts=["Repo.Example.org"],
    )
    with httpx.Client(auth=auth, transport=httpx.MockTransport(recorder)) as client:
        client.get("http://repo.example.org/simple/")
        client.get("https://repo.example.org/simple/")
    assert [r.headers.get("Authorization") for r in recorder.requests] == [
        "Bearer opted-in-01",
        "Bearer opted-in-01",
    ]


def test_a_401_over_refused_plain_http_is_not_resent() -> None:
    # the 401 invites a retry, but the credential may not go over plain http:
    # re-sending the same request unchanged would only double the traffic
    recorder = Recorder(status=401)
    auth = RegistryAuth([Static({"repo.example.org": BearerToken("never-sent-01")})])
    with httpx.Client(auth=auth, transport=httpx.MockTransport(recorder)) as client:
        assert client.get("http://repo.example.org/").status_code == 401
    assert len(recorder.requests) == 1
    assert "Authorization" not in recorder.requests[0].headers


def test_event_hooks_shape() -> None:
    sync_hooks = httpx_event_hooks()
    async_hooks = httpx_event_hooks(asynchronous=True)
    assert list(sync_hooks) == list(async_hooks) == ["response"]
    httpx.Client(event_hooks=sync_hooks).close()


_odd_url = st.builds(
    "http://{}repo.example.org{}/{}{}".format,
    st.sampled_from(["", "u@", "u:p@", ":p@", "%40@", "a%3Ab@"]),
    st.sampled_from(["", ":8080"]),
    st.sampled_from(["", "t/tok-1/", "t/tok-1", "T/tok/", "x/t/y/", "./t/z/", "%74/q/"]),
    st.text(alphabet="ab/?@#%t", max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(_odd_url)
def test_the_store_is_never_asked_for_a_request_that_brings_credentials(url: str) -> None:
    """The adapters' quick pre-checks must not miss any URL the full check calls "brought"."""
    count("hypothesis: left-alone decisions checked through httpx")
    recorder = Recorder()
    store = Static({"repo.example.org": BearerToken("from-the-store-1")})
    auth = RegistryAuth([store], allow_http_hosts=["repo.example.org"])
    try:
        request = httpx.Request("GET", url)
    except httpx.InvalidURL:
        return
    brought = Authorizer([], config=False).explain(str(request.url)).url_has_credentials
    with httpx.Client(auth=auth, transport=httpx.MockTransport(recorder)) as client:
        client.send(request)
    sent = recorder.requests[0].headers.get("Authorization")
    assert (store.calls == 0) is brought
    assert (sent == "Bearer from-the-store-1") is not brought


def test_a_downgrade_to_plain_http_on_a_remote_host_never_gets_the_credential() -> None:
    """https://repo -> http://repo: same host key, but plain http to a remote host."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.scheme == "https":
            return httpx.Response(302, headers={"Location": "http://repo.example.org/x"})
        return httpx.Response(401, headers={"WWW-Authenticate": "Bearer"})

    auth = RegistryAuth([Static({"repo.example.org": BearerToken("https-only-01")})])
    transport = httpx.MockTransport(handler)
    with httpx.Client(auth=auth, transport=transport, follow_redirects=True) as client:
        assert client.get("https://repo.example.org/x").status_code == 401
    assert [str(r.url) for r in seen] == ["https://repo.example.org/x", "http://repo.example.org/x"]
    assert seen[0].headers["Authorization"] == "Bearer https-only-01"
    assert "Authorization" not in seen[1].headers
