"""Where ``authadapter login`` writes and ``logout`` deletes: where the configured chain reads.

The candidates are the stores the registry marks ``writable``
(``$RATTLER_AUTH_FILE`` when set, the OS keyring when a real backend answers,
``~/.rattler/credentials.json``), and only those the configuration switches
on, in the configured order: a store the chain does not read is never
written, or ``login`` would report a success that ``which`` and every client
then contradict. With the default order this is pixi's rule (``pixi auth
login`` writes to ``$RATTLER_AUTH_FILE`` if set, else the keyring, else the
file), so a credential stored with either tool is found by both. With no
writable store switched on, ``login`` and ``logout`` refuse in one line.
``logout`` removes the key from every switched-on writable store, so an old
copy cannot keep answering after a logout.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

from ._credentials import Credential
from ._exceptions import ConfigError
from ._matching import normalize_key
from ._origin import is_ip_address, normalize_host

if TYPE_CHECKING:
    from ._config import Settings

__all__ = [
    "WritableStore",
    "delete_credential",
    "key_for_host",
    "save_credential",
    "save_to",
    "writable_stores",
]


_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


@runtime_checkable
class WritableStore(Protocol):
    """A provider ``login`` can write to: what ``ProviderEntry(writable=True)`` promises."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def usable(self) -> bool: ...

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


def writable_stores(settings: Settings | None = None) -> list[WritableStore]:
    """The stores login may write to: switched on, usable, in the configured order.

    Only the first is written; all are cleared on logout. Without
    ``settings`` the configuration file is read. The keyring is included
    only when a real backend answers a probe. Raises ``ConfigError`` (one
    line, naming the file and why each writable store is out) when there is
    none.
    """
    from ._config import load_config
    from ._defaults import order_of, providers_of
    from ._registry import installed

    if settings is None:
        settings = load_config()
    stores = installed()
    found: list[WritableStore] = []
    missing: list[str] = []
    for name in order_of(settings, stores):
        entry = stores.get(name)
        if entry is None or not entry.writable:
            continue
        if not settings.is_enabled(name):
            missing.append(f"{name} is switched off")
            continue
        built = [p for p in providers_of(name, settings, stores) if isinstance(p, WritableStore)]
        usable = [p for p in built if p.usable()]
        found.extend(usable)
        if not usable:
            missing.append(f"{name} has {'no usable backend' if built else 'nothing to write to'}")
    if not found:
        where = settings.path or "the default settings"
        unlisted = [
            entry.name
            for entry in stores.entries
            if entry.writable and entry.name not in order_of(settings, stores)
        ]
        missing.extend(f"{name} is not in providers.order" for name in unlisted)
        raise ConfigError(f"{where}: no store to write to: {'; '.join(missing)}")
    return found


def save_credential(key: str, credential: Credential, *, settings: Settings | None = None) -> str:
    """Store ``credential`` under ``key`` in the first writable store; returns where (no secret).

    The store is the first of ``writable_stores(settings)``: with the default
    configuration ``$RATTLER_AUTH_FILE`` (if set), the keyring (service
    ``rattler``, if a real backend answers) or ``~/.rattler/credentials.json``,
    as ``pixi auth login`` chooses, so pixi reads what this writes; never a
    store the configuration switches off.
    ``key`` is stored as given (normalised, not reduced): pass what a user
    typed through ``key_for_host`` first to get the key pixi would use. An
    entry already under ``key`` in that store is replaced; every other entry,
    including kinds authadapter cannot read, is kept. Files are written under
    a lock through a renamed temporary file, mode 0600.

    Raises ``ConfigError`` when the configuration switches every writable
    store off, ``InvalidCredentialError`` for a ``RawToken`` (pixi's formats
    have no raw token, and storing it as a bearer token would change what is
    sent), ``StoreFormatError`` when the target file cannot be parsed (it is
    left untouched) and ``StoreWriteError`` when the store refuses the write.
    """
    return save_to(writable_stores(settings)[0], key, credential)


def save_to(store: WritableStore, key: str, credential: Credential) -> str:
    """``save_credential`` into ``store``, one of ``writable_stores()`` chosen beforehand."""
    return store.save(normalize_key(key), credential)


def delete_credential(key: str, *, settings: Settings | None = None) -> list[str]:
    """Remove ``key`` from every store ``save_credential`` may write to.

    Every such store is cleared, not only the first, so a credential saved
    before ``$RATTLER_AUTH_FILE`` was set or a keyring appeared does not
    survive a logout. Returns where the key was found (paths or keyring
    descriptions, never a secret); an empty list means no such store held
    it. netrc and ``AUTHADAPTER_CREDENTIALS`` are never edited: they are the
    user's own files and variables. Raises ``ConfigError`` as
    ``save_credential`` does.
    """
    normal = normalize_key(key)
    return [store.description for store in writable_stores(settings) if store.delete(normal)]
