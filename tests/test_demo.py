"""README's first command must keep working: the demo is a real end-to-end run."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture
def demo() -> subprocess.CompletedProcess[str]:
    """A run of ``python -m authadapter.demo`` in the isolated home of each test."""
    return subprocess.run(
        [sys.executable, "-m", "authadapter.demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_authenticates_every_request_with_both_clients(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert demo.returncode == 0, demo.stderr
    assert "All requests authenticated." in demo.stdout
    assert demo.stdout.count("-> 200") == 6
    assert "<- used" in demo.stdout


def test_demo_shows_the_login_commands_it_really_ran(
    demo: subprocess.CompletedProcess[str],
) -> None:
    lines = demo.stdout.splitlines()
    shown = [line.split()[3] for line in lines if line.startswith("   $ authadapter login ")]
    stored = [line.split(" for ")[-1].split(" in ")[0] for line in lines if "stored " in line]

    assert shown == stored == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
