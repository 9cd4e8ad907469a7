"""Type-checked by mypy (``nox -s typecheck``), never run: pins the public API's types."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import requests

from authadapter import (
    AuthAdapterError,
    BasicCredential,
    BearerToken,
    CommandSpec,
    CondaToken,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    Patch,
    Provider,
    ProviderChain,
    ProviderEntry,
    ProviderError,
    RawToken,
    RegistryAuth,
    Resolution,
    Settings,
    delete_credential,
    httpx_event_hooks,
    key_for_host,
    mask_url,
    patch_httpx,
    patch_requests,
    save_credential,
    unpatch_httpx,
    unpatch_requests,
)


class StaticProvider:
    name = "static"
    blocking = False

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        if origin.host == "repo.example.org":
            return Found(BearerToken("t"), "static")
        return Miss()


auth = RegistryAuth([StaticProvider()], ttl=60.0, allow_http_hosts=["mirror.internal"])
client = httpx.Client(auth=auth)
async_client = httpx.AsyncClient(auth=auth)
session = requests.Session()
session.auth = auth

resolution: Resolution = auth.resolve("https://repo.example.org/x")
credential: Credential | None = resolution.credential
kinds: list[Credential] = [
    BearerToken("a"),
    BasicCredential("u", "p"),
    CondaToken("c"),
    RawToken("r"),
]
header: str | None = kinds[0].authorization()
masked: str = mask_url("https://u:p@repo.example.org/t/tok/x")
auth.invalidate()
auth.invalidate("https://repo.example.org/")

# The keywords of RegistryAuth beyond the provider chain's (docs/configuration.md).
command = CommandSpec(("repo.example.org",), ("get-token", "--host"), kind="bearer", ttl=0.0)
basic_command = CommandSpec(("*.example.org",), ("pass", "show"), kind="basic", username="u")
configured = RegistryAuth(
    ttl=60.0,
    negative_ttl=10.0,
    failure_ttl=5.0,
    timeout=2.0,
    allow_http_hosts=("mirror.internal",),
    order=["rattler-auth-file", "netrc"],
    enabled={"keyring": False},
    commands=[command, basic_command],
    config=False,
    clock=lambda: 0.0,
)
from_file = RegistryAuth(config="/etc/authadapter.toml")
resolution_async: Callable[[str], Coroutine[Any, Any, Resolution]] = configured.resolve_async

# A provider is anything with a name, a blocking flag and a lookup; the chain takes them.
provider: CredentialProvider = StaticProvider()
chain = ProviderChain([provider], ttl=1.0, negative_ttl=1.0, failure_ttl=1.0, timeout=1.0)
failure: LookupResult = Failure("store unreadable", fatal=False, ttl=5.0)
lookups: int = chain.lookups

# Patching: a context manager or undo(); each patch knows its auth.
with patch_requests(auth) as requests_patch:
    patched: Patch = requests_patch
    patched_auth: RegistryAuth = requests_patch.auth
    still_active: bool = requests_patch.active
httpx_patch: Patch = patch_httpx()
httpx_patch.undo()
unpatch_requests()
unpatch_httpx()

# The redirect guard of a hand-built httpx client.
hooks: dict[str, list[Callable[..., Any]]] = httpx_event_hooks()
guarded = httpx.Client(auth=auth, event_hooks=httpx_event_hooks())
guarded_async = httpx.AsyncClient(auth=auth, event_hooks=httpx_event_hooks(asynchronous=True))

errors: tuple[type[AuthAdapterError], ...] = (ProviderError,)

# Storing where pixi would, from Python.
key: str = key_for_host("https://repo.example.org:8443/simple/")
where: str = save_credential(key, BearerToken("t"))
removed_from: list[str] = delete_credential(key)

# A plugin store: a Provider subclass, and the entry its package registers.


class VaultProvider(Provider):
    name = "vault"
    blocking = True
    timeout = 30.0

    @property
    def description(self) -> str:
        return "the company vault"

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        return Miss()


def build_vault(settings: Settings) -> list[Provider]:
    return [VaultProvider()]


entry = ProviderEntry("vault", build_vault, "the company vault", after="env")
built: list[CredentialProvider] = list(entry.build(Settings()))
where_configured: str = save_credential(key, BearerToken("t"), settings=Settings())


def other_clients() -> None:
    import aiohttp
    import niquests

    from authadapter import (
        AiohttpAuth,
        AsyncNiquestsAuth,
        Authorizer,
        NiquestsAuth,
        patch_aiohttp,
        patch_niquests,
        unpatch_aiohttp,
        unpatch_niquests,
    )

    shared = RegistryAuth()
    middleware: AiohttpAuth = AiohttpAuth(shared)
    aiohttp.ClientSession(middlewares=[middleware, AiohttpAuth(Authorizer()), AiohttpAuth()])
    session = niquests.Session()
    session.auth = NiquestsAuth(shared)
    niquests.AsyncSession(auth=AsyncNiquestsAuth(shared.authorizer))
    patches: list[Patch] = [patch_aiohttp(shared), patch_niquests()]
    for patch in patches:
        patch.undo()
    unpatch_aiohttp()
    unpatch_niquests()
