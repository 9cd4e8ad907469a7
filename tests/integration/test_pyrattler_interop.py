"""Interop with the real py-rattler: whatever pixi stores we send, whatever we store pixi sends.

py-rattler (the Python binding of the Rust library behind pixi) fetches a
tiny conda channel from a loopback server with its ``AuthenticationMiddleware``
in a separate process, so it reads the stores (``RATTLER_AUTH_FILE``,
keyring, ``~/.rattler/credentials.json``) fresh from the environment each
time. The server records what arrived; the tests compare it with what
``RegistryAuth`` sends for the same channel, or with what ``authadapter login``
stored.

rattler keys by host without port, so the credentials here are keyed
``127.0.0.x`` for a server on ``127.0.0.x:PORT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import requests

from authadapter import BasicCredential, BearerToken, CondaToken, Credential, RegistryAuth
from authadapter.providers.rattler import rattler_credentials_path
from authadapter.providers.rattler_format import dump_credential_value
from tests.conftest import service_unavailable
from tests.integration.test_secret_service import store_like_rattler
from tests.support import LoopbackServer, Received, Reply, SecretService
from tests.test_cli import run_cli

REPODATA = json.dumps({"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}})

_FETCH = """
import asyncio, os, sys
from rattler import Channel
from rattler.platform import Platform
from rattler.networking import AuthenticationMiddleware, Client, fetch_repo_data

async def main():
    await fetch_repo_data(
        channels=[Channel(sys.argv[1])],
        platforms=[Platform("noarch")],
        cache_path=sys.argv[2],
        callback=None,
        client=Client([AuthenticationMiddleware()]),
    )

asyncio.run(main())
sys.stdout.flush()
# py-rattler 0.28 sometimes crashes (SIGSEGV/SIGABRT) while the interpreter
# tears its runtime down after a successful fetch; leave without teardown
os._exit(0)
"""


def require_py_rattler() -> None:
    try:
        import rattler.networking  # noqa: F401
    except ImportError:
        service_unavailable("py-rattler is not installed (pip install py-rattler)")


@pytest.fixture(autouse=True)
def _py_rattler() -> None:
    require_py_rattler()


def serve_channel(server: LoopbackServer, request: Received) -> Reply:
    if request.path.endswith("/noarch/repodata.json"):
        return Reply(200, {"Content-Type": "application/json"}, REPODATA.encode())
    return Reply(404, {}, b"")


def _repodata_gets(server: LoopbackServer) -> list[Received]:
    return [r for r in server.received if r.method == "GET" and r.path.endswith("repodata.json")]


def fetch_with_rattler(server: LoopbackServer, cache: Path, channel: str | None = None) -> Received:
    """Let py-rattler fetch the channel (default: the server's); the GET it sent."""
    before = len(server.received)
    result = subprocess.run(
        [sys.executable, "-c", _FETCH, channel or f"{server.url}/chan", str(cache)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    gets = [r for r in server.received[before:] if r.method == "GET"]
    assert len(gets) == 1, [r.path for r in server.received[before:]]
    return gets[0]


def fetch_with_registry_auth(server: LoopbackServer) -> tuple[Received, Received]:
    """The same GET through httpx and through requests, both with a fresh ``RegistryAuth``."""
    url = f"{server.url}/chan/noarch/repodata.json"
    with httpx.Client(auth=RegistryAuth()) as client:
        assert client.get(url).status_code == 200
    session = requests.Session()
    session.auth = RegistryAuth()
    assert session.get(url).status_code == 200
    gets = _repodata_gets(server)
    return gets[-2], gets[-1]


def _assert_same_on_the_wire(
    server: LoopbackServer, cache: Path, header: str | None, path: str
) -> None:
    by_rattler = fetch_with_rattler(server, cache)
    by_httpx, by_requests = fetch_with_registry_auth(server)

    for received in (by_rattler, by_httpx, by_requests):
        assert (received.authorization, received.path) == (header, path)


CASES = [
    pytest.param(BearerToken("rt-bearer-0001"), "Bearer rt-bearer-0001", "", id="bearer"),
    pytest.param(
        BasicCredential("rattler-user", "rt-pass-0002"),
        "Basic cmF0dGxlci11c2VyOnJ0LXBhc3MtMDAwMg==",
        "",
        id="basic",
    ),
    pytest.param(CondaToken("rt-conda-0003"), None, "/t/rt-conda-0003", id="conda"),
]


# pixi stores -> RegistryAuth sends ---------------------------------------------


@pytest.mark.parametrize(("credential", "header", "prefix"), CASES)
def test_rattler_auth_file_is_sent_the_same_by_rattler_and_registry_auth(
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credential: Credential,
    header: str | None,
    prefix: str,
) -> None:
    server = loopback_server("127.0.0.1", serve_channel)
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"127.0.0.1": dump_credential_value(credential)}))
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))

    _assert_same_on_the_wire(
        server, tmp_path / "cache", header, f"{prefix}/chan/noarch/repodata.json"
    )


@pytest.mark.parametrize(("credential", "header", "prefix"), CASES)
def test_home_credentials_file_is_sent_the_same_by_rattler_and_registry_auth(
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    credential: Credential,
    header: str | None,
    prefix: str,
) -> None:
    server = loopback_server("127.0.0.2", serve_channel)
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"127.0.0.2": dump_credential_value(credential)}))

    _assert_same_on_the_wire(
        server, tmp_path / "cache", header, f"{prefix}/chan/noarch/repodata.json"
    )


def test_a_file_with_entries_rattler_has_and_we_skip_still_works_for_both(
    loopback_server: Callable[..., LoopbackServer], tmp_path: Path
) -> None:
    server = loopback_server("127.0.0.2", serve_channel)
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    s3 = {"access_key_id": "AKID", "secret_access_key": "rt-s3-secret", "session_token": None}
    path.write_text(
        json.dumps(
            {"s3://bucket": {"S3Credentials": s3}, "127.0.0.2": {"BearerToken": "rt-tok-0004"}}
        )
    )

    _assert_same_on_the_wire(
        server, tmp_path / "cache", "Bearer rt-tok-0004", "/chan/noarch/repodata.json"
    )


@pytest.mark.parametrize(("credential", "header", "prefix"), CASES)
def test_keyring_item_as_rattler_writes_it_is_sent_the_same(
    secret_service: SecretService,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    credential: Credential,
    header: str | None,
    prefix: str,
) -> None:
    server = loopback_server("127.0.0.3", serve_channel)
    store_like_rattler(secret_service, "127.0.0.3", credential)

    _assert_same_on_the_wire(
        server, tmp_path / "cache", header, f"{prefix}/chan/noarch/repodata.json"
    )


# authadapter login stores -> py-rattler sends ----------------------------------------


def _login(*argv: str, stdin: str = "") -> str:
    result = run_cli("login", *argv, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


LOGINS = [
    pytest.param(("--token", "-"), "al-bearer-0005\n", "Bearer al-bearer-0005", "", id="bearer"),
    pytest.param(
        ("--username", "al-user", "--password", "-"),
        "al-pass-0006\n",
        "Basic YWwtdXNlcjphbC1wYXNzLTAwMDY=",
        "",
        id="basic",
    ),
    pytest.param(("--conda-token", "-"), "al-conda-0007\n", None, "/t/al-conda-0007", id="conda"),
]


@pytest.mark.parametrize(("argv", "stdin", "header", "prefix"), LOGINS)
def test_login_to_rattler_auth_file_is_used_by_rattler(
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    stdin: str,
    header: str | None,
    prefix: str,
) -> None:
    server = loopback_server("127.0.0.4", serve_channel)
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))

    out = _login("127.0.0.4", *argv, stdin=stdin)
    received = fetch_with_rattler(server, tmp_path / "cache")

    assert out.endswith(f" for 127.0.0.4 in {tmp_path / 'auth.json'} (rattler-auth-file)\n")
    assert (received.authorization, received.path) == (
        header,
        f"{prefix}/chan/noarch/repodata.json",
    )


@pytest.mark.parametrize(("argv", "stdin", "header", "prefix"), LOGINS)
def test_login_without_keyring_writes_the_home_file_rattler_uses(
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    argv: tuple[str, ...],
    stdin: str,
    header: str | None,
    prefix: str,
) -> None:
    server = loopback_server("127.0.0.5", serve_channel)

    out = _login("http://127.0.0.5/chan", *argv, stdin=stdin)
    received = fetch_with_rattler(server, tmp_path / "cache")

    assert out.endswith(
        f" for 127.0.0.5 in {rattler_credentials_path()} (rattler-credentials-file)\n"
    )
    assert (received.authorization, received.path) == (
        header,
        f"{prefix}/chan/noarch/repodata.json",
    )


@pytest.mark.parametrize(("argv", "stdin", "header", "prefix"), LOGINS)
def test_login_to_the_secret_service_is_used_by_rattler(
    secret_service: SecretService,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    argv: tuple[str, ...],
    stdin: str,
    header: str | None,
    prefix: str,
) -> None:
    server = loopback_server("127.0.0.6", serve_channel)

    out = _login("127.0.0.6", *argv, stdin=stdin)
    received = fetch_with_rattler(server, tmp_path / "cache")

    assert out.endswith(" for 127.0.0.6 in keyring (service rattler)\n")
    assert not rattler_credentials_path().exists()
    assert (received.authorization, received.path) == (
        header,
        f"{prefix}/chan/noarch/repodata.json",
    )


def test_after_logout_rattler_sends_nothing(
    secret_service: SecretService,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
) -> None:
    server = loopback_server("127.0.0.7", serve_channel)
    _login("127.0.0.7", "--token", "-", stdin="gone-token-0008\n")

    logout = run_cli("logout", "127.0.0.7")
    received = fetch_with_rattler(server, tmp_path / "cache")

    assert logout.stdout == "removed 127.0.0.7 from keyring (service rattler)\n"
    assert received.authorization is None
    assert received.path == "/chan/noarch/repodata.json"


# wildcard keys for real host names, through a loopback HTTP proxy -------------
#
# Only loopback is reachable and ``*.localhost`` names do not resolve here, so
# the server doubles as a plain-http proxy: py-rattler (reqwest honours
# ``http_proxy``) and RegistryAuth ask it for ``http://repo.prefix.test/...``
# and the URL they chose arrives in the request line, the Authorization with it.

PROXIED_CHANNEL = "http://repo.prefix.test/chan"


def _through_proxy(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, server.url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _proxied_with_registry_auth(server: LoopbackServer) -> tuple[Received, Received]:
    url = f"{PROXIED_CHANNEL}/noarch/repodata.json"
    auth = RegistryAuth(allow_http_hosts=["repo.prefix.test"])
    with httpx.Client(auth=auth, proxy=server.url) as client:
        assert client.get(url).status_code == 200
    session = requests.Session()
    session.auth = auth
    assert session.get(url, proxies={"http": server.url}).status_code == 200
    gets = _repodata_gets(server)
    return gets[-2], gets[-1]


@pytest.mark.parametrize("store", ["home file", "keyring"])
def test_wildcard_login_for_a_one_dot_host_is_used_by_rattler_for_its_subdomain(
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    store: str,
) -> None:
    if store == "keyring":
        request.getfixturevalue("secret_service")
    server = loopback_server("127.0.0.8", serve_channel)
    _through_proxy(server, monkeypatch)

    out = _login("prefix.test", "--token", "-", stdin="wild-token-0009\n")
    received = fetch_with_rattler(server, tmp_path / "cache", PROXIED_CHANNEL)

    where = (
        "keyring (service rattler)"
        if store == "keyring"
        else f"{rattler_credentials_path()} (rattler-credentials-file)"
    )
    assert out == f"stored bearer token for *.prefix.test in {where}\n"
    assert received.path == f"{PROXIED_CHANNEL}/noarch/repodata.json"
    assert received.authorization == "Bearer wild-token-0009"


def test_wildcard_key_pixi_wrote_is_sent_the_same_by_rattler_and_registry_auth(
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = loopback_server("127.0.0.8", serve_channel)
    _through_proxy(server, monkeypatch)
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "*.prefix.test": {"BasicHTTP": {"username": "wu", "password": "wild-pw-0010"}},
                "prefix.test": {"BearerToken": "bare-host-only-0011"},
            }
        )
    )

    by_rattler = fetch_with_rattler(server, tmp_path / "cache", PROXIED_CHANNEL)
    by_httpx, by_requests = _proxied_with_registry_auth(server)

    for received in (by_rattler, by_httpx, by_requests):
        assert received.path == f"{PROXIED_CHANNEL}/noarch/repodata.json"
        assert received.authorization == "Basic d3U6d2lsZC1wdy0wMDEw"


def test_netrc_entry_is_sent_the_same_by_rattler_and_registry_auth(
    loopback_server: Callable[..., LoopbackServer], tmp_path: Path
) -> None:
    server = loopback_server("127.0.0.9", serve_channel)
    (Path.home() / ".netrc").write_text(
        "machine 127.0.0.9 login nu password netrc-pw-0012\n"
        "machine 127.0.0.10 login other password not-this-one\n"
    )

    _assert_same_on_the_wire(
        server, tmp_path / "cache", "Basic bnU6bmV0cmMtcHctMDAxMg==", "/chan/noarch/repodata.json"
    )
