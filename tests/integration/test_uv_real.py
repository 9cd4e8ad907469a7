"""The real uv (the ``uv`` wheel's binary) writes the store; RegistryAuth reads it as uv does.

``uv auth login`` writes ``credentials.toml`` into a temporary
``UV_CREDENTIALS_DIR``; a loopback server that answers 401 without
credentials sees what ``RegistryAuth`` sends. For the matching rules, the
same server also sees what uv itself sends (``uv pip install --dry-run``
retries with the stored credential after the 401), and both must agree.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from authadapter import RegistryAuth
from authadapter.providers.uv import UvProvider
from tests.conftest import service_unavailable
from tests.support import LoopbackServer, Received, Reply

pytestmark = pytest.mark.service

ServerFactory = Callable[..., LoopbackServer]


def uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        service_unavailable("the uv package is not installed (pip install uv)")
        raise
    return str(find_uv_bin())


@pytest.fixture
def uv_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A process environment with only this test's uv settings, also applied to this process."""
    for name in list(os.environ):
        if name.startswith("UV_"):
            monkeypatch.delenv(name)
    settings = {
        "UV_CREDENTIALS_DIR": str(tmp_path / "uv-credentials"),
        "UV_NO_CACHE": "1",
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "NETRC": str(tmp_path / "no-netrc"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return dict(os.environ)


def uv(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [uv_binary(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def login(env: dict[str, str], service: str, *args: str) -> None:
    result = uv(env, "auth", "login", service, *args)
    assert result.returncode == 0, result.stderr


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def registry(server: LoopbackServer, request: Received) -> Reply:
    """401 without credentials; with any, an empty simple-API page."""
    if request.authorization is None:
        return Reply(401, {"WWW-Authenticate": 'Basic realm="uv-test"'})
    return Reply(200, {"Content-Type": "text/html"}, b"<html><body></body></html>")


def sent_by_registry_auth(url: str) -> str | None:
    auth = RegistryAuth(config=False, order=["uv"])
    with httpx.Client(auth=auth) as client:
        response = client.get(url)
    return response.request.headers.get("authorization")


def sent_by_uv(env: dict[str, str], server: LoopbackServer, index: str) -> str | None:
    """What uv sends to ``index`` after the server's 401, or ``None``."""
    server.received.clear()
    uv(
        env,
        "pip",
        "install",
        "--dry-run",
        "--python",
        sys.executable,
        "--index-url",
        index,
        "authadapter-probe-pkg",
    )
    retried = [r.authorization for r in server.received if r.authorization is not None]
    assert len(set(retried)) <= 1
    assert server.received, "uv sent no request"
    return retried[0] if retried else None


def test_what_uv_auth_login_writes_is_read_entry_by_entry(uv_env: dict[str, str]) -> None:
    login(uv_env, "https://pkgs.example.com/simple/", "--username", "alice", "--password", "pw-a")
    login(uv_env, "pkgs.example.com/org", "--token", "tok-org")
    login(uv_env, "https://pkgs.example.com/team/a/simple/", "-u", "bob", "--password", "pw-b")
    provider = UvProvider()

    def sent(url: str) -> str | None:
        result = RegistryAuth(providers=[provider]).chain.resolve(url).credential
        return None if result is None else result.authorization()

    assert provider.path == Path(uv_env["UV_CREDENTIALS_DIR"]) / "credentials.toml"
    assert sent("https://pkgs.example.com/simple/x/") == basic("alice", "pw-a")
    assert sent("https://pkgs.example.com/org/simple/x/") == basic("__token__", "tok-org")
    assert sent("https://pkgs.example.com/orgX/simple/x/") == basic("alice", "pw-a")
    assert sent("https://pkgs.example.com/team/a/files/x.whl") == basic("bob", "pw-b")
    assert sent("https://pkgs.example.com/team/ab/") == basic("alice", "pw-a")
    assert sent("https://other.example.com/simple/") is None


def test_uv_login_then_registry_auth_sends_each_prefix_its_own_user(
    uv_env: dict[str, str], loopback_server: ServerFactory
) -> None:
    server = loopback_server("127.0.0.1", registry)
    login(uv_env, f"{server.url}/a", "--username", "ua", "--password", "secret-a")
    login(uv_env, f"{server.url}/b/simple/", "--username", "ub", "--password", "secret-b")

    auth = RegistryAuth(config=False)
    with httpx.Client(auth=auth) as client:
        statuses = [client.get(f"{server.url}/{p}/simple/pkg/").status_code for p in "abab"]
        refused = client.get(f"{server.url}/c/simple/pkg/").status_code

    assert statuses == [200, 200, 200, 200]
    assert refused == 401
    seen = [(r.path.split("/")[1], r.authorization) for r in server.received]
    assert seen == [
        ("a", basic("ua", "secret-a")),
        ("b", basic("ub", "secret-b")),
        ("a", basic("ua", "secret-a")),
        ("b", basic("ub", "secret-b")),
        ("c", None),
    ]


def test_registry_auth_and_uv_agree_on_which_entry_applies(
    uv_env: dict[str, str], loopback_server: ServerFactory
) -> None:
    server = loopback_server("127.0.0.1", registry)
    base = server.url
    login(uv_env, f"{base}/", "--username", "root", "--password", "p-root")
    login(uv_env, f"{base}/org", "--username", "org", "--password", "p-org")
    login(uv_env, f"{base}/team/", "--username", "team", "--password", "p-team")
    login(uv_env, f"{base}/dup", "--username", "first", "--password", "p-1")
    login(uv_env, f"{base}/dup", "--username", "second", "--password", "p-2")
    store = Path(uv_env["UV_CREDENTIALS_DIR"]) / "credentials.toml"
    with store.open("a") as file:  # uv's bearer entries (pyx) cannot be made with `auth login`
        file.write(f'\n[[credential]]\nservice = "{base}/bear"\nscheme = "bearer"\ntoken = "t-b"\n')

    for prefix in ("org", "orgX", "team", "teamX", "dup", "bear", "other"):
        index = f"{base}/{prefix}/simple/"
        by_uv = sent_by_uv(uv_env, server, index)
        by_us = sent_by_registry_auth(f"{index}authadapter-probe-pkg/")
        assert by_us == by_uv, prefix

    assert sent_by_registry_auth(f"{base}/orgX/simple/") == basic("root", "p-root")
    assert sent_by_registry_auth(f"{base}/dup/simple/") is None  # a tie: neither, as uv
    assert sent_by_registry_auth(f"{base}/bear/simple/") == "Bearer t-b"


def test_index_variables_reach_the_server_as_uv_sends_them(
    uv_env: dict[str, str], loopback_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = loopback_server("127.0.0.1", registry)
    index = f"{server.url}/corp/simple/"
    (Path.cwd() / "pyproject.toml").write_text(
        f'[project]\nname = "x"\nversion = "0"\n\n[[tool.uv.index]]\nname = "Corp.Idx"\n'
        f'url = "{index}"\n'
    )
    monkeypatch.delenv("UV_NO_CONFIG")
    monkeypatch.setenv("UV_INDEX_CORP_IDX_USERNAME", "envuser")
    monkeypatch.setenv("UV_INDEX_CORP_IDX_PASSWORD", "envpass")
    env = dict(os.environ)

    by_uv = sent_by_uv(env, server, index)  # uv finds the name in pyproject.toml too
    by_us = sent_by_registry_auth(f"{index}authadapter-probe-pkg/")

    assert by_us == by_uv == basic("envuser", "envpass")
