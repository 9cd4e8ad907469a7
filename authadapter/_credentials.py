"""Credential kinds and how each one applies to a request.

A credential knows two things about a request: the ``Authorization`` value it
adds (if any) and how it rewrites the URL (only conda tokens do). Adapters for
httpx and requests ask exactly these two questions, so a new kind needs no
adapter change. Secrets live in ``repr=False`` fields and ``__str__`` shows
only the kind: a credential can be logged by accident without leaking.
"""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass, field
from typing import TypeAlias

from ._exceptions import InvalidCredentialError
from ._urls import insert_conda_token

_CONDA_TOKEN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]+")

__all__ = [
    "BasicCredential",
    "BearerToken",
    "CondaToken",
    "Credential",
    "RawToken",
    "check_header_safe",
    "check_token_safe",
]


AUDIT_CREDENTIAL = "authadapter.credential"
"""The ``sys.audit`` event raised with every credential as it is made, before it is checked.

An explicit hook for tools that must know every secret the library holds,
such as our test suite's leak canary (``sys.addaudithook``); nothing is
raised when no audit hook is installed but a cheap call.
"""


def check_header_safe(value: str, what: str) -> None:
    """Refuse a value that any HTTP client we support would refuse or alter.

    Allowed: printable ASCII, space included. Refused, with
    ``InvalidCredentialError`` naming ``what`` and never the value: an empty
    value, any control character (tab too: h11 and requests accept it inside
    a header, proxies and servers split on it), and non-ASCII (httpx refuses
    it, requests sends it as Latin-1, aiohttp as UTF-8). This is the rule for
    a Basic username or password, which travel base64-encoded; a token that
    goes into a header as it is has to pass ``check_token_safe`` as well.
    """
    if not value:
        raise InvalidCredentialError(f"{what} is empty")
    if value.isascii() and value.isprintable():
        return
    for position, char in enumerate(value):
        code = ord(char)
        if code < 32 or code == 127:
            raise InvalidCredentialError(
                f"{what} contains a control character (position {position})"
            )
        if code > 127:
            raise InvalidCredentialError(
                f"{what} contains a non-ASCII character (position {position})"
            )


def check_token_safe(value: str, what: str) -> None:
    """``check_header_safe``, and no space at either end.

    A token is sent as it is, after ``Bearer`` or alone. httpx (h11) refuses
    a header value that starts or ends with whitespace and puts the whole
    value, secret included, into its exception; requests refuses a leading
    space the same way and sends a trailing one, which the server strips, so
    the token it checks is not the one stored. Neither can happen to a value
    this function accepts.
    """
    check_header_safe(value, what)
    if value[0] == " " or value[-1] == " ":
        raise InvalidCredentialError(f"{what} starts or ends with a space")


@dataclass(frozen=True, slots=True)
class BearerToken:
    """Sent as ``Authorization: Bearer <token>``.

    Construction raises ``InvalidCredentialError`` for an empty token, one
    with a control (tab included) or non-ASCII character, or one that starts
    or ends with a space: every store builds credentials through these
    classes, so an entry no client could send is skipped by its store
    instead of reaching a client that would raise with the token in its
    message. ``repr`` and ``str`` never show the token.
    """

    token: str = field(repr=False)
    kind = "bearer"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        check_token_safe(self.token, "bearer token")

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
    (tab included) and non-ASCII characters, with ``InvalidCredentialError``.
    Spaces anywhere are kept: both parts travel base64-encoded, so no client
    alters them, and a password may really end with one. ``repr`` and
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
    tokens). The token must arrive as one path segment, exactly as stored,
    through every client: so only the characters RFC 3986 allows in a
    segment and that httpx and requests both send unencoded are accepted,
    letters, digits and ``-._~!$&'()*+,;=:@``, and not ``.`` or ``..``.
    Anything else (``/ ? # %``, a space, ``[ ] | \\ ^``...) would be re-read
    as structure or encoded differently by each client.
    """

    token: str = field(repr=False)
    kind = "conda"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        check_token_safe(self.token, "conda token")
        if not _CONDA_TOKEN.fullmatch(self.token) or self.token in (".", ".."):
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
    checks (non-empty, printable ASCII), but stricter: no tab and no space
    at either end, which Cargo would send and httpx would refuse. pixi's
    stores have no such kind, so ``save_credential`` refuses it.
    """

    token: str = field(repr=False)
    kind = "raw"

    def __post_init__(self) -> None:
        sys.audit(AUDIT_CREDENTIAL, self)
        check_token_safe(self.token, "token")

    def authorization(self) -> str | None:
        return self.token

    def rewrite_url(self, url: str) -> str:
        return url

    def __str__(self) -> str:
        return "raw token"


Credential: TypeAlias = BearerToken | BasicCredential | CondaToken | RawToken
