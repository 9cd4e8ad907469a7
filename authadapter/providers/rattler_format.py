"""rattler's credentials format, as pure functions over text and JSON values.

pixi and rattler store credentials as one JSON object mapping a key (a host,
``*.wildcard`` or, for authadapter, ``host:port``) to an externally tagged
value: ``{"BearerToken": "t"}``, ``{"BasicHTTP": {"username", "password"}}``,
``{"CondaToken": "t"}`` or pixi's OAuth login, ``{"OAuth": {"access_token",
"refresh_token", "expires_at", "token_endpoint", "client_id", ...}}``. The same
value, alone, is the secret of a keyring entry. OAuth entries are parsed apart
(``OAuthEntry``), because they expire and are refreshed rather than sent as
they are. Kinds we cannot send (``S3Credentials``, anything newer) are
reported as skipped and kept exactly as they were whenever the file is
rewritten: a user must never lose an entry because this library does not
understand it.

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
    "OAuthEntry",
    "SkippedEntry",
    "dump_credential_value",
    "dump_document",
    "dump_oauth_value",
    "is_oauth_value",
    "parse_credential_value",
    "parse_document",
    "parse_oauth_value",
    "with_entry",
    "with_oauth_entry",
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

    ``entries`` maps normalised keys to usable credentials and ``oauth`` to
    OAuth logins (a key is in one of the two, the first spelling in the file
    winning); ``keys`` maps each normalised key of either back to the key as
    written, in file order; ``document`` is the JSON object as read, unknown
    entries included, which is what a rewrite starts from.
    """

    entries: Mapping[str, Credential]
    keys: Mapping[str, str]
    skipped: tuple[SkippedEntry, ...]
    document: Mapping[str, Any] = field(repr=False)
    oauth: Mapping[str, OAuthEntry] = field(default_factory=dict)


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
    oauth: dict[str, OAuthEntry] = {}
    for key, value in document.items():
        try:
            parsed = _parse_any_value(value)
        except (ValueError, InvalidCredentialError) as error:
            skipped.append(SkippedEntry(key, str(error)))
            continue
        normal = normalize_key(key)
        if normal not in keys:
            if isinstance(parsed, OAuthEntry):
                oauth[normal] = parsed
            else:
                entries[normal] = parsed
            keys[normal] = key
    return CredentialsDocument(entries, keys, tuple(skipped), document, oauth)


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


# pixi's OAuth logins -------------------------------------------------------------

_OAUTH_TAG = "OAuth"


@dataclass(frozen=True, slots=True)
class OAuthEntry:
    """One ``{"OAuth": {...}}`` value: a bearer token that expires and can be renewed.

    ``expires_at`` is in Unix seconds (``None``: no known expiry).
    ``fields`` is the stored object as read, fields we do not use included
    (``revocation_endpoint``, ``audience``, anything newer), so a rewrite
    keeps them. The tokens never show in ``repr``.
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: int | None
    token_endpoint: str
    client_id: str
    fields: Mapping[str, Any] = field(repr=False)

    @property
    def credential(self) -> BearerToken:
        """What is sent: ``Authorization: Bearer <access_token>``."""
        return BearerToken(self.access_token)

    def renewed(
        self, access_token: str, refresh_token: str | None, expires_at: int | None
    ) -> OAuthEntry:
        """This entry after a refresh; a missing new refresh token keeps the old one."""
        refresh = refresh_token if refresh_token is not None else self.refresh_token
        updated = {
            **self.fields,
            "access_token": access_token,
            "refresh_token": refresh,
            "expires_at": expires_at,
        }
        return OAuthEntry(
            access_token, refresh, expires_at, self.token_endpoint, self.client_id, updated
        )


def is_oauth_value(value: object) -> bool:
    """Whether ``value`` is tagged ``OAuth`` (well-formed or not)."""
    return isinstance(value, dict) and len(value) == 1 and _OAUTH_TAG in value


def parse_oauth_value(value: object) -> OAuthEntry:
    """The OAuth login in one tagged JSON value, checked as rattler's serde would.

    Raises ``ValueError`` naming the field at fault, never its value.
    """
    if not is_oauth_value(value):
        raise ValueError("not an OAuth value")
    assert isinstance(value, dict)
    body = value[_OAUTH_TAG]
    if not isinstance(body, dict):
        raise ValueError("malformed OAuth value")
    for name in ("access_token", "token_endpoint", "client_id"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise ValueError(f"malformed OAuth value ({name} missing or not a string)")
    refresh = body.get("refresh_token")
    if refresh is not None and not isinstance(refresh, str):
        raise ValueError("malformed OAuth value (refresh_token is not a string)")
    expires_at = body.get("expires_at")
    if expires_at is not None and (isinstance(expires_at, bool) or not isinstance(expires_at, int)):
        raise ValueError("malformed OAuth value (expires_at is not a whole number)")
    try:
        BearerToken(body["access_token"])
    except InvalidCredentialError as error:
        raise ValueError(f"malformed OAuth value ({error})") from None
    return OAuthEntry(
        body["access_token"],
        refresh or None,
        expires_at,
        body["token_endpoint"],
        body["client_id"],
        dict(body),
    )


def dump_oauth_value(entry: OAuthEntry) -> dict[str, Any]:
    """The tagged JSON value rattler reads back for ``entry``."""
    return {_OAUTH_TAG: dict(entry.fields)}


def with_oauth_entry(document: Mapping[str, Any], key: str, entry: OAuthEntry) -> dict[str, Any]:
    """A copy of ``document`` where the entry under ``key`` (any spelling) holds ``entry``.

    The entry keeps its place and its spelling in the file, so a refresh
    changes nothing but the tokens; every other entry is kept as it was.
    """
    normal = normalize_key(key)
    value = dump_oauth_value(entry)
    updated: dict[str, Any] = {}
    replaced = False
    for existing, existing_value in document.items():
        if not replaced and normalize_key(existing) == normal:
            updated[existing] = value
            replaced = True
        else:
            updated[existing] = existing_value
    if not replaced:
        updated[key] = value
    return updated


def _parse_any_value(value: object) -> Credential | OAuthEntry:
    if is_oauth_value(value):
        return parse_oauth_value(value)
    return parse_credential_value(value)
