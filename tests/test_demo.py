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
