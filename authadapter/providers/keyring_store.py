"""pixi/rattler's keyring entries, through the ``keyring`` package.

rattler stores one entry per key: service ``rattler``, account = the key
(``repo.example.org``, ``*.example.org``), secret = the JSON of one
credential value. Going through python-keyring means its configuration
applies (``PYTHON_KEYRING_BACKEND``, ``keyringrc.cfg``), so a user can point
authadapter at another backend or turn the keyring off without us inventing
a switch.

``PYTHON_KEYRING_BACKEND`` is read when the provider is made; the backend is
chosen when the provider first needs it (loading may wait on D-Bus), per
instance: a process that switched backends must not make us remember an
earlier choice. The choice is python-keyring's own, reached without its
needless work (``keyring_selection``): where no keyring can exist, keyring is
not even imported. A keyring that errors or is unavailable means
"not found here", logged at debug: on a headless machine that is the normal
case, not a problem to warn about. The provider is ``blocking``, so the chain
applies its timeout to a Secret Service that does not answer.

Interop with rattler (checked with py-rattler 0.28 on a real Secret Service):
rattler finds entries python-keyring writes (they lack rattler's ``target``
and ``application`` attributes, which rattler does not search by), and
python-keyring finds entries rattler writes, so we write through
python-keyring too.

An OAuth entry that is renewed (see ``oauth``) is written back into the
keyring item it came from: on the Secret Service the existing items get the
new secret in place, keeping rattler's attributes (a new item beside the old
one would leave rattler reading the stale token). Processes renewing at once
take turns through a lock file in authadapter's cache directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from authadapter._concurrency import call_with_timeout
from authadapter._credentials import Credential
from authadapter._exceptions import ProviderTimeoutError, StoreWriteError
from authadapter._log import logger
from authadapter._matching import candidate_keys
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider
from authadapter._reentry import own_lookup

from ._entry import StoredEntry
from .keyring_selection import NoKeyring, choose_backend
from .rattler_format import (
    dump_credential_value,
    is_oauth_value,
    parse_credential_value,
    parse_oauth_value,
)

if TYPE_CHECKING:
    from .oauth import OAuthRefresher

__all__ = ["KeyringProvider", "load_backend"]


RATTLER_SERVICE = "rattler"
PROBE_TIMEOUT = 10.0
ERROR_TTL = 30.0
"""A keyring that failed is asked again after this many seconds, not the chain's miss lifetime."""

_UNUSABLE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null")


def load_backend(name: str | None) -> Any:
    """The backend python-keyring's own configuration selects, chosen afresh.

    ``name`` (the value ``PYTHON_KEYRING_BACKEND`` had), then
    ``keyringrc.cfg``, then keyring's own detection by priority; ``NO_KEYRING``
    where keyring would choose its ``fail`` backend.
    """
    return choose_backend(name)


def is_unusable(backend: Any) -> bool:
    """Whether ``backend`` is keyring's "no keyring" (fail) or "disabled" (null) backend."""
    return isinstance(backend, NoKeyring) or type(backend).__module__ in _UNUSABLE_BACKENDS


class KeyringProvider(Provider):
    """rattler's entries in the OS keyring."""

    name = "keyring"
    blocking = True

    def __init__(
        self,
        service: str = RATTLER_SERVICE,
        backend: Any = None,
        *,
        refresh_timeout: float = 10.0,
    ) -> None:
        self.service = service
        self._backend = backend
        # read now, load later: loading a backend may wait on D-Bus, which
        # belongs in a lookup (under the chain's timeout), not in a constructor
        self._configured = os.environ.get("PYTHON_KEYRING_BACKEND")
        self._lock = threading.Lock()
        self._refresh_timeout = refresh_timeout
        self._oauth_refresher: OAuthRefresher | None = None
        self._oauth_lock = threading.Lock()

    @property
    def _refresher(self) -> OAuthRefresher:
        """Made when an OAuth entry is first met: most keyrings hold none."""
        with self._oauth_lock:
            if self._oauth_refresher is None:
                from .oauth import OAuthRefresher

                self._oauth_refresher = OAuthRefresher(timeout=self._refresh_timeout)
            return self._oauth_refresher

    @property
    def description(self) -> str:
        """Where entries go, in words for a user."""
        return f"keyring (service {self.service})"

    @property
    def configured_backend(self) -> str | None:
        """``PYTHON_KEYRING_BACKEND`` as it was when the provider was made (no backend loaded)."""
        return self._configured

    def __repr__(self) -> str:
        return f"KeyringProvider(service={self.service!r})"

    def backend(self) -> Any:
        """The keyring backend, chosen on first use; ``None`` when keyring cannot load one."""
        with self._lock:
            if self._backend is None:
                try:
                    with own_lookup():  # keyring's choice must not be authadapter's own backend
                        self._backend = load_backend(self._configured)
                except Exception as error:
                    logger.debug("keyring: no backend (%s)", type(error).__name__)
                    return None
            return self._backend

    def usable(self, timeout: float = PROBE_TIMEOUT) -> bool:
        """Whether a real backend is configured and answers a harmless probe in time.

        ``login`` decides where to write with this, so a Secret Service that
        never answers makes it fall back to the file instead of hanging.
        """

        def probe() -> bool:
            try:
                with own_lookup():
                    backend = self.backend()
                    if backend is None or is_unusable(backend):
                        return False
                    backend.get_password(self.service, "authadapter-probe")
                return True
            except Exception as error:
                logger.debug("keyring: probe failed (%s)", type(error).__name__)
                return False

        try:
            return call_with_timeout(probe, timeout, "authadapter-keyring-probe")
        except ProviderTimeoutError:
            logger.debug("keyring: probe did not answer within %g s", timeout)
            return False

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        with own_lookup():
            return self._lookup(origin)

    def _lookup(self, origin: Origin) -> LookupResult:
        backend = self.backend()
        if backend is None or is_unusable(backend):
            return Miss()
        for key in candidate_keys(origin):
            try:
                secret = backend.get_password(self.service, key)
            except Exception as error:
                logger.debug("keyring: lookup failed (%s)", type(error).__name__)
                return Miss(ttl=ERROR_TTL)
            if secret is None:
                continue
            source = f"keyring (service {self.service!r}, account {key!r})"
            try:
                value = json.loads(secret)
                if is_oauth_value(value):
                    from .keyring_oauth import KeyringOAuthStore

                    store = KeyringOAuthStore(backend, self.service)
                    return self._refresher.answer(store, key, parse_oauth_value(value), source)
                credential = parse_credential_value(value)
            except ValueError as error:  # JSONDecodeError and bad credentials alike
                reason = "not JSON" if isinstance(error, json.JSONDecodeError) else str(error)
                return Failure(f"keyring entry {self.service}/{key}: {reason}")
            return Found(credential, source)
        return Miss()

    def entries(self) -> list[StoredEntry]:
        """The entries, when the backend can enumerate them (Secret Service); else none."""
        backend = self.backend()
        if backend is None or not hasattr(backend, "get_preferred_collection"):
            return []
        found: list[StoredEntry] = []
        try:
            collection = backend.get_preferred_collection()
            with contextlib.closing(collection.connection):
                for item in collection.search_items({"service": self.service}):
                    key = item.get_attributes().get("username")
                    if not key:
                        continue
                    where = self.description
                    try:
                        value = json.loads(item.get_secret().decode("utf-8"))
                        if is_oauth_value(value):
                            login = parse_oauth_value(value)
                            credential: Credential = login.credential
                            from .oauth import describe_oauth

                            where += f" ({describe_oauth(login, self._refresher.clock())})"
                        else:
                            credential = parse_credential_value(value)
                    except ValueError as error:  # not JSON, or a kind we cannot send
                        unreadable = isinstance(error, json.JSONDecodeError | UnicodeDecodeError)
                        reason = "not JSON" if unreadable else error
                        logger.warning("%s: skipping entry %r: %s", self.description, key, reason)
                        continue
                    found.append(StoredEntry(key, credential, where))
        except Exception as error:
            logger.debug("keyring: listing failed (%s)", type(error).__name__)
        return found

    def save(self, key: str, credential: Credential) -> str:
        """Store ``credential`` as rattler would; returns where it went."""
        secret = json.dumps(dump_credential_value(credential))
        backend = self.backend()
        if backend is None or isinstance(backend, NoKeyring):
            # what keyring's fail backend raises, without loading keyring to raise it
            raise StoreWriteError(f"{self.description}: cannot store {key!r} (NoKeyringError)")
        try:
            with own_lookup():
                backend.set_password(self.service, key, secret)
        except Exception as error:
            raise StoreWriteError(
                f"{self.description}: cannot store {key!r} ({type(error).__name__})"
            ) from None
        return self.description

    def delete(self, key: str) -> bool:
        """Remove the entry for ``key``; whether there was one."""
        backend = self.backend()
        if backend is None or is_unusable(backend):
            return False
        try:
            with own_lookup():
                if backend.get_password(self.service, key) is None:
                    return False
                backend.delete_password(self.service, key)
        except Exception as error:
            raise StoreWriteError(
                f"{self.description}: cannot delete {key!r} ({type(error).__name__})"
            ) from None
        return True
