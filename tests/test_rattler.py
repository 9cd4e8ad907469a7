"""pixi/rattler's credential files as providers: lookup, warnings, rewrites, real requests."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import requests

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    Miss,
    Origin,
    RegistryAuth,
    StoreFormatError,
)
from authadapter.providers.rattler import (
    RattlerFileProvider,
    rattler_auth_file_provider,
    rattler_credentials_file_provider,
)
from tests.provider_contract import ProviderContract, as_rattler_json
from tests.support import LoopbackServer, Received, Reply


def _write(path: Path, entries: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))
    return path


class TestRattlerFileContract(ProviderContract):
    serves = ("rattler-auth-file", "rattler-credentials-file")

    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self.directory = tmp_path

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        path = _write(self.directory / "credentials.json", as_rattler_json(entries))
        return RattlerFileProvider(path)


def _lookup(provider: RattlerFileProvider, url: str) -> object:
    return provider.lookup(Origin.from_url(url), url)


def test_missing_file_is_a_miss(tmp_path: Path) -> None:
    assert isinstance(_lookup(RattlerFileProvider(tmp_path / "none.json"), "https://a.org/"), Miss)


def test_corrupt_file_is_a_failure_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text('{"repo.example.org": {"BearerToken": "t"')

    result = _lookup(RattlerFileProvider(path), "https://repo.example.org/")

    assert isinstance(result, Failure)
    assert str(path) in result.message
    assert not result.fatal


def test_unknown_entries_warn_once_naming_file_and_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(
        tmp_path / "credentials.json",
        {
            "s3://bucket": {
                "S3Credentials": {"access_key_id": "AKIAXYZ", "secret_access_key": "k"}
            },
            "repo.example.org": {"BearerToken": "tok"},
        },
    )
    provider = RattlerFileProvider(path)

    with caplog.at_level(logging.WARNING, logger="authadapter"):
        first = _lookup(provider, "https://repo.example.org/")
        path.write_text(path.read_text() + " ")  # a rewrite re-parses the file
        _lookup(provider, "https://repo.example.org/")
        _lookup(provider, "https://other.org/")

    assert isinstance(first, Found)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(path) in warnings[0]
    assert "'s3://bucket'" in warnings[0]
    assert "AKIAXYZ" not in warnings[0]


def test_a_rewritten_file_is_read_again(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.json", {"repo.example.org": {"BearerToken": "old-token"}})
    provider = RattlerFileProvider(path)
    assert _lookup(provider, "https://repo.example.org/") == Found(
        BearerToken("old-token"), f"{path} (key 'repo.example.org')"
    )

    _write(tmp_path / "c.json", {"repo.example.org": {"BearerToken": "new-token-longer"}})

    result = _lookup(provider, "https://repo.example.org/")
    assert isinstance(result, Found)
    assert result.credential == BearerToken("new-token-longer")


def test_save_keeps_entries_it_does_not_understand(tmp_path: Path) -> None:
    s3 = {"S3Credentials": {"access_key_id": "a", "secret_access_key": "b", "session_token": None}}
    path = _write(tmp_path / "c.json", {"s3://bucket": s3, "old.org": {"CondaToken": "c1"}})

    RattlerFileProvider(path).save("new.org", BasicCredential("u", "p"))

    assert json.loads(path.read_text()) == {
        "s3://bucket": s3,
        "old.org": {"CondaToken": "c1"},
        "new.org": {"BasicHTTP": {"username": "u", "password": "p"}},
    }


@pytest.mark.parametrize("operation", ["save", "delete"])
def test_a_corrupt_file_is_never_overwritten(tmp_path: Path, operation: str) -> None:
    path = tmp_path / "c.json"
    original = b'{"repo.example.org": {"BearerToken": "t"},,}\n'
    path.write_bytes(original)
    provider = RattlerFileProvider(path)

    def change() -> object:
        if operation == "save":
            return provider.save("x.org", BearerToken("t2"))
        return provider.delete("repo.example.org")

    with pytest.raises(StoreFormatError, match=r"c\.json: not valid JSON"):
        change()

    assert path.read_bytes() == original


def test_delete_removes_only_that_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.json", {"a.org": {"CondaToken": "c"}, "B.org": {"BearerToken": "b"}}
    )
    provider = RattlerFileProvider(path)

    assert provider.delete("b.org") is True
    assert provider.delete("b.org") is False
    assert json.loads(path.read_text()) == {"a.org": {"CondaToken": "c"}}
    assert isinstance(_lookup(provider, "https://b.org/"), Miss)


def test_delete_on_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    assert RattlerFileProvider(tmp_path / "c.json").delete("a.org") is False
    assert list(tmp_path.iterdir()) == []


def test_entries_lists_usable_entries_as_written(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.json",
        {"Repo.Example.org": {"BearerToken": "t"}, "odd": {"OAuth": {}}},
    )

    entries = RattlerFileProvider(path).entries()

    assert [(e.key, e.credential, e.source) for e in entries] == [
        ("Repo.Example.org", BearerToken("t"), str(path))
    ]


def test_auth_file_provider_exists_only_when_the_variable_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rattler_auth_file_provider() is None

    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))
    provider = rattler_auth_file_provider()

    assert provider is not None
    assert provider.path == tmp_path / "auth.json"
    assert provider.name == "rattler-auth-file"


def test_credentials_file_is_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert rattler_credentials_file_provider().path == tmp_path / ".rattler" / "credentials.json"


# real requests ---------------------------------------------------------------


def _conda_channel(server: LoopbackServer, request: Received) -> Reply:
    return Reply(200, {"Content-Type": "application/json"}, b"{}")


@pytest.mark.parametrize(
    ("credential", "expected_header", "expected_prefix"),
    [
        (BearerToken("bearer-abc-123"), "Bearer bearer-abc-123", ""),
        (BasicCredential("alice", "pw-alice-1"), "Basic YWxpY2U6cHctYWxpY2UtMQ==", ""),
        (CondaToken("conda-xyz-789"), None, "/t/conda-xyz-789"),
    ],
)
def test_what_pixi_stored_in_its_file_is_sent_by_httpx_and_requests(
    monkeypatch: pytest.MonkeyPatch,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
    credential: Credential,
    expected_header: str | None,
    expected_prefix: str,
) -> None:
    server = loopback_server("127.0.0.1", _conda_channel)
    other = loopback_server("127.0.0.2", _conda_channel)
    # keyed as pixi keys it: the host, no port
    _write(
        tmp_path / "home" / ".rattler" / "credentials.json",
        as_rattler_json({"127.0.0.1": credential}),
    )
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    url = f"{server.url}/channel/noarch/repodata.json"

    with httpx.Client(auth=RegistryAuth()) as client:
        assert client.get(url).status_code == 200
        assert client.get(f"{other.url}/channel/noarch/repodata.json").status_code == 200
    session = requests.Session()
    session.auth = RegistryAuth()
    assert session.get(url).status_code == 200

    for received in server.received:
        assert received.authorization == expected_header
        assert received.path == f"{expected_prefix}/channel/noarch/repodata.json"
    assert len(server.received) == 2
    assert other.received[0].authorization is None
    assert other.received[0].path == "/channel/noarch/repodata.json"


def test_rattler_auth_file_comes_first_but_falls_through_for_hosts_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
) -> None:
    first = loopback_server("127.0.0.1")
    second = loopback_server("127.0.0.2")
    auth_file = _write(tmp_path / "auth.json", {"127.0.0.1": {"BearerToken": "from-auth-file"}})
    _write(
        tmp_path / "home" / ".rattler" / "credentials.json",
        {
            "127.0.0.1": {"BearerToken": "from-home-file"},
            "127.0.0.2": {"BearerToken": "home-for-second"},
        },
    )
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))

    with httpx.Client(auth=RegistryAuth()) as client:
        client.get(first.url + "/x")
        client.get(second.url + "/x")

    assert first.received[0].authorization == "Bearer from-auth-file"
    assert second.received[0].authorization == "Bearer home-for-second"
