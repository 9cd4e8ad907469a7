"""Plugin stores: the entry points of one group, found without ``importlib.metadata``.

Every default chain looks for plugins, and Cargo starts ``authadapter
cargo-credential`` once per registry operation, so finding none must cost
next to nothing. Importing ``importlib.metadata`` alone takes longer than the
rest of that command's own work (it pulls in ``email``, ``zipfile``, ``csv``
and more). The installed distributions are plain directories, so this module
reads them directly: each ``*.dist-info`` and ``*.egg-info`` directory on
``sys.path``, the first of each distribution name only (the one Python
imports, as ``importlib.metadata`` picks), and its ``entry_points.txt`` only
when the file mentions the group. A plugin's module is imported only when
the plugin is found. Distributions inside zip files are not searched.

A plugin that cannot be imported or is not a ``ProviderEntry`` of the entry
point's own name is reported (``Plugin.problem``), never raised: one broken
package must not stop every tool that sends a request. Its ``build`` is
guarded the same way.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from authadapter._log import logger

from ._provider import CredentialProvider, as_provider
from ._registry import ProviderEntry

if TYPE_CHECKING:
    from ._config import Settings

__all__ = ["EntryPoint", "Plugin", "find_entry_points", "load_plugins", "parse_entry_points"]


_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """``name = value`` in the group, from the distribution ``package``."""

    name: str
    value: str
    package: str

    @property
    def where(self) -> str:
        """How warnings name it: ``package: name = value``."""
        return f"{self.package}: {self.name} = {self.value}"


@dataclass(frozen=True, slots=True)
class Plugin:
    """A loaded entry point: its ``entry``, or the ``problem`` that keeps it out."""

    name: str
    where: str
    entry: ProviderEntry | None
    problem: str | None = None


def parse_entry_points(text: str, group: str) -> list[tuple[str, str]]:
    """``(name, value)`` of each entry of ``[group]`` in an ``entry_points.txt``.

    Extras (``module:object [extra]``) are dropped, as importlib.metadata
    ignores them when loading.
    """
    found: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
            continue
        if inside:
            name, equals, value = line.partition("=")
            if equals and name.strip():
                found.append((name.strip(), value.split("[", 1)[0].strip()))
    return found


def _package(directory: str) -> str:
    """The distribution name of ``name-1.0.dist-info`` / ``name.egg-info``, normalised."""
    stem = directory.rsplit(".", 1)[0].split("-", 1)[0]
    return re.sub(r"[-_.]+", "-", stem).lower()


def find_entry_points(group: str, path: Iterable[str] | None = None) -> list[EntryPoint]:
    """The entry points of ``group`` in the distributions on ``path`` (default ``sys.path``)."""
    marker = f"[{group}]"
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for folder in sys.path if path is None else path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:  # missing, not a directory, or a zip file
            continue
        for directory in names:
            if not directory.endswith(_SUFFIXES):
                continue
            package = _package(directory)
            if package in seen:
                continue
            seen.add(package)
            try:
                with open(os.path.join(folder, directory, "entry_points.txt"), "rb") as file:
                    data = file.read()
            except OSError:
                continue
            if marker.encode() not in data:
                continue
            text = data.decode("utf-8", errors="replace")
            found.extend(
                EntryPoint(name, value, package) for name, value in parse_entry_points(text, group)
            )
    return found


def load_plugins(group: str, path: Iterable[str] | None = None) -> list[Plugin]:
    """Each entry point of ``group`` imported and checked; problems described, not raised."""
    return [_load(point) for point in find_entry_points(group, path)]


def _load(point: EntryPoint) -> Plugin:
    try:
        loaded = _resolve(point.value)
    except ImportError as error:
        return Plugin(point.name, point.where, None, f"cannot import it ({_first_line(error)})")
    except Exception as error:
        return Plugin(point.name, point.where, None, f"loading it raised {type(error).__name__}")
    if not isinstance(loaded, ProviderEntry):
        got = type(loaded).__name__
        return Plugin(point.name, point.where, None, f"expected a ProviderEntry, got {got}")
    if loaded.name != point.name:
        problem = f"its ProviderEntry is named {loaded.name!r}, not {point.name!r}"
        return Plugin(point.name, point.where, None, problem)
    if loaded.group is not None:
        problem = "switch groups are for built-in stores; use the entry's own name"
        return Plugin(point.name, point.where, None, problem)
    return Plugin(point.name, point.where, replace(loaded, build=_Guarded(loaded, point.where)))


def _resolve(value: str) -> object:
    module_name, _, attributes = value.partition(":")
    if not module_name.strip():
        raise ImportError(f"no module in {value!r}")
    loaded: object = importlib.import_module(module_name.strip())
    for attribute in filter(None, attributes.strip().split(".")):
        loaded = getattr(loaded, attribute)
    return loaded


def _first_line(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__


class _Guarded:
    """A plugin's ``build``: what it raises or returns wrongly becomes a warning and no provider."""

    def __init__(self, entry: ProviderEntry, where: str) -> None:
        self._build = entry.build
        self._where = where

    def __call__(self, settings: Settings) -> Sequence[CredentialProvider]:
        try:
            built = self._build(settings)
            providers = list(built)
        except Exception as error:
            logger.warning("plugin %s: building it raised %s", self._where, type(error).__name__)
            return []
        for provider in providers:
            if not isinstance(provider, CredentialProvider):
                got = type(provider).__name__
                logger.warning("plugin %s: built a %s, not a provider", self._where, got)
                return []
        return [as_provider(provider) for provider in providers]
