"""Provider ``git``: the real git asks its ``store`` helper, or a helper that records its input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import (
    BasicCredential,
    BearerToken,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    InvalidCredentialError,
    LookupResult,
    Miss,
    Origin,
    ProviderError,
    RawToken,
    RegistryAuth,
)
from authadapter.providers.git import (
    GitProvider,
    credential_request,
    parse_credential_output,
)
from tests.provider_contract import ProviderContract
from tests.support import LoopbackServer, Reply

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")

RECORDER = """#!/bin/sh
dir=$(dirname "$0")
printf '%s\\n' "$1" >> "$dir/asked"
cat >> "$dir/asked"
echo "--" >> "$dir/asked"
if [ "$1" = get ] && [ -f "$dir/answer" ]; then cat "$dir/answer"; fi
if [ -f "$dir/tty" ]; then
  (: < /dev/tty) 2>/dev/null && echo yes > "$dir/tty" || echo no > "$dir/tty"
fi
if [ -f "$dir/sleep" ]; then sleep "$(cat "$dir/sleep")"; fi
exit 0
"""


class GitHome:
    """A private git configuration (``GIT_CONFIG_GLOBAL``, no system file) and a recorder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        self.config = directory / "gitconfig"
        self.config.write_text("")
        self.helper = directory / "git-credential-recorder"
        self.helper.write_text(RECORDER)
        self.helper.chmod(0o755)

    def set(self, key: str, value: str) -> None:
        subprocess.run(["git", "config", "--file", str(self.config), key, value], check=True)

    def use_recorder(self, answer: str | None = None) -> None:
        self.set("credential.helper", str(self.helper))
        if answer is not None:
            (self.directory / "answer").write_text(answer)

    def use_store(self, *urls: str) -> Path:
        """git's own ``store`` helper, holding ``urls`` (``https://user:pass@host``)."""
        store = self.directory / "git-credentials"
        store.write_text("".join(f"{url}\n" for url in urls))
        self.set("credential.helper", f"store --file={store}")
        return store

    def asked(self) -> list[list[str]]:
        """Every request the recording helper got: its action, then its input lines."""
        path = self.directory / "asked"
        if not path.exists():
            return []
        blocks = path.read_text().split("--\n")
        return [[line for line in block.splitlines() if line] for block in blocks if block]


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitHome:
    home = GitHome(tmp_path / "git")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home.config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


def _lookup(provider: GitProvider, url: str) -> LookupResult:
    return provider.lookup(Origin.from_url(url), url)


def _basic_url(host: str, username: str, password: str, scheme: str = "https") -> str:
    return f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@{host}"


class TestGitStoreContract(ProviderContract):
    """git's ``store`` helper through the real git; it keys by exact host (and port)."""

    serves = ("git",)

    kinds = ("basic",)
    supports_wildcards = False
    supports_ports = False
    normalises_stored_keys = False

    @pytest.fixture(autouse=True)
    def _home(self, git_home: GitHome) -> None:
        self.home = git_home

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        urls = []
        for key, credential in entries.items():
            assert isinstance(credential, BasicCredential)
            urls.append(_basic_url(key, credential.username, credential.password))
        self.home.use_store(*urls)
        return GitProvider()


# what git is asked ----------------------------------------------------------------


def test_the_helper_gets_protocol_and_host_with_port_and_no_path(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")

    result = _lookup(GitProvider(), "https://git.example.org:8443/group/simple/pkg/")

    assert isinstance(result, Found)
    assert result.credential == BasicCredential("bob", "git-pass-0001")
    assert result.source == "git credential fill for https://git.example.org:8443"
    assert result.ttl is None
    assert git_home.asked() == [["get", "protocol=https", "host=git.example.org:8443"]]


def test_the_default_port_is_not_written(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")

    _lookup(GitProvider(), "https://git.example.org:443/x")

    assert git_home.asked()[0][2] == "host=git.example.org"


def test_use_http_path_sends_the_path_and_the_answer_is_not_cached(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")
    git_home.set("credential.useHttpPath", "true")

    result = _lookup(GitProvider(), "https://git.example.org/group/simple%20x/pkg/?q=1")

    assert isinstance(result, Found)
    assert result.ttl == 0
    assert result.source == "git credential fill for https://git.example.org/group/simple x/pkg"
    assert git_home.asked()[0] == [
        "get",
        "protocol=https",
        "host=git.example.org",
        "path=group/simple x/pkg",
    ]


def test_use_http_path_for_one_url_applies_there_only(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")
    git_home.set("credential.https://git.example.org/org-a.useHttpPath", "true")
    provider = GitProvider()

    inside = _lookup(provider, "https://git.example.org/org-a/simple/")
    outside = _lookup(provider, "https://git.example.org/org-b/simple/")

    assert [request[-1] for request in git_home.asked()] == [
        "path=org-a/simple",
        "host=git.example.org",
    ]
    assert isinstance(inside, Found)
    assert isinstance(outside, Found)
    assert (inside.ttl, outside.ttl) == (0, 0)  # answers depend on the path here


def test_a_newline_in_the_path_is_never_passed_to_git(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")
    git_home.set("credential.useHttpPath", "true")

    result = _lookup(GitProvider(), "https://git.example.org/a%0Ausername=mallory/")

    assert isinstance(result, Failure)
    assert "newline" in result.message
    assert git_home.asked() == []


def test_other_schemes_are_not_asked(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")

    assert isinstance(_lookup(GitProvider(), "ftp://git.example.org/"), Miss)
    assert git_home.asked() == []


# what git answers ---------------------------------------------------------------


def test_nothing_known_is_a_miss_without_prompt_or_message(
    git_home: GitHome, capfd: pytest.CaptureFixture[str]
) -> None:
    git_home.use_recorder()  # answers nothing

    result = _lookup(GitProvider(), "https://unknown.example.org/")

    assert isinstance(result, Miss)
    assert capfd.readouterr().err == ""


def test_a_username_without_password_is_a_miss(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\n")

    assert isinstance(_lookup(GitProvider(), "https://git.example.org/"), Miss)


def test_a_broken_git_configuration_is_a_failure_naming_git_config(git_home: GitHome) -> None:
    git_home.set("credential.useHttpPath", "maybe")

    result = _lookup(GitProvider(), "https://git.example.org/")

    assert isinstance(result, Failure)
    assert result.message == "git config failed with exit status 128"


def test_a_missing_git_is_a_failure(git_home: GitHome) -> None:
    result = _lookup(GitProvider(git="/nonexistent/git"), "https://git.example.org/")

    assert isinstance(result, Failure)
    assert "was not found" in result.message


def test_a_hanging_helper_is_stopped_within_the_timeout(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")
    (git_home.directory / "sleep").write_text("20")
    started = time.monotonic()

    result = _lookup(GitProvider(timeout=1.5), "https://git.example.org/")

    assert time.monotonic() - started < 5
    assert isinstance(result, Failure)
    assert "git credential fill did not finish" in result.message


def test_a_helper_cannot_open_the_terminal(git_home: GitHome, tmp_path: Path) -> None:
    """Run in a child whose controlling terminal is a pty: the helper must not reach it."""
    import pty

    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")
    marker = git_home.directory / "tty"
    marker.write_text("unknown")
    script = textwrap.dedent(
        """
        import sys
        from authadapter import Origin
        from authadapter.providers.git import GitProvider
        url = "https://git.example.org/"
        print(type(GitProvider().lookup(Origin.from_url(url), url)).__name__)
        (open("/dev/tty").close(), print("child has a terminal"))
        """
    )
    pid, descriptor = pty.fork()
    if pid == 0:  # the child: a session leader with the pty as its terminal
        os.execv(sys.executable, [sys.executable, "-c", script])  # noqa: S606
    output = b""
    while True:
        try:
            chunk = os.read(descriptor, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    os.close(descriptor)

    assert b"Found" in output
    assert b"child has a terminal" in output  # so a prompt would have been possible
    assert marker.read_text().strip() == "no"


# git's own store helper, end to end ------------------------------------------------


def test_registry_auth_sends_what_gits_store_helper_holds_when_switched_on(
    git_home: GitHome, loopback_server: Callable[..., LoopbackServer]
) -> None:
    server = loopback_server("127.0.0.2")
    host = f"127.0.0.2:{server.port}"
    git_home.use_store(_basic_url(host, "deploy", "store-pass-0042", scheme="http"))

    with httpx.Client(auth=RegistryAuth(config=False, enabled={"git": True})) as client:
        client.get(f"{server.url}/simple/pkg/")
    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{server.url}/simple/pkg/")

    expected = BasicCredential("deploy", "store-pass-0042").authorization()
    assert [r.authorization for r in server.received] == [expected, None]


def test_a_refused_credential_is_not_erased_from_gits_helpers(
    git_home: GitHome, loopback_server: Callable[..., LoopbackServer]
) -> None:
    server = loopback_server("127.0.0.2", lambda server, request: Reply(401, {}, b""))
    store = git_home.use_store(
        _basic_url(f"127.0.0.2:{server.port}", "deploy", "store-pass-0042", scheme="http")
    )
    before = store.read_text()

    with httpx.Client(auth=RegistryAuth(config=False, enabled={"git": True})) as client:
        assert client.get(f"{server.url}/simple/").status_code == 401

    assert server.received[0].authorization is not None
    assert store.read_text() == before


def test_the_recorder_is_only_ever_asked_to_get(
    git_home: GitHome, loopback_server: Callable[..., LoopbackServer]
) -> None:
    server = loopback_server("127.0.0.2", lambda server, request: Reply(401, {}, b""))
    git_home.use_recorder("username=bob\npassword=git-pass-0001\n")

    with httpx.Client(auth=RegistryAuth(config=False, enabled={"git": True})) as client:
        client.get(f"{server.url}/a")
        client.get(f"{server.url}/b")

    actions = [request[0] for request in git_home.asked()]
    assert actions
    assert set(actions) == {"get"}  # never "store" or "erase", even after a 401


# the protocol, as pure functions ---------------------------------------------------


def test_the_request_announces_authtype_and_ends_with_a_blank_line() -> None:
    assert credential_request("https", "h.org:8443", "a/b") == (
        b"capability[]=authtype\nprotocol=https\nhost=h.org:8443\npath=a/b\n\n"
    )


def test_git_246_authtype_bearer_is_a_bearer_token() -> None:
    output = b"capability[]=authtype\nauthtype=Bearer\ncredential=git-token-0007\nprotocol=https\n"

    answer = parse_credential_output(output, time.time())

    assert answer.credential == BearerToken("git-token-0007")


def test_another_authtype_is_sent_as_that_scheme() -> None:
    output = b"authtype=Negotiate\ncredential=YIIabc-0008\nusername=u\npassword=p-ignored\n"

    answer = parse_credential_output(output, time.time())

    assert answer.credential == RawToken("Negotiate YIIabc-0008")


def test_an_authtype_that_is_not_a_scheme_is_refused() -> None:
    with pytest.raises(InvalidCredentialError):
        parse_credential_output(b"authtype=Bearer x\ncredential=tok-0009\n", time.time())


def test_password_expiry_bounds_the_lifetime_and_an_expired_one_is_no_answer(
    git_home: GitHome,
) -> None:
    soon = int(time.time()) + 120
    answer = parse_credential_output(
        f"username=u\npassword=p-000a\npassword_expiry_utc={soon}\n".encode(), time.time()
    )
    expired = parse_credential_output(
        b"username=u\npassword=p-000b\npassword_expiry_utc=1000\n", time.time()
    )

    assert answer.expires_at == soon
    assert expired.credential is None


def test_git_246_answers_reach_the_request(
    git_home: GitHome, tmp_path: Path, loopback_server: Callable[..., LoopbackServer]
) -> None:
    """git 2.39 is installed; a stand-in prints what ``git credential fill`` 2.46 prints."""
    stand_in = tmp_path / "git-2.46"
    stand_in.write_text(
        "#!/bin/sh\n"
        'if [ "$3" = config ]; then exit 1; fi\n'
        "cat > /dev/null\n"
        "printf 'capability[]=authtype\\nauthtype=Bearer\\ncredential=git-token-000c\\n"
        "password_expiry_utc=%s\\n' $(( $(date +%s) + 60 ))\n"
    )
    stand_in.chmod(0o755)
    server = loopback_server("127.0.0.2")

    result = _lookup(GitProvider(git=str(stand_in)), f"{server.url}/x")
    with httpx.Client(auth=RegistryAuth([GitProvider(git=str(stand_in))])) as client:
        client.get(f"{server.url}/x")

    assert isinstance(result, Found)
    assert result.ttl is not None
    assert 50 < result.ttl <= 60
    assert server.received[0].authorization == "Bearer git-token-000c"


def test_source_and_repr_show_no_secret(git_home: GitHome) -> None:
    git_home.use_recorder("username=bob\npassword=git-pass-000d\n")
    provider = GitProvider()

    result = _lookup(provider, "https://git.example.org/")

    assert isinstance(result, Found)
    for text in (result.source, repr(result), repr(provider), provider.description):
        assert "git-pass-000d" not in text


@given(st.binary(max_size=300))
def test_any_output_of_git_is_an_answer_or_a_clear_error(output: bytes) -> None:
    try:
        answer = parse_credential_output(output, 1_000_000.0)
    except (ProviderError, InvalidCredentialError) as error:
        message = str(error)
    else:
        assert answer.credential is None or answer.credential.authorization()
        return
    assert message
    assert "\n" not in message


@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=40)))
def test_no_host_or_path_can_add_an_attribute(host: str, path: str | None) -> None:
    try:
        request = credential_request("https", host, path)
    except ProviderError:
        assert "\n" in host + (path or "") or "\0" in host + (path or "")
        return
    lines = request.decode("utf-8").split("\n")
    assert lines[-2:] == ["", ""]
    assert [line.partition("=")[0] for line in lines[:-2]] == (
        ["capability[]", "protocol", "host"] + ([] if path is None else ["path"])
    )
