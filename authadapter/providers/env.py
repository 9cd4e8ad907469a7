"""Credentials from the environment: ``AUTHADAPTER_CREDENTIALS``.

CI systems hand secrets to jobs as environment variables, not files. The
variable holds a JSON object in exactly the format of rattler's
``credentials.json`` (so a user learns one format), for example::

    AUTHADAPTER_CREDENTIALS='{"repo.example.org": {"BearerToken": "t"}}'

It is read at every lookup (a test or a long-running process may change it)
and parsed again only when its text changes. Invalid JSON is a non-fatal
failure naming the variable, never its value.
"""

from __future__ import annotations

import logging
import os
import threading

from authadapter._exceptions import StoreFormatError
from authadapter._matching import candidate_keys
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss

from ._entry import StoredEntry
from .rattler_format import CredentialsDocument, parse_document

__all__ = ["ENV_VARIABLE", "EnvProvider"]

logger = logging.getLogger("authadapter")

ENV_VARIABLE = "AUTHADAPTER_CREDENTIALS"


class EnvProvider:
    """The credentials object in an environment variable."""

    blocking = False

    def __init__(self, variable: str = ENV_VARIABLE) -> None:
        self.variable = variable
        self._lock = threading.Lock()
        self._parsed: tuple[str, CredentialsDocument] | None = None
        self._warned: set[str] = set()

    @property
    def name(self) -> str:
        return "env"

    def __repr__(self) -> str:
        return f"EnvProvider({self.variable!r})"

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        try:
            document = self._read()
        except StoreFormatError as error:
            return Failure(str(error))
        if document is None:
            return Miss()
        for key in candidate_keys(origin):
            credential = document.entries.get(key)
            if credential is not None:
                return Found(credential, self._source(document.keys[key]))
        return Miss()

    def entries(self) -> list[StoredEntry]:
        """Every usable entry. Raises ``StoreFormatError`` when the variable is not JSON."""
        document = self._read()
        if document is None:
            return []
        return [
            StoredEntry(document.keys[normal], credential, f"${self.variable}")
            for normal, credential in document.entries.items()
        ]

    def _source(self, key: str) -> str:
        return f"environment variable {self.variable} (key {key!r})"

    def _read(self) -> CredentialsDocument | None:
        text = os.environ.get(self.variable)
        if not text:
            return None
        with self._lock:
            if self._parsed is not None and self._parsed[0] == text:
                return self._parsed[1]
        document = parse_document(text, f"environment variable {self.variable}")
        for skipped in document.skipped:
            if skipped.key not in self._warned:
                self._warned.add(skipped.key)
                logger.warning(
                    "environment variable %s: skipping entry %r: %s",
                    self.variable,
                    skipped.key,
                    skipped.reason,
                )
        with self._lock:
            self._parsed = (text, document)
        return document
