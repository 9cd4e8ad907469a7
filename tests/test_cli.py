"""The ``authadapter`` command: what a user types, sees and gets back as exit status."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import authadapter
from authadapter import RegistryAuth
from authadapter._config import config_path
from authadapter.cli import main
from authadapter.providers.rattler import rattler_credentials_path
from tests.conftest import service_unavailable
from tests.support import LoopbackServer
from tests.test_keyring_store import MEMORY_BACKEND, MemoryKeyring


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``main(argv)`` in-process, returning (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _stored() -> dict[str, object]:
    result: dict[str, object] = json.loads(rattler_credentials_path().read_text())
    return result


def test_login_with_a_token_says_where_it_stored_it() -> None:
    status, out, err = run("login", "prefix.dev", "--token", "cli-token-1234")

    assert (status, err) == (0, "")
    assert out == (
        f"stored bearer token for *.prefix.dev in {rattler_credentials_path()} "
        "(rattler-credentials-file)\n"
    )
    assert "cli-token-1234" not in out
    assert _stored() == {"*.prefix.dev": {"BearerToken": "cli-token-1234"}}


def test_login_basic_and_conda_kinds() -> None:
    assert run("login", "a.example.org", "--username", "al", "--password", "pw-al-123")[0] == 0
    assert run("login", "https://c.example.org/chan", "--conda-token", "ct-5678")[0] == 0

    assert _stored() == {
        "a.example.org": {"BasicHTTP": {"username": "al", "password": "pw-al-123"}},
        "c.example.org": {"CondaToken": "ct-5678"},
    }


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (("--token", "-"), "stdin-token-99\n", {"BearerToken": "stdin-token-99"}),
        (("--conda-token", "-"), "stdin-conda-99\r\n", {"CondaToken": "stdin-conda-99"}),
        (
            ("--username", "u", "--password", "-"),
            "stdin-pass-99\n",
            {"BasicHTTP": {"username": "u", "password": "stdin-pass-99"}},
        ),
    ],
)
def test_secrets_can_come_from_stdin(
    argv: tuple[str, ...], stdin: str, expected: dict[str, object]
) -> None:
    status, _, err = run("login", "r.example.org", *argv, stdin=stdin)

    assert (status, err) == (0, "")
    assert _stored() == {"r.example.org": expected}


@pytest.mark.parametrize(
    ("argv", "stdin", "expected", "note"),
    [
        (("--token", "tok-abc-123 "), "", {"BearerToken": "tok-abc-123"}, "token"),
        (("--token", "-"), "  tok-abc-123 \n", {"BearerToken": "tok-abc-123"}, "token"),
        (("--conda-token", "-"), "\tct-abc-123\r\n", {"CondaToken": "ct-abc-123"}, "conda token"),
        (
            ("--username", " me ", "--password", " pw with spaces "),
            "",
            {"BasicHTTP": {"username": "me", "password": " pw with spaces "}},
            "username",
        ),
    ],
)
def test_login_trims_spaces_around_a_token_or_username_and_says_so(
    argv: tuple[str, ...], stdin: str, expected: dict[str, object], note: str
) -> None:
    status, out, err = run("login", "r.example.org", *argv, stdin=stdin)

    assert (status, err) == (0, "")
    assert out.splitlines()[1:] == [f"note: removed the spaces around the {note}"]
    assert _stored() == {"r.example.org": expected}


def test_login_keeps_the_spaces_of_a_password() -> None:
    status, out, _ = run(
        "login", "r.example.org", "--username", "me", "--password", "-", stdin=" pw-123 \n"
    )

    assert status == 0
    assert "note" not in out
    assert _stored() == {"r.example.org": {"BasicHTTP": {"username": "me", "password": " pw-123 "}}}


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("--token", "tok\tabc"), "", "bearer token contains a control character (position 3)"),
        (("--token", "-"), "   \n", "bearer token is empty"),
        (("--token", "tök-abc"), "", "bearer token contains a non-ASCII character (position 1)"),
        (("--conda-token", "ct/abc"), "", "conda token contains a character not allowed in a path"),
        (
            ("--username", "me", "--password", "pw\tabc"),
            "",
            "password contains a control character (position 2)",
        ),
    ],
)
def test_login_refuses_what_no_client_can_send(
    argv: tuple[str, ...], stdin: str, message: str
) -> None:
    status, out, err = run("login", "r.example.org", *argv, stdin=stdin)

    assert (status, out) == (1, "")
    assert err == f"authadapter: error: {message}\n"
    assert not rattler_credentials_path().exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("login", "r.example.org", "--token", "tok-abc-123"),
        ("logout", "r.example.org"),
        ("list",),
        ("which", "https://r.example.org/"),
        ("config",),
    ],
)
def test_a_configuration_that_is_not_toml_stops_every_command(
    argv: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[providers\nkeyring = false\n")
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(config))

    status, out, err = run(*argv)

    assert (status, out) == (1, "")
    assert err.startswith(f"authadapter: error: {config}: ")
    assert err.count("\n") == 1
    assert not rattler_credentials_path().exists()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("--token", "a\r\nX-Evil: 1"), "", "bearer token contains a control character"),
        (("--token", "-"), "", "no token on stdin"),
        (("--token", "-"), "tok\x1bEND\n", "bearer token contains a control character"),
        (("--username", "u"), "", "--username needs --password"),
        (("--username", "-", "--password", "-"), "a\nb\n", "only one value can be read"),
        (("--token", "t", "--password", "p"), "", "--password needs --username"),
    ],
)
def test_refused_input_is_one_line_and_stores_nothing(
    argv: tuple[str, ...], stdin: str, message: str
) -> None:
    status, out, err = run("login", "r.example.org", *argv, stdin=stdin)

    assert status == 1
    assert out == ""
    assert err.startswith("authadapter: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert not rattler_credentials_path().exists()


@pytest.mark.parametrize(
    "argv",
    [
        (),
        ("login", "r.example.org"),
        ("login", "r.example.org", "--token", "a", "--conda-token", "b"),
        ("nonsense",),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: tuple[str, ...]) -> None:
    status, _, err = run(*argv)

    assert status == 2
    assert err.count("\n") == 1
    assert ": error: " in err


def test_a_bad_host_is_an_error_naming_it() -> None:
    status, _, err = run("login", "exa mple.org", "--token", "tok-abc-123")

    assert status == 1
    assert err == "authadapter: error: 'exa mple.org' is not a host name or URL\n"


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (
            "https://a\nb.example.org/",
            "cannot use the URL: it contains a line break (position 9), which no client sends",
        ),
        ("a\tb.example.org", "'a\\tb.example.org' is not a host name or URL"),
        (
            "ftp://h.example.org/",
            "cannot use ftp://h.example.org/: "
            "ftp:// is not http:// or https://, all a registry client uses",
        ),
        (
            "https://h.example.org:99999/",
            "cannot use https://h.example.org:99999/: its port is not a number from 1 to 65535",
        ),
    ],
)
@pytest.mark.parametrize("command", ["login", "logout"])
def test_login_and_logout_refuse_a_host_no_client_would_reach(
    command: str, host: str, message: str
) -> None:
    extra = ("--token", "tok-abc-123") if command == "login" else ()

    status, out, err = run(command, host, *extra)

    assert (status, out) == (1, "")
    assert err == f"authadapter: error: {message}\n"
    assert not rattler_credentials_path().exists()


def test_a_corrupt_store_is_named_and_left_untouched() -> None:
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text("[1, 2")

    status, out, err = run("login", "a.example.org", "--token", "tok-abc-123")

    assert (status, out) == (1, "")
    assert err == f"authadapter: error: {path}: not valid JSON (line 1, column 6)\n"
    assert path.read_text() == "[1, 2"


def test_logout_says_where_it_removed_the_key_and_fails_when_there_was_none() -> None:
    run("login", "prefix.dev", "--token", "tok-abc-123")

    first = run("logout", "https://prefix.dev")
    second = run("logout", "prefix.dev")

    assert first == (0, f"removed *.prefix.dev from {rattler_credentials_path()}\n", "")
    assert second == (1, "", "authadapter: error: no stored credential for *.prefix.dev\n")


def test_logout_of_a_netrc_entry_says_where_it_is_and_leaves_it() -> None:
    netrc = Path.home() / ".netrc"
    netrc.write_text("machine a.example.org login al password pw-netrc-123\n")
    netrc.chmod(0o600)

    status, out, err = run("logout", "a.example.org")

    assert (status, out) == (1, "")
    assert err == (
        f"authadapter: error: a.example.org is not in a store login writes to; it is in "
        f"{netrc}, which authadapter does not edit\n"
    )
    assert "pw-netrc-123" in netrc.read_text()


def test_list_masks_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("login", "a.example.org", "--username", "al", "--password", "pw-al-123")
    run("login", "c.example.org", "--conda-token", "ct-5678-abc")
    (tmp_path / "netrc").write_text("machine n.example.org login nu password np-4321")
    (tmp_path / "netrc").chmod(0o600)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))

    status, out, _ = run("list")

    assert status == 0
    rows = [line.split(None, 3) for line in out.splitlines()]
    assert rows[0] == ["KEY", "KIND", "STORE", "APPLIED AS"]
    path = str(rattler_credentials_path())
    assert rows[1:] == [
        ["a.example.org", "basic", path, "Authorization: Basic (user 'al', password ***)"],
        ["c.example.org", "conda", path, "path /t/***/"],
        [
            "n.example.org",
            "basic",
            str(tmp_path / "netrc"),
            "Authorization: Basic (user 'nu', password ***)",
        ],
    ]
    for secret in ("pw-al-123", "ct-5678-abc", "np-4321"):
        assert secret not in out


@pytest.mark.canary_exempt("--show-secrets prints secrets on purpose")
def test_list_show_secrets_prints_them() -> None:
    run("login", "b.example.org", "--token", "shown-token-1")

    status, out, _ = run("list", "--show-secrets")

    assert status == 0
    assert "Authorization: Bearer shown-token-1" in out


def test_list_reports_a_broken_store_but_lists_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run("login", "b.example.org", "--token", "tok-abc-123")
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", "{broken")

    status, out, err = run("list")

    assert status == 1
    assert "b.example.org" in out
    assert err == (
        "authadapter: error: environment variable AUTHADAPTER_CREDENTIALS: "
        "not valid JSON (line 1, column 2)\n"
    )


def test_list_with_only_a_broken_store_does_not_claim_there_is_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", "{broken")

    status, out, err = run("list")

    assert (status, out) == (1, "")
    assert err == (
        "authadapter: error: environment variable AUTHADAPTER_CREDENTIALS: "
        "not valid JSON (line 1, column 2)\n"
    )


@pytest.mark.parametrize("token", ["Tok-abc-123 ", " Tok-abc-123", "   ", "Tok\tabc-123"])
def test_a_stored_token_no_client_can_send_is_skipped_with_a_warning_not_used(token: str) -> None:
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"r.example.org": {"BearerToken": token}}))

    status, out, err = run("which", "https://r.example.org/simple/")
    listed = run("list")

    assert status == 0
    assert "<- used" not in out
    assert out.splitlines()[-1] == "  no credential: the request is sent without one"
    assert err == f"authadapter: warning: {path}: skipping entry 'r.example.org': bearer token " + (
        "contains a control character (position 3)\n"
        if "\t" in token
        else "starts or ends with a space\n"
    )
    assert listed[:2] == (0, "no stored credentials\n")


def _store_in(store: str, token: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``token`` for r.example.org in one of the stores ``which`` asks."""
    if store == "env":
        value = json.dumps({"r.example.org": {"BearerToken": token}})
        monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", value)
    elif store == "rattler-credentials-file":
        path = rattler_credentials_path()
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"r.example.org": {"BearerToken": token}}))
    elif store == "netrc":
        (home / ".netrc").write_text(f'machine r.example.org login me password "{token}"\n')
        (home / ".netrc").chmod(0o600)
    else:
        cargo = Path(os.environ["CARGO_HOME"])
        cargo.mkdir(parents=True, exist_ok=True)
        (cargo / "config.toml").write_text(
            '[registries.r]\nindex = "sparse+https://r.example.org/index/"\n'
        )
        (cargo / "credentials.toml").write_text(f"[registries.r]\ntoken = {json.dumps(token)}\n")


@pytest.mark.parametrize(
    ("store", "answer"),
    [
        ("env", "nothing"),
        ("rattler-credentials-file", "nothing"),
        ("netrc", "error: {home}/.netrc: machine 'r.example.org': password contains"),
        ("cargo", "fatal error: cargo:token for Cargo registry `r`: token starts or ends with"),
    ],
)
@pytest.mark.parametrize("token", ["Tok-abc-123 ", "Tok\tabc-123"])
def test_no_store_makes_which_use_a_value_no_client_can_send(
    store: str, answer: str, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path.home()
    _store_in(store, token if store != "netrc" else "pw\tabc-123", home, monkeypatch)
    if store == "cargo" and "\t" in token:
        answer = "fatal error: cargo:token for Cargo registry `r`: token contains a control"

    status, out, err = run("which", "https://r.example.org/index/config.json")

    assert status == 0
    assert "<- used" not in out
    line = next(line for line in out.splitlines() if line.split()[0] == store)
    assert line.split(None, 1)[1].startswith(answer.format(home=home))
    assert "abc-123" not in out + err


def test_a_skipped_entry_is_one_warning_line_of_the_cli() -> None:
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"s3://bucket": {"S3Credentials": {}}, "b.example.org": {"BearerToken": "t"}}')

    status, out, err = run("list")

    assert status == 0
    assert "b.example.org" in out
    assert err == (
        f"authadapter: warning: {path}: skipping entry 's3://bucket': "
        "unsupported credential type 'S3Credentials'\n"
    )


def test_which_shows_every_store_and_the_one_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth_file = tmp_path / "auth.json"
    auth_file.write_text('{"*.example.org": {"BearerToken": "auth-file-tok"}}')
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))
    home = rattler_credentials_path()
    home.parent.mkdir(parents=True)
    home.write_text('{"repo.example.org": {"CondaToken": "home-conda-tok"}}')

    status, out, _ = run("which", "https://repo.example.org/chan/noarch/repodata.json")

    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "https://repo.example.org"
    assert lines[1].split() == ["env", "nothing"]
    assert lines[2].split() == ["uv", "nothing"]
    assert lines[3].split(None, 1) == [
        "rattler-auth-file",
        f"{auth_file} (key '*.example.org'): Authorization: Bearer ***   <- used",
    ]
    assert lines[4].split() == ["keyring", "nothing"]
    assert lines[5].split(None, 1) == [
        "rattler-credentials-file",
        f"{home} (key 'repo.example.org'): path /t/***/",
    ]
    assert lines[6].split() == ["netrc", "nothing"]
    assert "auth-file-tok" not in out
    assert "home-conda-tok" not in out


def test_which_without_any_credential_says_so() -> None:
    status, out, _ = run("which", "https://nothing.example.org/")

    assert status == 0
    assert out.splitlines()[-1] == "  no credential: the request is sent without one"


def test_which_notes_a_url_that_carries_its_own_token() -> None:
    status, out, _ = run("which", "https://repo.example.org/t/own-token-123/chan/")

    assert status == 0
    assert "carries its own credentials" in out
    assert "own-token-123" not in out


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "not a url",
            "cannot use not a url: it contains a space (position 3), which no client sends",
        ),
        (
            "https://a\nb.example/",
            "cannot use the URL: it contains a line break (position 9), which no client sends",
        ),
        (
            "https://a.example/x\ty",
            "cannot use the URL: it contains a tab (position 19), which no client sends",
        ),
        (
            "ftp://127.0.0.1/x",
            "cannot use ftp://127.0.0.1/x: "
            "ftp:// is not http:// or https://, all a registry client uses",
        ),
        (
            "ws://127.0.0.1/x",
            "cannot use ws://127.0.0.1/x: "
            "ws:// is not http:// or https://, all a registry client uses",
        ),
        (
            "http://127.0.0.1:99999/x",
            "cannot use http://127.0.0.1:99999/x: its port is not a number from 1 to 65535",
        ),
        ("127.0.0.1:0", "cannot use 127.0.0.1:0: its port is not a number from 1 to 65535"),
        (
            "https://h.example:x1/",
            "cannot use https://h.example:x1/: its port is not a number from 1 to 65535",
        ),
        ("https://", "cannot use https://: it has no host"),
        ("https://[::1/", "cannot use the URL: its host is not a valid IPv6 address"),
        ("://h.example/", "cannot use ://h.example/: it has no scheme (http:// or https://)"),
    ],
)
def test_which_refuses_a_url_no_client_would_send_saying_why(typed: str, message: str) -> None:
    status, out, err = run("which", typed)

    assert (status, out) == (1, "")
    assert err == f"authadapter: error: {message}\n"


def test_which_refusing_a_url_masks_its_secrets() -> None:
    status, _, err = run("which", "https://me:pw-own-99@repo.example.org:99999/t/tok-own-99/x")

    assert status == 1
    assert "pw-own-99" not in err
    assert "tok-own-99" not in err
    assert err.endswith("its port is not a number from 1 to 65535\n")


def test_which_takes_cargos_sparse_index_urls() -> None:
    status, out, _ = run("which", "sparse+https://index.example.org/")

    assert status == 0
    assert out.splitlines()[0] == "https://index.example.org"


def run_cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``authadapter ARGV`` in a real process, as a user's shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "authadapter", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
        check=False,
    )


def _read_until(descriptor: int, wanted: bytes, seconds: float = 60.0) -> bytes:
    """What the program wrote to the terminal up to ``wanted``; all of it with ``b""``.

    The bound is generous: a loaded machine may take long to start Python, and
    the subject here is what is written, not how fast. Reading the master side
    of a pseudo-terminal fails (EIO) once the program has closed its side, so
    an early exit is reported with what it wrote rather than as a bare OSError.
    """
    seen = b""
    while not wanted or wanted not in seen:
        ready, _, _ = select.select([descriptor], [], [], seconds)
        assert ready, f"waited {seconds} s for {wanted!r}, got {seen!r}"
        try:
            chunk = os.read(descriptor, 1024)
        except OSError:  # the program's side is closed: all it wrote has been read
            chunk = b""
        if not chunk:
            assert not wanted, f"the program closed the terminal before {wanted!r}: {seen!r}"
            return seen
        seen += chunk
    return seen


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_a_token_typed_at_a_terminal_is_prompted_for_and_not_echoed() -> None:
    try:
        terminal, program_side = os.openpty()
    except OSError:  # a container without /dev/pts
        service_unavailable("no pseudo-terminal available (/dev/pts)")
    process = subprocess.Popen(
        [sys.executable, "-m", "authadapter.cli", "login", "t.example.org", "--token", "-"],
        stdin=program_side,
        stdout=subprocess.PIPE,
        stderr=program_side,
        start_new_session=True,  # no controlling terminal: getpass uses this stdin
    )
    os.close(program_side)
    try:
        prompt = _read_until(terminal, b"token: ")
        os.write(terminal, b"typed-secret-42\n")
        stdout, _ = process.communicate(timeout=60)
        echoed = _read_until(terminal, b"")  # to the end, not for a fixed time
    finally:
        os.close(terminal)

    assert process.returncode == 0, prompt + echoed
    assert prompt.endswith(b"token: ")
    assert b"typed-secret" not in prompt + echoed
    assert stdout.decode().startswith("stored bearer token for t.example.org in ")
    assert _stored()["t.example.org"] == {"BearerToken": "typed-secret-42"}


def _many_entries() -> None:
    """More output than a pipe buffer holds, so a reader that leaves early is noticed."""
    path = rattler_credentials_path()
    path.parent.mkdir(parents=True)
    entries = {f"h{i}.example.org": {"BearerToken": f"many-{i:06d}"} for i in range(3000)}
    path.write_text(json.dumps(entries))


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    _many_entries()
    process = subprocess.Popen(
        [sys.executable, "-m", "authadapter.cli", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()  # `authadapter list | head -1`
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=60)

    assert first.startswith(b"KEY ")
    assert (process.returncode, stderr) == (141, b"")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_output_to_a_full_disk_is_one_error_line() -> None:
    _many_entries()
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "authadapter.cli", "list"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert result.stderr == (
        "authadapter: error: cannot write the output (No space left on device)\n"
    )


def test_login_in_a_real_process_then_a_real_request_carries_the_token(
    loopback_server: Callable[..., LoopbackServer],
) -> None:
    server = loopback_server("127.0.0.6")

    login = run_cli("login", server.url, "--token", "-", stdin="proc-token-77\n")
    with httpx.Client(auth=RegistryAuth()) as client:
        client.get(server.url + "/simple/")

    assert login.returncode == 0, login.stderr
    first, note = login.stdout.splitlines()
    assert (
        first == f"stored bearer token for 127.0.0.6:{server.port} in {rattler_credentials_path()}"
        " (rattler-credentials-file)"
    )
    assert note.startswith("note: only authadapter uses a key with a port")
    assert server.received[0].authorization == "Bearer proc-token-77"


def test_a_failing_command_in_a_real_process_prints_no_traceback() -> None:
    result = run_cli("login", "r.example.org", "--token", "bad\x07token")

    assert result.returncode == 1
    assert (
        result.stderr
        == "authadapter: error: bearer token contains a control character (position 3)\n"
    )
    assert "Traceback" not in result.stderr


def test_console_script_is_installed() -> None:
    """The ``authadapter`` script of the interpreter under test, found without PATH."""
    script = Path(sysconfig.get_path("scripts"), "authadapter")
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0
    for command in ("login", "logout", "list", "which"):
        assert command in result.stdout


def test_login_help_says_how_a_host_is_stored() -> None:
    status, out, _ = run("login", "--help")

    assert status == 0
    assert "*.prefix.dev" in " ".join(out.split())


@pytest.mark.parametrize("argv", [("--cargo-plugin",), ("cargo-credential", "--cargo-plugin")])
def test_cargo_runs_us_as_a_credential_provider(argv: tuple[str, ...]) -> None:
    result = run_cli(*argv, stdin="")

    # the plugin announces its protocol version first, whatever follows
    assert json.loads(result.stdout.splitlines()[0]) == {"v": [1]}
    assert "Traceback" not in result.stderr


@pytest.fixture
def repo_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bearer token for repo.example.org in the environment store."""
    monkeypatch.setenv(
        "AUTHADAPTER_CREDENTIALS", '{"repo.example.org": {"BearerToken": "h-123456"}}'
    )


def test_which_warns_that_plain_http_keeps_the_credential_home(
    repo_token: None,
) -> None:

    _, plain, _ = run("which", "http://repo.example.org/simple/")
    _, secure, _ = run("which", "https://repo.example.org/simple/")

    assert "<- used" not in plain
    assert "<- found, not sent" in plain
    assert plain.splitlines()[-2:] == [
        "  plain http to repo.example.org, which is not loopback: the credential is not sent",
        "  (allow_http_hosts = ['repo.example.org'] in the configuration allows it)",
    ]
    assert "<- used" in secure
    assert "plain http" not in secure


def test_which_follows_allow_http_hosts_of_the_configuration(
    tmp_path: Path, repo_token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('allow_http_hosts = ["repo.example.org"]\n')
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(config))

    _, out, _ = run("which", "http://repo.example.org/simple/")

    assert "<- used" in out
    assert (
        "  note: repo.example.org is in allow_http_hosts: a credential goes over plain http"
        in out.splitlines()
    )


def test_which_does_not_claim_a_store_is_used_when_the_url_has_credentials(
    repo_token: None,
) -> None:

    _, out, _ = run("which", "https://me:pw-own-99@repo.example.org/simple/")

    assert "<- used" not in out
    assert "<- found, not sent" in out
    assert out.splitlines()[-1] == (
        "  the URL carries its own credentials: it is sent unchanged, no store is used"
    )
    assert "pw-own-99" not in out


def test_which_says_the_callers_own_authorization_wins(repo_token: None) -> None:

    _, out, _ = run("which", "https://repo.example.org/simple/")

    assert out.splitlines()[-1] == (
        "  (a request that brings its own Authorization or user:password@ keeps it)"
    )


@pytest.mark.parametrize(
    ("typed", "origin"), [("::1", "https://[::1]"), ("[::1]:8443", "https://[::1]:8443")]
)
def test_which_takes_a_bare_ipv6_address(typed: str, origin: str) -> None:
    status, out, _ = run("which", typed)

    assert status == 0
    assert out.splitlines()[0] == origin


def test_which_takes_a_bare_host_as_its_https_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", '{"*.prefix.dev": {"BearerToken": "h-123456"}}')

    status, out, _ = run("which", "repo.prefix.dev")

    assert status == 0
    assert out.splitlines()[0] == "https://repo.prefix.dev"
    assert "(key '*.prefix.dev')" in out


def _configure(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_login_writes_only_to_a_store_the_configured_chain_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    MemoryKeyring.entries.clear()
    _configure("[providers]\nkeyring = false\n")

    login = run("login", "127.0.0.1", "--token", "-", stdin="cfg-token-31\n")
    which = run("which", "https://127.0.0.1/x")

    assert login == (
        0,
        f"stored bearer token for 127.0.0.1 in {rattler_credentials_path()} "
        "(rattler-credentials-file)\n",
        "",
    )
    assert MemoryKeyring.entries == {}
    assert "rattler-credentials-file" in which[1]
    assert "<- used" in which[1]


def test_login_and_logout_refuse_when_no_writable_store_is_switched_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    MemoryKeyring.entries.clear()
    path = _configure("[providers]\nkeyring = false\nrattler = false\n")
    stdin = io.StringIO("never-read-token\n")
    err = io.StringIO()

    status = main(
        ["login", "prefix.dev", "--token", "-"], stdin=stdin, stdout=io.StringIO(), stderr=err
    )
    logout = run("logout", "prefix.dev")

    expected = (
        f"authadapter: error: {path}: no store to write to: rattler-auth-file is switched off; "
        "keyring is switched off; rattler-credentials-file is switched off\n"
    )
    assert (status, err.getvalue()) == (1, expected)
    assert stdin.read() == "never-read-token\n"  # refused before asking for the secret
    assert logout == (1, "", expected)
    assert not rattler_credentials_path().exists()
    assert MemoryKeyring.entries == {}


def test_login_refuses_a_configuration_file_that_is_not_toml() -> None:
    path = _configure("[providers\n")

    status, out, err = run("login", "prefix.dev", "--token", "tok-x-1")

    assert (status, out) == (1, "")
    assert err.startswith(f"authadapter: error: {path}: not valid TOML")
    assert not rattler_credentials_path().exists()


def test_version_is_the_package_version() -> None:
    result = run_cli("--version")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"authadapter {authadapter.__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ("cargo-credential", "--help"),
        ("cargo-credential", "-h"),
        ("--cargo-plugin", "--help"),
    ],
)
def test_cargo_credential_help_is_help(argv: tuple[str, ...]) -> None:
    result = run_cli(*argv)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: authadapter cargo-credential")
    assert 'credential-provider = "authadapter cargo-credential"' in " ".join(result.stdout.split())
    assert '{"v"' not in result.stdout


def test_cargo_credential_at_a_terminal_says_what_it_is() -> None:
    """A person who types the command sees what it waits for; stdout stays Cargo's protocol."""
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "authadapter", "cargo-credential"],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(leader, b"\x04")  # end of input, as Ctrl-D at the terminal
        out, err = process.communicate(timeout=60)
    finally:
        os.close(leader)
        os.close(follower)

    assert json.loads(out.splitlines()[0]) == {"v": [1]}
    assert err.startswith(
        "authadapter: note: this is Cargo's credential protocol (JSON on stdin/stdout); "
        "see 'authadapter cargo-credential --help'\n"
    )
