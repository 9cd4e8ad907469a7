"""Running credential commands: real subprocesses (small Python scripts), Cargo's output rules."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import ProviderError, ProviderTimeoutError
from authadapter._subprocess import CommandProcess, parse_token_output, run_token_command
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
