"""python-keyring asked as pip asks it, so keyring plugins answer for the hosts they serve.

Plugins such as ``artifacts-keyring`` (Azure Artifacts) and
``keyrings.google-artifactregistry-auth`` register a ``keyring.backends``
entry point and answer ``get_credential(service, None)`` for URLs of their
hosts, minting a token on the fly. pip 26 asks ``get_credential`` with the
index URL, then with ``host[:port]``, and no username; we ask with:

1. the request URL, without user, password, query or fragment (nothing
   when its path carries a conda ``/t/<token>/``: a token never becomes a
   service name);
2. ``scheme://host[:port]/``, the origin as an index root;
3. ``host[:port]``, pip's fallback, where pip's "save password?" writes.

The first answer is sent as Basic and cached for the origin as pip caches
it per host. The backend is python-keyring's own choice
(``PYTHON_KEYRING_BACKEND``, ``keyringrc.cfg``, else the highest priority,
which may be keyring's chainer over every installed backend).

Every call into python-keyring runs inside ``own_lookup()``, so
authadapter's own keyring backend, when installed, answers nothing to us and
never loops back into this chain. The provider is ``blocking`` (a plugin may
run a subprocess or wait on the network), so the chain's timeout applies; a
backend that raises is a non-fatal failure: one warning, then the next store.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

from authadapter._credentials import BasicCredential
from authadapter._exceptions import InvalidCredentialError
from authadapter._log import logger
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider
from authadapter._reentry import own_lookup
from authadapter._urls import conda_token_in_path

from .keyring_store import ERROR_TTL, is_unusable, load_backend

__all__ = ["PipKeyringProvider", "keyring_services"]


def keyring_services(origin: Origin, url: str) -> list[str]:
    """The service names asked, most specific first, without repeats."""
    parts = urlsplit(url)
    netloc = str(origin).split("://", 1)[1]
    services = []
    if conda_token_in_path(url) is None and parts.path not in ("", "/"):
        services.append(f"{origin}{parts.path}")
    services.extend([f"{origin}/", netloc])
    return list(dict.fromkeys(services))


class PipKeyringProvider(Provider):
    """Whatever python-keyring's backend (a plugin, the OS keyring) holds for the URL.

    ``backend`` replaces python-keyring's choice (for tests and embedding).
    """

    name = "pip-keyring"
    blocking = True

    def __init__(self, backend: Any = None) -> None:
        self._backend = backend
        self._configured = os.environ.get("PYTHON_KEYRING_BACKEND")
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        chosen = self._configured or "chosen by python-keyring"
        return (
            "python-keyring asked as pip asks it (service: the URL, then host[:port]; "
            f"no username), backend {chosen}"
        )

    def __repr__(self) -> str:
        return "PipKeyringProvider()"

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        with own_lookup():
            backend = self._load()
            if backend is None:
                return Miss(ttl=ERROR_TTL)
            if is_unusable(backend) or not hasattr(backend, "get_credential"):
                return Miss()
            label = type(backend).__name__
            for service in keyring_services(origin, url):
                try:
                    answer = backend.get_credential(service, None)
                except Exception as error:
                    return Failure(
                        f"keyring backend {label} raised {type(error).__name__} "
                        f"for service {service!r}"
                    )
                if answer is None:
                    continue
                return _found(answer, label, service)
        return Miss()

    def _load(self) -> Any:
        with self._lock:
            if self._backend is None:
                try:
                    self._backend = load_backend(self._configured)
                except Exception as error:
                    logger.debug("pip-keyring: no backend (%s)", type(error).__name__)
                    return None
            return self._backend


def _found(answer: Any, label: str, service: str) -> LookupResult:
    where = f"keyring backend {label} (service {service!r})"
    username = getattr(answer, "username", None)
    password = getattr(answer, "password", None)
    if not isinstance(username, str | type(None)) or not isinstance(password, str | type(None)):
        return Failure(f"{where}: answered something that is not a username and password")
    try:
        credential = BasicCredential(username or "", password or "")
    except InvalidCredentialError as error:
        return Failure(f"{where}: {error}")
    return Found(credential, where)
