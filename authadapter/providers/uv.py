"""uv's stores: ``credentials.toml`` (``uv auth login``) and ``UV_INDEX_<NAME>_USERNAME``.

Both are matched as uv 0.13 matches them (``uv_format``), so a user who
logged in with uv gets the same credential from ``RegistryAuth``:

1. ``UV_INDEX_<NAME>_USERNAME`` / ``_PASSWORD`` for a named index (from
   ``UV_INDEX``, ``UV_DEFAULT_INDEX``, ``[[tool.uv.index]]`` or ``uv.toml``,
   see ``uv_files``) apply under the index's root, its URL without a final
   ``/simple``. uv attaches them before the first request, so they come
   first. A username alone takes the password of the ``credentials.toml``
   entry for that user, as uv then looks the user up; without one it is sent
   with an empty password, as uv sends it.
2. ``credentials.toml``: the longest service path above the request's path
   in the same scheme, host and port.

Entries are scoped by path, and the chain caches per origin: for an origin
where any entry or index root has a path below ``/`` every answer (credential
or not) has ``ttl=0``, so each request is matched on its own path. Other
origins' answers are cached as usual.

The environment and the working directory are read when the provider is
made; files when a lookup needs them, again only after they change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from authadapter._credentials import BasicCredential, Credential
from authadapter._exceptions import InvalidCredentialError, StoreError
from authadapter._filecache import ParsedFile
from authadapter._log import logger
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider

from ._entry import StoredEntry
from .uv_files import UvSettings, uv_credentials_path
from .uv_format import (
    NamedIndex,
    UvEntry,
    UvLocation,
    index_root,
    index_variable,
    is_path_prefix,
    parse_credentials,
    parse_location,
    select_entry,
)

__all__ = ["UvProvider"]


_INDEX_CREDENTIAL = re.compile(r"UV_INDEX_\w+_(USERNAME|PASSWORD)")


@dataclass(frozen=True, slots=True)
class _IndexCredentials:
    """A named index whose ``UV_INDEX_<NAME>_*`` variables are set, and where they apply."""

    index: NamedIndex
    root: UvLocation
    username: str | None
    password: str | None = field(repr=False)

    @property
    def source(self) -> str:
        variable = index_variable(self.index.name, "USERNAME")
        return f"{variable}/_PASSWORD (index {self.index.name!r} from {self.index.defined_in})"


class UvProvider(Provider):
    """uv's ``credentials.toml`` and its index credential variables.

    ``env`` and ``cwd`` default to the process's, read now.
    """

    name = "uv"

    def __init__(self, *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        environ = dict(os.environ if env is None else env)
        self.path = uv_credentials_path(environ)
        self._store = ParsedFile(self.path, parse_credentials)
        self._variables = {
            key: value for key, value in environ.items() if _INDEX_CREDENTIAL.fullmatch(key)
        }
        # without a variable no index can carry credentials: skip the settings files
        self._settings = UvSettings(environ, cwd or _cwd()) if self._variables else None
        self._known: tuple[object, list[_IndexCredentials]] = (None, [])
        self._warned: set[str] = set()

    @property
    def description(self) -> str:
        absent = "" if self.path.exists() else " (absent)"
        return f"{self.path}{absent}, and UV_INDEX_<NAME>_USERNAME/_PASSWORD for uv's named indexes"

    def __repr__(self) -> str:
        return f"UvProvider({str(self.path)!r})"

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        request = parse_location(url)
        username = _username(url)
        try:
            entries: Sequence[UvEntry] = self._store.read() or ()
            store_error: StoreError | None = None
        except StoreError as error:
            entries, store_error = (), error
        try:
            indexes = self._indexes(origin)
        except StoreError as error:
            return Failure(str(error))
        scoped = any(index.root.path != "/" for index in indexes) or any(
            entry.service.origin == origin and entry.service.path != "/" for entry in entries
        )
        ttl = 0.0 if scoped else None
        index = _deepest(indexes, request)
        if index is not None:
            return self._from_index(index, request, entries, ttl)
        if store_error is not None:
            return Failure(str(store_error))
        try:
            entry = select_entry(entries, request, username, str(self.path))
        except StoreError as error:
            return Failure(str(error), ttl=0.0)
        if entry is None:
            return Miss(ttl=ttl)
        return self._found(entry, ttl)

    def entries(self) -> list[StoredEntry]:
        """Every ``credentials.toml`` entry that can be sent, for ``authadapter list``."""
        found = []
        for entry in self._store.read() or ():
            try:
                credential = entry.credential()
            except InvalidCredentialError as error:
                self._warn(f"{self.path}: skipping entry {entry.described}: {error}")
                continue
            found.append(StoredEntry(entry.service.shown, credential, str(self.path)))
        return found

    def _indexes(self, origin: Origin) -> list[_IndexCredentials]:
        """The named indexes of ``origin`` that a variable gives credentials."""
        if self._settings is None:
            return []
        indexes = self._settings.indexes()
        source, known = self._known
        if indexes is not source:  # a settings file changed: map the names again
            known = []
            for index in indexes:
                username = self._variables.get(index_variable(index.name, "USERNAME")) or None
                password = self._variables.get(index_variable(index.name, "PASSWORD")) or None
                if username is None and password is None:
                    continue
                try:
                    root = index_root(index.url)
                except ValueError:
                    continue
                known.append(_IndexCredentials(index, root, username, password))
            self._known = (indexes, known)
        return [index for index in known if index.root.origin == origin]

    def _from_index(
        self,
        index: _IndexCredentials,
        request: UvLocation,
        entries: Sequence[UvEntry],
        ttl: float | None,
    ) -> LookupResult:
        if index.password is None and index.username is not None:
            try:
                entry = select_entry(entries, request, index.username, str(self.path))
            except StoreError:  # cannot happen with a username, but never guess
                entry = None
            if entry is not None:
                return self._found(entry, ttl, f"{index.source}, password from ")
        try:
            credential: Credential = BasicCredential(index.username or "", index.password or "")
        except InvalidCredentialError as error:
            return Failure(f"{index.source}: {error}", ttl=ttl)
        return Found(credential, index.source, ttl=ttl)

    def _found(self, entry: UvEntry, ttl: float | None, prefix: str = "") -> LookupResult:
        where = f"{self.path} (service {entry.service.shown!r})"
        try:
            credential = entry.credential()
        except InvalidCredentialError as error:
            return Failure(f"{where}: entry cannot be sent: {error}", ttl=ttl)
        return Found(credential, prefix + where, ttl=ttl)

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            logger.warning("%s", message)


def _deepest(indexes: Sequence[_IndexCredentials], request: UvLocation) -> _IndexCredentials | None:
    """The index whose root holds the request's path; the longest root wins, then the first."""
    best: _IndexCredentials | None = None
    for index in indexes:
        if is_path_prefix(index.root.path, request.path) and (
            best is None or len(index.root.path) > len(best.root.path)
        ):
            best = index
    return best


def _username(url: str) -> str | None:
    """The user named in the request URL; uv then looks for that user's entry only."""
    username = urlsplit(url).username
    return unquote(username) if username else None


def _cwd() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the working directory was removed
        return None
