"""The private Secret Service fixture is real: other programs see what python-keyring wrote."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import keyring.core
import pytest

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    CredentialProvider,
    Miss,
    Origin,
    RegistryAuth,
    delete_credential,
    save_credential,
)
from authadapter.cli import main
from authadapter.providers.keyring_store import KeyringProvider
from tests.conftest import service_unavailable
from tests.provider_contract import ProviderContract
from tests.support import LoopbackServer, SecretService, store_like_rattler


def _secret_tool() -> str:
    path = shutil.which("secret-tool")
    if path is None:
        service_unavailable("secret-tool not installed (Debian: libsecret-tools)")
    assert path is not None
    return path


def _lookup_rattler_item(key: str) -> str:
    """The secret of rattler's keyring item for ``key``, as the secret-tool CLI reads it."""
    return subprocess.run(
        [_secret_tool(), "lookup", "service", "rattler", "username", key],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout


def test_python_keyring_item_is_visible_to_secret_tool(secret_service: SecretService) -> None:
    backend = keyring.core.load_env()
    assert backend is not None
    backend.set_password("rattler", "repo.example.org", '{"BearerToken": "t-1"}')

    found = _lookup_rattler_item("repo.example.org")

    assert found == '{"BearerToken": "t-1"}'


def test_secret_tool_item_is_visible_to_python_keyring(secret_service: SecretService) -> None:
    subprocess.run(
        [_secret_tool(), "store", "--label=x", "service", "svc", "username", "someone"],
        input="s3cret",
        text=True,
        timeout=30,
        check=True,
    )
    backend = keyring.core.load_env()
    assert backend is not None

    assert backend.get_password("svc", "someone") == "s3cret"


def test_clear_empties_the_keyring_between_tests(secret_service: SecretService) -> None:
    backend = keyring.core.load_env()
    assert backend is not None
    backend.set_password("rattler", "repo.example.org", "x")

    secret_service.clear()

    assert backend.get_password("rattler", "repo.example.org") is None


# the keyring provider against the real Secret Service ----------------------------


class TestSecretServiceContract(ProviderContract):
    normalises_stored_keys = False

    @pytest.fixture(autouse=True)
    def _service(self, secret_service: SecretService) -> None:
        self.service = secret_service

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        self.service.clear()
        for key, credential in entries.items():
            store_like_rattler(self.service, key, credential)
        return KeyringProvider()


def test_login_stores_in_the_keyring_when_it_works(secret_service: SecretService) -> None:
    where = save_credential("repo.example.org", BearerToken("kr-token-1234"))

    found = _lookup_rattler_item("repo.example.org")
    assert where == "keyring (service rattler)"
    assert json.loads(found) == {"BearerToken": "kr-token-1234"}
    assert not (Path.home() / ".rattler" / "credentials.json").exists()


def test_logout_removes_the_keyring_entry(secret_service: SecretService) -> None:
    store_like_rattler(secret_service, "repo.example.org", BearerToken("kr-token-5678"))

    removed = delete_credential("repo.example.org")

    assert removed == ["keyring (service rattler)"]
    lookup = KeyringProvider().lookup(Origin.from_url("https://repo.example.org"), "")
    assert isinstance(lookup, Miss)


def test_list_shows_keyring_entries_masked(secret_service: SecretService) -> None:
    store_like_rattler(secret_service, "*.example.org", BasicCredential("kr-user", "kr-pass-9999"))
    out = io.StringIO()

    assert main(["list"], stdout=out) == 0

    lines = out.getvalue().splitlines()
    assert any(
        line.split()[:2] == ["*.example.org", "basic"] and "keyring (service rattler)" in line
        for line in lines
    ), lines
    assert "kr-pass-9999" not in out.getvalue()


def test_list_names_a_keyring_entry_it_cannot_use(secret_service: SecretService) -> None:
    import secretstorage

    store_like_rattler(secret_service, "ok.example.org", BearerToken("kr-ok-1111"))
    with closing(secret_service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        attributes = {"service": "rattler", "username": "s3://bucket"}
        s3 = '{"S3Credentials": {"access_key_id": "a", "secret_access_key": "kr-s3-2222"}}'
        collection.create_item("s3", attributes, s3.encode(), replace=True)
    out, err = io.StringIO(), io.StringIO()

    assert main(["list"], stdout=out, stderr=err) == 0

    assert "ok.example.org" in out.getvalue()
    assert err.getvalue() == (
        "authadapter: warning: keyring (service rattler): skipping entry 's3://bucket': "
        "unsupported credential type 'S3Credentials'\n"
    )


def test_keyring_credential_reaches_a_real_server(
    secret_service: SecretService, loopback_server: Callable[..., LoopbackServer]
) -> None:
    server = loopback_server("127.0.0.5")
    store_like_rattler(secret_service, "127.0.0.5", CondaToken("kr-conda-4242"))

    with httpx.Client(auth=RegistryAuth()) as client:
        client.get(f"{server.url}/channel/noarch/repodata.json")

    assert server.received[0].path == "/t/kr-conda-4242/channel/noarch/repodata.json"
