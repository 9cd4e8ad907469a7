"""Installed plugin distributions, as pip lays them out, in a directory on ``sys.path``.

``install_plugin(name, source)`` writes ``<module>.py`` and
``<package>-1.0.dist-info/{METADATA,entry_points.txt}`` (what ``pip install``
leaves behind) into the test's own site directory, which is put in front of
``sys.path``. The module name is unique per call, so a plugin imported by one
test is never the one another test finds. tests/integration/test_plugin_package.py
installs a real package with pip instead.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

InstallPlugin = Callable[..., str]

_numbers = itertools.count()

PROVIDER = """
from authadapter import BearerToken, Found, Miss, Provider, ProviderEntry

class StaticProvider(Provider):
    def __init__(self, name, host, token):
        self.name, self.host, self.token = name, host, token

    @property
    def description(self):
        return f"{self.name}'s static token for {self.host}"

    def lookup(self, origin, url):
        if origin.host == self.host:
            return Found(BearerToken(self.token), f"{self.name} (host {self.host})")
        return Miss()
"""


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InstallPlugin]:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(
        name: str,
        source: str,
        *,
        value: str | None = None,
        package: str | None = None,
        group: str = "authadapter.providers",
    ) -> str:
        """Install a distribution with entry point ``name = value``; returns its module's name.

        ``value`` defaults to ``{module}:ENTRY``, ``{module}`` standing for the module's name.
        """
        module = f"plugin_{name.replace('-', '_')}_{next(_numbers)}"
        modules.append(module)
        (site / f"{module}.py").write_text(PROVIDER + textwrap.dedent(source))
        package = package or f"{name}-plugin"
        info = site / f"{package.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
        target = (value or "{module}:ENTRY").format(module=module)
        (info / "entry_points.txt").write_text(f"[{group}]\n{name} = {target}\n")
        return module

    yield install
    for module in modules:
        sys.modules.pop(module, None)
