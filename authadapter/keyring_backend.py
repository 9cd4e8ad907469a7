"""authadapter as a python-keyring backend: pip, uv, twine, poetry and pdm find its credentials.

Installing authadapter registers ``AuthAdapterKeyring`` through keyring's
``keyring.backends`` entry point. Those tools ask keyring for a service (an
index or upload URL, ``scheme://host[:port]`` or a bare ``host[:port]``) and
maybe a username; the answer is what authadapter itself would send to that
URL (``credential_for``, authadapter's core), as a username and password:

* Basic credentials are their username and password. A given username
  (not ``None`` or ``""``) must be the stored one, or there is no answer.
* A Bearer token is the password of the user ``__token__``, as PyPI-style
  indexes take it. Indexes that want ``Authorization: Bearer`` itself cannot
  be served through keyring, whose answer is always a username and password.
* Conda tokens (they go in the URL path) and raw Cargo tokens (sent verbatim)
  have no username/password form and are not offered.
* A bare ``host[:port]`` says nothing about TLS, so it is answered only when
  plain http to that host would be allowed too (loopback, ``allow_http_hosts``).
  Every tool asks with the full URL first, which is answered by the normal rule.
* Any other service (``poetry-repository-<name>``, ``pdm-pypi-<name>``...)
  is not answered: it names no URL, and the tools ask with the URL next.

Priority ``PRIORITY`` (0.1) keeps the backend below every real keyring (the
Secret Service, macOS Keychain, Windows Credential Locker are 5 and up,
keyrings.alt's files 0.5 and more). With one of them viable, keyring chooses
its chainer, which asks the user's keyring first and writes only there; and
an index URL is not answered while the user's keyring holds the
``host[:port]`` or ``scheme://host[:port]`` entry the tool asks for next.
Alone, it is keyring's choice (above ``fail``, 0), and it stores nothing:
``set_password`` and ``delete_password`` refuse with a message that says
where registry credentials go (``authadapter login``).

Loops: inside one of authadapter's own lookups (``_reentry``) the priority
drops to -1, which takes the backend out of keyring's choice and out of the
chainer, and the methods answer nothing. Off switches:
``AUTHADAPTER_KEYRING_BACKEND=0`` makes the backend not viable (its priority
raises, as keyring expects of an unusable backend), as if authadapter were
not installed; ``keyring_backend = false`` in the configuration file makes it
answer nothing (read when a question comes, not in the priority).

keyring imports this module for every ``keyring`` command and every tool that
imports keyring, so importing it and reading the priority do no lookup and
import nothing beyond keyring and ``authadapter``'s own package; the rest is
imported on the first question.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.credentials import SimpleCredential
from keyring.errors import PasswordDeleteError, PasswordSetError

from authadapter._log import logger
from authadapter._reentry import inside_own_lookup, own_lookup

if TYPE_CHECKING:
    from authadapter._credentials import Credential

__all__ = [
    "PRIORITY",
    "SWITCH_VARIABLE",
    "TOKEN_USERNAME",
    "AuthAdapterKeyring",
    "backend_enabled",
    "credential_for",
    "service_url",
    "switch_state",
]

PRIORITY = 0.1
SWITCH_VARIABLE = "AUTHADAPTER_KEYRING_BACKEND"
"""``0``/``false``/``off``/``no`` switch the backend off, ``1``/``true``/``on``/``yes`` on.

It wins over ``keyring_backend`` in the configuration file."""
TOKEN_USERNAME = "__token__"  # noqa: S105 - a user name, not a secret
"""The username a Bearer token is offered under."""

READ_ONLY = (
    "authadapter's keyring backend stores nothing: save registry credentials with "
    "`authadapter login HOST`, or install a keyring that stores (Secret Service, keyrings.alt)"
)
_OFF = ("0", "false", "off", "no")
_ON = ("1", "true", "on", "yes")


def switch_state(file_setting: bool) -> tuple[bool, str]:
    """Whether the backend is on, and why: ``SWITCH_VARIABLE`` wins over the file's setting.

    Raises ``ConfigError`` for a value of the variable that is neither on nor off.
    """
    value = os.environ.get(SWITCH_VARIABLE, "").strip().lower()
    if value in _OFF:
        return False, f"{SWITCH_VARIABLE}={value}"
    if value in _ON:
        return True, f"{SWITCH_VARIABLE}={value}"
    if value:
        from authadapter._exceptions import ConfigError

        raise ConfigError(f"{SWITCH_VARIABLE}: expected 1 or 0 (true/false, on/off)")
    return file_setting, f"keyring_backend = {str(file_setting).lower()}, {SWITCH_VARIABLE} unset"


def backend_enabled() -> bool:
    """Whether the backend is switched on (``switch_state`` of the configuration file).

    Raises ``ConfigError`` for a bad variable value or a broken configuration file.
    """
    if os.environ.get(SWITCH_VARIABLE, "").strip().lower() in _OFF + _ON:
        return switch_state(True)[0]
    from authadapter._config import load_config

    return switch_state(load_config().keyring_backend)[0]


def service_url(service: str) -> tuple[str, bool] | None:
    """The URL a service string stands for, and whether it named its scheme; None if none.

    ``https://host/simple/``, ``http://host:8080`` and the like are URLs as
    given (a scheme-only ``scheme://host`` gets ``/``); a bare ``host[:port]``
    becomes ``https://host[:port]/`` with ``False``: its scheme is a guess.
    """
    from authadapter._origin import Origin

    text = service.strip()
    if not text or any(char.isspace() for char in text):
        return None
    scheme, separator, rest = text.partition("://")
    if separator:
        if scheme.lower() not in ("http", "https"):
            return None
        url, named = text if "/" in rest else text + "/", True
    elif "/" in text or "@" in text:
        return None
    else:
        url, named = f"https://{text}/", False
    try:
        Origin.from_url(url)
    except ValueError:
        return None
    return url, named


def credential_for(url: str, *, scheme_known: bool = True) -> Credential | None:
    """What authadapter sends to ``url``: its core's decision with the default chain; or None.

    ``scheme_known=False`` is for a bare ``host[:port]`` asked as
    ``https://``: the credential is given only where plain http would be
    allowed too, as the tool may be about to send it without TLS.
    """
    from authadapter._authorizer import Authorizer

    authorizer = Authorizer()
    if not scheme_known:
        from authadapter._origin import Origin
        from authadapter._policy import plain_http_allowed

        origin = Origin.from_url(url)
        plain = Origin("http", origin.host, origin.port)
        if not plain_http_allowed(plain, authorizer.allow_http_hosts):
            return None
    return authorizer.decide(url).credential


def _keyring_pair(credential: Credential | None) -> tuple[str, str] | None:
    """The keyring form of a credential: Basic as is, Bearer under ``TOKEN_USERNAME``."""
    from authadapter._credentials import BasicCredential, BearerToken

    if isinstance(credential, BasicCredential):
        return credential.username, credential.password
    if isinstance(credential, BearerToken):
        return TOKEN_USERNAME, credential.token
    return None


def _answer(service: str, username: str | None) -> tuple[str, str] | None:
    """The username and password for ``service`` (and ``username``, if given); None if none."""
    from authadapter._exceptions import AuthAdapterError

    if inside_own_lookup():
        return None
    target = service_url(service)
    if target is None:
        return None
    url, scheme_named = target
    with own_lookup():
        try:
            if not backend_enabled():
                return None
            pair = _keyring_pair(credential_for(url, scheme_known=scheme_named))
        except AuthAdapterError as error:
            logger.warning("authadapter keyring backend: %s", error)
            return None
    if pair is None or (username and pair[0] != username):
        return None
    if _users_keyring_holds(service, url, username):
        return None
    return pair


def _users_keyring_holds(service: str, url: str, username: str | None) -> bool:
    """Whether a keyring above this one holds what the tool will ask for next.

    pip asks with the index URL, then ``host[:port]`` (where its "save
    credentials?" writes); uv then also tries ``scheme://host[:port]``. The
    chainer asked the user's keyring for ``service`` before us, but not yet
    for those: answering now would shadow an entry the user keeps there.
    """
    from urllib.parse import urlsplit

    from keyring.backends.chainer import ChainerBackend

    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    forms = [form for form in (netloc, f"{parts.scheme}://{netloc}") if form != service.strip()]
    with own_lookup():  # this backend's priority is then below every other's
        above = [backend for backend in ChainerBackend.backends if backend.priority > PRIORITY]
        for backend in above:
            for form in forms:
                try:
                    if backend.get_credential(form, username or None) is not None:
                        return True
                except Exception as error:  # the tool will meet it too, when it asks
                    logger.debug("keyring backend %s: %s", backend, type(error).__name__)
    return False


class AuthAdapterKeyring(KeyringBackend):
    """Registry credentials from authadapter's stores, below every keyring that stores."""

    @properties.classproperty
    def priority(cls) -> float:
        """``PRIORITY``; -1 inside authadapter's own lookups; raises when the variable says off.

        Only ``SWITCH_VARIABLE`` is read here: keyring reads the priority
        several times in every ``keyring`` command, and reading the
        configuration file for ``keyring_backend`` would cost each of them
        about 7 % (measured); the file's switch is read when a question comes.
        """
        value = os.environ.get(SWITCH_VARIABLE, "").strip().lower()
        if value in _OFF:
            raise RuntimeError(f"authadapter's keyring backend is switched off ({SWITCH_VARIABLE})")
        if value and value not in _ON:
            raise RuntimeError(f"{SWITCH_VARIABLE}: expected 1 or 0 (true/false, on/off)")
        return -1.0 if inside_own_lookup() else PRIORITY

    def get_password(self, service: str, username: str) -> str | None:
        pair = _answer(service, username)
        return None if pair is None else pair[1]

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        pair = _answer(service, username)
        return None if pair is None else SimpleCredential(*pair)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(READ_ONLY)

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError(READ_ONLY)
