"""pixi's OAuth logins: send the access token, renew it before it expires, write it back.

rattler's rule, kept here: a token that expires within five minutes
(``REFRESH_MARGIN``) is renewed with a form POST to the entry's
``token_endpoint`` (``grant_type=refresh_token``, ``refresh_token``,
``client_id``, and ``audience`` when the entry has one), the answer's
``access_token``, ``refresh_token`` (the old one is kept when none comes)
and ``expires_in`` replace the stored ones, and an expired token that cannot
be renewed is not sent.

What we do better than rattler:

* The renewed entry goes back to the store it came from (rattler writes to
  the first store that accepts it), under that store's lock, and the store
  is read again under the lock first: when another thread or process renewed
  the entry meanwhile, its token is used and no second refresh is made, so
  a refresh token the server rotates is never spent twice.
* A refresh that fails (``invalid_grant``, an endpoint that is down, slow or
  answers nonsense) is one warning naming the endpoint's host, never a
  token; the stored entry is left exactly as it was. A token that has not
  expired yet is still sent (as rattler does); an expired one is a
  ``Failure``, so the chain asks the next store.
* The refresh token goes over https only (plain http to a loopback address
  is allowed for local servers), and redirects are not followed: a POST
  carrying a refresh token is never re-sent somewhere else.
* The answer's lifetime (``Found.ttl``) ends when the token enters the
  refresh margin, so the chain's cache never outlives the token.

The HTTP client is the standard library's ``urllib.request``: this is core
code, which must work with only one of httpx and requests installed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias
from urllib.parse import urlencode, urlsplit

from authadapter._credentials import BearerToken, Credential
from authadapter._exceptions import AuthAdapterError, InvalidCredentialError, StoreError
from authadapter._log import logger
from authadapter._provider import Failure, Found, LookupResult, Miss

from .rattler_format import OAuthEntry

if TYPE_CHECKING:
    import urllib.error

__all__ = [
    "MAX_RESPONSE",
    "REFRESH_MARGIN",
    "REFRESH_TIMEOUT",
    "MemoryOAuthStore",
    "OAuthRefresher",
    "OAuthSession",
    "OAuthStore",
    "describe_oauth",
    "needs_refresh",
    "request_refresh",
]


REFRESH_MARGIN = 300.0
"""Seconds before ``expires_at`` from which a token is renewed (rattler's skew, too)."""
REFRESH_TIMEOUT = 10.0
"""Seconds a token endpoint may take to answer (the chain's default timeout; rattler waits 30)."""
STALE_RETRY = 30.0
"""After a failed refresh, a still-valid token is cached this long before the refresh is retried."""
MAX_RESPONSE = 64 * 1024
"""Bytes of a token endpoint's answer read at most (rattler's limit too)."""

StoredValue: TypeAlias = OAuthEntry | Credential | None
"""What a store holds under a key when it is read again: a login, another kind, or nothing."""


class OAuthSession(Protocol):
    """A store held exclusively (its lock taken), for one read-refresh-write."""

    def current(self, key: str) -> StoredValue:
        """The entry under the normalised ``key`` as stored now; raises ``StoreError``."""
        ...

    def replace(self, key: str, entry: OAuthEntry) -> None:
        """Store ``entry`` under ``key``, keeping everything else; raises ``StoreError``."""
        ...


class OAuthStore(Protocol):
    """A store an OAuth entry came from: the file, the keyring, a read-only variable."""

    def exclusive(self) -> AbstractContextManager[OAuthSession]:
        """Hold the store's lock (across processes, where the store has one)."""
        ...


class _RefreshFailed(AuthAdapterError):
    """A refresh that did not produce a usable token; the message names the endpoint's host."""


def needs_refresh(entry: OAuthEntry, now: float, margin: float = REFRESH_MARGIN) -> bool:
    """Whether ``entry`` expires within ``margin`` seconds of ``now`` (or already has)."""
    return entry.expires_at is not None and entry.expires_at - now < margin


def describe_oauth(entry: OAuthEntry, now: float) -> str:
    """The entry's state in words, for ``which`` and ``list``: its expiry, never a token."""
    if entry.expires_at is None:
        state = "no expiry"
    else:
        import datetime

        moment = datetime.datetime.fromtimestamp(entry.expires_at, datetime.timezone.utc)
        verb = "expired" if entry.expires_at <= now else "expires"
        state = f"{verb} {moment:%Y-%m-%d %H:%M:%S} UTC"
    renewable = "refreshable" if entry.refresh_token else "no refresh token"
    return f"OAuth, {state}, {renewable}"


def endpoint_host(url: str) -> str:
    """The host (and port) of ``url`` for messages: never its path, query or user info."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "an invalid token endpoint URL"
    if ":" in host:
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _opener_without_redirects() -> Any:
    """An opener for which a redirect is an answer like any other.

    The refresh token is never re-sent elsewhere. The HTTP client is imported
    here, when a refresh is due: every process that reads a store imports
    this module, and ``urllib.request`` (``http.client``, ``email``, ``ssl``)
    would cost a short-lived one such as ``authadapter cargo-credential`` more
    than its whole answer.
    """
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


def request_refresh(entry: OAuthEntry, *, timeout: float, now: float) -> OAuthEntry:
    """Renew ``entry`` at its token endpoint; the renewed entry.

    Raises ``_RefreshFailed`` with a one-line message naming the endpoint's
    host (never a token, nor anything the server said besides a standard
    OAuth error code) when there is no refresh token, the endpoint is not
    https (or http to loopback), does not answer within ``timeout``, refuses
    (``invalid_grant`` and the like) or answers with something that is not a
    usable token.
    """
    host = endpoint_host(entry.token_endpoint)
    if not entry.refresh_token:
        raise _RefreshFailed("no refresh token is stored")
    parts = urlsplit(entry.token_endpoint)
    if not (
        parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname or ""))
    ):
        raise _RefreshFailed(f"token endpoint {host} is not https: the refresh token is not sent")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": entry.refresh_token,
        "client_id": entry.client_id,
    }
    import http.client
    import urllib.error
    import urllib.request

    audience = entry.fields.get("audience")
    if isinstance(audience, str) and audience:
        form["audience"] = audience
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        entry.token_endpoint,
        data=urlencode(form).encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    opener = _opener_without_redirects()
    try:
        with opener.open(request, timeout=timeout) as response:
            status, body = response.status, response.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as error:
        with contextlib.closing(error):
            status, body = error.code, _read_quietly(error)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise _RefreshFailed(f"token endpoint {host} did not answer ({_reason(error)})") from None
    if len(body) > MAX_RESPONSE:
        raise _RefreshFailed(f"token endpoint {host} answered with more than {MAX_RESPONSE} bytes")
    if not 200 <= status < 300:
        raise _RefreshFailed(_refusal(host, status, body))
    return _renewed(entry, host, body, now)


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    import http.client

    try:
        return error.read(MAX_RESPONSE + 1)
    except (OSError, http.client.HTTPException):
        return b""


def _refusal(host: str, status: int, body: bytes) -> str:
    code = None
    with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
        answer = json.loads(body)
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            code = answer["error"]
    if code == "invalid_grant":
        return (
            f"token endpoint {host} refused the refresh token (invalid_grant): "
            "the login expired or was revoked; log in again"
        )
    # only a standard-looking code is repeated: the body is the server's, not ours to print
    shown = f" ({code})" if code and code.replace("_", "").isalpha() and len(code) < 40 else ""
    return f"token endpoint {host} refused the refresh with HTTP {status}{shown}"


def _renewed(entry: OAuthEntry, host: str, body: bytes, now: float) -> OAuthEntry:
    invalid = _RefreshFailed(f"token endpoint {host} answered without a usable token")
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid from None
    if not isinstance(answer, dict):
        raise invalid
    access, refresh = answer.get("access_token"), answer.get("refresh_token")
    token_type, expires_in = answer.get("token_type"), answer.get("expires_in")
    if not isinstance(access, str) or not (refresh is None or isinstance(refresh, str)):
        raise invalid
    if token_type is not None and (
        not isinstance(token_type, str) or token_type.lower() != "bearer"
    ):
        raise invalid
    if expires_in is not None and (
        isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 0
    ):
        raise invalid
    try:
        BearerToken(access)
    except InvalidCredentialError:
        raise invalid from None
    expires_at = None if expires_in is None else int(now) + expires_in
    return entry.renewed(access, refresh or None, expires_at)


def _reason(error: BaseException) -> str:
    """Why a connection failed, in a few words (an OS error's text names no secret)."""
    import socket
    import urllib.error

    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        if isinstance(reason, socket.timeout | TimeoutError):
            return "timed out"
        if isinstance(reason, OSError) and reason.strerror:
            return reason.strerror
        if isinstance(reason, str):
            return reason[:80]
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


class OAuthRefresher:
    """Turns a store's OAuth entry into an answer, renewing it when it is about to expire.

    One per provider. Threads asking about one key wait for each other (a
    per-key lock), and the store's own lock (``OAuthStore.exclusive``) makes
    other processes wait too; whoever comes second reads the renewed entry
    and uses it. ``clock`` gives Unix seconds, like ``expires_at``.
    """

    def __init__(
        self,
        *,
        timeout: float = REFRESH_TIMEOUT,
        margin: float = REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = timeout
        self.margin = margin
        self.clock = clock
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def answer(self, store: OAuthStore, key: str, entry: OAuthEntry, source: str) -> LookupResult:
        """The answer for ``entry`` stored under the normalised ``key``; ``source`` says where."""
        now = self.clock()
        if not needs_refresh(entry, now, self.margin):
            return self._found(entry, source, now)
        with self._lock_for(key):
            try:
                with store.exclusive() as session:
                    return self._renew(session, key, source)
            except StoreError as error:
                return self._stale(entry, source, str(error))

    def _renew(self, session: OAuthSession, key: str, source: str) -> LookupResult:
        current = session.current(key)
        if current is None:
            return Miss()
        if not isinstance(current, OAuthEntry):  # logged in again with another kind meanwhile
            return Found(current, source)
        now = self.clock()
        if not needs_refresh(current, now, self.margin):  # renewed meanwhile, elsewhere
            return self._found(current, source, now)
        try:
            renewed = request_refresh(current, timeout=self.timeout, now=now)
        except _RefreshFailed as error:
            return self._stale(current, source, str(error))
        try:
            session.replace(key, renewed)
        except StoreError as error:
            logger.warning("%s: the refreshed OAuth token was not saved: %s", source, error)
        return self._found(renewed, f"{source}, refreshed", self.clock())

    def _found(self, entry: OAuthEntry, source: str, now: float) -> Found:
        ttl = None if entry.expires_at is None else max(0.0, entry.expires_at - self.margin - now)
        return Found(entry.credential, f"{source}, {describe_oauth(entry, now)}", ttl)

    def _stale(self, entry: OAuthEntry, source: str, reason: str) -> LookupResult:
        """After a failed refresh: the token while it is still valid, else nothing."""
        now = self.clock()
        if entry.expires_at is None or entry.expires_at > now:
            logger.warning(
                "%s: OAuth token not refreshed: %s; sending the current one until it expires",
                source,
                reason,
            )
            left = STALE_RETRY if entry.expires_at is None else entry.expires_at - now
            return Found(
                entry.credential, f"{source}, {describe_oauth(entry, now)}", min(STALE_RETRY, left)
            )
        return Failure(f"{source}: OAuth token expired and not refreshed: {reason}")

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())


class MemoryOAuthStore:
    """A read-only store's entries, renewed in this process only.

    ``AUTHADAPTER_CREDENTIALS`` cannot be written to; a renewed entry is
    remembered here and used for as long as the variable still holds the
    entry it was renewed from. ``read(key)`` returns what the store holds now.
    """

    def __init__(self, read: Callable[[str], StoredValue]) -> None:
        self._read = read
        self._renewed: dict[str, tuple[OAuthEntry, OAuthEntry]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[OAuthSession]:
        with self._lock:
            yield _MemorySession(self)


class _MemorySession:
    def __init__(self, store: MemoryOAuthStore) -> None:
        self._store = store

    def current(self, key: str) -> StoredValue:
        stored = self._store._read(key)
        remembered = self._store._renewed.get(key)
        if remembered is not None and isinstance(stored, OAuthEntry):
            origin, renewed = remembered
            if stored.fields == origin.fields:
                return renewed
        return stored

    def replace(self, key: str, entry: OAuthEntry) -> None:
        stored = self._store._read(key)
        if isinstance(stored, OAuthEntry):
            self._store._renewed[key] = (stored, entry)
