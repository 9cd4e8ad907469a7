"""Credential kinds and how each one applies to a request.

A credential knows two things about a request: the ``Authorization`` value it
adds (if any) and how it rewrites the URL (only conda tokens do). Adapters for
httpx and requests ask exactly these two questions, so a new kind needs no
adapter change. Secrets live in ``repr=False`` fields and ``__str__`` shows
only the kind: a credential can be logged by accident without leaking.
"""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass, field
from typing import TypeAlias

from ._exceptions import InvalidCredentialError
from ._urls import insert_conda_token

__all__ = [
    "BasicCredential",
    "BearerToken",
    "CondaToken",
    "Credential",
    "RawToken",
    "check_header_safe",
]


AUDIT_CREDENTIAL = "authadapter.credential"
"""The ``sys.audit`` event raised with every credential as it is made, before it is checked.

An explicit hook for tools that must know every secret the library holds,
such as our test suite's leak canary (``sys.addaudithook``); nothing is
raised when no audit hook is installed but a cheap call.
"""


def check_header_safe(value: str, what: str) -> None:
    """Refuse a value that would corrupt an HTTP header.

    Control characters (CR and LF above all) would let a stored value forge
    headers; non-ASCII would be encoded differently by each client. Tab is
    allowed, as Cargo allows it. The message names ``what``, never the value.
    """
    if not value:
        raise InvalidCredentialError(f"{what} is empty")
    for char in value:
        code = ord(char)
        if (code < 32 and char != "\t") or code >= 127:
            kind = "a control character" if code < 32 or code == 127 else "a non-ASCII character"
            raise InvalidCredentialError(f"{what} contains {kind} (position {value.index(char)})")


@dataclass(frozen=True, slots=True)
class BearerToken:
    """Sent as ``Authorization: Bearer <token>``.

    Construction raises ``InvalidCredentialError`` for an empty token or one
    with a control or non-ASCII character: every store builds credentials
    through these classes, so a poisoned entry is refused before it can
    forge a header. ``repr`` and ``str`` never show the token.
    """

    token: str = field(repr=False)
    kind = "bearer"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        check_header_safe(self.token, "bearer token")

    def authorization(self) -> str | None:
        return f"Bearer {self.token}"

    def rewrite_url(self, url: str) -> str:
        return url

    def __str__(self) -> str:
        return "bearer token"


@dataclass(frozen=True, slots=True)
class BasicCredential:
    """Sent as ``Authorization: Basic base64(username:password)``.

    Either part may be empty, not both. A ``:`` in the username is refused
    (Basic cannot carry it: the server would split there), as are control
    and non-ASCII characters, with ``InvalidCredentialError``. ``repr`` and
    ``str`` show the username, never the password.
    """

    username: str
    password: str = field(repr=False)
    kind = "basic"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        if ":" in self.username:
            raise InvalidCredentialError("username contains ':', which Basic auth cannot carry")
        for value, what in ((self.username, "username"), (self.password, "password")):
            if value:
                check_header_safe(value, what)
        if not self.username and not self.password:
            raise InvalidCredentialError("username and password are both empty")

    def authorization(self) -> str | None:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def rewrite_url(self, url: str) -> str:
        return url

    def __str__(self) -> str:
        return f"basic auth for user {self.username!r}"


@dataclass(frozen=True, slots=True)
class CondaToken:
    """Sent in the URL path as ``/t/<token>/...``, the way conda channels expect it.

    A URL that already holds a ``/t/<token>/`` is left as it is (never two
    tokens). Besides control characters, ``/ ? # %`` and spaces are refused:
    the token must arrive as one path segment, not as structure.
    """

    token: str = field(repr=False)
    kind = "conda"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        check_header_safe(self.token, "conda token")
        if any(char in self.token for char in "/?#% ") or self.token in (".", ".."):
            # these would be re-read as path structure, a query, a fragment or
            # an escape, so the token would not arrive as one path segment
            raise InvalidCredentialError("conda token contains a character not allowed in a path")

    def authorization(self) -> str | None:
        return None

    def rewrite_url(self, url: str) -> str:
        return insert_conda_token(url, self.token)

    def __str__(self) -> str:
        return "conda token"


@dataclass(frozen=True, slots=True)
class RawToken:
    """Sent verbatim as ``Authorization: <token>``, as Cargo sends registry tokens.

    A registry that wants ``Bearer`` expects the user to store ``Bearer xyz``
    as the token, so nothing is added. Checked as Cargo's ``check_token``
    checks: non-empty, printable ASCII or tab. pixi's stores have no such
    kind, so ``save_credential`` refuses it.
    """

    token: str = field(repr=False)
    kind = "raw"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        check_header_safe(self.token, "token")

    def authorization(self) -> str | None:
        return self.token

    def rewrite_url(self, url: str) -> str:
        return url

    def __str__(self) -> str:
        return "raw token"


Credential: TypeAlias = BearerToken | BasicCredential | CondaToken | RawToken
