"""pixi/rattler's credential files: ``$RATTLER_AUTH_FILE`` and ``~/.rattler/credentials.json``.

Both are the same format (see ``rattler_format``) and the same provider
class, so ``authadapter which`` can tell the user which of the two answered.
A file is re-parsed only when its size, inode or modification time changes,
which keeps a lookup cheap without ever serving a stale credential after
``pixi auth login`` rewrote it. An entry we cannot use is skipped with one
warning naming the file and key; a file that is not a JSON object makes the
lookup fail (the chain moves on) and is never rewritten.

An OAuth entry that is renewed (see ``oauth``) is written back to the file
it came from, under the file's lock, through a renamed temporary file, with
every other entry kept as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from authadapter._credentials import Credential
from authadapter._filecache import ParsedFile
from authadapter._files import atomic_write, has_leftovers, locked, read_text
from authadapter._matching import normalize_key

from ._document import DocumentProvider
from .rattler_format import (
    CredentialsDocument,
    OAuthEntry,
    dump_document,
    parse_document,
    with_entry,
    with_oauth_entry,
    without_entry,
)

if TYPE_CHECKING:
    from .oauth import OAuthSession, OAuthStore, StoredValue

__all__ = [
    "RattlerFileProvider",
    "rattler_auth_file_provider",
    "rattler_credentials_file_provider",
    "rattler_credentials_path",
]

AUTH_FILE_VARIABLE = "RATTLER_AUTH_FILE"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def rattler_credentials_path() -> Path:
    """``~/.rattler/credentials.json``, where pixi writes when no keyring works."""
    return Path.home() / ".rattler" / "credentials.json"


def rattler_auth_file_provider(*, refresh_timeout: float = 10.0) -> RattlerFileProvider | None:
    """The provider for ``$RATTLER_AUTH_FILE``, or ``None`` when the variable is unset."""
    value = os.environ.get(AUTH_FILE_VARIABLE)
    if not value:
        return None
    return RattlerFileProvider(
        Path(value).expanduser(), name="rattler-auth-file", refresh_timeout=refresh_timeout
    )


def rattler_credentials_file_provider(*, refresh_timeout: float = 10.0) -> RattlerFileProvider:
    """The provider for ``~/.rattler/credentials.json``."""
    return RattlerFileProvider(
        rattler_credentials_path(), name="rattler-credentials-file", refresh_timeout=refresh_timeout
    )


class RattlerFileProvider(DocumentProvider):
    """One credentials file in rattler's format; it need not exist."""

    def __init__(
        self, path: Path, *, name: str = "rattler-file", refresh_timeout: float = 10.0
    ) -> None:
        super().__init__(str(path), refresh_timeout=refresh_timeout)
        self.path = path
        self.name = name
        self._file = ParsedFile(path, self._parse_document)

    @property
    def description(self) -> str:
        return f"{self.path}{'' if _exists(self.path) else ' (absent)'}"

    def __repr__(self) -> str:
        return f"RattlerFileProvider({str(self.path)!r}, name={self.name!r})"

    def usable(self) -> bool:
        """A file can always be written (``login`` reports it if the write then fails)."""
        return True

    def save(self, key: str, credential: Credential) -> str:
        """Store ``credential`` under ``key``, keeping every other entry; returns the path.

        Raises ``StoreFormatError`` (file untouched) when the file exists but
        is not a credentials object.
        """
        with locked(self.path) as real:
            document = self._parse(real)
            atomic_write(real, dump_document(with_entry(document, key, credential)))
        self._forget()
        return str(self.path)

    def delete(self, key: str) -> bool:
        """Remove ``key`` (any spelling of it); whether it was there.

        Takes the lock even when the store is absent if a dead writer's copy
        lies beside it, so taking the lock removes that copy too.
        """
        if read_text(self.path) is None and not has_leftovers(self.path):
            return False
        with locked(self.path) as real:
            updated, removed = without_entry(self._parse(real), key)
            if removed:
                atomic_write(real, dump_document(updated))
        self._forget()
        return removed

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[OAuthSession]:
        """Hold the file's lock for one read-refresh-write of an OAuth entry."""
        try:
            with locked(self.path) as real:
                yield _FileSession(self, real)
        finally:
            self._forget()

    def _oauth_store(self) -> OAuthStore:
        return self

    def _parse(self, real: Path) -> dict[str, object]:
        text = read_text(real)
        if text is None:
            return {}
        return dict(parse_document(text, str(self.path)).document)

    def _forget(self) -> None:
        self._file.forget()

    def _parse_document(self, text: str, where: str) -> CredentialsDocument:
        document = parse_document(text, where)
        self._warn_skipped(document)
        return document

    def _read(self) -> CredentialsDocument | None:
        return self._file.read()


class _FileSession:
    """The file read afresh and rewritten while its lock is held."""

    def __init__(self, provider: RattlerFileProvider, real: Path) -> None:
        self._provider = provider
        self._real = real

    def current(self, key: str) -> StoredValue:
        text = read_text(self._real)
        if text is None:
            return None
        document = parse_document(text, str(self._provider.path))
        normal = normalize_key(key)
        return document.oauth.get(normal) or document.entries.get(normal)

    def replace(self, key: str, entry: OAuthEntry) -> None:
        document = self._provider._parse(self._real)
        atomic_write(self._real, dump_document(with_oauth_entry(document, key, entry)))
