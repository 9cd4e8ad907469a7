"""What every store holding one rattler credentials object does the same way.

``$RATTLER_AUTH_FILE``, ``~/.rattler/credentials.json`` and the
``AUTHADAPTER_CREDENTIALS`` variable differ only in where the text comes
from and how it is cached; matching a URL to a key (rattler's order: exact
host, then wildcards upwards), listing, and warning once about an entry we
cannot use must not differ, or ``which`` and ``list`` would disagree between
stores holding the very same JSON.
"""

from __future__ import annotations

import logging

from authadapter._exceptions import StoreError
from authadapter._matching import candidate_keys, normalize_key
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider

from ._entry import StoredEntry
from .rattler_format import CredentialsDocument

__all__ = ["DocumentProvider"]

logger = logging.getLogger("authadapter")


class DocumentProvider(Provider):
    """Base of the providers over one credentials object; subclasses supply ``_read``.

    ``_read`` returns the parsed document (``None`` when there is none) and
    raises ``StoreError`` naming the store when it cannot be read or parsed:
    that is a non-fatal failure of the lookup, so the chain moves on.
    """

    def __init__(self, where: str, listed_as: str | None = None) -> None:
        self._where = where
        self._listed_as = where if listed_as is None else listed_as
        self._warned: set[tuple[str, str]] = set()

    @property
    def description(self) -> str:
        return self._where

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        try:
            document = self._read()
        except StoreError as error:
            return Failure(str(error))
        if document is None:
            return Miss()
        for key in candidate_keys(origin):
            credential = document.entries.get(key)
            if credential is not None:
                return Found(credential, f"{self._where} (key {document.keys[key]!r})")
        return Miss()

    def entries(self) -> list[StoredEntry]:
        """Every usable entry, in document order. Raises ``StoreError`` as ``_read`` does."""
        document = self._read()
        if document is None:
            return []
        return [
            StoredEntry(document.keys[normal], credential, self._listed_as)
            for normal, credential in document.entries.items()
        ]

    def _read(self) -> CredentialsDocument | None:
        raise NotImplementedError

    def _warn_skipped(self, document: CredentialsDocument) -> None:
        """One warning per unusable entry and reason, however often the store is re-read."""
        for skipped in document.skipped:
            marker = (normalize_key(skipped.key), skipped.reason)
            if marker not in self._warned:
                self._warned.add(marker)
                logger.warning(
                    "%s: skipping entry %r: %s", self._where, skipped.key, skipped.reason
                )
