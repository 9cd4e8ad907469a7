"""netrc: ``$NETRC``, else ``~/.netrc``; every entry becomes Basic auth.

The parser is our own pure function rather than the standard library's
``netrc`` module, whose behaviour differs between Python versions (comments
and quoting changed in 3.11) and which refuses a whole file for one odd
token. Here ``#`` starts a comment wherever a token would start, ``macdef``
bodies are skipped up to the blank line that ends them, double-quoted tokens
may contain spaces and backslash escapes, and the ``default`` entry answers
for any host no ``machine`` names, as curl and requests do. A ``machine``
name with a port (``machine host:8443``) applies only to that port.

A file that holds passwords and that group or others may access is used,
as curl and requests use it, but with one warning naming the file: Python's
own ``netrc`` module refuses it, and a user who relies on that check should
learn that this library does not.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from authadapter._credentials import BasicCredential
from authadapter._exceptions import InvalidCredentialError, StoreError, StoreFormatError
from authadapter._filecache import ParsedFile
from authadapter._log import logger
from authadapter._matching import normalize_key
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider

from ._entry import StoredEntry

__all__ = ["NetrcEntry", "NetrcProvider", "netrc_path", "parse_netrc"]

DEFAULT_KEY = "default"
_SHARED = stat.S_IRWXG | stat.S_IRWXO


@dataclass(frozen=True, slots=True)
class NetrcEntry:
    """One ``machine`` (or the ``default``) with its login and password."""

    machine: str
    login: str
    password: str = field(repr=False)


def _tokens(text: str, source: str) -> list[tuple[str, int]]:
    """Tokens with their line numbers; comments dropped, quotes resolved.

    A quote left open would swallow the rest of the file into one password
    (newlines included), so it is an error naming the line it opens on.
    """
    tokens: list[tuple[str, int]] = []
    index, line, length = 0, 1, len(text)
    while index < length:
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
        elif char.isspace():
            index += 1
        elif char == "#":
            while index < length and text[index] != "\n":
                index += 1
        elif char == '"':
            opened_on = line
            index += 1
            value: list[str] = []
            while index < length and text[index] != '"':
                if text[index] == "\\" and index + 1 < length:
                    index += 1
                if text[index] == "\n":
                    line += 1
                value.append(text[index])
                index += 1
            if index >= length:
                raise StoreFormatError(f"{source}: line {opened_on}: a quote is not closed")
            tokens.append(("".join(value), line))
            index += 1
        else:
            start = index
            while index < length and not text[index].isspace():
                index += 1
            tokens.append((text[start:index], line))
    return tokens


def _skip_macros(text: str) -> str:
    """``text`` with every ``macdef`` body (up to a blank line) blanked out, lines kept."""
    lines = text.split("\n")
    skipping = False
    for number, content in enumerate(lines):
        if skipping:
            if not content.strip():
                skipping = False
            lines[number] = ""
        elif "macdef" in content.split("#", 1)[0].split():
            skipping = True
    return "\n".join(lines)


def parse_netrc(text: str, source: str) -> list[NetrcEntry]:
    """The entries of a netrc file, in order; ``default`` is the machine ``"default"``.

    Raises ``StoreFormatError`` naming ``source`` and the line for a keyword
    missing its value or a quote left open. Entries without a password and login are dropped.
    """
    entries: list[NetrcEntry] = []
    tokens = _tokens(_skip_macros(text), source)
    machine: str | None = None
    values: dict[str, str] = {}

    def finish() -> None:
        if machine is not None and (values.get("login") or values.get("password")):
            entries.append(NetrcEntry(machine, values.get("login", ""), values.get("password", "")))

    position = 0
    while position < len(tokens):
        word, line = tokens[position]
        if word in ("machine", "default", "macdef"):
            finish()
            values = {}
            if word == "default":
                machine = DEFAULT_KEY
                position += 1
                continue
            if position + 1 >= len(tokens):
                raise StoreFormatError(f"{source}: line {line}: {word!r} without a name")
            machine = tokens[position + 1][0] if word == "machine" else None
            position += 2
        elif word in ("login", "password", "account"):
            if position + 1 >= len(tokens):
                raise StoreFormatError(f"{source}: line {line}: {word!r} without a value")
            values[word] = tokens[position + 1][0]
            position += 2
        else:
            position += 1  # an unknown token: skip it, as curl does
    finish()
    return entries


def netrc_path() -> Path:
    """``$NETRC`` if set, else ``~/.netrc``."""
    value = os.environ.get("NETRC")
    return Path(value).expanduser() if value else Path.home() / ".netrc"


class NetrcProvider(Provider):
    """A netrc file; the path is fixed when the provider is made."""

    name = "netrc"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else netrc_path()
        self._file = ParsedFile(self.path, self._parse)
        self._warned_access = False

    @property
    def description(self) -> str:
        try:
            exists = self.path.exists()
        except OSError:
            exists = False
        return f"{self.path}{'' if exists else ' (absent)'}"

    def __repr__(self) -> str:
        return f"NetrcProvider({str(self.path)!r})"

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        try:
            machines = self._read()
        except StoreError as error:
            return Failure(str(error))
        host = f"[{origin.host}]" if ":" in origin.host else origin.host
        for key in (f"{host}:{origin.port}", host, DEFAULT_KEY):
            entry = machines.get(key)
            if entry is not None:
                try:
                    credential = BasicCredential(entry.login, entry.password)
                except InvalidCredentialError as error:
                    return Failure(f"{self.path}: machine {entry.machine!r}: {error}")
                return Found(credential, f"{self.path} (machine {entry.machine!r})")
        return Miss()

    def entries(self) -> list[StoredEntry]:
        """Usable entries; raises ``StoreError`` for an unreadable or malformed file."""
        found: list[StoredEntry] = []
        for entry in self._read().values():
            try:
                credential = BasicCredential(entry.login, entry.password)
            except InvalidCredentialError as error:
                logger.warning("%s: skipping machine %r: %s", self.path, entry.machine, error)
                continue
            found.append(StoredEntry(entry.machine, credential, str(self.path)))
        return found

    def _warn_access(self, mode: int, entries: Iterable[NetrcEntry]) -> None:
        """Once per provider: a file with passwords that group or others may access."""
        if self._warned_access or os.name != "posix" or not mode & _SHARED:
            return
        if any(entry.password for entry in entries):
            self._warned_access = True
            logger.warning(
                "%s: holds passwords but group or others have access (mode %03o); "
                "'chmod 600' it (Python's netrc module refuses such a file)",
                self.path,
                stat.S_IMODE(mode),
            )

    def _read(self) -> dict[str, NetrcEntry]:
        return self._file.read() or {}

    def _parse(self, text: str, where: str) -> dict[str, NetrcEntry]:
        machines: dict[str, NetrcEntry] = {}
        for entry in parse_netrc(text, where):
            key = entry.machine if entry.machine == DEFAULT_KEY else normalize_key(entry.machine)
            machines.setdefault(key, entry)  # the first entry for a machine wins, as in curl
        self._warn_access(self._file.mode, machines.values())
        return machines
