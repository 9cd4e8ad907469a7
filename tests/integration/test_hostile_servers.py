"""Hostile servers, poisoned stores and misbehaving providers, against real loopback servers.

Three promises are tried here with both clients:
- a server that loops, rejects forever or redirects somewhere odd gets at most
  one re-send and never another origin's credential;
- no store can make a credential with CR/LF reach the wire (header safety);
- a provider that raises, hangs, prints garbage, nothing, megabytes or exits
  non-zero costs at most its timeout and one warning naming it, and the next
  provider's credential is used.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from keyring.backend import KeyringBackend

from authadapter import (
    BearerToken,
    CondaToken,
    Failure,
    Found,
    LookupResult,
    Origin,
    ProviderError,
    RegistryAuth,
    httpx_event_hooks,
)
from authadapter.providers.cargo.provider import CargoProvider
from authadapter.providers.command import CommandProvider
from authadapter.providers.env import EnvProvider
from authadapter.providers.keyring_store import KeyringProvider
from authadapter.providers.netrc import NetrcProvider
from authadapter.providers.rattler import RattlerFileProvider
from tests.fixtures_security import Static, canary, count
from tests.support import LoopbackServer, Received, Reply

Servers = Callable[..., LoopbackServer]


class Rotating:
    """Hands out a new token on every lookup, so every 401 looks worth a retry."""

    name = "rotating"
    blocking = False

    def __init__(self) -> None:
        self.calls = 0

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        return Found(BearerToken(f"rotating-{self.calls:04d}"), "rotating")


def reply(status: int, headers: dict[str, str] | None = None) -> Any:
    def handler(server: LoopbackServer, request: Received) -> Reply:
        return Reply(status, headers or {}, b"")

    return handler


def get_all_ways(auth: RegistryAuth, url: str) -> list[int]:
    statuses = []
    with requests.Session() as session:
        session.auth = auth
        session.trust_env = False
        statuses.append(session.get(url, timeout=10).status_code)
    with httpx.Client(auth=auth, event_hooks=httpx_event_hooks(), trust_env=False) as client:
        statuses.append(client.get(url).status_code)
    return statuses


@pytest.mark.parametrize(
    "headers",
    [
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        {"WWW-Authenticate": "x" * 60_000},
        {"WWW-Authenticate": "\x01\x02 Basic"},
        {},
    ],
    ids=["invalid-token", "huge-header", "garbage-header", "no-header"],
)
def test_a_server_that_rejects_forever_gets_one_retry(
    loopback_server: Servers, headers: dict[str, str]
) -> None:
    server = loopback_server("127.0.0.2", reply(401, headers))
    store = Rotating()
    assert get_all_ways(RegistryAuth([store]), server.url + "/x") == [401, 401]
    assert len(server.received) == 4  # each client: the request and one re-send
    count("hostile-server scenarios", 2)


async def test_the_async_client_also_retries_once(loopback_server: Servers) -> None:
    server = loopback_server("127.0.0.2", reply(403, {"WWW-Authenticate": 'error="invalid_token"'}))
    async with httpx.AsyncClient(auth=RegistryAuth([Rotating()])) as client:
        assert (await client.get(server.url + "/x")).status_code == 403
    assert len(server.received) == 2
    count("hostile-server scenarios")


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_a_server_that_redirects_every_resend_to_a_401_gets_one_resend(
    loopback_server: Servers, client: str
) -> None:
    def handler(server: LoopbackServer, request: Received) -> Reply:
        # the first request of each send is rejected, a re-send is sent back to be rejected
        retried = request.authorization != "Bearer rotating-0001" and request.path == "/a"
        return Reply(302, {"Location": "/a?again"}) if retried else Reply(401, {}, b"")

    server = loopback_server("127.0.0.2", handler)
    auth = RegistryAuth([Rotating()])
    if client == "requests":
        with requests.Session() as session:
            session.auth = auth
            session.trust_env = False
            status = session.get(server.url + "/a", timeout=10).status_code
    else:
        with httpx.Client(auth=auth, follow_redirects=True, trust_env=False) as http:
            status = http.get(server.url + "/a").status_code
    assert status == 401
    assert [r.path for r in server.received] == ["/a", "/a", "/a?again"]
    count("hostile-server scenarios")


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_after_a_rotated_token_is_refreshed_a_redirect_carries_the_new_one(
    loopback_server: Servers, client: str
) -> None:
    old, new = BearerToken(canary("old")), BearerToken(canary("new"))

    def handler(server: LoopbackServer, request: Received) -> Reply:
        if request.authorization != new.authorization():
            return Reply(401, {}, b"")
        return Reply(302, {"Location": "/b"}) if request.path == "/a" else Reply(200, {}, b"")

    server = loopback_server("127.0.0.2", handler)
    store = Static({"127.0.0.2": old})
    auth = RegistryAuth([store])
    auth.resolve(server.url)  # the old token is cached, then rotated in the store
    store.entries["127.0.0.2"] = new
    if client == "requests":
        with requests.Session() as session:
            session.auth = auth
            session.trust_env = False
            assert session.get(server.url + "/a", timeout=10).status_code == 200
    else:
        with httpx.Client(auth=auth, follow_redirects=True, trust_env=False) as http:
            assert http.get(server.url + "/a").status_code == 200
    sent = [(r.path, r.authorization) for r in server.received]
    assert sent == [
        ("/a", old.authorization()),
        ("/a", new.authorization()),
        ("/b", new.authorization()),
    ]
    assert store.calls == 2  # the first lookup and one refresh, not one per hop
    count("hostile-server scenarios")


def test_a_redirect_loop_between_origins_leaks_nothing(loopback_server: Servers) -> None:
    box: dict[str, LoopbackServer] = {}

    def bounce(name: str) -> Any:
        def handler(server: LoopbackServer, request: Received) -> Reply:
            return Reply(302, {"Location": box[name].url + request.path})

        return handler

    a = loopback_server("127.0.0.2", bounce("b"))
    b = loopback_server("127.0.0.3", bounce("a"))
    box.update(a=a, b=b)
    a_token, b_token = CondaToken(canary("a")), BearerToken(canary("b"))
    auth = RegistryAuth([Static({"127.0.0.2": a_token, "127.0.0.3": b_token})])
    with requests.Session() as session:
        session.auth = auth
        with pytest.raises(requests.TooManyRedirects) as caught:
            session.get(a.url + "/chan/", timeout=10)
    assert a_token.token not in str(caught.value)
    with (
        httpx.Client(auth=auth, follow_redirects=True, event_hooks=httpx_event_hooks()) as client,
        pytest.raises(httpx.TooManyRedirects) as caught_httpx,
    ):
        client.get(a.url + "/chan/")
    assert a_token.token not in str(caught_httpx.value)
    assert all(a_token.token not in r.path for r in b.received)
    assert all(r.authorization != b_token.authorization() for r in a.received)
    assert a.received[0].path.startswith(f"/t/{a_token.token}/")
    count("hostile-server scenarios", 2)


@pytest.mark.parametrize("scheme", ["ftp://127.0.0.3", "file://", "javascript:", "data:"])
def test_a_redirect_to_another_scheme_does_not_show_the_token(
    loopback_server: Servers, scheme: str
) -> None:
    token = CondaToken(canary())

    def handler(server: LoopbackServer, request: Received) -> Reply:
        return Reply(302, {"Location": f"{scheme}{request.path}"})

    server = loopback_server("127.0.0.2", handler)
    auth = RegistryAuth([Static({"127.0.0.2": token})])
    with requests.Session() as session:
        session.auth = auth
        with pytest.raises(requests.RequestException) as caught:
            session.get(server.url + "/chan/", timeout=10)
    with (
        httpx.Client(auth=auth, follow_redirects=True, event_hooks=httpx_event_hooks()) as client,
        pytest.raises(httpx.HTTPError) as caught_httpx,
    ):
        client.get(server.url + "/chan/")
    assert token.token not in str(caught.value)
    assert token.token not in str(caught_httpx.value)
    count("hostile-server scenarios", 2)


# -- header safety through every store ----------------------------------------------------

INJECTION = "good-0123\r\nX-Injected: evil"


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory: what matters here is the provider's parsing."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, entries: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.entries = entries

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


def poisoned_store(kind: str, tmp_path: Path, host: str, port: int, token: str) -> Any:
    """A ``kind`` of store holding ``token`` for ``host``, written in that store's own format."""
    tagged = {"BearerToken": token}
    if kind == "rattler-file":
        path = tmp_path / "credentials.json"
        path.write_text(json.dumps({host: tagged}))
        return RattlerFileProvider(path)
    if kind == "env":
        return EnvProvider("AUTHADAPTER_TEST_POISON")
    if kind == "keyring":
        backend = MemoryKeyring({("rattler", host): json.dumps(tagged)})
        return KeyringProvider(backend=backend)
    if kind == "netrc":
        path = tmp_path / "netrc"
        path.write_text(f'machine {host} login u password "{token}"\n')
        return NetrcProvider(path)
    if kind == "cargo":
        home = tmp_path / "cargo"
        home.mkdir()
        index = f"sparse+http://{host}:{port}/index/"
        (home / "config.toml").write_text(f'[registries.r]\nindex = "{index}"\n')
        (home / "credentials.toml").write_text(f"[registries.r]\ntoken = {json.dumps(token)}\n")
        return CargoProvider(cwd=tmp_path, environ={"CARGO_HOME": str(home)})
    raise AssertionError(kind)


def request_both_ways(store: Any, url: str) -> list[str]:
    """Send one request with each client; the messages of the errors raised (Cargo's are fatal)."""
    messages = []
    for client in ("requests", "httpx"):
        auth = RegistryAuth([store])
        try:
            if client == "requests":
                requests.get(url, auth=auth, timeout=10)
            else:
                httpx.get(url, auth=auth)
        except ProviderError as error:
            messages.append(str(error))
    return messages


@pytest.mark.parametrize("kind", ["rattler-file", "env", "keyring", "netrc", "cargo"])
def test_no_store_can_put_a_line_break_on_the_wire(
    kind: str,
    tmp_path: Path,
    loopback_server: Servers,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = loopback_server("127.0.0.2")
    origin = Origin("http", "127.0.0.2", server.port)
    url = server.url + "/index/config.json"
    for token, folder in (("good-0123", "clean"), (INJECTION, "poisoned")):
        (tmp_path / folder).mkdir()
        tagged = {"127.0.0.2": {"BearerToken": token}}
        monkeypatch.setenv("AUTHADAPTER_TEST_POISON", json.dumps(tagged))
        store = poisoned_store(kind, tmp_path / folder, "127.0.0.2", server.port, token)
        found = isinstance(store.lookup(origin, url), Found)
        assert found is (token == "good-0123"), "the clean store answers, the poisoned one not"
    messages = request_both_ways(store, url)
    assert all("X-Injected" not in message for message in messages)
    for received in server.received:
        assert "x-injected" not in received.headers
        assert received.authorization is None
    assert "evil" not in caplog.text
    count("header-safety scenarios (store x client)", 2)


# -- failures contained ------------------------------------------------------------------------

SCRIPTS = {
    "exits-non-zero": "import sys; print('tok-abcdef'); sys.exit(3)",
    "prints-garbage": "import sys; sys.stdout.buffer.write(bytes(range(256)))",
    "prints-nothing": "pass",
    "prints-megabytes": "import sys; sys.stdout.write('x' * 8_000_000)",
    "prints-two-lines": "print('tok-abcdef'); print('more')",
    "hangs": "import time; time.sleep(60)",
    "crashes": "raise SystemExit('boom: traceback-like text')",
}


@pytest.mark.parametrize("behaviour", sorted(SCRIPTS))
def test_a_misbehaving_command_costs_its_timeout_and_one_warning(
    behaviour: str, loopback_server: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = loopback_server("127.0.0.2")
    command = CommandProvider(
        [sys.executable, "-c", SCRIPTS[behaviour]], hosts=["127.0.0.2"], timeout=2.0, name="cmd-x"
    )
    fallback = Static({"127.0.0.2": BearerToken("fallback-0123")})
    auth = RegistryAuth([command, fallback], timeout=5.0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="authadapter"):
        response = httpx.get(server.url + "/x", auth=auth)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert server.received[0].authorization == "Bearer fallback-0123"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "cmd-x" in warnings[0]
    assert "\n" not in warnings[0]
    assert "tok-abcdef" not in warnings[0]
    assert elapsed < 15, "bounded by the command's timeout, with room for a loaded machine"
    count("misbehaving-provider scenarios")


class Raises:
    name = "raises"
    blocking = False

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        raise KeyError(f"internal state with {canary()}")


class Hangs:
    name = "hangs"
    blocking = True

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        time.sleep(30)
        return Failure("never")


@pytest.mark.parametrize("provider", [Raises(), Hangs()], ids=["raises", "hangs"])
def test_a_python_provider_that_raises_or_hangs_is_contained(
    provider: Any, loopback_server: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = loopback_server("127.0.0.2")
    fallback = Static({"127.0.0.2": BearerToken("fallback-0123")})
    auth = RegistryAuth([provider, fallback], timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="authadapter"), requests.Session() as session:
        session.auth = auth
        session.get(server.url + "/x", timeout=10)
    assert server.received[0].authorization == "Bearer fallback-0123"
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert provider.name in warning
    count("misbehaving-provider scenarios")
