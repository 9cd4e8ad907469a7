"""authadapter: registry credentials for Python HTTP clients, from the stores users already have.

``RegistryAuth`` (httpx, requests), ``AiohttpAuth`` and ``NiquestsAuth``/
``AsyncNiquestsAuth`` are imported on first use: each imports its client, and
importing one costs more than the rest of the package together, which the
CLI, Cargo's plugin calls and programs using another client should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from ._store import delete_credential, key_for_host, save_credential
from ._urls import mask_url

if TYPE_CHECKING:
    from ._aiohttp import AiohttpAuth
    from ._httpx import event_hooks as httpx_event_hooks
    from ._niquests import AsyncNiquestsAuth, NiquestsAuth
    from ._registry_auth import RegistryAuth

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


_LAZY = {
    "AiohttpAuth": ("._aiohttp", "AiohttpAuth"),
    "AsyncNiquestsAuth": ("._niquests", "AsyncNiquestsAuth"),
    "NiquestsAuth": ("._niquests", "NiquestsAuth"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attribute)
    if name == "RegistryAuth":
        from ._registry_auth import RegistryAuth

        return RegistryAuth
    if name == "httpx_event_hooks":
        from ._httpx import event_hooks

        return event_hooks
    raise AttributeError(f"module 'authadapter' has no attribute {name!r}")
