"""authadapter: registry credentials for httpx and requests, from the stores users already have."""

from __future__ import annotations

from ._chain import ProviderChain, Resolution
from ._config import CommandSpec
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
from ._patch import Patch, patch_httpx, patch_requests, unpatch_httpx, unpatch_requests
from ._provider import CredentialProvider, Failure, Found, LookupResult, Miss
from ._registry_auth import RegistryAuth
from ._urls import mask_url

__all__ = [
    "AuthAdapterError",
    "BasicCredential",
    "BearerToken",
    "CommandSpec",
    "CondaToken",
    "ConfigError",
    "Credential",
    "CredentialProvider",
    "Failure",
    "Found",
    "InvalidCredentialError",
    "LookupResult",
    "Miss",
    "Origin",
    "Patch",
    "PluginProtocolError",
    "ProviderChain",
    "ProviderError",
    "ProviderTimeoutError",
    "RawToken",
    "RegistryAuth",
    "Resolution",
    "StoreError",
    "StoreFormatError",
    "StoreWriteError",
    "mask_url",
    "patch_httpx",
    "patch_requests",
    "unpatch_httpx",
    "unpatch_requests",
]
__version__ = "0.1.0"
