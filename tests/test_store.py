"""login/logout targets: the same store pixi would pick, nothing a user stored is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    ConfigError,
    Origin,
    ProviderChain,
    Settings,
    StoreFormatError,
)
from authadapter._config import parse_config
from authadapter._defaults import default_providers
from authadapter._store import delete_credential, key_for_host, save_credential, writable_stores
from authadapter.providers.rattler import rattler_credentials_path
from tests.fixtures_plugins import InstallPlugin
from tests.test_keyring_store import MEMORY_BACKEND, MemoryKeyring

CONFIG = Path("/etc/example/config.toml")
KEYRING_OFF = "[providers]\nkeyring = false\n"


@pytest.fixture(autouse=True)
def _empty_memory_keyring() -> None:
    MemoryKeyring.entries.clear()


@pytest.mark.parametrize(
    ("argument", "key"),
    [
        ("prefix.dev", "*.prefix.dev"),
        ("https://prefix.dev", "*.prefix.dev"),
        ("https://repo.prefix.dev/channels/x", "repo.prefix.dev"),
        ("repo.prefix.dev", "repo.prefix.dev"),
        ("*.example.org", "*.example.org"),
        ("*.Example.ORG", "*.example.org"),
        ("Repo.Example.ORG.", "repo.example.org"),
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("http://127.0.0.1:8080/channel", "127.0.0.1:8080"),
        ("example.org:8443", "example.org:8443"),
        ("https://[::1]:8443/x", "[::1]:8443"),
        ("::1", "[::1]"),
        ("[::1]", "[::1]"),
        ("FE80::1", "[fe80::1]"),
        ("sparse+https://index.example.org/", "index.example.org"),
    ],
)
def test_key_for_host_reduces_like_pixi(argument: str, key: str) -> None:
    assert key_for_host(argument) == key


@pytest.mark.parametrize(
    "argument", ["", "https://", "http://:80/", "exa mple.org", "*.exa mple.org", "*.1.2.3.4"]
)
def test_key_for_host_refuses_what_is_not_a_host(argument: str) -> None:
    with pytest.raises(ConfigError):
        key_for_host(argument)


def test_without_keyring_login_writes_the_home_credentials_file() -> None:
    where = save_credential("repo.example.org", BearerToken("home-token-1"))

    path = rattler_credentials_path()
    assert where == str(path)
    assert json.loads(path.read_text()) == {"repo.example.org": {"BearerToken": "home-token-1"}}


def test_rattler_auth_file_wins_over_keyring_and_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))

    where = save_credential("repo.example.org", CondaToken("auth-file-conda"))

    assert where == str(tmp_path / "auth.json")
    assert json.loads((tmp_path / "auth.json").read_text()) == {
        "repo.example.org": {"CondaToken": "auth-file-conda"}
    }
    assert MemoryKeyring.entries == {}
    assert not rattler_credentials_path().exists()


def test_a_working_keyring_wins_over_the_home_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)

    where = save_credential("*.example.org", BasicCredential("u", "kr-pw-777"))

    assert where == "keyring (service rattler)"
    assert json.loads(MemoryKeyring.entries[("rattler", "*.example.org")]) == {
        "BasicHTTP": {"username": "u", "password": "kr-pw-777"}
    }
    assert not rattler_credentials_path().exists()


def test_the_store_order_is_pixis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [s.name for s in writable_stores()] == ["rattler-credentials-file"]
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "a.json"))

    assert [s.name for s in writable_stores()] == [
        "rattler-auth-file",
        "keyring",
        "rattler-credentials-file",
    ]


def test_login_keeps_other_entries_and_the_ones_it_does_not_understand() -> None:
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    oauth = {"OAuth": {"access_token": "a", "refresh_token": "r", "expires_at": None}}
    path.write_text(json.dumps({"auth.example.io": oauth, "old.org": {"CondaToken": "c-old"}}))

    save_credential("new.org", BearerToken("new-token-2"))
    save_credential("OLD.org", BearerToken("replaced-3"))

    assert json.loads(path.read_text()) == {
        "auth.example.io": oauth,
        "old.org": {"BearerToken": "replaced-3"},
        "new.org": {"BearerToken": "new-token-2"},
    }


def test_login_refuses_to_touch_a_corrupt_file() -> None:
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not json at all {")

    with pytest.raises(StoreFormatError, match=str(path)):
        save_credential("new.org", BearerToken("new-token-4"))

    assert path.read_bytes() == b"not json at all {"


def test_logout_removes_the_key_from_every_store_login_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))
    (tmp_path / "auth.json").write_text('{"a.org": {"BearerToken": "t-auth"}, "b.org": {"X": 1}}')
    MemoryKeyring().set_password("rattler", "a.org", '{"BearerToken": "t-keyring"}')
    home = rattler_credentials_path()
    home.parent.mkdir(parents=True)
    home.write_text('{"a.org": {"BearerToken": "t-home"}}')

    removed = delete_credential("a.org")

    assert removed == [str(tmp_path / "auth.json"), "keyring (service rattler)", str(home)]
    assert json.loads((tmp_path / "auth.json").read_text()) == {"b.org": {"X": 1}}
    assert MemoryKeyring.entries == {}
    assert json.loads(home.read_text()) == {}


def test_logout_of_an_unknown_key_removes_nothing() -> None:
    assert delete_credential("nowhere.example.org") == []


def test_a_saved_credential_is_what_the_default_chain_finds() -> None:
    save_credential(key_for_host("https://registry.example.org:8443/x"), BearerToken("port-tok"))
    chain = ProviderChain(default_providers())

    on_port = chain.resolve_origin(Origin("https", "registry.example.org", 8443), "")
    default_port = chain.resolve_origin(Origin("https", "registry.example.org", 443), "")

    assert on_port.credential == BearerToken("port-tok")
    assert default_port.credential is None


def _config(text: str) -> Settings:
    return parse_config(text, CONFIG)


def test_login_never_writes_to_a_store_the_configuration_switches_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)

    where = save_credential(
        "repo.example.org", BearerToken("file-token-1"), settings=_config(KEYRING_OFF)
    )

    assert where == str(rattler_credentials_path())
    assert MemoryKeyring.entries == {}
    chain = ProviderChain(default_providers(_config(KEYRING_OFF)))
    assert chain.resolve("https://repo.example.org/").credential == BearerToken("file-token-1")


def test_login_writes_to_the_first_writable_store_of_the_configured_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    settings = _config("[providers]\norder = ['netrc', 'rattler-credentials-file', 'keyring']\n")

    assert [store.name for store in writable_stores(settings)] == [
        "rattler-credentials-file",
        "keyring",
    ]
    assert save_credential("a.org", BearerToken("t-1"), settings=settings) == str(
        rattler_credentials_path()
    )


def test_with_no_writable_store_switched_on_login_and_logout_refuse_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    MemoryKeyring().set_password("rattler", "a.org", '{"BearerToken": "t-keyring"}')
    settings = _config("[providers]\nrattler = false\nkeyring = false\n")
    expected = (
        f"{CONFIG}: no store to write to: rattler-auth-file is switched off; "
        "keyring is switched off; rattler-credentials-file is switched off"
    )

    with pytest.raises(ConfigError) as saving:
        save_credential("a.org", BearerToken("t-2"), settings=settings)
    with pytest.raises(ConfigError) as deleting:
        delete_credential("a.org", settings=settings)

    assert str(saving.value) == str(deleting.value) == expected
    assert not rattler_credentials_path().exists()
    assert ("rattler", "a.org") in MemoryKeyring.entries


def test_a_keyring_without_a_backend_is_named_when_nothing_else_is_on() -> None:
    settings = _config("[providers]\norder = ['keyring', 'netrc']\n")

    with pytest.raises(ConfigError, match=r"keyring has no usable backend; rattler-auth-file is"):
        save_credential("a.org", BearerToken("t-3"), settings=settings)


def test_logout_leaves_a_switched_off_store_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    MemoryKeyring().set_password("rattler", "a.org", '{"BearerToken": "t-keyring"}')
    save_credential("a.org", BearerToken("t-home"), settings=_config(KEYRING_OFF))

    removed = delete_credential("a.org", settings=_config(KEYRING_OFF))

    assert removed == [str(rattler_credentials_path())]
    assert ("rattler", "a.org") in MemoryKeyring.entries


VAULT = """
import json, os
from pathlib import Path

class Vault(StaticProvider):
    def __init__(self):
        super().__init__("vault", "127.0.0.9", "unused")
        self.path = Path(os.environ["HOME"]) / "vault.json"

    def usable(self):
        return True

    def save(self, key, credential):
        self.path.write_text(json.dumps({key: credential.authorization()}))
        return f"the vault at {self.path}"

    def delete(self, key):
        held = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.path.write_text(json.dumps({k: v for k, v in held.items() if k != key}))
        return key in held

ENTRY = ProviderEntry("vault", lambda settings: [Vault()], "a vault", before="rattler-auth-file",
                      writable=True)
"""


def test_a_writable_plugin_store_is_where_login_writes_when_it_comes_first(
    install_plugin: InstallPlugin,
) -> None:
    install_plugin("vault", VAULT)
    vault = Path.home() / "vault.json"

    where = save_credential("a.org", BearerToken("vault-tok-1"))
    stored = json.loads(vault.read_text())
    removed = delete_credential("a.org")

    assert where == f"the vault at {vault}"
    assert stored == {"a.org": "Bearer vault-tok-1"}
    assert removed == ["vault's static token for 127.0.0.9"]
    assert json.loads(vault.read_text()) == {}
    assert not rattler_credentials_path().exists()
