"""The requests adapter against real loopback servers: every kind, the same rules as httpx.

A custom transport adapter stands in for hosts that are not loopback (the
plain-http rule), so nothing leaves the machine.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from requests.adapters import BaseAdapter

from authadapter import (
    Authorizer,
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    RawToken,
    RegistryAuth,
)
from tests.fixtures_security import Static, canary, count
from tests.support import LoopbackServer
from tests.test_httpx import _odd_url, expect

Servers = Callable[..., LoopbackServer]


def session(auth: RegistryAuth) -> requests.Session:
    result = requests.Session()
    result.auth = auth
    result.trust_env = False
    return result


@pytest.mark.parametrize("kind", ["bearer", "basic", "conda", "raw"])
def test_every_kind_round_trips(loopback_server: Servers, kind: str) -> None:
    credential: Credential = {
        "bearer": lambda: BearerToken(canary()),
        "basic": lambda: BasicCredential("alice", canary()),
        "conda": lambda: CondaToken(canary()),
        "raw": lambda: RawToken(canary()),
    }[kind]()
    server = loopback_server("127.0.0.2", expect(credential))
    with session(RegistryAuth([Static({"127.0.0.2": credential})])) as client:
        assert client.get(server.url + "/channel/repodata.json?x=1").status_code == 200
        assert client.post(server.url + "/upload", data=b"body").status_code == 200
    first = server.received[0]
    if isinstance(credential, CondaToken):
        assert first.path == f"/t/{credential.token}/channel/repodata.json?x=1"
        assert first.authorization is None
    else:
        assert first.path == "/channel/repodata.json?x=1"
    assert server.received[1].body == b"body"


def test_per_request_auth_works_too(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.2")
    auth = RegistryAuth([Static({"127.0.0.2": BearerToken("per-request-01")})])
    requests.get(server.url + "/", auth=auth, timeout=10)
    assert server.received[0].authorization == "Bearer per-request-01"


class TestLeftAlone:
    def test_an_authorization_header(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        with session(RegistryAuth([store])) as client:
            client.get(server.url + "/", headers={"Authorization": "Bearer mine-0123"})
            client.headers["Authorization"] = "Bearer session-wide-1"
            client.get(server.url + "/")
        assert [r.authorization for r in server.received] == [
            "Bearer mine-0123",
            "Bearer session-wide-1",
        ]
        assert store.calls == 0

    def test_url_userinfo_is_sent_as_basic_as_requests_would(
        self, loopback_server: Servers
    ) -> None:
        # with an auth set, requests does not turn user:pass@ into a header
        # itself; without authadapter's help the URL credentials would be lost
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": BearerToken("from-the-store-1")})
        url = f"http://us%40er:p%3Ass@127.0.0.2:{server.port}/x"
        with session(RegistryAuth([store])) as client:
            client.get(url)
        requests.get(url, timeout=10)
        expected = "Basic " + base64.b64encode(b"us@er:p:ss").decode()
        assert [r.authorization for r in server.received] == [expected, expected]
        assert store.calls == 0

    def test_a_conda_token_path(self, loopback_server: Servers) -> None:
        server = loopback_server("127.0.0.2")
        store = Static({"127.0.0.2": CondaToken("from-the-store-1")})
        with session(RegistryAuth([store])) as client:
            client.get(server.url + "/t/theirs-01/chan/")
        assert server.received[0].path == "/t/theirs-01/chan/"
        assert server.received[0].authorization is None
        assert store.calls == 0


class Recorder(BaseAdapter):
    """A transport adapter for hosts that are not loopback: records, never connects."""

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.requests: list[requests.PreparedRequest] = []
        self.status = status

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        response = requests.Response()
        response.status_code = self.status
        response.headers["WWW-Authenticate"] = "Bearer"
        response.request = request
        response.url = request.url or ""
        response._content = b""
        response.connection = self
        return response

    def close(self) -> None:
        pass


def test_plain_http_to_a_remote_host_is_refused_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    auth = RegistryAuth([Static({"repo.example.org": BearerToken(canary())})])
    with session(auth) as client, caplog.at_level(logging.WARNING, logger="authadapter"):
        client.mount("http://", recorder)
        client.get("http://repo.example.org/simple/")
        client.get("http://repo.example.org/simple/")
    assert [r.headers.get("Authorization") for r in recorder.requests] == [None, None]
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "repo.example.org" in warning


def test_plain_http_is_allowed_for_hosts_the_user_named() -> None:
    recorder = Recorder()
    auth = RegistryAuth(
        [Static({"repo.example.org": BearerToken("opted-in-01")})],
        allow_http_hosts=["repo.example.org"],
    )
    with session(auth) as client:
        client.mount("http://", recorder)
        client.get("http://repo.example.org/simple/")
    assert recorder.requests[0].headers["Authorization"] == "Bearer opted-in-01"


def test_a_401_over_refused_plain_http_is_not_resent() -> None:
    # the 401 invites a retry, but the credential may not go over plain http:
    # re-sending the same request unchanged would only double the traffic
    recorder = Recorder(status=401)
    auth = RegistryAuth([Static({"repo.example.org": BearerToken("never-sent-01")})])
    with session(auth) as client:
        client.mount("http://", recorder)
        assert client.get("http://repo.example.org/").status_code == 401
    assert len(recorder.requests) == 1
    assert "Authorization" not in recorder.requests[0].headers


@settings(max_examples=150, deadline=None)
@given(_odd_url)
def test_the_store_is_never_asked_for_a_request_that_brings_credentials(url: str) -> None:
    count("hypothesis: left-alone decisions checked through requests")
    recorder = Recorder()
    store = Static({"repo.example.org": BearerToken("from-the-store-1")})
    auth = RegistryAuth([store], allow_http_hosts=["repo.example.org"])
    try:
        prepared = requests.Request("GET", url).prepare()
    except requests.RequestException:
        return
    brought = Authorizer([], config=False).explain(prepared.url or "").url_has_credentials
    with session(auth) as client:
        client.mount("http://", recorder)
        client.get(url)
    sent = recorder.requests[0].headers.get("Authorization")
    assert (store.calls == 0) is brought
    assert (sent == "Bearer from-the-store-1") is not brought


class Downgrading(Recorder):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        if (request.url or "").startswith("https://"):
            response.status_code = 302
            response.headers["Location"] = "http://repo.example.org/x"
        else:
            response.status_code = 401
        return response


def test_a_downgrade_to_plain_http_on_a_remote_host_never_gets_the_credential() -> None:
    recorder = Downgrading()
    auth = RegistryAuth([Static({"repo.example.org": BearerToken("https-only-01")})])
    with session(auth) as client:
        client.mount("http://", recorder)
        client.mount("https://", recorder)
        assert client.get("https://repo.example.org/x").status_code == 401
    assert [r.url for r in recorder.requests] == [
        "https://repo.example.org/x",
        "http://repo.example.org/x",
    ]
    assert recorder.requests[0].headers["Authorization"] == "Bearer https-only-01"
    assert "Authorization" not in recorder.requests[1].headers
