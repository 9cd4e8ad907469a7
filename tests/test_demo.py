"""README's first command must keep working: the demo is a real end-to-end run."""

from __future__ import annotations

import subprocess
import sys


def test_demo_authenticates_every_request_with_both_clients() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "authadapter.demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "All requests authenticated." in result.stdout
    assert result.stdout.count("-> 200") == 6
    assert "<- used" in result.stdout


def test_demo_shows_the_login_commands_it_really_ran() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "authadapter.demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stdout.splitlines()
    shown = [line.split()[3] for line in lines if line.startswith("   $ authadapter login ")]
    stored = [line.split(" for ")[-1].split(" in ")[0] for line in lines if "stored " in line]

    assert shown == stored == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
