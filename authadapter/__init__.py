"""authadapter: registry credentials for Python HTTP clients, from the stores users already have.

Every public name is imported on first use (PEP 562): ``import authadapter``
loads no module of the package, so a program pays for what it touches.
``RegistryAuth`` derives from ``httpx.Auth``, and the CLI, Cargo's plugin
calls and requests-only programs must not pay for httpx; a one-shot script
that imports authadapter next to httpx should pay for nothing it does not use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from ._aiohttp import AiohttpAuth
    from ._authorizer import Authorizer, Decision, Explanation
    from ._chain import Answer, ChainStats, ProviderChain, Resolution
    from ._config import CommandSpec, Settings
    from ._credentials import BasicCredential, BearerToken, CondaToken, Credential, RawToken
    from ._exceptions import (
        AuthAdapterError,
        ConfigError,
        InvalidCredentialError,
        PluginProtocolError,
        ProviderError,
        ProviderTimeoutError,
        StoreError,
        StoreFormatError,
        StoreWriteError,
    )
    from ._httpx import event_hooks as httpx_event_hooks
    from ._niquests import AsyncNiquestsAuth, NiquestsAuth
    from ._origin import Origin
    from ._patch import (
        Patch,
        patch_aiohttp,
        patch_httpx,
        patch_niquests,
        patch_requests,
        unpatch_aiohttp,
        unpatch_httpx,
        unpatch_niquests,
        unpatch_requests,
    )
    from ._provider import CredentialProvider, Failure, Found, LookupResult, Miss, Provider
    from ._registry import ProviderEntry
    from ._registry_auth import RegistryAuth
    from ._store import delete_credential, key_for_host, save_credential
    from ._urls import mask_url

__all__ = [
    "AiohttpAuth",
    "Answer",
    "AsyncNiquestsAuth",
    "AuthAdapterError",
    "Authorizer",
    "BasicCredential",
    "BearerToken",
    "ChainStats",
    "CommandSpec",
    "CondaToken",
    "ConfigError",
    "Credential",
    "CredentialProvider",
    "Decision",
    "Explanation",
    "Failure",
    "Found",
    "InvalidCredentialError",
    "LookupResult",
    "Miss",
    "NiquestsAuth",
    "Origin",
    "Patch",
    "PluginProtocolError",
    "Provider",
    "ProviderChain",
    "ProviderEntry",
    "ProviderError",
    "ProviderTimeoutError",
    "RawToken",
    "RegistryAuth",
    "Resolution",
    "Settings",
    "StoreError",
    "StoreFormatError",
    "StoreWriteError",
    "delete_credential",
    "httpx_event_hooks",
    "key_for_host",
    "mask_url",
    "patch_aiohttp",
    "patch_httpx",
    "patch_niquests",
    "patch_requests",
    "save_credential",
    "unpatch_aiohttp",
    "unpatch_httpx",
    "unpatch_niquests",
    "unpatch_requests",
]
__version__ = "0.1.0"

_HOMES = {
    "._authorizer": (
        "Authorizer",
        "Decision",
        "Explanation",
    ),
    "._chain": (
        "Answer",
        "ChainStats",
        "ProviderChain",
        "Resolution",
    ),
    "._config": (
        "CommandSpec",
        "Settings",
    ),
    "._credentials": (
        "BasicCredential",
        "BearerToken",
        "CondaToken",
        "Credential",
        "RawToken",
    ),
    "._exceptions": (
        "AuthAdapterError",
        "ConfigError",
        "InvalidCredentialError",
        "PluginProtocolError",
        "ProviderError",
        "ProviderTimeoutError",
        "StoreError",
        "StoreFormatError",
        "StoreWriteError",
    ),
    "._origin": ("Origin",),
    "._aiohttp": ("AiohttpAuth",),
    "._niquests": ("AsyncNiquestsAuth", "NiquestsAuth"),
    "._patch": (
        "Patch",
        "patch_aiohttp",
        "patch_httpx",
        "patch_niquests",
        "patch_requests",
        "unpatch_aiohttp",
        "unpatch_httpx",
        "unpatch_niquests",
        "unpatch_requests",
    ),
    "._provider": (
        "CredentialProvider",
        "Failure",
        "Found",
        "LookupResult",
        "Miss",
        "Provider",
    ),
    "._registry": ("ProviderEntry",),
    "._registry_auth": ("RegistryAuth",),
    "._store": (
        "delete_credential",
        "key_for_host",
        "save_credential",
    ),
    "._urls": ("mask_url",),
}
_RENAMED = {"httpx_event_hooks": ("._httpx", "event_hooks")}
_WHERE = {name: (module, name) for module, names in _HOMES.items() for name in names} | _RENAMED


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, and keep the name here from then on."""
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'authadapter' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
