"""``RegistryAuth``: one object that is an httpx ``Auth`` and a requests auth callable.

httpx accepts an ``auth`` only if it is an ``httpx.Auth`` instance, so the
class derives from it when httpx is installed (and from ``object`` when it is
not). requests only calls its ``auth``, so ``__call__`` is all it needs. It is
a shell over one ``Authorizer`` (the client-free core, which decides); the
code that changes a request lives in ``_httpx.py`` and ``_requests.py``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._authorizer import Authorizer
from ._chain import ProviderChain, Resolution
from ._provider import CredentialProvider, Provider

if TYPE_CHECKING:
    import httpx
    import requests

    from ._config import CommandSpec, Settings
    from ._httpx import async_flow, sync_flow

    _AuthBase = httpx.Auth
else:
    try:
        from httpx import Auth as _AuthBase

        from ._httpx import async_flow, sync_flow
    except ImportError:  # requests-only installs
        _AuthBase = object

__all__ = ["RegistryAuth"]

_Prepare = Callable[[Authorizer, "requests.PreparedRequest"], "requests.PreparedRequest"]


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
    ``config`` names another file, or is ``False`` to read none. Or pass an
    ``authorizer`` built already, to share one cache between front ends.

    A copy (``pickle``, ``copy.copy``, ``copy.deepcopy``; and so a
    ``requests.Session`` using it, sent to a process pool) carries the
    configuration, never a credential or a cached answer.
    """

    def __init__(
        self,
        providers: Iterable[CredentialProvider | Provider] | None = None,
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
        authorizer: Authorizer | None = None,
    ) -> None:
        if authorizer is None:
            authorizer = Authorizer(
                providers,
                ttl=ttl,
                negative_ttl=negative_ttl,
                failure_ttl=failure_ttl,
                timeout=timeout,
                allow_http_hosts=allow_http_hosts,
                order=order,
                enabled=enabled,
                commands=commands,
                config=config,
                clock=clock,
            )
        self.authorizer = authorizer
        self._prepare: (
            Callable[[Authorizer, requests.PreparedRequest], requests.PreparedRequest] | None
        ) = None

    def __repr__(self) -> str:
        return f"RegistryAuth({self.authorizer.chain!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.authorizer,))

    @property
    def chain(self) -> ProviderChain:
        return self.authorizer.chain

    @property
    def settings(self) -> Settings:
        return self.authorizer.settings

    def resolve(self, url: str) -> Resolution:
        """The resolution for ``url`` (cached), whether or not it would be sent."""
        return self.authorizer.chain.resolve(url)

    async def resolve_async(self, url: str) -> Resolution:
        """``resolve`` for async clients: a cold lookup runs in a worker thread."""
        return await self.authorizer.chain.resolve_async(url)

    def invalidate(self, url: str | None = None) -> None:
        """Forget what was looked up for ``url``'s origin, or for every origin.

        The adapters call this on a rejection before looking up again; call it
        yourself after changing a store to have the change seen at once.
        """
        self.authorizer.invalidate(url)

    # httpx (these exist only when httpx is installed, as does the base class)
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        return sync_flow(self.authorizer, request)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return async_flow(self.authorizer, request)

    # requests
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        prepare = self._prepare
        if prepare is None:  # imported on first use: httpx users need not import requests
            from ._requests import prepare as imported

            prepare = self._prepare = imported
        return prepare(self.authorizer, request)


def _rebuild(authorizer: Authorizer) -> RegistryAuth:
    return RegistryAuth(authorizer=authorizer)
