"""``Authorizer``: the one client-free core that decides what goes on a request to a URL.

Every front end is a shell over one ``Authorizer``: ``RegistryAuth`` for
httpx and requests, ``authadapter cargo-credential`` answering Cargo, the
keyring backend answering pip and uv, ``authadapter which`` explaining. A
front end translates its client's request into ``decide(url)`` and the
``Decision`` back into its client's request; after a rejection it asks
``reconsider``. Everything else (the provider chain and its cache, the rule
that a request bringing its own credentials is left alone, the plain-http
rule and its allow-list, the conda path rewrite, which rejected request
earns a fresh lookup and a re-send) is decided here, once, so the front ends
cannot drift apart. This module imports no HTTP client.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authadapter._log import logger

from . import _live
from ._chain import Answer, ProviderChain, Resolution
from ._credentials import Credential
from ._origin import Origin, normalize_host
from ._policy import (
    carries,
    credential_rejected,
    plain_http_allowed,
    userinfo_authorization,
)
from ._provider import CredentialProvider, Found, Provider
from ._urls import conda_token_in_path, has_userinfo, strip_conda_token

if TYPE_CHECKING:
    from ._config import CommandSpec, Settings

__all__ = ["Authorizer", "Decision", "Explanation"]


OWN_CREDENTIALS = "the request brings its own credentials"
PLAIN_HTTP = "plain http to a host that is not loopback"
_MEMO_SIZE = 512


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do to one request.

    ``url`` is the URL to send instead (a conda token put into the path), or
    ``None`` to send it unchanged; ``authorization`` the ``Authorization``
    value to set, or ``None`` to set none. ``resolution`` is the chain's
    answer behind it (``None`` when no store was asked) and ``withheld`` why
    a credential is not applied (``OWN_CREDENTIALS``, ``PLAIN_HTTP``), else
    ``None``. ``credential`` is what the request carries of ours.
    Decisions are shared between requests: never mutate one.
    """

    url: str | None
    authorization: str | None
    resolution: Resolution | None
    withheld: str | None = None

    @property
    def credential(self) -> Credential | None:
        if self.withheld is not None or self.resolution is None:
            return None
        return self.resolution.credential


_LEAVE_ALONE = Decision(None, None, None, OWN_CREDENTIALS)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every store's answer for one URL and what the request gets: ``authadapter which``."""

    origin: Origin
    answers: tuple[Answer, ...]
    decision: Decision

    @property
    def used(self) -> Answer | None:
        """The answer the chain takes, if it is a ``Found`` (the first decisive answer)."""
        for answer in self.answers:
            if answer.decisive:
                return answer if isinstance(answer.result, Found) else None
        return None

    @property
    def sends(self) -> Answer | None:
        """The answer whose credential the request really carries, if any."""
        return self.used if self.decision.withheld is None else None

    @property
    def url_has_credentials(self) -> bool:
        return self.decision.withheld == OWN_CREDENTIALS

    @property
    def plain_http(self) -> str | None:
        """``"refused"`` or ``"allowed"`` for plain http to a host that is not loopback."""
        origin = self.origin
        if origin.scheme != "http" or origin.is_loopback:
            return None
        return "refused" if self.decision.withheld == PLAIN_HTTP else "allowed"


@dataclass(frozen=True, slots=True)
class _Rejected:
    origin: Origin
    url: str
    used: Credential | None


class Authorizer:
    """Decides which credential goes on a request to a URL, and may it go there.

    With no ``providers`` the default chain is built from the configuration
    file and the keyword arguments (see ``RegistryAuth``, which takes the
    same ones); ``exclude`` leaves stores of the default chain out by name
    (Cargo's front end leaves out ``"cargo"``, which would ask it again).

    Thread-safe and shared: the cache lives here. A copy (``pickle``,
    ``copy.copy``, ``copy.deepcopy``) carries the configuration and the
    providers' parameters, never a credential or a cached answer: it looks
    up afresh where it is loaded, with that process's environment.
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
        exclude: Collection[str] = (),
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
        self._setup(settings, providers, failure_ttl, clock, tuple(exclude))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        providers: Iterable[CredentialProvider | Provider] | None = None,
        *,
        failure_ttl: float = 30.0,
        clock: Callable[[], float] | None = None,
        exclude: Collection[str] = (),
    ) -> Authorizer:
        """An authorizer for settings already resolved (``resolve_settings``)."""
        self = cls.__new__(cls)
        self._setup(settings, providers, failure_ttl, clock, tuple(exclude))
        return self

    def _setup(
        self,
        settings: Settings,
        providers: Iterable[CredentialProvider | Provider] | None,
        failure_ttl: float,
        clock: Callable[[], float] | None,
        exclude: tuple[str, ...],
    ) -> None:
        self.settings = settings
        self._own_providers = providers is not None
        self._failure_ttl = failure_ttl
        self._exclude = exclude
        if providers is None:
            from ._defaults import default_providers

            providers = default_providers(settings, exclude=exclude)
        self.clock: Callable[[], float] = clock or time.monotonic
        self._now = self.clock
        self.chain = ProviderChain(
            providers,
            ttl=settings.ttl,
            negative_ttl=settings.negative_ttl,
            failure_ttl=failure_ttl,
            timeout=settings.timeout,
            clock=self.clock,
        )
        self.allow_http_hosts = frozenset(normalize_host(h) for h in settings.allow_http_hosts)
        self._hot: dict[str, tuple[float, Decision]] = {}
        self._plain_http: dict[Origin, bool] = {}
        self._warned_http: set[str] = set()
        self._rechecked: dict[Origin, float] = {}
        self._lock = threading.Lock()
        self._generation = 0
        _live.register(self)

    def _after_fork(self) -> None:
        """In a forked child: a new lock, as another thread of the parent may have held it."""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Authorizer({self.chain!r})"

    # copies carry the configuration, never what was looked up
    def __reduce__(self) -> tuple[Any, ...]:
        providers = self.chain.providers if self._own_providers else None
        if providers is not None:
            for provider in providers:
                _check_copyable(provider)
        clock = None if self.clock is time.monotonic else self.clock
        state = (self.settings, providers, self._failure_ttl, clock, self._exclude)
        return (_rebuild, state)

    # the request path
    def decide(self, url: str, has_authorization: bool = False) -> Decision:
        """What to do to a request to ``url``; ``has_authorization`` if it sets its own header.

        The warm path: a few substring tests, one dictionary lookup by the
        URL's ``scheme://authority`` and a clock read.
        """
        known = self._known(url, has_authorization)
        if type(known) is not str:
            return known  # type: ignore[return-value]
        generation = self._generation
        origin = self.chain.origin_of(url)
        return self._remember(known, url, self.chain.resolve_origin(origin, url), generation)

    async def decide_async(self, url: str, has_authorization: bool = False) -> Decision:
        """``decide`` for async clients: a cold lookup never runs on the event loop."""
        known = self._known(url, has_authorization)
        if type(known) is not str:
            return known  # type: ignore[return-value]
        generation = self._generation
        return self._remember(known, url, await self.chain.resolve_async(url), generation)

    def _known(self, url: str, has_authorization: bool) -> Decision | str:
        """The decision when it needs no lookup, else the key to remember the lookup's under."""
        if has_authorization or "@" in url or "/t/" in url or not url.isprintable():
            own = _own_credentials(url, has_authorization)
            if own is not None:
                return own
        # the URL up to its path: it holds the whole authority, so one key is one origin;
        # the usual https:// URL costs one find
        start = 8 if url.startswith("https://") else url.find("//") + 2
        end = url.find("/", start)
        authority = url if end < 0 else url[:end]
        hot = self._hot.get(authority)
        if hot is not None and hot[0] > self._now():
            return hot[1]
        return authority

    def _remember(
        self, authority: str, url: str, resolution: Resolution, generation: int
    ) -> Decision:
        decision = self._apply(url, resolution)
        expires = self.chain.expiry(resolution.origin)
        if decision.url is None and expires > 0:
            with self._lock:
                if generation == self._generation:
                    if len(self._hot) >= _MEMO_SIZE:
                        self._hot.clear()
                    self._hot[authority] = (expires, decision)
        return decision

    def _apply(self, url: str, resolution: Resolution) -> Decision:
        credential = resolution.credential
        if credential is None:
            return Decision(None, None, resolution)
        if not self.may_send_to(resolution.origin):
            return Decision(None, None, resolution, PLAIN_HTTP)
        rewritten = credential.rewrite_url(url)
        return Decision(
            None if rewritten == url else rewritten, credential.authorization(), resolution
        )

    def may_send_to(self, origin: Origin) -> bool:
        """The plain-http rule for ``origin``, warning once per host when it refuses."""
        if origin.scheme != "http":
            return True
        allowed = self._plain_http.get(origin)
        if allowed is None:  # parsing the host as an IP address costs more than the rest
            allowed = plain_http_allowed(origin, self.allow_http_hosts)
            if len(self._plain_http) >= _MEMO_SIZE:
                self._plain_http.clear()
            self._plain_http[origin] = allowed
        if allowed:
            return True
        with self._lock:
            first = origin.host not in self._warned_http
            if first and len(self._warned_http) >= _MEMO_SIZE:  # a crawler: warn again, not grow
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

    # after a rejection
    def reconsider(
        self,
        sent: Decision,
        status: int,
        www_authenticate: str | None,
        url: str,
        authorization: str | None,
        replayable: bool,
    ) -> Decision | None:
        """After the response to a request: how to send it once more, or ``None`` not to.

        ``sent`` is the decision the request went out with; ``url`` and
        ``authorization`` are those of the request that got the response
        (after redirects, the last hop); ``replayable`` whether its body can
        be sent again. See ``_rejection`` for the rule.
        """
        rejected = self._rejection(sent, status, www_authenticate, url, authorization)
        if rejected is None:
            return None
        fresh = self.chain.resolve_origin(rejected.origin, rejected.url)
        return self._retry(rejected, fresh, replayable)

    async def reconsider_async(
        self,
        sent: Decision,
        status: int,
        www_authenticate: str | None,
        url: str,
        authorization: str | None,
        replayable: bool,
    ) -> Decision | None:
        """``reconsider`` for async clients: the fresh lookup runs off the event loop."""
        rejected = self._rejection(sent, status, www_authenticate, url, authorization)
        if rejected is None:
            return None
        fresh = await self.chain.resolve_async(rejected.url)
        return self._retry(rejected, fresh, replayable)

    def _rejection(
        self,
        sent: Decision,
        status: int,
        www_authenticate: str | None,
        url: str,
        authorization: str | None,
    ) -> _Rejected | None:
        """Whether a response earns a fresh lookup, and what the request carried of ours.

        A 401 (or a 403 saying the token is invalid) earns one when the
        request carried our credential: it is forgotten, as it may be stale.
        A rejected request that carried nothing of ours earns one too, at
        most once per ``failure_ttl`` per origin: "no credential" may have
        been cached while a store was briefly unreadable (another tool
        rewriting it), and the user would otherwise get 401s for the whole
        ``negative_ttl``. A request that brought its own credentials is the
        caller's business.
        """
        if status < 400 or not credential_rejected(status, www_authenticate):
            return None
        if sent.withheld == OWN_CREDENTIALS:
            return None
        origin = self.chain.origin_of(url)
        used = sent.credential
        if (
            used is None
            or sent.resolution is None
            or origin != sent.resolution.origin
            or not carries(authorization, url, used)
        ):
            used = None
        cached = self.chain.cached(origin)
        if used is not None:
            self.invalidate(url)
        elif cached is None or cached.credential is None:
            now = self.clock()
            with self._lock:
                last = self._rechecked.get(origin)
                recheck = last is None or now - last >= self._failure_ttl
                if recheck:
                    if len(self._rechecked) >= _MEMO_SIZE:
                        self._rechecked.clear()
                    self._rechecked[origin] = now
            if recheck:
                self.invalidate(url)
        stripped = strip_conda_token(url) if "/t/" in url else url
        return _Rejected(origin, stripped, used)

    def _retry(self, rejected: _Rejected, fresh: Resolution, replayable: bool) -> Decision | None:
        credential = fresh.credential
        if credential is None or credential == rejected.used or not replayable:
            return None
        decision = self._apply(rejected.url, fresh)
        if decision.withheld is not None:
            return None
        if decision.url is None:
            decision = Decision(rejected.url, decision.authorization, fresh)
        return decision

    # explaining
    def explain(self, url: str) -> Explanation:
        """Every provider's answer for ``url``, uncached, and the decision a request would get."""
        origin = self.chain.origin_of(url)
        answers = tuple(self.chain.answers(origin, url))
        own = _own_credentials(url, False)
        if own is not None:
            return Explanation(origin, answers, own)
        decisive = next((answer for answer in answers if answer.decisive), None)
        resolution = Resolution(origin, None) if decisive is None else decisive.resolution(origin)
        return Explanation(origin, answers, self._apply(url, resolution))

    def invalidate(self, url: str | None = None) -> None:
        """Forget what was looked up for ``url``'s origin, or for every origin.

        The front ends call this on a rejection before looking up again;
        call it yourself after changing a store to have the change seen at once.
        """
        with self._lock:
            self._generation += 1
            self._hot.clear()
        self.chain.invalidate(url)


def _own_credentials(url: str, has_authorization: bool) -> Decision | None:
    """The decision for a request that brings its own credentials, ``None`` if it brings none.

    URL userinfo becomes Basic ``Authorization``: both clients turn it into
    a header only when no ``auth`` is set, so with authadapter installed it
    would otherwise go nowhere. A ``/t/<token>/`` path is sent as it is.
    """
    if has_authorization:
        return _LEAVE_ALONE
    if has_userinfo(url):
        return Decision(None, userinfo_authorization(url), None, OWN_CREDENTIALS)
    if conda_token_in_path(url) is not None:
        return _LEAVE_ALONE
    return None


def _check_copyable(provider: Provider) -> None:
    import pickle

    try:
        pickle.dumps(provider)
    except Exception as error:
        raise TypeError(
            f"provider {provider.name!r} cannot be copied to another process "
            f"({type(error).__name__}); pass providers that can be pickled, "
            "or use the default chain, which is rebuilt where it is loaded"
        ) from None


def _rebuild(
    settings: Settings,
    providers: tuple[Provider, ...] | None,
    failure_ttl: float,
    clock: Callable[[], float] | None,
    exclude: tuple[str, ...],
) -> Authorizer:
    return Authorizer.from_settings(
        settings, providers, failure_ttl=failure_ttl, clock=clock, exclude=exclude
    )


def authorizer_of(auth: Any) -> Authorizer:
    """The ``Authorizer`` behind an adapter's ``auth`` argument.

    ``auth`` is a ``RegistryAuth`` (its authorizer is shared), an
    ``Authorizer``, or ``None`` for a new one configured by the config file.
    """
    if auth is None:
        return Authorizer()
    authorizer = getattr(auth, "authorizer", auth)
    if not isinstance(authorizer, Authorizer):
        raise TypeError(f"expected a RegistryAuth or an Authorizer, not {type(auth).__name__}")
    return authorizer
