"""rattler's credentials format, as pure functions over text and JSON values.

pixi and rattler store credentials as one JSON object mapping a key (a host,
``*.wildcard`` or, for authadapter, ``host:port``) to an externally tagged
value: ``{"BearerToken": "t"}``, ``{"BasicHTTP": {"username", "password"}}``
or ``{"CondaToken": "t"}``. The same value, alone, is the secret of a keyring
entry. Newer rattler knows more tags (``S3Credentials``, ``OAuth``); we cannot
send those, so they are reported as skipped and kept exactly as they were
whenever the file is rewritten: a user must never lose an entry because this
library does not understand it.

No I/O here: the file and keyring providers read, lock and write; these
functions only parse and produce text, so they are tested without a disk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authadapter._credentials import BasicCredential, BearerToken, CondaToken, Credential
from authadapter._exceptions import InvalidCredentialError, StoreFormatError
from authadapter._matching import normalize_key

__all__ = [
    "CredentialsDocument",
    "SkippedEntry",
    "dump_credential_value",
    "dump_document",
    "parse_credential_value",
    "parse_document",
    "with_entry",
    "without_entry",
]


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """An entry that cannot be used: its key and why (never its value)."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class CredentialsDocument:
    """A parsed credentials object.

    ``entries`` maps normalised keys to usable credentials; ``keys`` maps each
    normalised key back to the key as written; ``document`` is the JSON object
    as read, unknown entries included, which is what a rewrite starts from.
    """

    entries: Mapping[str, Credential]
    keys: Mapping[str, str]
    skipped: tuple[SkippedEntry, ...]
    document: Mapping[str, Any] = field(repr=False)


def parse_credential_value(value: object) -> Credential:
    """The credential in one tagged JSON value.

    Raises ``ValueError`` with a message fit for a user (no secret) when the
    value is of a kind we do not support or is malformed.
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("not an object with exactly one credential type")
    ((tag, body),) = value.items()
    if tag == "BearerToken" and isinstance(body, str):
        return BearerToken(body)
    if tag == "CondaToken" and isinstance(body, str):
        return CondaToken(body)
    if tag == "BasicHTTP" and isinstance(body, dict):
        username, password = body.get("username"), body.get("password")
        if isinstance(username, str) and isinstance(password, str):
            return BasicCredential(username, password)
    if tag in ("BearerToken", "CondaToken", "BasicHTTP"):
        raise ValueError(f"malformed {tag} value")
    raise ValueError(f"unsupported credential type {str(tag)[:40]!r}")


def dump_credential_value(credential: Credential) -> dict[str, Any]:
    """The tagged JSON value rattler expects for ``credential``.

    Raw tokens (Cargo's verbatim ``Authorization``) have no rattler form and
    raise ``InvalidCredentialError``.
    """
    if isinstance(credential, BearerToken):
        return {"BearerToken": credential.token}
    if isinstance(credential, CondaToken):
        return {"CondaToken": credential.token}
    if isinstance(credential, BasicCredential):
        return {"BasicHTTP": {"username": credential.username, "password": credential.password}}
    raise InvalidCredentialError(f"a {credential.kind} token cannot be stored in rattler's format")


def parse_document(text: str, source: str) -> CredentialsDocument:
    """Parse a whole credentials object; ``source`` names the file or variable in errors.

    Raises ``StoreFormatError`` when the text is not a JSON object. Entries
    that cannot be used are listed in ``skipped``, not raised.
    """
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        # the position only: the message of JSONDecodeError never quotes the text
        raise StoreFormatError(
            f"{source}: not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise StoreFormatError(f"{source}: JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise StoreFormatError(f"{source}: expected a JSON object of credentials")
    entries: dict[str, Credential] = {}
    keys: dict[str, str] = {}
    skipped: list[SkippedEntry] = []
    for key, value in document.items():
        try:
            credential = parse_credential_value(value)
        except (ValueError, InvalidCredentialError) as error:
            skipped.append(SkippedEntry(key, str(error)))
            continue
        normal = normalize_key(key)
        if normal not in entries:
            entries[normal] = credential
            keys[normal] = key
    return CredentialsDocument(entries, keys, tuple(skipped), document)


def dump_document(document: Mapping[str, Any]) -> str:
    """The text of a credentials file, stable and readable by rattler."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def with_entry(document: Mapping[str, Any], key: str, credential: Credential) -> dict[str, Any]:
    """A copy of ``document`` where ``key`` holds ``credential``.

    Any other spelling of the same key is replaced too, so the file never
    holds two entries that match the same hosts.
    """
    normal = normalize_key(key)
    value = dump_credential_value(credential)
    updated: dict[str, Any] = {}
    for existing, existing_value in document.items():
        if normalize_key(existing) != normal:
            updated[existing] = existing_value
        elif key not in updated:
            updated[key] = value  # keep the entry where it was in the file
    updated[key] = value
    return updated


def without_entry(document: Mapping[str, Any], key: str) -> tuple[dict[str, Any], bool]:
    """A copy of ``document`` without ``key`` (any spelling), and whether it was there."""
    normal = normalize_key(key)
    updated = {k: v for k, v in document.items() if normalize_key(k) != normal}
    return updated, len(updated) != len(document)
