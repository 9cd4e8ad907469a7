"""The one interface every credential store implements.

A provider answers one question: "what credential do you hold for this
origin?" with a ``Found``, a ``Miss`` or a ``Failure``. Each answer may carry
a lifetime (``ttl``, seconds) that the chain's cache honours; ``None`` means
"use the chain's default" and ``0`` means "do not cache". Providers know
nothing of the chain, the cache or the HTTP client; the chain knows nothing
of any store.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

from ._credentials import Credential
from ._origin import Origin

AUDIT_ANSWER = "authadapter.answer"
"""The ``sys.audit`` event raised with every ``Found`` and ``Failure`` a provider makes.

Their ``source`` and ``message`` are shown to users; a leak checker reads them here.
"""

__all__ = [
    "CredentialProvider",
    "Failure",
    "Found",
    "LookupResult",
    "Miss",
    "Provider",
    "as_provider",
]


@dataclass(frozen=True, slots=True)
class Found:
    """The provider holds a credential for the origin.

    ``source`` says where it came from (a file and key, a keyring entry, a
    command) in words fit for a user: it never contains the secret.
    ``ttl`` is how long the chain may cache this answer, in seconds, longer
    or shorter than its default; ``0`` (or a negative value, an expiry
    already past) means ask again next time. ``Miss`` and ``Failure`` take
    the same ``ttl``; ``None`` on each means the chain's ``ttl``,
    ``negative_ttl`` or ``failure_ttl`` respectively. A lookup is cached for
    the shortest lifetime among the answers it collected.
    """

    credential: Credential
    source: str
    ttl: float | None = None

    def __post_init__(self) -> None:
        sys.audit(AUDIT_ANSWER, self)


@dataclass(frozen=True, slots=True)
class Miss:
    """The provider has nothing for the origin; the chain asks the next one.

    When no provider has anything, "nothing" is cached too (``negative_ttl``),
    so a public host does not cost a keyring round trip per request.
    """

    ttl: float | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """The provider could not answer.

    A non-fatal failure is logged as a warning and the chain asks the next
    provider. A fatal one stops the lookup with ``ProviderError``: that is for
    stores whose owner says so (Cargo treats most plugin errors as fatal), as
    moving on could send a different credential than the user configured.
    """

    message: str
    fatal: bool = False
    ttl: float | None = None

    def __post_init__(self) -> None:
        sys.audit(AUDIT_ANSWER, self)


LookupResult: TypeAlias = Found | Miss | Failure


@runtime_checkable
class CredentialProvider(Protocol):
    """A store of credentials, asked one origin at a time.

    ``name`` identifies the provider in logs, warnings and ``authadapter
    which``. ``blocking`` is true for providers that may wait on something
    outside the process (a keyring daemon, a subprocess): the chain runs those
    under its timeout, or under the provider's own ``timeout`` attribute (seconds)
    where it has one, so a command the user allowed a minute (an SSO prompt) is
    not cut off at the chain's default. ``lookup`` may raise; the chain turns an exception into
    a non-fatal ``Failure`` naming the provider.

    ``lookup`` gets the full request ``url`` besides its ``origin`` for the
    rare store whose answer depends on the path; such a provider must return
    ``ttl=0``, because the chain caches per origin.
    """

    @property
    def name(self) -> str: ...

    @property
    def blocking(self) -> bool: ...

    def lookup(self, origin: Origin, url: str) -> LookupResult: ...


class Provider:
    """The base class of every provider: the required parts abstract, the optional ones supplied.

    Subclasses set ``name`` (a class attribute or a property) and implement
    ``lookup``. The rest has defaults that the chain, ``authadapter which``
    and ``authadapter config`` read directly:

    * ``blocking`` (``False``): the provider may wait on something outside
      the process, so the chain runs it under a timeout.
    * ``timeout`` (``None``): the provider's own limit in seconds, which the
      chain waits for instead of its own (a command allowed a minute for an
      SSO prompt); ``None`` means the chain's ``timeout``.
    * ``description``: where the provider reads from, in words for a user.

    A third-party object that only satisfies the ``CredentialProvider``
    protocol is wrapped by ``as_provider``, so nothing downstream probes
    attributes with ``getattr``.
    """

    name: str = "provider"
    blocking: bool = False
    timeout: float | None = None

    @property
    def description(self) -> str:
        return self.name

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        raise NotImplementedError


class _ProtocolProvider(Provider):
    """A ``CredentialProvider`` that does not derive from ``Provider``, given the defaults."""

    def __init__(self, wrapped: CredentialProvider) -> None:
        self._wrapped = wrapped
        self.name = wrapped.name
        self.blocking = bool(wrapped.blocking)
        own = getattr(wrapped, "timeout", None)
        if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
            self.timeout = float(own)

    @property
    def description(self) -> str:
        text = getattr(self._wrapped, "description", None)
        return text if isinstance(text, str) else self.name

    @property
    def wrapped(self) -> CredentialProvider:
        return self._wrapped

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        return self._wrapped.lookup(origin, url)

    def __repr__(self) -> str:
        return repr(self._wrapped)


def as_provider(provider: CredentialProvider | Provider) -> Provider:
    """``provider`` itself when it derives from ``Provider``, else wrapped in one."""
    if isinstance(provider, Provider):
        return provider
    return _ProtocolProvider(provider)
