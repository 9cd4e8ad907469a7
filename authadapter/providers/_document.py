"""What every store holding one rattler credentials object does the same way.

``$RATTLER_AUTH_FILE``, ``~/.rattler/credentials.json`` and the
``AUTHADAPTER_CREDENTIALS`` variable differ only in where the text comes
from and how it is cached; matching a URL to a key (rattler's order: exact
host, then wildcards upwards), listing, and warning once about an entry we
cannot use must not differ, or ``which`` and ``list`` would disagree between
stores holding the very same JSON. An OAuth entry is answered by the
provider's ``OAuthRefresher``; a store that can be written back to overrides
``_oauth_store``, the others renew in memory only.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from authadapter._credentials import Credential
from authadapter._exceptions import StoreError
from authadapter._log import logger
from authadapter._matching import candidate_keys, normalize_key
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider

from ._entry import StoredEntry
from .rattler_format import CredentialsDocument, OAuthEntry

if TYPE_CHECKING:
    from .oauth import OAuthRefresher, OAuthStore

__all__ = ["DocumentProvider"]


class DocumentProvider(Provider):
    """Base of the providers over one credentials object; subclasses supply ``_read``.

    ``_read`` returns the parsed document (``None`` when there is none) and
    raises ``StoreError`` naming the store when it cannot be read or parsed:
    that is a non-fatal failure of the lookup, so the chain moves on.
    """

    def __init__(
        self, where: str, listed_as: str | None = None, *, refresh_timeout: float = 10.0
    ) -> None:
        self._where = where
        self._listed_as = where if listed_as is None else listed_as
        self._warned: set[tuple[str, str]] = set()
        self._refresh_timeout = refresh_timeout
        self._oauth: tuple[OAuthRefresher, OAuthStore] | None = None
        self._oauth_lock = threading.Lock()

    @property
    def _refresher(self) -> OAuthRefresher:
        return self._oauth_parts()[0]

    def _oauth_parts(self) -> tuple[OAuthRefresher, OAuthStore]:
        """The OAuth refresher and in-memory store, made when an OAuth entry is first met.

        Most stores hold no OAuth entry; the refresher's HTTP machinery is
        imported only for those that do (a short-lived process pays nothing).
        """
        with self._oauth_lock:
            if self._oauth is None:
                from .oauth import MemoryOAuthStore, OAuthRefresher

                refresher = OAuthRefresher(timeout=self._refresh_timeout)
                self._oauth = (refresher, MemoryOAuthStore(self._stored))
            return self._oauth

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
            source = f"{self._where} (key {document.keys.get(key)!r})"
            login = document.oauth.get(key)
            if login is not None:
                return self._refresher.answer(self._oauth_store(), key, login, source)
            credential = document.entries.get(key)
            if credential is not None:
                return Found(credential, source)
        return Miss()

    def entries(self) -> list[StoredEntry]:
        """Every usable entry, in document order. Raises ``StoreError`` as ``_read`` does."""
        document = self._read()
        if document is None:
            return []
        listed = []
        for normal, written in document.keys.items():
            login = document.oauth.get(normal)
            if login is not None:
                from .oauth import describe_oauth

                where = f"{self._listed_as} ({describe_oauth(login, self._refresher.clock())})"
                listed.append(StoredEntry(written, login.credential, where))
            else:
                listed.append(StoredEntry(written, document.entries[normal], self._listed_as))
        return listed

    def _oauth_store(self) -> OAuthStore:
        """Where a renewed OAuth entry goes: this process's memory, unless overridden."""
        return self._oauth_parts()[1]

    def _stored(self, key: str) -> OAuthEntry | Credential | None:
        """What the store holds under the normalised ``key`` now (for the memory store)."""
        document = self._read()
        if document is None:
            return None
        return document.oauth.get(key) or document.entries.get(key)

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
