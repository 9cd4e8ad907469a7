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

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from authadapter._log import logger

from . import _live
from ._concurrency import OneCallAtATime, SingleFlight
from ._credentials import CondaToken, Credential
from ._exceptions import AuthAdapterError, ProviderError
from ._origin import Origin
from ._provider import CredentialProvider, Failure, Found, LookupResult, Provider, as_provider

__all__ = ["Answer", "ChainStats", "ProviderChain", "Resolution"]


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


@dataclass(frozen=True, slots=True)
class Answer:
    """One provider's uncached answer for an origin, in chain order.

    ``decisive`` is the chain's one rule for where a lookup ends: at the
    first ``Found``, or at a fatal ``Failure`` (the owner of that store says
    moving on could send a credential the user did not configure). Lookups
    and ``authadapter which`` both read answers through it.
    """

    provider: str
    result: LookupResult

    @property
    def decisive(self) -> bool:
        result = self.result
        return isinstance(result, Found) or (isinstance(result, Failure) and result.fatal)

    def resolution(self, origin: Origin) -> Resolution:
        """The resolution this answer gives ``origin``: its credential, or nothing."""
        result = self.result
        if isinstance(result, Found):
            return Resolution(origin, result.credential, self.provider, result.source)
        return Resolution(origin, None)


@dataclass(frozen=True, slots=True)
class ChainStats:
    """What a chain holds right now, for tests and for users debugging a cache.

    ``lookups`` counts the lookups that asked the providers (cache misses
    that were not shared with a concurrent caller); ``cached_origins`` the
    answers in the cache, expired ones included until they are evicted;
    ``lookups_in_flight`` the lookups running now and ``callers_waiting``
    the threads waiting for one of them to share its answer;
    ``memoised_authorities`` the URL authorities whose parsed origin is
    remembered.
    """

    lookups: int
    cached_origins: int
    lookups_in_flight: int
    callers_waiting: int
    memoised_authorities: int


@dataclass(slots=True)
class _CacheEntry:
    resolution: Resolution
    expires_at: float


class ProviderChain:
    """An ordered list of providers with a cache in front.

    Thread-safe: concurrent misses for one origin cause one lookup (single
    flight); the others wait for it and share its result or its error (each
    raising its own copy). An answer that may not be cached (``ttl=0``, as a
    provider whose answer depends on the path gives) is shared only with
    callers of the same URL; the others ask again.
    A blocking provider runs in a daemon thread under ``timeout``, or under
    its own ``timeout`` when it declares one, so an entry the user gave
    longer (an SSO prompt) is waited for; at most one call of each blocking
    provider is in flight at a time, so a store that hangs costs one thread.
    """

    def __init__(
        self,
        providers: Iterable[CredentialProvider | Provider],
        *,
        ttl: float = 300.0,
        negative_ttl: float = 300.0,
        failure_ttl: float = 30.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.providers: tuple[Provider, ...] = tuple(as_provider(p) for p in providers)
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.failure_ttl = failure_ttl
        self.timeout = timeout
        self.clock = clock
        self.lookups = 0
        self._cache: dict[Origin, _CacheEntry] = {}
        self._flights: SingleFlight[Origin, Resolution] = SingleFlight()
        self._origins: dict[str, Origin] = {}
        self._gates = {id(p): OneCallAtATime(clock) for p in self.providers if p.blocking}
        self._invalidations: dict[Origin, int] = {}
        self._everything_invalidated = 0
        self._lock = threading.Lock()
        _live.register(self)

    def _after_fork(self) -> None:
        """In a forked child: new locks, no flights; the cache is kept (docs/processes.md)."""
        self._lock = threading.Lock()
        self._flights._after_fork()
        for gate in self._gates.values():
            gate._after_fork()

    def conda_tokens(self) -> list[str]:
        """The conda tokens in the cache, expired ones included: what the log filter masks."""
        return [
            credential.token
            for entry in list(self._cache.values())
            if isinstance(credential := entry.resolution.credential, CondaToken)
        ]

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.providers)
        return f"ProviderChain([{names}])"

    def stats(self) -> ChainStats:
        flights = self._flights
        return ChainStats(
            self.lookups, len(self._cache), len(flights), flights.waiting, len(self._origins)
        )

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
        return self._flights.run(origin, lambda: self._lookup(origin, url), url)

    async def resolve_async(self, url: str) -> Resolution:
        """``resolve`` for async clients: a cold lookup runs in a worker thread.

        A lookup may query a keyring or run a subprocess, so it never runs on
        the event loop. Tasks of one loop that miss the same origin together
        wait on the first one's lookup instead of each holding a worker
        thread, and share its answer or its fatal error.
        """
        origin = self.origin_of(url)
        cached = self.cached(origin)
        if cached is not None:
            return cached
        return await self._flights.run_async(
            origin, lambda: self._lookup(origin, url), url, lambda: self.cached(origin)
        )

    def expiry(self, origin: Origin) -> float:
        """When the cached answer for ``origin`` expires (the chain's clock); 0 if none is."""
        entry = self._cache.get(origin)
        return 0.0 if entry is None else entry.expires_at

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
        origin = None if url is None else self.origin_of(url)
        with self._lock:
            if origin is None:
                self._everything_invalidated += 1
                self._invalidations.clear()
                self._cache.clear()
            else:
                self._invalidations[origin] = self._invalidations.get(origin, 0) + 1
                self._cache.pop(origin, None)
        if origin is None:
            self._flights.forget()
        else:
            self._flights.forget(origin)

    def _lookup(self, origin: Origin, url: str) -> tuple[Resolution, bool]:
        """Ask the providers and cache the answer; whether other URLs may share it."""
        with self._lock:
            entry = self._cache.get(origin)
            if entry is not None and entry.expires_at > self.clock():
                return entry.resolution, True
            self.lookups += 1
            epoch = (self._everything_invalidated, self._invalidations.get(origin, 0))
        resolution, lifetime = self._settle(origin, url)
        if lifetime <= 0:
            return resolution, False
        with self._lock:
            if epoch == (self._everything_invalidated, self._invalidations.get(origin, 0)):
                now = self.clock()
                if len(self._cache) >= _CACHE_SIZE:
                    self._evict(now)
                self._cache[origin] = _CacheEntry(resolution, now + lifetime)
        return resolution, True

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

    def answers(self, origin: Origin, url: str) -> Iterator[Answer]:
        """Every provider's uncached answer, in order, asked as the consumer goes.

        A lookup stops at the first ``decisive`` answer; ``authadapter
        which`` reads them all.
        """
        for provider in self.providers:
            yield Answer(provider.name, self.ask(provider, origin, url))

    def _settle(self, origin: Origin, url: str) -> tuple[Resolution, float]:
        """The lookup: answers up to the decisive one, and how long the outcome may be cached.

        A lookup is cached for the shortest lifetime among the answers it
        collected: when an earlier provider failed, a later provider's
        credential is kept only until the earlier one is worth asking again.
        """
        lifetime = float("inf")
        for answer in self.answers(origin, url):
            result = answer.result
            if isinstance(result, Found):
                logger.debug("%s: credential from %s (%s)", origin, answer.provider, result.source)
                lifetime = min(lifetime, self.ttl if result.ttl is None else result.ttl)
                return Resolution(
                    origin, result.credential, answer.provider, result.source
                ), lifetime
            if isinstance(result, Failure):
                if answer.decisive:
                    raise ProviderError(f"{answer.provider}: {result.message}")
                logger.warning(
                    "provider %s: %s (looking up %s); trying the next provider",
                    answer.provider,
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

    def ask(self, provider: Provider, origin: Origin, url: str) -> LookupResult:
        """One provider's answer, uncached, with exceptions and timeouts turned into ``Failure``.

        Exception messages are not passed on: a store's parser may quote the
        line it choked on, which may hold a secret. ``AuthAdapterError``
        messages are ours and written never to contain one.
        """
        try:
            if provider.blocking:
                gate = self._gates.get(id(provider))
                if gate is None:  # a provider that is not one of this chain's
                    gate = OneCallAtATime(self.clock)
                return gate.call(
                    lambda: provider.lookup(origin, url),
                    provider.timeout or self.timeout,
                    f"authadapter-{provider.name}",
                )
            return provider.lookup(origin, url)
        except AuthAdapterError as error:
            return Failure(str(error))
        except Exception as error:  # a provider's bug must not break every request
            return Failure(f"failed with {type(error).__name__}")
