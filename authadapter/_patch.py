"""Patching HTTP clients so code you do not own authenticates through RegistryAuth.

Installers and mirror scripts create their own ``requests.Session``,
``httpx.Client``, ``aiohttp.ClientSession`` or ``niquests.Session`` (or call
``requests.get``/``httpx.get``) deep inside code the user cannot edit.
``patch_requests()``, ``patch_httpx()``, ``patch_aiohttp()`` and
``patch_niquests()`` give every session and client created afterwards one
shared ``RegistryAuth``, but only where the caller set no ``auth`` of its
own: a request that would have carried credentials without authadapter
carries exactly those.

What is patched, and why there:

- requests: ``Session.__init__`` marks sessions created while patched (so
  sessions that existed before are left as they were), and
  ``Session.prepare_request`` supplies the auth for a marked session when
  neither the request nor the session has one and requests itself would send
  nothing (no user:password in the URL, no netrc entry). ``Session.auth``
  stays ``None``, as requests leaves it; a caller who sets it wins.
- httpx: ``Client.__init__`` and ``AsyncClient.__init__`` get ``auth=`` when
  the caller passed none or ``auth=None``: ``None`` is httpx's own default,
  which wrappers pass through, so it says nothing about the caller's wish.
  The module-level helpers (``httpx.get`` ...) pass ``auth=None`` to their
  client on every call, so ``httpx.request`` and ``httpx.stream`` are wrapped
  to turn that ``None`` into the shared auth.
- aiohttp: ``ClientSession.__init__`` appends an ``AiohttpAuth`` middleware
  after the caller's own (so it sees the headers they set). The middleware
  leaves alone every request that brings credentials (``auth=``, an
  ``Authorization`` header, URL userinfo), so the session's ``auth`` wins.
  ``aiohttp.request`` builds a session, so it is covered too.
- niquests: as requests, with ``NiquestsAuth`` for ``Session`` and
  ``AsyncNiquestsAuth`` for ``AsyncSession`` (whose ``__init__`` is its own;
  ``prepare_request`` it inherits).

Patches nest: each call pushes, and leaving its ``with`` block (or ``undo()``)
removes only that call's entry; the classes are restored when the last entry
goes. ``unpatch_requests()``/``unpatch_httpx()`` remove every entry. Patching
is process-wide by nature, so this module keeps its state in one patcher
object per library, guarded by a lock.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

    from ._registry_auth import RegistryAuth

__all__ = [
    "Patch",
    "patch_aiohttp",
    "patch_httpx",
    "patch_niquests",
    "patch_requests",
    "unpatch_aiohttp",
    "unpatch_httpx",
    "unpatch_niquests",
    "unpatch_requests",
]

_MARK = "_authadapter_auth"


class Patch:
    """One active patch: a context manager, or call ``undo()`` when done.

    ``auth`` is the ``RegistryAuth`` that sessions or clients created while
    this patch is the innermost one receive.
    """

    def __init__(self, patcher: _Patcher, auth: RegistryAuth) -> None:
        self._patcher = patcher
        self.auth = auth

    def __repr__(self) -> str:
        return f"<Patch {self._patcher.library} active={self.active}>"

    @property
    def active(self) -> bool:
        return self._patcher.holds(self)

    def undo(self) -> None:
        """Remove this patch; the library is restored when no other patch remains."""
        self._patcher.remove(self)

    def __enter__(self) -> Patch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.undo()


class _Patcher:
    """The stack of active patches for one library and the originals to restore."""

    library = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._stack: list[Patch] = []
        # (owner, name) -> (what we installed, the original, whether owner defined it)
        self._originals: dict[tuple[object, str], tuple[Any, Any, bool]] = {}

    @property
    def current(self) -> RegistryAuth | None:
        stack = self._stack
        return stack[-1].auth if stack else None

    def holds(self, patch: Patch) -> bool:
        return any(entry is patch for entry in self._stack)

    def push(self, auth: RegistryAuth | None) -> Patch:
        with self._lock:
            if auth is None:
                current = self.current
                auth = current if current is not None else self._default_auth()
            patch = Patch(self, auth)
            if not self._stack:
                self._install()
            self._stack.append(patch)
            return patch

    def remove(self, patch: Patch) -> None:
        with self._lock:
            self._stack = [entry for entry in self._stack if entry is not patch]
            if not self._stack:
                self._uninstall()

    def clear(self) -> None:
        with self._lock:
            self._stack = []
            self._uninstall()

    def _default_auth(self) -> RegistryAuth:
        # One RegistryAuth (one cache) for every patch of both libraries that
        # was not given its own: the config file is read once.
        return _shared_default_auth()

    def _replace(self, owner: object, name: str, new: Any) -> None:
        own = name in vars(owner)
        self._originals[(owner, name)] = (new, getattr(owner, name), own)
        setattr(owner, name, new)

    def _install(self) -> None:
        raise NotImplementedError

    def _uninstall(self) -> None:
        for (owner, name), (installed, original, own) in self._originals.items():
            if getattr(owner, name) is not installed:
                # someone wrapped ours since: restoring would drop their wrapper.
                # Ours stays inside theirs and does nothing without a patch.
                continue
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)
        self._originals.clear()
        _release_shared_default_auth()


class _RequestsPatcher(_Patcher):
    library = "requests"

    def _install(self) -> None:
        import requests.sessions

        session_class = requests.sessions.Session
        original_init = session_class.__init__
        original_prepare = session_class.prepare_request
        patcher = self

        @functools.wraps(original_init)
        def __init__(self: requests.Session, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            current = patcher.current
            if current is not None:
                setattr(self, _MARK, current)

        @functools.wraps(original_prepare)
        def prepare_request(
            self: requests.Session, request: requests.Request
        ) -> requests.PreparedRequest:
            auth = getattr(self, _MARK, None)
            if (
                auth is not None
                and patcher.current is not None
                and request.auth is None
                and self.auth is None
                and not _requests_would_authenticate(self, request)
            ):
                request = copy.copy(request)
                request.auth = auth
            return original_prepare(self, request)

        self._replace(session_class, "__init__", __init__)
        self._replace(session_class, "prepare_request", prepare_request)


def _requests_would_authenticate(session: requests.Session, request: requests.Request) -> bool:
    """Whether requests would send credentials of its own: URL userinfo or a netrc entry."""
    import requests.utils

    return _would_authenticate(requests.utils, session.trust_env, request.url)


def _would_authenticate(utils: Any, trust_env: bool, url: str | bytes | None) -> bool:
    """Whether requests or niquests (their ``utils``) would send URL userinfo or a netrc entry."""
    text = url.decode() if isinstance(url, bytes) else str(url)
    if any(utils.get_auth_from_url(text)):
        return True
    return bool(trust_env and utils.get_netrc_auth(text))


class _HttpxPatcher(_Patcher):
    library = "httpx"

    def _install(self) -> None:
        import httpx
        import httpx._api

        for client_class in (httpx.Client, httpx.AsyncClient):
            self._replace(client_class, "__init__", self._client_init(client_class))
        for name in ("request", "stream"):
            wrapped = self._module_helper(getattr(httpx._api, name))
            self._replace(httpx._api, name, wrapped)
            self._replace(httpx, name, wrapped)

    def _client_init(self, client_class: type[Any]) -> Callable[..., None]:
        original_init = client_class.__init__
        is_async = client_class.__name__.startswith("Async")
        patcher = self

        @functools.wraps(original_init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            current = patcher.current
            # auth=None is httpx's own default, which wrappers pass through: not a choice
            if current is not None and kwargs.get("auth") is None:
                kwargs["auth"] = current
                kwargs["event_hooks"] = _with_redirect_hook(kwargs.get("event_hooks"), is_async)
            original_init(self, *args, **kwargs)

        return __init__

    def _module_helper(self, original: Callable[..., Any]) -> Callable[..., Any]:
        patcher = self

        @functools.wraps(original)
        def helper(*args: Any, auth: Any = None, **kwargs: Any) -> Any:
            if auth is None:
                auth = patcher.current
            return original(*args, auth=auth, **kwargs)

        return helper


def _with_redirect_hook(hooks: Any, is_async: bool) -> dict[str, list[Any]]:
    """The caller's event hooks plus the adapter's per-hop redirect protection.

    httpx follows a redirect before the auth flow sees it, so the first
    origin's conda token in a ``Location`` can only be removed by a response
    event hook. The caller's hooks run first, as they would without the patch.
    """
    merged: dict[str, list[Any]] = {key: list(value) for key, value in dict(hooks or {}).items()}
    from . import _httpx

    ours = getattr(_httpx, "event_hooks", None)
    if ours is not None:
        for event, extra in ours(asynchronous=is_async).items():
            merged.setdefault(event, []).extend(extra)
    return merged


class _AiohttpPatcher(_Patcher):
    library = "aiohttp"

    def _install(self) -> None:
        import aiohttp

        session_class = aiohttp.ClientSession
        original_init = session_class.__init__
        patcher = self

        @functools.wraps(original_init)
        def __init__(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
            current = patcher.current
            if current is not None:
                from ._aiohttp import AiohttpAuth

                own = tuple(kwargs.get("middlewares") or ())
                kwargs["middlewares"] = (*own, AiohttpAuth(current))
            original_init(self, *args, **kwargs)

        self._replace(session_class, "__init__", __init__)


class _NiquestsPatcher(_Patcher):
    library = "niquests"

    def _install(self) -> None:
        import niquests
        import niquests.utils

        from ._niquests import AsyncNiquestsAuth, NiquestsAuth

        session_class = niquests.Session
        original_prepare = session_class.prepare_request
        patcher = self

        def marking(original_init: Callable[..., None], adapter: type[Any]) -> Callable[..., None]:
            @functools.wraps(original_init)
            def __init__(self: niquests.Session, *args: Any, **kwargs: Any) -> None:
                original_init(self, *args, **kwargs)
                current = patcher.current
                if current is not None:
                    setattr(self, _MARK, adapter(current))

            return __init__

        @functools.wraps(original_prepare)
        def prepare_request(self: niquests.Session, request: niquests.Request) -> Any:
            auth = getattr(self, _MARK, None)
            if (
                auth is not None
                and patcher.current is not None
                and request.auth is None
                and self.auth is None
                and not _would_authenticate(niquests.utils, self.trust_env, request.url)
            ):
                request = copy.copy(request)
                request.auth = auth
            return original_prepare(self, request)

        # AsyncSession's __init__ does not call Session's; prepare_request is shared
        for cls, adapter in (
            (session_class, NiquestsAuth),
            (niquests.AsyncSession, AsyncNiquestsAuth),
        ):
            self._replace(cls, "__init__", marking(cls.__init__, adapter))
        self._replace(session_class, "prepare_request", prepare_request)


_requests_patcher = _RequestsPatcher()
_httpx_patcher = _HttpxPatcher()
_aiohttp_patcher = _AiohttpPatcher()
_niquests_patcher = _NiquestsPatcher()
_PATCHERS = (_requests_patcher, _httpx_patcher, _aiohttp_patcher, _niquests_patcher)
_shared_lock = threading.Lock()
_shared: list[RegistryAuth] = []


def _shared_default_auth() -> RegistryAuth:
    # Imported before taking the lock: importing httpx can run the start-up
    # patch hook (authadapter run), which takes this lock too.
    from ._registry_auth import RegistryAuth

    with _shared_lock:
        if not _shared:
            _shared.append(RegistryAuth())
        return _shared[0]


def _release_shared_default_auth() -> None:
    # Once nothing is patched, the next patch reads the config file again.
    with _shared_lock:
        if not any(patcher.current for patcher in _PATCHERS):
            _shared.clear()


def patch_requests(auth: RegistryAuth | None = None) -> Patch:
    """Make sessions created from now on, and ``requests.get(...)``, use ``auth``.

    Without ``auth``, the innermost active patch's auth is reused, else one
    ``RegistryAuth()`` shared with ``patch_httpx`` (configured by the config
    file). A session or request that has ``auth`` set, a URL with
    ``user:password@`` and a netrc entry that requests would use all win.
    Sessions created before the call are not changed.
    """
    return _requests_patcher.push(auth)


def unpatch_requests() -> None:
    """Remove every requests patch; requests behaves exactly as before."""
    _requests_patcher.clear()


def patch_httpx(auth: RegistryAuth | None = None) -> Patch:
    """Make clients created from now on, and ``httpx.get(...)``, use ``auth``.

    A client given an ``auth=`` other than ``None`` keeps it, as does a request
    given ``auth=``. ``auth=None`` is httpx's default and gets ``auth``, like no
    argument. Clients created before the call are not changed.
    """
    return _httpx_patcher.push(auth)


def unpatch_httpx() -> None:
    """Remove every httpx patch; httpx behaves exactly as before."""
    _httpx_patcher.clear()


def patch_aiohttp(auth: RegistryAuth | None = None) -> Patch:
    """Make ``aiohttp.ClientSession``s created from now on authenticate with ``auth``.

    The session gets an ``AiohttpAuth`` middleware after its own ones. A
    request that brings credentials (the session's or the request's
    ``auth=``, an ``Authorization`` header, URL userinfo) keeps them; so does
    a request given ``middlewares=`` of its own, which aiohttp uses instead
    of the session's. Without ``auth``, as ``patch_requests``.
    """
    return _aiohttp_patcher.push(auth)


def unpatch_aiohttp() -> None:
    """Remove every aiohttp patch; aiohttp behaves exactly as before."""
    _aiohttp_patcher.clear()


def patch_niquests(auth: RegistryAuth | None = None) -> Patch:
    """Make ``niquests.Session``/``AsyncSession``s created from now on use ``auth``.

    As ``patch_requests``: a session or request that has ``auth`` set, a URL
    with ``user:password@`` and a netrc entry that niquests would use all
    win. ``AsyncSession``s look up off the event loop.
    """
    return _niquests_patcher.push(auth)


def unpatch_niquests() -> None:
    """Remove every niquests patch; niquests behaves exactly as before."""
    _niquests_patcher.clear()
