"""Where uv keeps its files, and reading them only when they changed.

Paths follow uv 0.13 (checked with ``uv auth dir`` and uv's ``uv-dirs`` and
``uv-settings`` crates):

* credentials: ``$UV_CREDENTIALS_DIR/credentials.toml``, else
  ``$XDG_DATA_HOME/uv/credentials/`` (an absolute ``XDG_DATA_HOME`` only),
  else ``~/.local/share/uv/credentials/``; ``%APPDATA%\\uv\\data\\credentials``
  on Windows;
* project settings: the first directory from the working directory upwards
  that has a ``uv.toml``, or a ``pyproject.toml`` with a ``[tool.uv]`` table
  (``uv.toml`` wins in one directory; an unreadable ``pyproject.toml`` is
  skipped with a warning, as uv does);
* user settings: ``$XDG_CONFIG_HOME/uv/uv.toml`` (absolute only), else
  ``~/.config/uv/uv.toml``; ``%APPDATA%\\uv\\uv.toml`` on Windows;
* system settings: ``uv/uv.toml`` in the first of ``$XDG_CONFIG_DIRS``
  (``/etc/xdg``) that has one, else ``/etc/uv/uv.toml``;
* ``UV_CONFIG_FILE`` replaces the three; ``UV_NO_CONFIG`` turns them off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from authadapter._exceptions import StoreFormatError
from authadapter._filecache import ParsedFile
from authadapter._log import logger

from .uv_format import (
    NamedIndex,
    first_by_name,
    parse_index_setting,
    parse_pyproject_indexes,
    parse_uv_toml_indexes,
)

__all__ = [
    "UvSettings",
    "uv_credentials_path",
    "uv_system_config_candidates",
    "uv_user_config_path",
]


T = TypeVar("T")
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _absolute(value: str | None) -> Path | None:
    return Path(value) if value and os.path.isabs(value) else None


def uv_credentials_path(env: Mapping[str, str]) -> Path:
    """The ``credentials.toml`` that ``uv auth login`` writes, for the environment ``env``."""
    named = env.get("UV_CREDENTIALS_DIR")
    if named:
        return Path(named) / "credentials.toml"
    if sys.platform == "win32":
        base = Path(env.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "uv" / "data"
    else:
        base = (_absolute(env.get("XDG_DATA_HOME")) or _home(env) / ".local" / "share") / "uv"
    return base / "credentials" / "credentials.toml"


def uv_user_config_path(env: Mapping[str, str]) -> Path:
    """uv's user-level ``uv.toml``."""
    if sys.platform == "win32":
        base = Path(env.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = _absolute(env.get("XDG_CONFIG_HOME")) or _home(env) / ".config"
    return base / "uv" / "uv.toml"


def uv_system_config_candidates(env: Mapping[str, str]) -> list[Path]:
    """Where uv looks for its system-level ``uv.toml``, in order; the first that exists counts."""
    if sys.platform == "win32":
        drive = env.get("SYSTEMDRIVE")
        return [Path(f"{drive}\\") / "ProgramData" / "uv" / "uv.toml"] if drive else []
    candidates = []
    for directory in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"):
        if not directory:
            break
        candidates.append(Path(directory) / "uv" / "uv.toml")
    return [*candidates, Path("/etc/uv/uv.toml")]


_UvToml = ParsedFile[list[NamedIndex]]
_Pyproject = ParsedFile[list[NamedIndex] | None]


class UvSettings:
    """The named indexes uv would know in a working directory, in uv's order of precedence.

    ``UV_INDEX`` and ``UV_DEFAULT_INDEX`` come first (they stand for
    command-line options), then the project's file, the user's and the
    system's. Of two indexes with one name the first counts. The candidate
    files are fixed when the settings are made; a lookup costs one ``stat``
    per candidate consulted, and files are re-read only when they change.
    """

    def __init__(self, env: Mapping[str, str], cwd: Path | None) -> None:
        self._given = [
            index
            for variable in ("UV_INDEX", "UV_DEFAULT_INDEX")
            for index in parse_index_setting(env.get(variable, ""), variable)
        ]
        self._project_files: list[tuple[_UvToml, _Pyproject]] = []
        self._groups: list[list[_UvToml]] = []  # in each, the first file that exists counts
        named = env.get("UV_CONFIG_FILE")
        if env.get("UV_NO_CONFIG", "").strip().lower() in _TRUE:
            pass
        elif named:
            self._groups = [[ParsedFile(Path(named), parse_uv_toml_indexes)]]
        else:
            directories = [] if cwd is None else [cwd, *cwd.parents]
            self._project_files = [
                (
                    ParsedFile(directory / "uv.toml", parse_uv_toml_indexes),
                    ParsedFile(directory / "pyproject.toml", parse_pyproject_indexes),
                )
                for directory in directories
            ]
            system = uv_system_config_candidates(env)
            self._groups = [
                [ParsedFile(uv_user_config_path(env), parse_uv_toml_indexes)],
                [ParsedFile(path, parse_uv_toml_indexes) for path in system],
            ]
        self._memo: tuple[tuple[tuple[int, int], ...], list[NamedIndex]] | None = None
        self._warned: set[str] = set()

    def indexes(self) -> list[NamedIndex]:
        """Every named index; raises ``StoreError`` for a ``uv.toml`` uv could not read either.

        The same list object is returned while no file changed.
        """
        consulted: list[tuple[int, int]] = []
        found = [*self._given, *self._project(consulted)]
        for group in self._groups:
            for parsed in group:
                value = parsed.read()
                consulted.append((id(parsed), parsed.generation))
                if value is not None:
                    found.extend(value)
                    break
        key = tuple(consulted)
        memo = self._memo
        if memo is not None and memo[0] == key:
            return memo[1]
        indexes = first_by_name(found)
        self._memo = (key, indexes)
        return indexes

    def _project(self, consulted: list[tuple[int, int]]) -> list[NamedIndex]:
        for uv_toml, pyproject in self._project_files:
            indexes = uv_toml.read()
            consulted.append((id(uv_toml), uv_toml.generation))
            if indexes is not None:
                return indexes
            try:
                indexes = pyproject.read()
            except StoreFormatError as error:  # uv warns and looks further up
                if str(error) not in self._warned:
                    self._warned.add(str(error))
                    logger.warning("%s; skipped, as uv skips it", error)
                consulted.append((id(pyproject), -1))
                continue
            consulted.append((id(pyproject), pyproject.generation))
            if indexes is not None:
                return indexes
        return []
