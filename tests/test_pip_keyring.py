"""The ``pip-keyring`` provider: python-keyring asked as pip asks it.

The backends here stand in for a plugin (they answer ``get_credential`` the
way artifacts-keyring does, for URLs of their hosts); a real plugin package
installed in a fresh venv is tests/integration/test_keyring_plugin.py.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from urllib.parse import urlsplit

import pytest
from keyring.credentials import SimpleCredential

from authadapter import (
    BasicCredential,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    ProviderChain,
)
from authadapter._reentry import inside_own_lookup
from authadapter.cli import main
from authadapter.providers.env import EnvProvider
from authadapter.providers.pip_keyring import PipKeyringProvider, keyring_services
from tests.provider_contract import ProviderContract

SECRET = "s3cr3t-plugin-token"


class PluginBackend:
    """Answers for the hosts it serves, whatever the URL form, and records every question."""

    def __init__(self, hosts: tuple[str, ...] = ("pkgs.example.com",)) -> None:
        self.hosts = hosts
        self.asked: list[tuple[str, str | None, bool]] = []

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        self.asked.append((service, username, inside_own_lookup()))
        host = urlsplit(service).hostname or service.split(":")[0]
        if host in self.hosts:
            return SimpleCredential("VssSessionToken", SECRET)
        return None


class SavedByPip(PluginBackend):
    """The OS keyring holding what pip's "save password?" wrote: service ``host[:port]``."""

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        self.asked.append((service, username, inside_own_lookup()))
        return SimpleCredential("me", SECRET) if service == "127.0.0.1:8080" else None


class Raising(PluginBackend):
    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        raise RuntimeError(f"token service down (had {SECRET})")


class Hanging(PluginBackend):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        self.release.wait(10)
        return None


def lookup(provider: PipKeyringProvider, url: str) -> LookupResult:
    return provider.lookup(Origin.from_url(url), url)


def test_a_plugin_answers_for_its_host_as_basic() -> None:
    backend = PluginBackend()

    result = lookup(
        PipKeyringProvider(backend), "https://pkgs.example.com/org/_packaging/f/simple/"
    )

    assert isinstance(result, Found)
    assert result.credential == BasicCredential("VssSessionToken", SECRET)
    assert "PluginBackend" in result.source
    assert SECRET not in result.source
    assert backend.asked == [("https://pkgs.example.com/org/_packaging/f/simple/", None, True)]


def test_services_are_the_url_then_the_origin_then_host_and_port_without_a_username() -> None:
    backend = SavedByPip()

    result = lookup(PipKeyringProvider(backend), "http://127.0.0.1:8080/simple/pkg/?x=1#f")

    assert isinstance(result, Found)
    assert result.credential == BasicCredential("me", SECRET)
    assert backend.asked == [
        ("http://127.0.0.1:8080/simple/pkg/", None, True),
        ("http://127.0.0.1:8080/", None, True),
        ("127.0.0.1:8080", None, True),
    ]


def test_a_host_no_backend_knows_is_a_miss() -> None:
    result = lookup(PipKeyringProvider(PluginBackend()), "https://pypi.org/simple/")

    assert isinstance(result, Miss)


def test_a_conda_token_in_the_path_never_becomes_a_service_name() -> None:
    origin = Origin.from_url("https://conda.example.com/t/tok-123/chan/")

    services = keyring_services(origin, "https://conda.example.com/t/tok-123/chan/")

    assert services == ["https://conda.example.com/", "conda.example.com"]


def test_a_default_port_is_left_out_of_host_and_port() -> None:
    url = "https://pkgs.example.com:443/simple/"

    assert keyring_services(Origin.from_url(url), url)[-1] == "pkgs.example.com"


def test_every_keyring_call_is_marked_as_our_own_lookup() -> None:
    backend = PluginBackend(hosts=())

    lookup(PipKeyringProvider(backend), "https://pkgs.example.com/simple/")

    assert backend.asked
    assert all(inside for _, _, inside in backend.asked)
    assert not inside_own_lookup()


def test_a_backend_that_raises_is_a_warning_and_the_next_store_answers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "AUTHADAPTER_CREDENTIALS", json.dumps({"pkgs.example.com": {"BearerToken": "next-store"}})
    )
    chain = ProviderChain([PipKeyringProvider(Raising()), EnvProvider()])

    with caplog.at_level(logging.WARNING, logger="authadapter"):
        resolution = chain.resolve("https://pkgs.example.com/simple/")

    assert resolution.provider == "env"
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "pip-keyring" in warning
    assert "Raising raised RuntimeError" in warning
    assert SECRET not in caplog.text


def test_a_backend_that_raises_is_a_non_fatal_failure() -> None:
    result = lookup(PipKeyringProvider(Raising()), "https://pkgs.example.com/simple/")

    assert isinstance(result, Failure)
    assert not result.fatal
    assert SECRET not in result.message


def test_a_backend_that_hangs_gets_the_chains_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AUTHADAPTER_CREDENTIALS", json.dumps({"pkgs.example.com": {"BearerToken": "next-store"}})
    )
    backend = Hanging()
    chain = ProviderChain([PipKeyringProvider(backend), EnvProvider()], timeout=0.2)
    started = time.monotonic()

    try:
        resolution = chain.resolve("https://pkgs.example.com/simple/")
    finally:
        backend.release.set()

    assert resolution.provider == "env"
    assert time.monotonic() - started < 5


def test_an_answer_that_cannot_be_sent_is_a_failure_without_the_secret() -> None:
    class Poisoned(PluginBackend):
        def get_credential(self, service: str, username: str | None) -> SimpleCredential:
            return SimpleCredential("me", f"{SECRET}\r\nX-Injected: 1")

    result = lookup(PipKeyringProvider(Poisoned()), "https://pkgs.example.com/")

    assert isinstance(result, Failure)
    assert SECRET not in result.message


def test_keyrings_null_backend_answers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    provider = PipKeyringProvider()

    assert isinstance(lookup(provider, "https://pkgs.example.com/"), Miss)
    assert "keyring.backends.null.Keyring" in provider.description


def test_it_is_blocking_so_the_chain_applies_its_timeout() -> None:
    assert PipKeyringProvider().blocking


def run(*argv: str) -> str:
    out = io.StringIO()
    main(list(argv), stdin=io.StringIO(), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_which_and_config_show_the_provider() -> None:
    which = run("which", "https://pkgs.example.com/simple/")
    assert ["pip-keyring", "nothing"] in [line.split() for line in which.splitlines()]

    config = run("config")
    [line] = [line for line in config.splitlines() if line.split()[1:2] == ["pip-keyring"]]
    assert "python-keyring asked as pip asks it" in line
    assert " on " in line


class SavedPasswords:
    """A keyring holding pip-style entries: service ``host[:port]``, as pip saves them."""

    def __init__(self, entries: dict[str, Credential]) -> None:
        self.entries = entries

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        credential = self.entries.get(service)
        if isinstance(credential, BasicCredential):
            return SimpleCredential(credential.username, credential.password)
        return None


class TestPipKeyringContract(ProviderContract):
    """The keyring answers for the exact ``host[:port]`` service it holds, as pip's saves."""

    kinds = ("basic",)
    supports_wildcards = False
    normalises_stored_keys = False  # the keyring is asked for a service name, verbatim
    bare_host_matches_every_port = False  # pip asks for host:port off the default port
    serves = ("pip-keyring",)

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        return PipKeyringProvider(SavedPasswords(entries))
