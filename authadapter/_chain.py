"""The provider chain and its per-origin cache.

``ProviderChain.resolve(url)`` is on every request's path. The warm path is
two dictionary lookups (the URL's authority to its ``Origin``, the origin to
its cached answer) and a clock read; everything else (asking providers in
order, timeouts, single flight) happens only on a miss. State lives on the
instance, including the clock, so tests and two chains never interfere.

The unit of caching is the origin, not a path prefix: every store we read is
keyed by host (rattler, netrc, keyring) or by an index URL that we map to its
origin (Cargo). A provider whose answer does depend on the path returns
``ttl=0`` (on its ``Found`` and on its ``Miss``) for that origin, so the chain
asks it on every request rather than caching one path's answer for another.

Lifetimes: each answer's own ``ttl`` wins; a ``Found`` without one lives
``ttl`` seconds, a ``Miss`` ``negative_ttl``, a ``Failure`` ``failure_ttl`` (so
a keyring that was briefly unavailable is asked again soon). A lookup is
cached for the shortest lifetime among the answers it collected: when an
earlier provider failed, a later provider's credential is kept only until the
earlier one is worth asking again.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ._credentials import Credential
from ._exceptions import AuthAdapterError, ProviderError, ProviderTimeoutError
from ._origin import Origin
from ._provider import CredentialProvider, Failure, Found, LookupResult

__all__ = ["ProviderChain", "Resolution"]

logger = logging.getLogger("authadapter")

# "scheme://authority" followed by the end or a path, query or fragment. An
# authority with userinfo, a backslash or whitespace does not match, so such
# URLs always take the full parse (and are never memoised).
_PLAIN_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\\\s]+(?=[/?#]|\Z)")
_ORIGIN_MEMO_SIZE = 512
# A crawler meets origins without end; past this many cached answers the expired
# ones go, then the oldest: a lookup more, rather than memory without bound.
_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the chain decided for an origin: a credential and who gave it, or nothing.

    ``provider`` is the name of the provider that answered and ``source`` its
    user-facing description of where the credential came from (never the
    secret); both are ``None`` when ``credential`` is. The ``repr`` hides the
    secret, so a resolution may be logged.
    """

    origin: Origin
    credential: Credential | None
    provider: str | None = None
    source: str | None = None


@dataclass(slots=True)
class _CacheEntry:
    resolution: Resolution
    expires_at: float


class _Flight:
    """One lookup in progress; late arrivals wait for its result instead of repeating it."""

    __slots__ = ("done", "error", "resolution", "shared", "url")

    def __init__(self, url: str) -> None:
        self.done = threading.Event()
        self.url = url
        self.resolution: Resolution | None = None
        self.shared = False  # whether the answer holds for other URLs of the origin
        self.error: BaseException | None = None


def own_copy(error: Exception) -> Exception:
    """A copy of a leader's error for a waiter to raise, so threads never share a traceback."""
    try:
        clone = copy.copy(error)
    except Exception:  # an exception class copy cannot rebuild
        return error
    return clone if type(clone) is type(error) else error


class ProviderChain:
    """An ordered list of providers with a cache in front.

    Thread-safe: concurrent misses for one origin cause one lookup (single
    flight); the others wait for it and share its result or its error (each
    raising its own copy). An answer that may not be cached (``ttl=0``, as a
    provider whose answer depends on the path gives) is shared only with
    callers of the same URL; the others ask again.
    A blocking provider runs in a daemon thread under ``timeout``, or under
    its own ``timeout`` attribute when it declares one, so an entry the user
    gave longer (an SSO prompt) is waited for.
    ``lookups`` counts the lookups that asked the providers.
    """

    def __init__(
        self,
        providers: Iterable[CredentialProvider],
        *,
        ttl: float = 300.0,
        negative_ttl: float = 300.0,
        failure_ttl: float = 30.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.providers: tuple[CredentialProvider, ...] = tuple(providers)
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.failure_ttl = failure_ttl
        self.timeout = timeout
        self.clock = clock
        self.lookups = 0
        self._cache: dict[Origin, _CacheEntry] = {}
        self._flights: dict[Origin, _Flight] = {}
        self._origins: dict[str, Origin] = {}
        self._unanswered: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.providers)
        return f"ProviderChain([{names}])"

    def origin_of(self, url: str) -> Origin:
        """``Origin.from_url(url)``, memoised by the URL's literal ``scheme://authority``.

        Parsing and normalising the host costs more than the rest of the warm
        path; a client sends thousands of requests to a handful of authorities.
        """
        match = _PLAIN_AUTHORITY.match(url)
        if match is None:
            return Origin.from_url(url)
        authority = match.group()
        origin = self._origins.get(authority)
        if origin is None:
            origin = Origin.from_url(authority)
            if len(self._origins) >= _ORIGIN_MEMO_SIZE:
                self._origins.clear()
            self._origins[authority] = origin
        return origin

    def resolve(self, url: str) -> Resolution:
        """The credential for ``url``'s origin, from the cache when it is fresh."""
        return self.resolve_origin(self.origin_of(url), url)

    def resolve_origin(self, origin: Origin, url: str) -> Resolution:
        entry = self._cache.get(origin)
        if entry is not None and entry.expires_at > self.clock():
            return entry.resolution
        return self._resolve_once(origin, url)

    def cached(self, origin: Origin) -> Resolution | None:
        """The fresh cached resolution for ``origin``, without asking any provider."""
        entry = self._cache.get(origin)
        if entry is not None and entry.expires_at > self.clock():
            return entry.resolution
        return None

    def invalidate(self, url: str | None = None) -> None:
        """Forget the cached resolution of ``url``'s origin, or of every origin.

        A lookup already under way for that origin (or any, without ``url``)
        still answers its callers, but its result is not cached and later
        callers start a new one: it may have read the credential that was just
        found stale. Lookups for other origins are not disturbed.
        """
        with self._lock:
            if url is None:
                self._cache.clear()
                self._flights.clear()
            else:
                origin = self.origin_of(url)
                self._cache.pop(origin, None)
                self._flights.pop(origin, None)

    def _resolve_once(self, origin: Origin, url: str) -> Resolution:
        while True:
            with self._lock:
                entry = self._cache.get(origin)
                if entry is not None and entry.expires_at > self.clock():
                    return entry.resolution
                flight = self._flights.get(origin)
                if flight is None:
                    flight = self._flights[origin] = _Flight(url)
                    self.lookups += 1
                    leader = True
                else:
                    leader = False
            if leader:
                return self._lead(flight, origin, url)
            flight.done.wait()
            error = flight.error
            if error is None:
                if flight.shared or flight.url == url:
                    assert flight.resolution is not None
                    return flight.resolution
            elif isinstance(error, Exception):
                raise own_copy(error)
            # Otherwise ask again: the answer was for the leader's path only (it
            # must not be cacheable, ``ttl=0``), or the leader was interrupted
            # (KeyboardInterrupt, SystemExit), which is its thread's business.

    def _lead(self, flight: _Flight, origin: Origin, url: str) -> Resolution:
        try:
            resolution, lifetime = self._ask_providers(origin, url)
            flight.resolution = resolution
            flight.shared = lifetime > 0
            with self._lock:
                # invalidate() unregisters the flights it makes stale
                if lifetime > 0 and self._flights.get(origin) is flight:
                    now = self.clock()
                    if len(self._cache) >= _CACHE_SIZE:
                        self._evict(now)
                    self._cache[origin] = _CacheEntry(resolution, now + lifetime)
            return resolution
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                if self._flights.get(origin) is flight:
                    del self._flights[origin]
            flight.done.set()

    def _evict(self, now: float) -> None:
        """Make room in the full cache (the lock is held): expired entries, else the oldest.

        A quarter of the room is made at once, so a full cache costs one scan
        per thousand new origins rather than one per origin.
        """
        cache = self._cache
        for origin in [o for o, entry in cache.items() if entry.expires_at <= now]:
            del cache[origin]
        while len(cache) > _CACHE_SIZE * 3 // 4:
            del cache[next(iter(cache))]

    def _ask_providers(self, origin: Origin, url: str) -> tuple[Resolution, float]:
        lifetime = float("inf")
        for provider in self.providers:
            result = self.ask(provider, origin, url)
            if isinstance(result, Found):
                logger.debug("%s: credential from %s (%s)", origin, provider.name, result.source)
                lifetime = min(lifetime, self.ttl if result.ttl is None else result.ttl)
                resolution = Resolution(origin, result.credential, provider.name, result.source)
                return resolution, lifetime
            if isinstance(result, Failure):
                if result.fatal:
                    raise ProviderError(f"{provider.name}: {result.message}")
                logger.warning(
                    "provider %s: %s (looking up %s); trying the next provider",
                    provider.name,
                    result.message,
                    origin,
                )
                lifetime = min(lifetime, self.failure_ttl if result.ttl is None else result.ttl)
            else:
                lifetime = min(lifetime, self.negative_ttl if result.ttl is None else result.ttl)
        logger.debug("%s: no provider has a credential", origin)
        if not self.providers:
            lifetime = self.negative_ttl
        return Resolution(origin, None), lifetime

    def ask(self, provider: CredentialProvider, origin: Origin, url: str) -> LookupResult:
        """One provider's answer, uncached, with exceptions and timeouts turned into ``Failure``.

        Exception messages are not passed on: a store's parser may quote the
        line it choked on, which may hold a secret. ``AuthAdapterError``
        messages are ours and written never to contain one.
        """
        try:
            if provider.blocking:
                return self._ask_with_timeout(provider, origin, url)
            return provider.lookup(origin, url)
        except AuthAdapterError as error:
            return Failure(str(error))
        except Exception as error:  # a provider's bug must not break every request
            return Failure(f"failed with {type(error).__name__}")

    def _ask_with_timeout(
        self, provider: CredentialProvider, origin: Origin, url: str
    ) -> LookupResult:
        """Run a blocking lookup in a daemon thread and stop waiting after ``timeout``.

        A daemon thread, not an executor: a lookup that never returns (a Secret
        Service that does not answer) must not keep the interpreter from
        exiting. While such a lookup is still stuck, the provider is not asked
        again, so a dead daemon costs one thread, not one per lookup.
        """
        key = id(provider)
        stuck = self._unanswered.get(key)
        if stuck is not None:
            if not stuck.is_set():
                raise ProviderTimeoutError("has not answered an earlier lookup yet")
            self._unanswered.pop(key, None)
        outcome: list[LookupResult | BaseException] = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append(provider.lookup(origin, url))
            except BaseException as error:
                outcome.append(error)
            finally:
                done.set()

        threading.Thread(target=run, name=f"authadapter-{provider.name}", daemon=True).start()
        limit = _own_timeout(provider) or self.timeout
        if not done.wait(limit):
            self._unanswered[key] = done
            raise ProviderTimeoutError(f"did not answer within {limit:g} s")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result


def _own_timeout(provider: CredentialProvider) -> float | None:
    """The provider's own ``timeout`` attribute, if it declares a usable one."""
    timeout = getattr(provider, "timeout", None)
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    return None
