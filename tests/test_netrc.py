"""netrc: parsed as curl reads it (comments, default, macdef, quotes), entries as Basic auth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from authadapter import (
    BasicCredential,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    Miss,
    Origin,
    RegistryAuth,
    StoreFormatError,
)
from authadapter.providers.netrc import NetrcEntry, NetrcProvider, netrc_path, parse_netrc
from tests.provider_contract import ProviderContract
from tests.support import LoopbackServer


class TestNetrcContract(ProviderContract):
    kinds = ("basic",)
    supports_wildcards = False
    serves = ("netrc",)

    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self.directory = tmp_path

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        lines = []
        for key, credential in entries.items():
            assert isinstance(credential, BasicCredential)
            user, password = credential.username, credential.password
            lines.append(f"machine {key} login {user} password {password}")
        path = self.directory / "netrc"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        return NetrcProvider(path)


def _entries(text: str) -> list[tuple[str, str, str]]:
    return [(e.machine, e.login, e.password) for e in parse_netrc(text, "netrc")]


def test_comments_are_ignored_wherever_a_token_could_start() -> None:
    text = """# my registries
machine a.org   # the first one
  login alice   # her name
  password pw#not-a-comment
# machine commented.org login x password y
machine b.org login bob password pw2
"""
    assert _entries(text) == [("a.org", "alice", "pw#not-a-comment"), ("b.org", "bob", "pw2")]


def test_entries_on_one_line_and_across_lines() -> None:
    text = "machine a.org login u1 password p1 machine b.org\nlogin u2\npassword p2"

    assert _entries(text) == [("a.org", "u1", "p1"), ("b.org", "u2", "p2")]


def test_default_entry_is_kept_as_default() -> None:
    assert _entries("machine a.org login u password p\ndefault login anon password guest") == [
        ("a.org", "u", "p"),
        ("default", "anon", "guest"),
    ]


def test_macdef_bodies_are_skipped_up_to_the_blank_line() -> None:
    text = """machine a.org login u password p
macdef init
machine evil.org login fake password fake
cd /pub

machine b.org login u2 password p2
"""
    assert _entries(text) == [("a.org", "u", "p"), ("b.org", "u2", "p2")]


def test_quoted_tokens_may_hold_spaces_and_escapes() -> None:
    text = r'machine a.org login "my user" password "pa ss\"word"'

    assert _entries(text) == [("a.org", "my user", 'pa ss"word')]


def test_account_and_unknown_tokens_do_not_disturb_parsing() -> None:
    text = "machine a.org login u account acct password p port 21"

    assert _entries(text) == [("a.org", "u", "p")]


def test_machine_without_credentials_is_dropped() -> None:
    assert _entries("machine a.org\nmachine b.org login u password p") == [("b.org", "u", "p")]


@pytest.mark.parametrize("text", ["machine", "machine a.org login", "machine a.org password"])
def test_keyword_without_value_is_an_error_naming_file_and_line(text: str) -> None:
    with pytest.raises(StoreFormatError, match=r"^/home/u/\.netrc: line 1: "):
        parse_netrc(text, "/home/u/.netrc")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('machine a.org login u password "open-quote-secret\n', 1),
        ('machine a.org login u password p\n\nmachine b.org login "v password q\n', 3),
    ],
)
def test_a_quote_left_open_is_an_error_naming_the_line(text: str, line: int) -> None:
    with pytest.raises(StoreFormatError) as raised:
        parse_netrc(text, "/home/u/.netrc")

    assert str(raised.value) == f"/home/u/.netrc: line {line}: a quote is not closed"


def test_listing_names_an_entry_it_cannot_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "netrc"
    path.write_text(
        "machine a.org login u password bell\x07-secret\nmachine b.org login v password q\n"
    )
    path.chmod(0o600)

    entries = NetrcProvider(path).entries()

    assert [entry.key for entry in entries] == ["b.org"]
    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: skipping machine 'a.org': password contains a control character (position 4)"
    ]


def test_entry_repr_hides_the_password() -> None:
    assert "hunter2-secret" not in repr(NetrcEntry("a.org", "u", "hunter2-secret"))


def test_default_answers_for_hosts_no_machine_names(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine a.org login u password p-a-123\ndefault login d password p-default")
    provider = NetrcProvider(path)

    named = provider.lookup(Origin.from_url("https://a.org/"), "https://a.org/")
    other = provider.lookup(Origin.from_url("https://b.org/"), "https://b.org/")

    assert isinstance(named, Found)
    assert named.credential == BasicCredential("u", "p-a-123")
    assert isinstance(other, Found)
    assert other.credential == BasicCredential("d", "p-default")
    assert other.source == f"{path} (machine 'default')"


def test_first_entry_for_a_machine_wins(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine a.org login first password p1\nmachine a.org login second password p2")

    result = NetrcProvider(path).lookup(Origin.from_url("https://a.org/"), "https://a.org/")

    assert isinstance(result, Found)
    assert result.credential == BasicCredential("first", "p1")


def test_malformed_file_is_a_failure_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine a.org login")

    result = NetrcProvider(path).lookup(Origin.from_url("https://a.org/"), "https://a.org/")

    assert isinstance(result, Failure)
    assert str(path) in result.message


def test_missing_file_is_a_miss(tmp_path: Path) -> None:
    provider = NetrcProvider(tmp_path / "absent")
    assert isinstance(provider.lookup(Origin.from_url("https://a.org/"), "https://a.org/"), Miss)


def test_path_is_netrc_variable_else_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert netrc_path() == tmp_path / ".netrc"
    monkeypatch.setenv("NETRC", str(tmp_path / "other"))
    assert netrc_path() == tmp_path / "other"


def test_netrc_credentials_reach_a_real_server_with_requests(
    monkeypatch: pytest.MonkeyPatch, loopback_server: Callable[..., LoopbackServer], tmp_path: Path
) -> None:
    server = loopback_server("127.0.0.4")
    (tmp_path / "netrc").write_text(
        "# registry\nmachine 127.0.0.4 login bob password bobs-pass-42\n"
    )
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    session = requests.Session()
    session.auth = RegistryAuth()

    session.get(server.url + "/simple/")

    expected = BasicCredential("bob", "bobs-pass-42").authorization()
    assert server.received[0].authorization == expected


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_netrc_with_passwords_others_may_access_is_used_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int
) -> None:
    """Python's netrc module refuses such a file, curl and requests use it: we warn once."""
    path = tmp_path / "netrc"
    path.write_text("machine a.org login u password pw-a-123\nmachine b.org login v password q\n")
    path.chmod(mode)
    provider = NetrcProvider(path)

    for host in ("a.org", "b.org", "a.org"):
        assert isinstance(provider.lookup(Origin.from_url(f"https://{host}/"), ""), Found)
    assert len(provider.entries()) == 2
    path.write_text(path.read_text() + "machine c.org login w password r\n")  # re-read
    assert isinstance(provider.lookup(Origin.from_url("https://c.org/"), ""), Found)

    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: holds passwords but group or others have access (mode {mode:03o}); "
        "'chmod 600' it (Python's netrc module refuses such a file)"
    ]


@pytest.mark.parametrize(
    ("mode", "text"),
    [(0o600, "machine a.org login u password pw-a-123\n"), (0o644, "machine a.org login u\n")],
)
def test_a_private_netrc_or_one_without_passwords_gives_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, text: str
) -> None:
    path = tmp_path / "netrc"
    path.write_text(text)
    path.chmod(mode)

    assert isinstance(NetrcProvider(path).lookup(Origin.from_url("https://a.org/"), ""), Found)
    assert caplog.records == []
