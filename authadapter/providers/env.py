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

import os
import threading

from ._document import DocumentProvider
from .rattler_format import CredentialsDocument, parse_document

__all__ = ["ENV_VARIABLE", "EnvProvider"]

ENV_VARIABLE = "AUTHADAPTER_CREDENTIALS"


class EnvProvider(DocumentProvider):
    """The credentials object in an environment variable."""

    name = "env"

    def __init__(self, variable: str = ENV_VARIABLE) -> None:
        super().__init__(f"environment variable {variable}", listed_as=f"${variable}")
        self.variable = variable
        self._lock = threading.Lock()
        self._parsed: tuple[str, CredentialsDocument] | None = None

    def __repr__(self) -> str:
        return f"EnvProvider({self.variable!r})"

    def _read(self) -> CredentialsDocument | None:
        text = os.environ.get(self.variable)
        if not text:
            return None
        with self._lock:
            if self._parsed is not None and self._parsed[0] == text:
                return self._parsed[1]
        document = parse_document(text, f"environment variable {self.variable}")
        self._warn_skipped(document)
        with self._lock:
            self._parsed = (text, document)
        return document
