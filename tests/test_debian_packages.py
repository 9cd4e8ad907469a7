"""The Debian packages a new user is told to install are the ones CI installs and the tests name."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import DEBIAN_PACKAGES

ROOT = Path(__file__).parents[1]


def test_readme_names_the_packages_ci_installs() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    commands = re.findall(r"`apt-get install ([^`]*)`", readme)

    assert commands == [DEBIAN_PACKAGES]
    assert "dbus-x11" not in (ROOT / ".ci" / "run").read_text()
    assert ".ci/debian-packages" in (ROOT / ".ci" / "run").read_text()
