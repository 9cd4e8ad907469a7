"""The client side of Cargo's credential-provider protocol v1, against real plugin processes.

Each plugin is a small Python script run with ``sys.executable``; edge cases
(hello mismatch, malformed JSON, early exit, expired tokens, hangs, floods)
each end in one clear, secret-free error.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from authadapter import PluginProtocolError, ProviderError, ProviderTimeoutError
from authadapter.providers.cargo.plugin_client import (
    EXPIRY_MARGIN,
    PluginToken,
    interpret_response,
    plugin_get,
    plugin_request,
)
from tests.fixtures_security import count

INDEX = "sparse+http://127.0.0.1:8765/index/"
NOW = 1_800_000_000.0
SECRET = "plug-s3cret"


def plugin(tmp_path: Path, body: str) -> str:
    """An executable plugin whose ``main(request)`` body is ``body``; logs what it got."""
    path = tmp_path / "plugin.py"
    header = f"""#!{sys.executable}
import json, sys, time
LOG = {str(tmp_path / "log.jsonl")!r}
def log(value):
    with open(LOG, "a") as f:
        f.write(json.dumps(value) + "\\n")
def send(value):
    sys.stdout.write(json.dumps(value) + "\\n")
    sys.stdout.flush()
log(sys.argv[1:])
"""
    path.write_text(header + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


STANDARD = """
send({"v": [1]})
request = json.loads(sys.stdin.readline())
log(request)
log(sys.stdin.read())
send(ANSWER)
"""


def answering(tmp_path: Path, answer: object) -> str:
    return plugin(tmp_path, f"ANSWER = {answer!r}\n" + STANDARD)


def logged(tmp_path: Path) -> list[object]:
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def get(program: str, args: tuple[str, ...] = (), timeout: float = 30) -> PluginToken | None:
    return plugin_get(program, args, INDEX, "my-reg", timeout=timeout, now=lambda: NOW)


def ok(**fields: object) -> dict[str, object]:
    return {"Ok": {"kind": "get", "token": SECRET, **fields}}


def test_cargos_exchange_args_in_the_request_stdin_closed(tmp_path: Path) -> None:
    program = answering(tmp_path, ok(cache="session", operation_independent=True))

    found = get(program, ("--flag", "x"))

    assert found is not None
    assert found.token == SECRET
    argv, request, rest = logged(tmp_path)
    assert argv == ["--cargo-plugin"]
    assert request == {
        "v": 1,
        "registry": {"index-url": INDEX, "name": "my-reg"},
        "kind": "get",
        "operation": "read",
        "args": ["--flag", "x"],
    }
    assert rest == ""  # cargo closes stdin after the one request


def test_request_has_no_args_key_when_there_are_none() -> None:
    assert "args" not in plugin_request(INDEX, "r", ())


@pytest.mark.parametrize(
    ("fields", "ttl"),
    [
        ({"cache": "never"}, 0),
        ({"cache": "session"}, None),
        ({"cache": "expires", "expiration": int(NOW) + 3600}, 3600 - EXPIRY_MARGIN),
        ({"cache": "expires", "expiration": int(NOW) + 30}, 0),
    ],
)
def test_cache_maps_to_a_lifetime(fields: dict[str, object], ttl: float | None) -> None:
    found = interpret_response(ok(**fields), "plugin `p`", now=lambda: NOW)

    assert found is not None
    assert found.ttl == ttl


@pytest.mark.parametrize("kind", ["not-found", "url-not-supported"])
def test_not_found_kinds_mean_next_provider(tmp_path: Path, kind: str) -> None:
    assert get(answering(tmp_path, {"Err": {"kind": kind}})) is None


def edge_message(tmp_path: Path, body: str, error: type[Exception] = ProviderError) -> str:
    program = plugin(tmp_path, body)
    with pytest.raises(error) as caught:
        get(program, timeout=5)
    message = str(caught.value)
    assert "\n" not in message
    assert SECRET not in message
    assert f"credential plugin `{program}`" in message
    return message


def test_hello_version_mismatch(tmp_path: Path) -> None:
    message = edge_message(tmp_path, 'send({"v": [2, 3]})\nsys.stdin.read()\n', PluginProtocolError)

    assert message.endswith("speaks protocol versions [2, 3]; authadapter speaks version 1")
    assert len(logged(tmp_path)) == 1  # no request was sent to it


def test_malformed_json_hello(tmp_path: Path) -> None:
    message = edge_message(tmp_path, 'print("hello there", flush=True)\n', PluginProtocolError)

    assert message.endswith("sent malformed JSON as its hello")


def test_malformed_json_answer(tmp_path: Path) -> None:
    body = f'send({{"v": [1]}})\nsys.stdin.readline()\nprint("{{\\"Ok\\": {SECRET}", flush=True)\n'
    message = edge_message(tmp_path, body, PluginProtocolError)

    assert message.endswith("sent malformed JSON as its answer")


def test_exits_before_hello(tmp_path: Path) -> None:
    message = edge_message(tmp_path, "sys.exit(4)\n", PluginProtocolError)

    assert message.endswith("exited (status 4) without saying hello")


def test_exits_without_answering(tmp_path: Path) -> None:
    message = edge_message(tmp_path, 'send({"v": [1]})\nsys.exit(0)\n', PluginProtocolError)

    assert message.endswith("exited (status 0) without answering")


def test_non_zero_exit_after_an_ok_is_an_error(tmp_path: Path) -> None:
    body = f"ANSWER = {ok(cache='session')!r}\n" + STANDARD + "sys.exit(2)\n"

    assert edge_message(tmp_path, body).endswith("exited with status 2")


def test_expires_in_the_past(tmp_path: Path) -> None:
    answer = ok(cache="expires", expiration=int(NOW) - 10)
    message = edge_message(tmp_path, f"ANSWER = {answer!r}\n" + STANDARD)

    assert "returned a token that expired at 2027-01-15" in message


def test_expires_without_expiration(tmp_path: Path) -> None:
    body = f"ANSWER = {ok(cache='expires')!r}\n" + STANDARD

    assert "without an expiration" in edge_message(tmp_path, body, PluginProtocolError)


def test_other_error_carries_the_plugins_message_on_one_line(tmp_path: Path) -> None:
    answer = {"Err": {"kind": "other", "message": "vault\nlocked", "caused-by": ["no agent"]}}
    message = edge_message(tmp_path, f"ANSWER = {answer!r}\n" + STANDARD)

    assert message.endswith("failed: vault locked: no agent")


def test_operation_not_supported_is_fatal(tmp_path: Path) -> None:
    answer = {"Err": {"kind": "operation-not-supported"}}
    message = edge_message(tmp_path, f"ANSWER = {answer!r}\n" + STANDARD)

    assert message.endswith("does not support reading a token")


def test_hanging_plugin_is_killed_at_the_timeout(tmp_path: Path) -> None:
    body = 'log(__import__("os").getpid())\nsend({"v": [1]})\ntime.sleep(600)\n'
    program = plugin(tmp_path, body)

    with pytest.raises(ProviderTimeoutError, match=r"did not finish within 0\.5 s"):
        get(program, timeout=0.5)

    pid = logged(tmp_path)[1]
    assert isinstance(pid, int)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_huge_output_is_refused(tmp_path: Path) -> None:
    body = 'send({"v": [1]})\nsys.stdin.readline()\nsys.stdout.write("x" * 10_000_000)\n'

    assert "printed more than" in edge_message(tmp_path, body)


def test_a_helper_left_holding_stdout_does_not_delay_the_answer(tmp_path: Path) -> None:
    answer = ok(cache="session")
    body = (
        f"""ANSWER = {answer!r}
import subprocess
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
"""
        + STANDARD
    )

    found = get(plugin(tmp_path, body), timeout=5)

    assert found is not None
    assert found.token == SECRET


def test_missing_plugin_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="was not found"):
        get(str(tmp_path / "nope"))


@pytest.mark.parametrize(
    "response",
    [
        [],
        {"Ok": {"kind": "login"}},
        {"Ok": {"kind": "get"}},
        {"Ok": {"kind": "get", "token": "t", "cache": "forever"}},
        {"Err": {"kind": "mystery"}},
        {"Ok": {}, "Err": {}},
    ],
)
def test_answers_outside_the_protocol_are_refused(response: object) -> None:
    with pytest.raises(PluginProtocolError):
        interpret_response(response, "plugin `p`")


def wrapped(tmp_path: Path, program: str) -> tuple[str, Path]:
    """``program`` behind a shell wrapper that starts a helper first; returns it, the pid file."""
    helper_pid = tmp_path / "helper.pid"
    path = tmp_path / "wrapper.sh"
    path.write_text(
        f'#!/bin/sh\nsleep 600 > /dev/null &\necho $! > {helper_pid}\nexec {program} "$@"\n'
    )
    path.chmod(0o755)
    return str(path), helper_pid


def helper_running(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        if state == "Z":
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('send({"v": [1]})\ntime.sleep(600)\n', ProviderTimeoutError),
        ('print("hello there", flush=True)\nsys.stdin.read()\n', PluginProtocolError),
        (
            f"ANSWER = {{'Err': {{'kind': 'other', 'message': 'denied'}}}}\n{STANDARD}",
            ProviderError,
        ),
        (f"ANSWER = {ok(cache='session')!r}\n{STANDARD}sys.exit(1)\n", ProviderError),
    ],
    ids=["hangs", "bad-hello", "error-answer", "exit-1-after-ok"],
)
def test_a_failing_plugin_behind_a_wrapper_leaves_no_helper(
    tmp_path: Path, body: str, error: type[Exception]
) -> None:
    program, helper_pid = wrapped(tmp_path, plugin(tmp_path, body))

    with pytest.raises(error):
        get(program, timeout=1.5)

    assert not helper_running(helper_pid)
    count("process tree: failing Cargo plugins behind a wrapper", 1)
    count("process tree: processes checked gone by pid", 1)


def test_a_helper_of_a_plugin_that_answered_is_left_running(tmp_path: Path) -> None:
    program, helper_pid = wrapped(tmp_path, answering(tmp_path, ok(cache="session")))
    try:
        found = get(program, timeout=30)

        assert found is not None
        assert found.token == SECRET
        assert helper_running(helper_pid)
        count("process tree: helpers of successful commands left running", 1)
    finally:
        os.kill(int(helper_pid.read_text()), 9)
