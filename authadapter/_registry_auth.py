"""``RegistryAuth``: one object that is an httpx ``Auth`` and a requests auth callable.

httpx accepts an ``auth`` only if it is an ``httpx.Auth`` instance, so the
class derives from it when httpx is installed (and from ``object`` when it is
not). requests only calls its ``auth``, so ``__call__`` is all it needs. The
client-specific code lives in ``_httpx.py`` and ``_requests.py``; this module
holds what both share: the chain, the cache and the plain-http rule.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._chain import ProviderChain, Resolution, own_copy
from ._origin import Origin, normalize_host
from ._policy import Applied, apply_resolution, plain_http_allowed
from ._provider import CredentialProvider

if TYPE_CHECKING:
    import anyio
    import httpx
    import requests

    from ._config import CommandSpec
    from ._httpx import async_flow, sync_flow

    _AuthBase = httpx.Auth
else:
    try:
        from httpx import Auth as _AuthBase

        from ._httpx import async_flow, sync_flow
    except ImportError:  # requests-only installs
        _AuthBase = object

__all__ = ["RegistryAuth"]

logger = logging.getLogger("authadapter")


class _AsyncFlight:
    """The lookup one task of a loop runs for an origin; the loop's other tasks wait on it."""

    __slots__ = ("done", "error")

    def __init__(self, done: anyio.Event) -> None:
        self.done = done
        self.error: Exception | None = None


class RegistryAuth(_AuthBase):
    """Credentials for package registries, looked up per origin from the user's stores.

    ``httpx.Client(auth=RegistryAuth())`` and ``session.auth = RegistryAuth()``
    both work. With no arguments the default provider chain is used:
    ``[[commands]]``, ``AUTHADAPTER_CREDENTIALS``, pixi's stores (in pixi's
    order), netrc, then Cargo, so what a user configured explicitly beats
    what a tool stored; pass ``providers`` to choose your own, in order.

    Lookups are cached per origin: ``ttl`` seconds for a credential,
    ``negative_ttl`` for "nobody has one", ``failure_ttl`` after a provider
    failed, unless a provider gives its own lifetime. A blocking provider
    (keyring, subprocess) is given ``timeout`` seconds, or its own
    ``timeout`` when it declares one (a ``[[commands]]`` entry's), then
    skipped with a warning. Create one instance and share it between
    clients and threads: the cache lives on it.

    Plain ``http://`` is refused for hosts that are not loopback, with one
    warning per host, unless the host is in ``allow_http_hosts``: a credential
    sent in clear text is a credential given away.

    Every setting of the configuration file (docs/configuration.md) is also a
    keyword argument, and an argument given here wins over the file: ``order``
    and ``enabled`` pick the default chain's stores, ``commands`` adds per-host
    token commands (those three apply only when ``providers`` is not given).
    ``config`` names another file, or is ``False`` to read none.
    """

    def __init__(
        self,
        providers: Iterable[CredentialProvider] | None = None,
        *,
        ttl: float | None = None,
        negative_ttl: float | None = None,
        failure_ttl: float = 30.0,
        timeout: float | None = None,
        allow_http_hosts: Iterable[str] | None = None,
        order: Sequence[str] | None = None,
        enabled: Mapping[str, bool] | None = None,
        commands: Iterable[CommandSpec] | None = None,
        config: str | os.PathLike[str] | bool | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        from ._config import resolve_settings

        settings = resolve_settings(
            config if isinstance(config, bool | None) else os.fspath(config),
            order=order,
            enabled=enabled,
            commands=commands,
            ttl=ttl,
            negative_ttl=negative_ttl,
            timeout=timeout,
            allow_http_hosts=allow_http_hosts,
        )
        self.settings = settings
        if providers is None:
            from ._defaults import default_providers

            providers = default_providers(settings)
        options: dict[str, Any] = {
            "ttl": settings.ttl,
            "negative_ttl": settings.negative_ttl,
            "failure_ttl": failure_ttl,
            "timeout": settings.timeout,
        }
        if clock is not None:
            options["clock"] = clock
        self.chain = ProviderChain(providers, **options)
        self.allow_http_hosts = frozenset(normalize_host(h) for h in settings.allow_http_hosts)
        self._warned_http: set[str] = set()
        self._plain_http: dict[Origin, bool] = {}
        self._warn_lock = threading.Lock()
        self._async_flights: dict[tuple[int, Origin], _AsyncFlight] = {}
        self._prepare: (
            Callable[[RegistryAuth, requests.PreparedRequest], requests.PreparedRequest] | None
        ) = None

    def __repr__(self) -> str:
        return f"RegistryAuth({self.chain!r})"

    def resolve(self, url: str) -> Resolution:
        """The resolution for ``url`` (cached), whether or not it would be sent."""
        return self.chain.resolve(url)

    async def resolve_async(self, url: str) -> Resolution:
        """``resolve`` for async clients: a cold lookup runs in a worker thread.

        A lookup may query a keyring or run a subprocess, so it never runs on
        the event loop. Tasks of one loop that miss the same origin together
        wait on the first one's lookup instead of each holding a worker
        thread (and share its answer or its fatal error); across threads and
        loops the chain's single flight applies.
        """
        chain = self.chain
        origin = chain.origin_of(url)
        cached = chain.cached(origin)
        if cached is not None:
            return cached
        import anyio
        import anyio.to_thread

        key = (threading.get_ident(), origin)
        flight = self._async_flights.get(key)
        if flight is not None:
            await flight.done.wait()
            if flight.error is not None:
                raise own_copy(flight.error)
            cached = chain.cached(origin)
            if cached is not None:
                return cached
            return await anyio.to_thread.run_sync(chain.resolve_origin, origin, url)
        flight = self._async_flights[key] = _AsyncFlight(anyio.Event())
        try:
            return await anyio.to_thread.run_sync(chain.resolve_origin, origin, url)
        except Exception as error:  # a fatal provider error: the waiting tasks share it
            flight.error = error
            raise
        finally:
            del self._async_flights[key]
            flight.done.set()

    def invalidate(self, url: str | None = None) -> None:
        """Forget what was looked up for ``url``'s origin, or for every origin.

        The adapters call this on a 401 before looking up again; call it
        yourself after changing a store to have the change seen at once.
        """
        self.chain.invalidate(url)

    def may_send_to(self, origin: Origin) -> bool:
        """Whether credentials may be sent to ``origin`` at all (the plain-http rule)."""
        if origin.scheme != "http":
            return True
        allowed = self._plain_http.get(origin)
        if allowed is None:  # parsing the host as an IP address costs more than the rest
            allowed = plain_http_allowed(origin, self.allow_http_hosts)
            if len(self._plain_http) >= 512:
                self._plain_http.clear()
            self._plain_http[origin] = allowed
        if allowed:
            return True
        with self._warn_lock:
            first = origin.host not in self._warned_http
            if first and len(self._warned_http) >= 512:  # a crawler: warn again, not grow
                self._warned_http.clear()
            self._warned_http.add(origin.host)
        if first:
            logger.warning(
                "not sending credentials for %s over plain http; "
                "allow it with allow_http_hosts=[%r]",
                origin.host,
                origin.host,
            )
        return False

    def plan(self, url: str, resolution: Resolution) -> Applied | None:
        """What to change in a request to ``url`` given ``resolution``; ``None`` for nothing."""
        if resolution.credential is None or not self.may_send_to(resolution.origin):
            return None
        return apply_resolution(url, resolution)

    # httpx (these exist only when httpx is installed, as does the base class)
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        return sync_flow(self, request)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return async_flow(self, request)

    # requests
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        prepare = self._prepare
        if prepare is None:  # imported on first use: httpx users need not import requests
            from ._requests import prepare as imported

            prepare = self._prepare = imported
        return prepare(self, request)
