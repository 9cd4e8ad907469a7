"""Where ``authadapter login`` writes and ``logout`` deletes: the same place pixi would.

``pixi auth login`` writes to ``$RATTLER_AUTH_FILE`` when it is set, else to
the OS keyring, else (no usable keyring, as on a headless Linux machine) to
``~/.rattler/credentials.json``. Following the same rule means a credential
stored with either tool is found by both, and a user never has to learn a
second place. ``logout`` removes the key from every store login could have
written to, so an old copy cannot keep answering after a logout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from ._credentials import Credential
from ._exceptions import ConfigError
from ._matching import normalize_key
from ._origin import is_ip_address, normalize_host
from .providers.keyring_store import KeyringProvider
from .providers.rattler import (
    rattler_auth_file_provider,
    rattler_credentials_file_provider,
)

__all__ = ["delete_credential", "key_for_host", "save_credential", "writable_stores"]


_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


class WritableStore(Protocol):
    @property
    def name(self) -> str: ...

    def save(self, key: str, credential: Credential) -> str: ...

    def delete(self, key: str) -> bool: ...


def key_for_host(argument: str) -> str:
    """The store key for what a user typed after ``login``, reduced as pixi does.

    A URL is reduced to its host (an explicit port is kept as ``host:port``,
    which authadapter matches on that port only); a host name with exactly one
    dot (``prefix.dev``) becomes ``*.prefix.dev`` so it also covers the
    subdomains registries serve from. Raises ``ConfigError`` for an argument
    with no host.
    """
    text = argument.strip()
    wildcard = text.startswith("*.")
    if wildcard:
        text = text[2:]
    if is_ip_address(text) and ":" in text:
        text = f"[{text}]"  # a bare IPv6 address, as a user would type ``::1``
    if "://" not in text:
        text = "//" + text
    invalid = ConfigError(f"{argument!r} is not a host name or URL")
    try:
        parts = urlsplit(text)
        host = normalize_host(parts.hostname or "")
        port = parts.port
    except (ValueError, UnicodeError):
        raise invalid from None
    if not host or (":" not in host and not _HOST_NAME.fullmatch(host)):
        raise invalid
    bracketed = f"[{host}]" if ":" in host else host
    if wildcard:
        if port is not None or is_ip_address(host):
            raise invalid
        return f"*.{host}"
    if port is not None:
        return f"{bracketed}:{port}"
    if host.count(".") == 1 and not is_ip_address(host):
        return f"*.{host}"
    return bracketed


def writable_stores(
    *, keyring: Callable[[], KeyringProvider] = KeyringProvider
) -> list[WritableStore]:
    """The stores login may write to, in pixi's order of preference.

    Only the first is written; all are cleared on logout. The keyring is
    included only when a real backend answers a probe.
    """
    stores: list[WritableStore] = []
    auth_file = rattler_auth_file_provider()
    if auth_file is not None:
        stores.append(auth_file)
    keyring_provider = keyring()
    if keyring_provider.usable():
        stores.append(keyring_provider)
    stores.append(rattler_credentials_file_provider())
    return stores


def save_credential(key: str, credential: Credential) -> str:
    """Store ``credential`` under ``key`` where pixi would; returns where (no secret).

    The store is the first of ``$RATTLER_AUTH_FILE`` (if set), the keyring
    (service ``rattler``, if a real backend answers) and
    ``~/.rattler/credentials.json``, as ``pixi auth login`` chooses, so pixi
    reads what this writes. ``key`` is stored as given (normalised, not
    reduced): pass what a user typed through ``key_for_host`` first to get
    the key pixi would use. An entry already under ``key`` in that store is
    replaced; every other entry, including kinds authadapter cannot read, is
    kept. Files are written under a lock through a renamed temporary file,
    mode 0600.

    Raises ``InvalidCredentialError`` for a ``RawToken`` (pixi's formats have
    no raw token, and storing it as a bearer token would change what is
    sent), ``StoreFormatError`` when the target file cannot be parsed (it is
    left untouched) and ``StoreWriteError`` when the store refuses the write.
    """
    return writable_stores()[0].save(normalize_key(key), credential)


def delete_credential(key: str) -> list[str]:
    """Remove ``key`` from every store ``save_credential`` may write to.

    Every such store is cleared, not only the first, so a credential saved
    before ``$RATTLER_AUTH_FILE`` was set or a keyring appeared does not
    survive a logout. Returns where the key was found (paths or keyring
    descriptions, never a secret); an empty list means no such store held
    it. netrc and ``AUTHADAPTER_CREDENTIALS`` are never edited: they are the
    user's own files and variables.
    """
    normal = normalize_key(key)
    removed: list[str] = []
    for store in writable_stores():
        if store.delete(normal):
            removed.append(_describe(store))
    return removed


def _describe(store: WritableStore) -> str:
    path = getattr(store, "path", None)
    if path is not None:
        return str(path)
    return str(getattr(store, "description", store.name))
