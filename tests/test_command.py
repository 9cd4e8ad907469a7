"""Credential commands: real subprocesses (small Python scripts), Cargo's output rules."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import (
    BearerToken,
    Failure,
    Found,
    Miss,
    Origin,
    ProviderChain,
    ProviderError,
    ProviderTimeoutError,
    RawToken,
)
from authadapter.providers.command import (
    CommandProcess,
    CommandProvider,
    parse_token_output,
    run_token_command,
)
from tests.fixtures_cargo import hanging_script


def script(tmp_path: Path, body: str, name: str = "cmd.py") -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def printing(tmp_path: Path, data: bytes, status: int = 0) -> list[str]:
    return script(
        tmp_path,
        f"import sys\nsys.stdout.buffer.write({data!r})\nsys.stdout.flush()\nsys.exit({status})\n",
    )


@pytest.mark.parametrize(
    ("output", "token"),
    [
        (b"tok\n", "tok"),
        (b"tok", "tok"),
        (b"tok\r\n", "tok"),
        (b"tok\r\r\n", "tok\r"),
        (b"  spaced tok \n", "  spaced tok "),
        (b"\n", ""),
    ],
)
def test_output_rules_are_cargos(output: bytes, token: str) -> None:
    assert parse_token_output(output, "command `x`") == token


@pytest.mark.parametrize("output", [b"s3cret\nmore\n", b"s3cret\n\n", b"s3cret\nx"])
def test_more_than_one_line_is_an_error(output: bytes) -> None:
    with pytest.raises(ProviderError, match="more than one line") as caught:
        parse_token_output(output, "command `x`")
    assert "s3cret" not in str(caught.value)


def test_run_returns_the_line_a_real_command_prints(tmp_path: Path) -> None:
    argv = printing(tmp_path, b"from-a-process\r\n")

    assert run_token_command(argv, timeout=30) == "from-a-process"


def test_env_adds_to_the_inherited_environment(tmp_path: Path) -> None:
    os.environ["AUTHADAPTER_TEST_INHERITED"] = "kept"
    try:
        argv = script(
            tmp_path,
            """
            import os
            print(os.environ["AUTHADAPTER_TEST_INHERITED"] + "+" + os.environ["EXTRA"])
            """,
        )
        assert run_token_command(argv, env={"EXTRA": "added"}, timeout=30) == "kept+added"
    finally:
        del os.environ["AUTHADAPTER_TEST_INHERITED"]


def test_stdin_is_empty_not_the_callers(tmp_path: Path) -> None:
    argv = script(tmp_path, "import sys\nprint(repr(sys.stdin.read()))\n")

    assert run_token_command(argv, timeout=30) == "''"


def test_non_zero_exit_names_command_and_status_not_output(tmp_path: Path) -> None:
    argv = printing(tmp_path, b"secret-in-output\n", status=3)

    with pytest.raises(ProviderError) as caught:
        run_token_command(argv, timeout=30)

    message = str(caught.value)
    assert message == f"command `{sys.executable}` failed with exit status 3"
    assert "secret-in-output" not in message


def test_missing_command_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-helper")
    with pytest.raises(ProviderError, match="no-such-helper` was not found"):
        run_token_command([missing, "--secret-arg"], timeout=30)


def test_arguments_never_appear_in_errors(tmp_path: Path) -> None:
    argv = [*printing(tmp_path, b"", status=1), "--password=hunter2"]
    with pytest.raises(ProviderError) as caught:
        run_token_command(argv, timeout=30)
    assert "hunter2" not in str(caught.value)


def test_a_hanging_command_is_killed_at_the_timeout(tmp_path: Path) -> None:
    hanging = hanging_script(tmp_path)

    with pytest.raises(ProviderTimeoutError, match=r"did not finish within 0\.5 s"):
        run_token_command([str(hanging.path)], timeout=0.5)

    hanging.assert_reaped()


def test_huge_output_is_cut_off_with_an_error(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        """
        import sys
        while True:
            sys.stdout.write("x" * 65536)
        """,
    )

    with pytest.raises(ProviderError, match="printed more than 1024 bytes"):
        run_token_command(argv, timeout=30, max_output=1024)


def test_process_reads_lines_then_rest(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        """
        import sys
        print("first", flush=True)
        line = sys.stdin.readline()
        print("got " + line.strip())
        print("tail")
        """,
    )
    with CommandProcess(argv, timeout=30, pipe_stdin=True) as child:
        assert child.read_line() == b"first"
        child.send(b"ping\n")
        assert child.read_line() == b"got ping"
        assert child.read_rest() == b"tail\n"
        assert child.read_line() is None
        assert child.wait() == 0


class TestCommandProvider:
    def test_runs_only_for_its_hosts(self, tmp_path: Path) -> None:
        calls = tmp_path / "calls"
        argv = script(
            tmp_path,
            f"""
            import os
            with open({str(calls)!r}, "a") as f:
                env = os.environ
                f.write(env["AUTHADAPTER_HOST"] + " " + env["AUTHADAPTER_URL"] + "\\n")
            print("cmd-token")
            """,
        )
        provider = CommandProvider(argv, hosts=["*.example.org", "127.0.0.1:8443"])

        found = provider.lookup(
            Origin.from_url("https://a.example.org/x"), "https://a.example.org/x"
        )
        other = provider.lookup(Origin.from_url("https://example.com/"), "https://example.com/")
        wrong_port = provider.lookup(Origin.from_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/")

        assert isinstance(found, Found)
        assert found.credential == BearerToken("cmd-token")
        assert isinstance(other, Miss)
        assert isinstance(wrong_port, Miss)
        assert calls.read_text() == "a.example.org https://a.example.org/x\n"

    def test_credential_factory_and_ttl(self, tmp_path: Path) -> None:
        provider = CommandProvider(
            printing(tmp_path, b"raw-value\n"), hosts=["h.example"], credential=RawToken, ttl=7
        )

        result = provider.lookup(Origin.from_url("https://h.example/"), "https://h.example/")

        assert isinstance(result, Found)
        assert result.credential == RawToken("raw-value")
        assert result.ttl == 7
        assert "raw-value" not in result.source + repr(provider)

    @pytest.mark.parametrize(
        ("output", "status", "message"),
        [
            (b"\n", 0, "printed an empty token"),
            (b"s3cret\nb\n", 0, "more than one line"),
            (b"s3cret\x01\n", 0, "control character"),
            (b"s3cret\n", 2, "failed with exit status 2"),
        ],
    )
    def test_failures_are_non_fatal_and_secret_free(
        self, tmp_path: Path, output: bytes, status: int, message: str
    ) -> None:
        provider = CommandProvider(printing(tmp_path, output, status), hosts=["h.example"])

        result = provider.lookup(Origin.from_url("https://h.example/"), "https://h.example/")

        assert isinstance(result, Failure)
        assert not result.fatal
        assert message in result.message
        assert "s3cret" not in result.message


@given(
    st.text(
        alphabet=st.characters(exclude_characters="\n", exclude_categories=["Cs"]),
        max_size=40,
    )
)
def test_a_single_line_round_trips_with_cargos_trimming(line: str) -> None:
    expected = line[:-1] if line.endswith("\r") else line

    for output in (line, line + "\n"):
        assert parse_token_output(output.encode(), "command `x`") == expected


def test_a_hung_command_is_named_in_the_chains_warning(tmp_path: Path) -> None:
    """The command's own deadline comes before the chain's, so the warning says which one hung."""
    hanging = hanging_script(tmp_path)
    provider = CommandProvider([str(hanging.path)], hosts=["h.example"], timeout=1.0)
    chain = ProviderChain([provider], timeout=1.0)

    result = chain.ask(provider, Origin.from_url("https://h.example/"), "https://h.example/")

    assert isinstance(result, Failure)
    assert result.message.startswith(f"command `{hanging.path}` did not finish within")
    hanging.assert_reaped()
