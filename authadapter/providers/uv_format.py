"""uv's credential store (``credentials.toml``) and index tables: parsing and matching, no I/O.

``uv auth login`` writes one ``[[credential]]`` table per service and user::

    [[credential]]
    service = "https://pkgs.example.com/org"
    username = "alice"
    scheme = "basic"          # optional, "basic" by default
    password = "..."          # optional

    [[credential]]
    service = "https://pkgs.example.com/"
    scheme = "bearer"
    token = "..."             # no username or password with bearer

An entry applies to a request in the same realm (scheme, host, port) whose
path lies under the entry's path, segment by segment: ``/org`` covers
``/org/simple/x/`` but not ``/orgX/`` (checked against uv 0.13.9 sending
requests to a loopback server). The longest path wins; an entry for exactly
the request URL and user beats a prefix of the same length; two entries
left equal are an error, as in uv, which then sends nothing from the file.
The same service and user written twice: the later entry counts. A file uv
would refuse (an entry without ``service``, a basic entry without
``username``, a bearer entry with one) is refused whole, as uv refuses it.

Index names (``UV_INDEX_<NAME>_USERNAME``) follow uv's ``IndexName``: ASCII
letters, digits, ``-``, ``_`` and ``.``; the variable is the name upper-cased
with every other character turned into ``_``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from authadapter._credentials import BasicCredential, BearerToken, Credential
from authadapter._exceptions import StoreError, StoreFormatError
from authadapter._origin import Origin
from authadapter._urls import _remove_dot_segments

if TYPE_CHECKING:
    from authadapter._toml import tomllib

__all__ = [
    "NamedIndex",
    "UvEntry",
    "UvLocation",
    "first_by_name",
    "index_root",
    "index_variable",
    "is_index_name",
    "is_path_prefix",
    "parse_credentials",
    "parse_index_setting",
    "parse_location",
    "parse_pyproject_indexes",
    "parse_uv_toml_indexes",
    "select_entry",
]

_INDEX_NAME = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class UvLocation:
    """A URL as uv compares it: its realm (``origin``), its dot-free path and its query.

    ``origin`` is ``None`` for a URL without a host (it never matches).
    ``shown`` is the URL without user, password, query or fragment, fit for
    a message: a signed query or ``user:password@`` stays out of logs.
    """

    origin: Origin | None
    path: str
    query: str
    shown: str


def parse_location(url: str) -> UvLocation:
    """Split ``url`` as uv's URL parser would; ``ValueError`` for a URL with no scheme."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not url.strip().lower().startswith(parts.scheme.lower() + ":"):
        raise ValueError("not an absolute URL")
    try:
        origin: Origin | None = Origin.from_url(url) if parts.hostname else None
    except ValueError:  # a port that is not a number, a host that cannot be encoded
        origin = None
    path = _remove_dot_segments(parts.path or "/") if parts.netloc else parts.path
    shown = f"{parts.scheme}:{path}" if origin is None else f"{origin}{path}"
    return UvLocation(origin, path, parts.query, shown)


def is_path_prefix(prefix: str, path: str) -> bool:
    """Whether ``path`` lies under ``prefix`` by whole segments: ``/orgX`` is not under ``/org``."""
    if path == prefix:
        return True
    if not path.startswith(prefix):
        return False
    return prefix.endswith("/") or path[len(prefix)] == "/"


@dataclass(frozen=True, slots=True)
class UvEntry:
    """One ``[[credential]]`` table. ``username`` is ``None`` for a bearer entry.

    ``number`` is the entry's position in the file (1 for the first), for
    messages. The secret fields are hidden from ``repr``.
    """

    service: UvLocation
    service_text: str
    username: str | None
    password: str | None = field(repr=False)
    token: str | None = field(repr=False)
    number: int = 0

    @property
    def described(self) -> str:
        """The entry in words for a message: its service and user, never a secret."""
        user = "bearer token" if self.username is None else f"user {self.username!r}"
        return f"{self.service.shown!r} ({user})"

    def credential(self) -> Credential:
        """What uv sends for the entry; ``InvalidCredentialError`` when it cannot be sent safely."""
        if self.token is not None:
            return BearerToken(self.token)
        return BasicCredential(self.username or "", self.password or "")


def parse_credentials(text: str, where: str) -> tuple[UvEntry, ...]:
    """The entries of a ``credentials.toml``, later duplicates replacing earlier ones.

    ``where`` names the file in errors. Raises ``StoreFormatError`` for a file
    uv itself would refuse; messages never quote a value but the service.
    """
    from authadapter._toml import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StoreFormatError(f"{where}: not valid TOML ({_position(error)})") from None
    tables = data.get("credential", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise StoreFormatError(f"{where}: 'credential' must be an array of tables ([[credential]])")
    entries: dict[tuple[object, ...], UvEntry] = {}
    for number, table in enumerate(tables, 1):
        entry = _entry(table, where, number)
        location = entry.service
        key = (location.origin, location.path, location.query, entry.username)
        entries.pop(key, None)
        entries[key] = entry
    return tuple(entries.values())


def _entry(table: Mapping[str, Any], where: str, number: int) -> UvEntry:
    at = f"{where}: credential {number}"
    service = table.get("service")
    if not isinstance(service, str):
        raise StoreFormatError(f"{at}: 'service' must be a URL string")
    try:
        location = parse_location(service)
    except ValueError:
        raise StoreFormatError(f"{at}: 'service' is not an absolute URL") from None
    at = f"{at} ({location.shown})"
    values: dict[str, str | None] = {}
    for key in ("scheme", "username", "password", "token"):
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise StoreFormatError(f"{at}: '{key}' must be a string")
        values[key] = value
    scheme = values["scheme"] or "basic"
    if scheme == "basic":
        if values["username"] is None:
            raise StoreFormatError(f"{at}: 'username' is required with scheme basic")
        if values["token"] is not None:
            raise StoreFormatError(f"{at}: 'token' cannot be given with scheme basic")
        token = None
    elif scheme == "bearer":
        for key in ("username", "password"):
            if values[key] is not None:
                raise StoreFormatError(f"{at}: '{key}' cannot be given with scheme bearer")
        if values["token"] is None:
            raise StoreFormatError(f"{at}: 'token' is required with scheme bearer")
        token = values["token"]
    else:
        raise StoreFormatError(f"{at}: 'scheme' must be basic or bearer")
    return UvEntry(location, service, values["username"], values["password"], token, number)


def select_entry(
    entries: Iterable[UvEntry],
    request: UvLocation,
    username: str | None,
    where: str,
) -> UvEntry | None:
    """The entry uv would use for ``request`` (and ``username``, when the request names one).

    Raises ``StoreError`` naming both services when the best match is not
    unique: uv sends nothing from the file then, and so do we.
    """
    best: list[UvEntry] = []
    best_rank: tuple[bool, int] | None = None
    for entry in entries:
        service = entry.service
        if service.origin is None or service.origin != request.origin:
            continue
        if not is_path_prefix(service.path, request.path):
            continue
        if username is not None and entry.username != username:
            continue
        exact = (
            service.path == request.path
            and service.query == request.query
            and entry.username == username
        )
        rank = (exact, len(service.path))
        if best_rank is None or rank > best_rank:
            best, best_rank = [entry], rank
        elif rank == best_rank:
            best.append(entry)
    if len(best) > 1:
        first, second = best[0], best[1]
        raise StoreError(
            f"{where}: entries {first.described} and {second.described} match "
            f"{request.origin} equally; uv sends neither (log in with one user per service)"
        )
    return best[0] if best else None


@dataclass(frozen=True, slots=True)
class NamedIndex:
    """An index that has a name, and where it was defined (a file or a variable)."""

    name: str
    url: str
    defined_in: str


def is_index_name(name: str) -> bool:
    """Whether uv accepts ``name`` as an index name."""
    return _INDEX_NAME.fullmatch(name) is not None


def index_variable(name: str, suffix: str) -> str:
    """``UV_INDEX_<NAME>_<suffix>`` as uv spells it (``my-private.idx`` -> ``MY_PRIVATE_IDX``)."""
    normal = "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in name)
    return f"UV_INDEX_{normal}_{suffix}"


def index_root(url: str) -> UvLocation:
    """Where an index's credentials apply: its URL without a final ``simple`` segment.

    uv attaches index credentials to this root so that files served beside
    the ``/simple`` API get them too. ``ValueError`` for a URL with no scheme.
    """
    location = parse_location(url)
    segments = location.path.split("/")
    last = -2 if location.path.endswith("/") and len(segments) > 2 else -1
    if segments[last].lower() != "simple":
        return location
    root = "/".join(segments[:last]) or "/"
    return UvLocation(location.origin, root, "", f"{location.origin}{root}")


def parse_index_setting(value: str, defined_in: str) -> list[NamedIndex]:
    """The named indexes of ``UV_INDEX`` (space-separated) or ``UV_DEFAULT_INDEX``.

    Each item is ``name=url`` or a bare URL; a bare URL has no name, so no
    variable can carry its credentials. As in uv, text before ``=`` that
    contains ``:`` is part of a URL, not a name.
    """
    indexes = []
    for item in value.split():
        name, equals, url = item.partition("=")
        if equals and ":" not in name and is_index_name(name):
            indexes.append(NamedIndex(name, url, defined_in))
    return indexes


def parse_pyproject_indexes(text: str, where: str) -> list[NamedIndex] | None:
    """``[[tool.uv.index]]`` of a ``pyproject.toml``; ``None`` when it has no ``[tool.uv]``.

    uv skips a ``pyproject.toml`` without ``[tool.uv]`` and keeps looking in
    the directories above. Raises ``StoreFormatError`` for invalid TOML.
    """
    data = _toml(text, where)
    tool = data.get("tool")
    if not isinstance(tool, dict) or not isinstance(tool.get("uv"), dict):
        return None
    return _index_tables(tool["uv"].get("index"), where)


def parse_uv_toml_indexes(text: str, where: str) -> list[NamedIndex]:
    """``[[index]]`` of a ``uv.toml``. Raises ``StoreFormatError`` for invalid TOML."""
    return _index_tables(_toml(text, where).get("index"), where)


def _toml(text: str, where: str) -> dict[str, Any]:
    from authadapter._toml import tomllib

    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as error:
        raise StoreFormatError(f"{where}: not valid TOML ({_position(error)})") from None


def _index_tables(tables: object, where: str) -> list[NamedIndex]:
    if not isinstance(tables, list):
        return []
    indexes = []
    for table in tables:
        if not isinstance(table, dict):
            continue
        name, url = table.get("name"), table.get("url")
        if isinstance(name, str) and isinstance(url, str) and is_index_name(name):
            indexes.append(NamedIndex(name, url, where))
    return indexes


def first_by_name(indexes: Sequence[NamedIndex]) -> list[NamedIndex]:
    """One index per name, the first definition winning (the command line's order of precedence)."""
    seen: set[str] = set()
    kept = []
    for index in indexes:
        if index.name not in seen:
            seen.add(index.name)
            kept.append(index)
    return kept


def _position(error: tomllib.TOMLDecodeError) -> str:
    """Where the TOML error is, without the message (which may quote the line, a secret)."""
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
    return f"line {match.group(1)}, column {match.group(2)}" if match else "syntax error"
