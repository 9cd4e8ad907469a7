"""AUTHADAPTER_CREDENTIALS: credentials.json's format in an environment variable."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from authadapter import (
    BearerToken,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    Miss,
    Origin,
    RegistryAuth,
)
from authadapter.providers.env import ENV_VARIABLE, EnvProvider
from tests.provider_contract import ProviderContract, as_rattler_json
from tests.support import LoopbackServer


class TestEnvContract(ProviderContract):
    serves = ("env",)

    @pytest.fixture(autouse=True)
    def _monkeypatch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        self.monkeypatch.setenv(ENV_VARIABLE, json.dumps(as_rattler_json(entries)))
        return EnvProvider()


def _lookup(url: str) -> object:
    return EnvProvider().lookup(Origin.from_url(url), url)


def test_unset_or_empty_variable_is_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(_lookup("https://a.org/"), Miss)
    monkeypatch.setenv(ENV_VARIABLE, "")
    assert isinstance(_lookup("https://a.org/"), Miss)


def test_invalid_json_is_a_failure_naming_the_variable_not_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VARIABLE, '{"a.org": {"BearerToken": "tok-in-broken-json"}')

    result = _lookup("https://a.org/")

    assert isinstance(result, Failure)
    assert ENV_VARIABLE in result.message
    assert "tok-in-broken-json" not in result.message


def test_source_names_the_variable_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VARIABLE, '{"*.a.org": {"BearerToken": "t-123456"}}')

    result = _lookup("https://x.a.org/")

    assert isinstance(result, Found)
    assert result.source == f"environment variable {ENV_VARIABLE} (key '*.a.org')"


def test_a_changed_variable_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = EnvProvider()
    origin = Origin.from_url("https://a.org/")
    monkeypatch.setenv(ENV_VARIABLE, '{"a.org": {"BearerToken": "first-value"}}')
    provider.lookup(origin, "https://a.org/")

    monkeypatch.setenv(ENV_VARIABLE, '{"a.org": {"BearerToken": "second-value"}}')
    result = provider.lookup(origin, "https://a.org/")

    assert isinstance(result, Found)
    assert result.credential == BearerToken("second-value")


def test_the_variable_overrides_stored_files_for_a_real_request(
    monkeypatch: pytest.MonkeyPatch,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: object,
) -> None:
    server = loopback_server("127.0.0.3")
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path) + "/auth.json")
    with open(str(tmp_path) + "/auth.json", "w") as stream:
        json.dump({"127.0.0.3": {"BearerToken": "from-file-token"}}, stream)
    monkeypatch.setenv(ENV_VARIABLE, '{"127.0.0.3": {"BearerToken": "from-env-token"}}')

    with httpx.Client(auth=RegistryAuth()) as client:
        client.get(server.url + "/simple/")

    assert server.received[0].authorization == "Bearer from-env-token"
