"""The default chain's own providers: a ``[[commands]]`` entry, held to the provider contract."""

from __future__ import annotations

import sys
from typing import ClassVar

from authadapter import (
    BasicCredential,
    BearerToken,
    CommandSpec,
    CondaToken,
    Credential,
    CredentialProvider,
    RawToken,
)
from authadapter._defaults import command_provider
from tests.provider_contract import ProviderContract

KINDS: dict[type[Credential], str] = {
    BearerToken: "bearer",
    BasicCredential: "basic",
    CondaToken: "conda",
    RawToken: "raw",
}


class TestCommandsContract(ProviderContract):
    """One ``[[commands]]`` entry: a real process prints the secret for the entry's hosts."""

    kinds: ClassVar[tuple[str, ...]] = ("bearer", "basic", "conda", "raw")
    holds_several_credentials = False
    source_names_the_key = False
    serves = ("commands",)

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        credentials = set(entries.values())
        assert len(credentials) <= 1, "a command has one answer"
        credential = next(iter(credentials), BearerToken("unused-token"))
        secret, username = _secret(credential)
        script = self.workspace / "token.py"
        script.write_text(f"print({secret!r})\n")
        spec = CommandSpec(
            hosts=tuple(entries) or ("nothing.invalid",),
            command=(sys.executable, str(script)),
            kind=KINDS[type(credential)],
            username=username,
        )
        return command_provider(spec, timeout=10.0)


def _secret(credential: Credential) -> tuple[str, str | None]:
    if isinstance(credential, BasicCredential):
        return credential.password, credential.username
    if isinstance(credential, BearerToken | CondaToken | RawToken):
        return credential.token, None
    raise AssertionError(credential)
