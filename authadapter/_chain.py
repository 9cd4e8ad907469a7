"""The provider chain and its per-origin cache.

``ProviderChain.resolve(url)`` is on every request's path. The warm path is a
dictionary lookup and a clock read; everything else (asking providers in
order, timeouts, single flight) happens only on a miss. State lives on the
instance, including the clock, so tests and two chains never interfere.

Lifetimes: a provider's own ``ttl`` wins; otherwise a found credential lives
``ttl`` seconds and a miss ``negative_ttl`` seconds. A lookup during which a
provider failed is cached for at most ``failure_ttl`` seconds, so a keyring
that was briefly unavailable is asked again soon.
"""

from __future__ import annotations

import logging
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


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the chain decided for an origin: a credential and who gave it, or nothing."""

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

    __slots__ = ("done", "error", "resolution")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.resolution: Resolution | None = None
        self.error: BaseException | None = None


class ProviderChain:
    """An ordered list of providers with a cache in front.

    Thread-safe: concurrent misses for one origin cause one lookup (single
    flight); the others wait for it and share its result or its error.
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
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.providers)
        return f"ProviderChain([{names}])"

    def resolve(self, url: str) -> Resolution:
        """The credential for ``url``'s origin, from the cache when it is fresh."""
        return self.resolve_origin(Origin.from_url(url), url)

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
        """Forget the cached resolution of ``url``'s origin, or of every origin."""
        with self._lock:
            if url is None:
                self._cache.clear()
            else:
                self._cache.pop(Origin.from_url(url), None)

    def _resolve_once(self, origin: Origin, url: str) -> Resolution:
        with self._lock:
            entry = self._cache.get(origin)
            if entry is not None and entry.expires_at > self.clock():
                return entry.resolution
            flight = self._flights.get(origin)
            leader = flight is None
            if flight is None:
                flight = self._flights[origin] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.resolution is not None
            return flight.resolution
        try:
            resolution, lifetime = self._ask_providers(origin, url)
            flight.resolution = resolution
            with self._lock:
                if lifetime > 0:
                    self._cache[origin] = _CacheEntry(resolution, self.clock() + lifetime)
            return resolution
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                self._flights.pop(origin, None)
            flight.done.set()

    def _ask_providers(self, origin: Origin, url: str) -> tuple[Resolution, float]:
        self.lookups += 1
        cap = float("inf")
        for provider in self.providers:
            result = self.ask(provider, origin, url)
            if isinstance(result, Found):
                logger.debug("%s: credential from %s (%s)", origin, provider.name, result.source)
                lifetime = self.ttl if result.ttl is None else result.ttl
                resolution = Resolution(origin, result.credential, provider.name, result.source)
                return resolution, min(lifetime, cap)
            if isinstance(result, Failure):
                if result.fatal:
                    raise ProviderError(f"{provider.name}: {result.message}")
                logger.warning("%s: %s; trying the next provider", provider.name, result.message)
                cap = min(cap, self.failure_ttl if result.ttl is None else result.ttl)
            elif result.ttl is not None:
                cap = min(cap, result.ttl)
        logger.debug("%s: no provider has a credential", origin)
        return Resolution(origin, None), min(self.negative_ttl, cap)

    def ask(self, provider: CredentialProvider, origin: Origin, url: str) -> LookupResult:
        """One provider's answer, uncached, with exceptions and timeouts turned into ``Failure``."""
        try:
            if provider.blocking:
                return _call_with_timeout(provider, origin, url, self.timeout)
            return provider.lookup(origin, url)
        except AuthAdapterError as error:
            return Failure(str(error))
        except Exception as error:  # a provider's bug must not break every request
            return Failure(f"failed with {type(error).__name__}")


def _call_with_timeout(
    provider: CredentialProvider, origin: Origin, url: str, timeout: float
) -> LookupResult:
    """Run a blocking lookup in a daemon thread and stop waiting after ``timeout``.

    A daemon thread, not an executor: a lookup that never returns (a Secret
    Service that does not answer) must not keep the interpreter from exiting.
    """
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
    if not done.wait(timeout):
        raise ProviderTimeoutError(f"{provider.name} did not answer within {timeout:g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result
