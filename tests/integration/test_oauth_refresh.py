"""OAuth renewal with real parts: two processes, a real Secret Service, and py-rattler reading back.

The token endpoint rotates refresh tokens (a refresh token works once), so a
second refresh with the same token would fail: one refresh counted and every
request carrying the renewed token shows the renewal was shared, not repeated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from authadapter import RegistryAuth
from authadapter.providers.rattler import rattler_credentials_path
from tests.integration.test_pyrattler_interop import (
    fetch_with_rattler,
    require_py_rattler,
    serve_channel,
)
from tests.oauth_endpoint import TokenEndpoint, oauth_value
from tests.support import LoopbackServer, Reply, SecretService
from tests.test_cli import run_cli

Start = Callable[..., LoopbackServer]

_FETCH_WHEN_TOLD = """
import sys, httpx
from authadapter import RegistryAuth
auth = RegistryAuth(config=False)
print("ready", flush=True)
sys.stdin.readline()
with httpx.Client(auth=auth) as client:
    print(client.get(sys.argv[1]).status_code, flush=True)
"""


def _endpoint(start: Start, **options: object) -> tuple[TokenEndpoint, str]:
    endpoint = TokenEndpoint("refresh-original-0001", **options)  # type: ignore[arg-type]
    return endpoint, f"{start('127.0.0.9', endpoint).url}/token"


def test_two_processes_refreshing_at_once_leave_one_valid_entry(
    loopback_server: Start,
) -> None:
    endpoint, url = _endpoint(loopback_server, delay=0.5)
    registry = loopback_server("127.0.0.2")
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    other = {"BearerToken": "unrelated-token-0003"}
    path.write_text(json.dumps({"127.0.0.2": oauth_value(url, expires_in=20), "b.org": other}))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _FETCH_WHEN_TOLD, f"{registry.url}/x"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:  # both start their request now
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()

    assert [out.strip() for out, _ in outputs] == ["200", "200"], [err for _, err in outputs]
    assert endpoint.refreshes == 1
    assert len(endpoint.forms) == 1
    assert [r.authorization for r in registry.received] == ["Bearer access-renewed-0001"] * 2
    stored = json.loads(path.read_text())
    assert stored["b.org"] == other
    assert stored["127.0.0.2"]["OAuth"]["access_token"] == "access-renewed-0001"
    assert stored["127.0.0.2"]["OAuth"]["refresh_token"] == "refresh-renewed-0001"
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []


# the keyring -------------------------------------------------------------------------

_RATTLER_ATTRIBUTES = {"service": "rattler", "target": "default", "application": "rust-keyring"}


def _store_like_rattler(service: SecretService, key: str, value: object) -> None:
    import secretstorage

    with closing(service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        label = f"keyring-rs for target 'default', service 'rattler', user '{key}'"
        attributes = {**_RATTLER_ATTRIBUTES, "username": key}
        collection.create_item(label, attributes, json.dumps(value).encode(), replace=True)


def _rattler_items(service: SecretService, key: str) -> list[tuple[dict[str, str], object]]:
    import secretstorage

    with closing(service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        return [
            (item.get_attributes(), json.loads(item.get_secret()))
            for item in collection.search_items({"service": "rattler", "username": key})
        ]


@pytest.mark.service
def test_a_keyring_entry_is_renewed_in_place_keeping_rattlers_attributes(
    loopback_server: Start, secret_service: SecretService
) -> None:
    endpoint, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2")
    _store_like_rattler(secret_service, "127.0.0.2", oauth_value(url, expires_in=30))
    auth = RegistryAuth(config=False)

    with httpx.Client(auth=auth) as client:
        client.get(f"{registry.url}/a")
        client.get(f"{registry.url}/b")

    assert [r.authorization for r in registry.received] == ["Bearer access-renewed-0001"] * 2
    assert endpoint.refreshes == 1
    ((attributes, value),) = _rattler_items(secret_service, "127.0.0.2")  # no second item
    expected = {**_RATTLER_ATTRIBUTES, "username": "127.0.0.2"}
    assert {name: attributes.get(name) for name in expected} == expected
    assert isinstance(value, dict)
    assert value["OAuth"]["access_token"] == "access-renewed-0001"
    assert value["OAuth"]["refresh_token"] == "refresh-renewed-0001"


@pytest.mark.service
def test_an_expired_keyring_entry_that_cannot_be_renewed_is_not_sent(
    loopback_server: Start, secret_service: SecretService
) -> None:
    endpoint, url = _endpoint(loopback_server)
    endpoint.answer = Reply(400, {}, b'{"error": "invalid_grant"}')
    registry = loopback_server("127.0.0.2")
    stored = oauth_value(url, expires_in=-10)
    _store_like_rattler(secret_service, "127.0.0.2", stored)

    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{registry.url}/a")

    assert registry.received[0].authorization is None
    assert [value for _, value in _rattler_items(secret_service, "127.0.0.2")] == [stored]


# py-rattler -------------------------------------------------------------------------


def test_py_rattler_reads_the_entry_we_renewed(
    loopback_server: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2", serve_channel)
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"127.0.0.2": oauth_value(url, expires_in=30)}))
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))

    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{registry.url}/chan/noarch/repodata.json")
    require_py_rattler()
    by_rattler = fetch_with_rattler(registry, tmp_path / "cache")

    assert registry.received[0].authorization == "Bearer access-renewed-0001"
    assert by_rattler.authorization == "Bearer access-renewed-0001"
    assert endpoint.refreshes == 1  # rattler found it valid: no refresh of its own


def test_we_read_the_entry_py_rattler_renewed(
    loopback_server: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2", serve_channel)
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"127.0.0.2": oauth_value(url, expires_in=30)}))
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))

    require_py_rattler()
    by_rattler = fetch_with_rattler(registry, tmp_path / "cache")
    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{registry.url}/chan/noarch/repodata.json")

    assert by_rattler.authorization == "Bearer access-renewed-0001"
    assert registry.received[-1].authorization == "Bearer access-renewed-0001"
    assert endpoint.refreshes == 1


@pytest.mark.service
def test_list_shows_a_keyring_oauth_entry_with_its_expiry_and_no_token(
    loopback_server: Start, secret_service: SecretService
) -> None:
    _, url = _endpoint(loopback_server)
    _store_like_rattler(secret_service, "repo.example.org", oauth_value(url, expires_in=-10))

    listed = run_cli("list")

    assert listed.returncode == 0, listed.stderr
    assert "OAuth, expired " in listed.stdout
    assert "refreshable" in listed.stdout
    assert "access-original-0001" not in listed.stdout + listed.stderr


@pytest.mark.service
def test_py_rattler_reads_the_keyring_entry_we_renewed(
    loopback_server: Start, secret_service: SecretService, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2", serve_channel)
    _store_like_rattler(secret_service, "127.0.0.2", oauth_value(url, expires_in=30))

    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{registry.url}/chan/noarch/repodata.json")
    require_py_rattler()
    by_rattler = fetch_with_rattler(registry, tmp_path / "cache")

    assert registry.received[0].authorization == "Bearer access-renewed-0001"
    assert by_rattler.authorization == "Bearer access-renewed-0001"
    assert endpoint.refreshes == 1
