"""Real cargo writes, authadapter reads; authadapter provides, real cargo sends.

Every test talks to a private sparse registry on loopback (``"auth-required":
true``, 401 without the right ``Authorization``) and runs the real ``cargo``
binary with ``$CARGO_HOME`` in the test's temporary home.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import requests

from authadapter import RegistryAuth
from authadapter.providers.cargo import CargoProvider
from tests.conftest import service_unavailable
from tests.fixtures_cargo import Cargo, CargoHome, SparseRegistry, index_path, write_project

pytestmark = pytest.mark.service


def _index_file_url(registry: SparseRegistry) -> str:
    return f"{registry.server.url}/index/{index_path('demo')}"


@pytest.mark.parametrize("store", ["cargo:token", "cargo:libsecret"])
def test_what_cargo_login_stores_authadapter_sends(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    store: str,
) -> None:
    if store == "cargo:libsecret":
        request.getfixturevalue("secret_service")
    token = f"tok-written-by-cargo-into-{store}"
    registry = sparse_registry(token)
    # cargo refuses an auth-required registry unless a provider is configured explicitly
    cargo_home.write_config(
        f'[registry]\nglobal-credential-providers = ["{store}"]\n'
        f'[registries.my-reg]\nindex = "{registry.index_url}"\n'
    )

    done = cargo.run(["login", "--registry", "my-reg"], cwd=tmp_path, stdin=f"{token}\n")

    assert done.returncode == 0, done.stderr
    written = cargo_home.credentials.exists() and token in cargo_home.credentials.read_text()
    assert written == (store == "cargo:token")
    with httpx.Client(auth=RegistryAuth([CargoProvider(cwd=tmp_path)])) as client:
        response = client.get(_index_file_url(registry))
    assert response.status_code == 200
    assert registry.received[-1].authorization == token


def test_the_default_chain_needs_no_setup_beyond_cargos(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
) -> None:
    registry = sparse_registry("tok-default-chain")
    cargo_home.write_config(
        '[registry]\nglobal-credential-providers = ["cargo:token"]\n'
        f'[registries.my-reg]\nindex = "{registry.index_url}"\n'
    )
    login = cargo.run(["login", "--registry", "my-reg"], cwd=tmp_path, stdin="tok-default-chain\n")
    assert login.returncode == 0, login.stderr

    with requests.Session() as session:
        session.auth = RegistryAuth()
        response = session.get(_index_file_url(registry), timeout=30)
        other = session.get(f"{registry.server.url.replace('127.0.0.1', 'localhost')}/x")

    assert response.status_code == 200
    assert registry.received[-2].authorization == "tok-default-chain"
    assert other.status_code == 401  # same machine, another origin: nothing sent
    assert registry.received[-1].authorization is None


def _require_console_script() -> str:
    script = shutil.which("authadapter")
    if script is None:
        service_unavailable("the authadapter console script is not on PATH")
        raise AssertionError("unreachable")
    return script


def _through_authadapter(
    cargo_home: CargoHome, start: Callable[..., SparseRegistry], token: str, tmp_path: Path
) -> tuple[SparseRegistry, Path]:
    """A registry whose only credential provider is `authadapter cargo-credential`, a project."""
    _require_console_script()
    registry = start(token)
    cargo_home.write_config(
        f'[registries.my-reg]\nindex = "{registry.index_url}"\n'
        'credential-provider = "authadapter cargo-credential"\n'
    )
    return registry, write_project(tmp_path / "app", "my-reg")


def test_cargo_fetches_with_the_token_authadapter_provides(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
) -> None:
    registry, project = _through_authadapter(
        cargo_home, sparse_registry, "Bearer stored-by-authadapter", tmp_path
    )

    login = cargo.run(
        ["login", "--registry", "my-reg"], cwd=project, stdin="Bearer stored-by-authadapter\n"
    )
    assert login.returncode == 0, login.stderr
    assert not cargo_home.credentials.exists()
    fetch = cargo.run(["fetch"], cwd=project)

    assert fetch.returncode == 0, fetch.stderr
    assert (project / "Cargo.lock").exists()
    paths = [request.path for request in registry.received if request.authorization]
    assert f"/index/{index_path('demo')}" in paths
    assert "/dl/demo/1.0.0/download" in paths
    sent = {request.authorization for request in registry.received if request.authorization}
    assert sent == {"Bearer stored-by-authadapter"}


def test_cargo_without_a_stored_credential_is_told_not_found(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
) -> None:
    registry, project = _through_authadapter(cargo_home, sparse_registry, "never-stored", tmp_path)

    done = cargo.run(["generate-lockfile"], cwd=project)

    assert done.returncode != 0
    assert "no token found" in done.stderr.lower()
    assert all(request.authorization is None for request in registry.received)


def test_cargo_logout_removes_what_login_stored(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
) -> None:
    registry, project = _through_authadapter(
        cargo_home, sparse_registry, "Bearer tok-to-remove", tmp_path
    )
    login = cargo.run(
        ["login", "--registry", "my-reg"], cwd=project, stdin="Bearer tok-to-remove\n"
    )
    assert login.returncode == 0, login.stderr

    logout = cargo.run(["logout", "--registry", "my-reg"], cwd=project)

    assert logout.returncode == 0, logout.stderr
    assert cargo.run(["generate-lockfile"], cwd=project).returncode != 0
    auth = RegistryAuth()
    assert auth.resolve(registry.server.url).credential is None


def test_cargo_login_of_a_raw_token_shows_why_it_is_refused(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
) -> None:
    registry, project = _through_authadapter(cargo_home, sparse_registry, "raw-s3cret", tmp_path)

    login = cargo.run(["login", "--registry", "my-reg"], cwd=project, stdin="raw-s3cret\n")

    assert login.returncode != 0
    assert "log in with `Bearer <token>`" in login.stderr
    assert "raw-s3cret" not in login.stderr
    assert not cargo_home.credentials.exists()
    assert RegistryAuth().resolve(registry.server.url).credential is None


PLUGIN = """
import json, sys
print(json.dumps({"v": [1]}), flush=True)
request = json.loads(sys.stdin.readline())
token = "plug " + " ".join(request.get("args", [])) + " " + request["registry"]["name"]
answer = {"kind": "get", "token": token, "cache": "session", "operation_independent": True}
print(json.dumps({"Ok": answer}), flush=True)
"""

TOKEN_COMMAND = """
import os, sys
same = sys.argv[1] == os.environ["CARGO_REGISTRY_INDEX_URL"] and sys.argv[1].startswith("sparse+")
name = os.environ["CARGO_REGISTRY_NAME_OPT"]
sys.stdout.write(f"cmd {name} {'index-url-substituted' if same else 'wrong'}\\r\\n")
"""


@pytest.mark.parametrize(
    ("provider", "body", "expected"),
    [
        (
            '"cargo:token-from-stdout {script} {{index_url}}"',
            TOKEN_COMMAND,
            "cmd my-reg index-url-substituted",
        ),
        ('["{script}", "--vault", "a b"]', PLUGIN, "plug --vault a b my-reg"),
    ],
    ids=["token-from-stdout", "plugin-with-args"],
)
def test_authadapter_sends_what_cargo_sends(
    cargo: Cargo,
    cargo_home: CargoHome,
    sparse_registry: Callable[..., SparseRegistry],
    tmp_path: Path,
    provider: str,
    body: str,
    expected: str,
) -> None:
    script = tmp_path / "helper.py"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    registry = sparse_registry(expected)
    cargo_home.write_config(
        f'[registries.my-reg]\nindex = "{registry.index_url}"\n'
        f"credential-provider = {provider.format(script=script)}\n"
    )
    project = write_project(tmp_path / "app", "my-reg")

    by_cargo = cargo.run(["generate-lockfile"], cwd=project)
    cargo_sent = {r.authorization for r in registry.received if r.authorization}
    with httpx.Client(auth=RegistryAuth([CargoProvider(cwd=project)])) as client:
        by_authadapter = client.get(_index_file_url(registry))

    assert by_cargo.returncode == 0, by_cargo.stderr
    assert cargo_sent == {expected}
    assert by_authadapter.status_code == 200
    assert registry.received[-1].authorization == expected
