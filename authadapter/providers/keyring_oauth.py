"""A keyring entry as the home of a pixi OAuth login: read again and rewritten in place.

The keyring has no lock of its own, so processes that renew the same login
take turns through ``keyring-<service>.lock`` in authadapter's cache
directory (flock, like the credential files). On the Secret Service the
items rattler created are given the new secret in place: python-keyring's
``set_password`` would add a second item beside rattler's (their attributes
differ), and rattler could go on reading the stale one. Other backends are
written with ``set_password``, which replaces the entry.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from authadapter._exceptions import StoreError, StoreWriteError
from authadapter._files import locked

from .oauth import OAuthSession, StoredValue
from .rattler_format import (
    OAuthEntry,
    dump_oauth_value,
    is_oauth_value,
    parse_credential_value,
    parse_oauth_value,
)

__all__ = ["KeyringOAuthStore", "keyring_lock_path"]


def keyring_lock_path(service: str) -> Path:
    """The file whose lock serialises renewals of ``service``'s keyring entries."""
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("authadapter", appauthor=False))
    return cache / f"keyring-{service}"


class KeyringOAuthStore:
    """``backend``'s entries of ``service`` (rattler's), for one renewal."""

    def __init__(self, backend: Any, service: str) -> None:
        self._backend = backend
        self._service = service

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[OAuthSession]:
        with locked(keyring_lock_path(self._service)):
            yield self

    def current(self, key: str) -> StoredValue:
        where = f"keyring entry {self._service}/{key}"
        try:
            secret = self._backend.get_password(self._service, key)
        except Exception as error:
            raise StoreError(f"{where}: cannot read ({type(error).__name__})") from None
        if secret is None:
            return None
        try:
            value = json.loads(secret)
            if is_oauth_value(value):
                return parse_oauth_value(value)
            return parse_credential_value(value)
        except ValueError as error:
            reason = "not JSON" if isinstance(error, json.JSONDecodeError) else str(error)
            raise StoreError(f"{where}: {reason}") from None

    def replace(self, key: str, entry: OAuthEntry) -> None:
        secret = json.dumps(dump_oauth_value(entry))
        try:
            if not self._update_in_place(key, secret):
                self._backend.set_password(self._service, key, secret)
        except Exception as error:
            raise StoreWriteError(
                f"keyring entry {self._service}/{key}: cannot write ({type(error).__name__})"
            ) from None

    def _update_in_place(self, key: str, secret: str) -> bool:
        """Give every Secret Service item of ``key`` the new secret; whether there was one."""
        preferred = getattr(self._backend, "get_preferred_collection", None)
        if preferred is None:
            return False
        collection = preferred()
        with contextlib.closing(collection.connection):
            items = list(collection.search_items({"service": self._service, "username": key}))
            for item in items:
                if item.is_locked():
                    item.unlock()
                item.set_secret(secret.encode("utf-8"))
        return bool(items)
