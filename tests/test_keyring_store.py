"""The keyring provider through python-keyring: selection, failures as misses, rattler's JSON.

The backend here is a real python-keyring backend that keeps entries in
memory, selected the way a user selects one (``PYTHON_KEYRING_BACKEND``).
The real Secret Service is exercised in ``tests/integration``.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

from authadapter import (
    BasicCredential,
    BearerToken,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    Miss,
    Origin,
    ProviderChain,
    StoreWriteError,
)
from authadapter.providers.keyring_store import KeyringProvider
from authadapter.providers.rattler import RattlerFileProvider
from authadapter.providers.rattler_format import dump_credential_value
from tests.provider_contract import ProviderContract

MEMORY_BACKEND = f"{__name__}.MemoryKeyring"


class MemoryKeyring(KeyringBackend):
    """A python-keyring backend that keeps its entries in a class-level dict."""

    priority: ClassVar[float] = 1  # type: ignore[misc]
    entries: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class BrokenKeyring(MemoryKeyring):
    """A backend whose daemon went away: every call raises."""

    calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        BrokenKeyring.calls += 1
        raise KeyringError("org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.fixture(autouse=True)
def _empty_memory_keyring() -> None:
    MemoryKeyring.entries.clear()


def _rattler_secret(credential: Credential) -> str:
    return json.dumps(dump_credential_value(credential))


class TestKeyringContract(ProviderContract):
    normalises_stored_keys = False  # a keyring is asked for exact account names
    serves = ("keyring",)

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        backend = MemoryKeyring()
        for key, credential in entries.items():
            backend.set_password("rattler", key, _rattler_secret(credential))
        return KeyringProvider(backend=backend)


def _lookup(provider: KeyringProvider, url: str) -> Any:
    return provider.lookup(Origin.from_url(url), url)


def test_backend_follows_python_keyring_backend_per_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    MemoryKeyring().set_password("rattler", "repo.example.org", '{"BearerToken": "mem-token"}')
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    with_memory = KeyringProvider()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with_null = KeyringProvider()

    assert isinstance(_lookup(with_memory, "https://repo.example.org/"), Found)
    assert isinstance(_lookup(with_null, "https://repo.example.org/"), Miss)
    assert with_memory.usable()
    assert not with_null.usable()


@pytest.mark.parametrize(
    "backend", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"]
)
def test_no_keyring_is_a_miss_and_not_usable(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    provider = KeyringProvider()

    assert isinstance(_lookup(provider, "https://repo.example.org/"), Miss)
    assert not provider.usable()
    assert provider.delete("repo.example.org") is False


def test_a_failing_keyring_is_a_short_lived_miss_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = KeyringProvider(backend=BrokenKeyring())

    with caplog.at_level(logging.DEBUG, logger="authadapter"):
        result = _lookup(provider, "https://a.b.example.org/")

    assert result == Miss(ttl=30.0)
    assert BrokenKeyring.calls >= 1
    assert [r.levelno for r in caplog.records if r.name == "authadapter"] == [logging.DEBUG]
    assert not provider.usable()


def test_a_value_that_is_not_rattler_json_is_a_failure_naming_the_entry() -> None:
    backend = MemoryKeyring()
    backend.set_password("rattler", "repo.example.org", "plain-secret-not-json")

    result = _lookup(KeyringProvider(backend=backend), "https://repo.example.org/")

    assert isinstance(result, Failure)
    assert result.message == "keyring entry rattler/repo.example.org: not JSON"


def test_an_unsupported_kind_in_the_keyring_is_a_failure_without_the_secret() -> None:
    backend = MemoryKeyring()
    backend.set_password("rattler", "s3.org", '{"S3Credentials": {"secret_access_key": "SK-999"}}')

    result = _lookup(KeyringProvider(backend=backend), "https://s3.org/")

    assert isinstance(result, Failure)
    assert "S3Credentials" in result.message
    assert "SK-999" not in result.message


def test_save_writes_the_json_rattler_reads_and_delete_removes_it() -> None:
    backend = MemoryKeyring()
    provider = KeyringProvider(backend=backend)

    where = provider.save("*.example.org", BasicCredential("u", "pw-123456"))

    assert where == "keyring (service rattler)"
    assert json.loads(backend.entries[("rattler", "*.example.org")]) == {
        "BasicHTTP": {"username": "u", "password": "pw-123456"}
    }
    assert provider.delete("*.example.org") is True
    assert provider.delete("*.example.org") is False
    assert backend.entries == {}


def test_a_refused_write_is_a_store_write_error() -> None:
    class ReadOnly(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringError("locked")

    with pytest.raises(StoreWriteError, match=r"keyring \(service rattler\): cannot store"):
        KeyringProvider(backend=ReadOnly()).save("a.org", BearerToken("tok-abcdef"))


def test_a_keyring_that_hangs_is_skipped_after_the_chain_timeout(tmp_path: Path) -> None:
    release = threading.Event()

    class Hanging(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            release.wait(30)
            return None

    file = tmp_path / "credentials.json"
    file.write_text('{"repo.example.org": {"BearerToken": "from-file-after-keyring"}}')
    chain = ProviderChain(
        [KeyringProvider(backend=Hanging()), RattlerFileProvider(file)], timeout=0.2
    )
    try:
        resolution = chain.resolve("https://repo.example.org/")
    finally:
        release.set()

    assert resolution.credential == BearerToken("from-file-after-keyring")
    assert resolution.provider == "rattler-file"


def test_a_keyring_that_hangs_is_not_usable_so_login_falls_back() -> None:
    release = threading.Event()

    class Hanging(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            release.wait(30)
            return None

    try:
        assert KeyringProvider(backend=Hanging()).usable(timeout=0.2) is False
    finally:
        release.set()
