"""Type-checked by mypy (``nox -s typecheck``), never run: pins the public API's types."""

from __future__ import annotations

import httpx
import requests

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    Found,
    LookupResult,
    Miss,
    Origin,
    RawToken,
    RegistryAuth,
    Resolution,
    mask_url,
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
