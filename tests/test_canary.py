"""The canary plugin catches a secret wherever it shows, and says so without showing it.

Runs a small suite in a subprocess with the plugin loaded: each test there
leaks a secret one way (a DEBUG record, an exception message, a chained
cause, stdout, a provider's failure message or source) and must end in an
error naming the way; a clean test and an exempt test must pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures_security import count

REPO = Path(__file__).resolve().parent.parent

SUITE = """
import logging
import pytest
from authadapter import BearerToken, BasicCredential, Found, Failure, StoreFormatError

SECRET = "sEcReT-0123456789"
log = logging.getLogger("authadapter.providers.sample")

def test_debug_record():
    BearerToken(SECRET)
    log.debug("read token %s", SECRET)

def test_exception_message():
    BearerToken(SECRET)
    with pytest.raises(StoreFormatError):
        raise StoreFormatError("bad value " + SECRET)

def test_chained_cause():
    BearerToken(SECRET)
    with pytest.raises(StoreFormatError):
        try:
            raise KeyError(SECRET)
        except KeyError as error:
            raise StoreFormatError("bad entry") from error

def test_stdout():
    BearerToken(SECRET)
    print("token:", SECRET)

def test_read_by_capsys(capsys):
    BearerToken(SECRET)
    print(SECRET)
    assert capsys.readouterr().out.strip() == SECRET

def test_failure_message():
    BearerToken(SECRET)
    Failure("command printed " + SECRET)

def test_found_source():
    Found(BearerToken(SECRET), "file with " + SECRET)

def test_basic_header_value():
    import base64
    BasicCredential("user", SECRET)
    log.warning("header %s", base64.b64encode(f"user:{SECRET}".encode()).decode())

def test_cli_stream():
    import io
    from authadapter import cli
    BearerToken(SECRET)
    out = io.StringIO()
    out.write(SECRET)  # stands in for a CLI that printed it
    cli.main(["--help"], stdout=out, stderr=io.StringIO())

def test_clean(caplog):
    BearerToken(SECRET)
    log.debug("looked up %s", "repo.example.org")
    log.warning("one warning")
    assert [r.levelname for r in caplog.records] == ["WARNING"]

@pytest.mark.canary_exempt("shows the secret on purpose")
def test_exempt():
    BearerToken(SECRET)
    print(SECRET)
"""


def test_canary_catches_every_kind_of_leak(tmp_path: Path) -> None:
    (tmp_path / "test_leaks.py").write_text(SUITE)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "-p", "tests.fixtures_security", str(tmp_path / "test_leaks.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    output = result.stdout + result.stderr
    count("canary self-test: leak kinds caught", output.count("canary: a secret showed"))
    for name in (
        "test_debug_record",
        "test_exception_message",
        "test_chained_cause",
        "test_stdout",
        "test_read_by_capsys",
        "test_failure_message",
        "test_found_source",
        "test_basic_header_value",
        "test_cli_stream",
    ):
        assert f"test_leaks.py::{name}\n" in output, output
    summary = output.split("short test summary")[-1]
    assert "test_clean" not in summary
    assert "test_exempt" not in summary
    assert "9 errors" in output
    assert "a log record (DEBUG authadapter.providers.sample)" in output
    assert "showed in the stdout of the authadapter CLI" in output
    assert " failed" not in output.splitlines()[-1], "every leak is a teardown error, not a crash"
    assert "sEcReT-0123456789" not in output.replace('SECRET = "sEcReT-0123456789"', ""), (
        "the canary report must not show the secret"
    )
