"""The default provider chain: every store a user may already have, in a documented order.

The order is pixi's (``$RATTLER_AUTH_FILE``, keyring, ``~/.rattler/credentials.json``,
netrc) with our own environment variable in front: a value set for one CI job
should override what the machine has stored. Per-host commands from the
configuration file come first of all, Cargo's stores last. See docs/stores.md
and docs/configuration.md.

Each store is one named entry of ``FACTORIES``; the configuration's
``providers.order`` and switches (``Settings``) pick and order them. A new
store is one more entry, plus its name in ``_config.DEFAULT_ORDER`` (and in
``_config.OFF_BY_DEFAULT`` when it must be switched on, as ``git``).
"""

from __future__ import annotations

from collections.abc import Callable

from authadapter._config import CommandSpec, Settings, load_config
from authadapter._credentials import BasicCredential, BearerToken, CondaToken, Credential, RawToken
from authadapter._provider import CredentialProvider
from authadapter.providers.cargo import CargoProvider
from authadapter.providers.command import process_timeout
from authadapter.providers.env import EnvProvider
from authadapter.providers.git import GitProvider
from authadapter.providers.keyring_store import KeyringProvider
from authadapter.providers.netrc import NetrcProvider
from authadapter.providers.rattler import (
    rattler_auth_file_provider,
    rattler_credentials_file_provider,
)

__all__ = ["FACTORIES", "command_provider", "default_providers"]

Factory = Callable[[Settings], list[CredentialProvider]]


_TOKEN_KINDS: dict[str, Callable[[str], Credential]] = {
    "bearer": BearerToken,
    "raw": RawToken,
    "conda": CondaToken,
}


def command_provider(spec: CommandSpec, timeout: float) -> CredentialProvider:
    """The provider for one ``[[commands]]`` entry; ``timeout`` unless the entry has its own."""
    from authadapter.providers.command import CommandProvider

    credential: Callable[[str], Credential]
    if spec.kind == "basic":
        username = spec.username or ""

        def credential(line: str) -> Credential:
            return BasicCredential(username, line)
    else:
        credential = _TOKEN_KINDS[spec.kind]
    return CommandProvider(
        spec.command,
        hosts=spec.hosts,
        credential=credential,
        timeout=spec.timeout if spec.timeout is not None else timeout,
        ttl=spec.ttl,
    )


def _commands(settings: Settings) -> list[CredentialProvider]:
    return [command_provider(spec, settings.timeout) for spec in settings.commands]


def _rattler_auth_file(settings: Settings) -> list[CredentialProvider]:
    provider = rattler_auth_file_provider(refresh_timeout=settings.timeout)
    return [] if provider is None else [provider]


def _rattler_credentials_file(settings: Settings) -> list[CredentialProvider]:
    return [rattler_credentials_file_provider(refresh_timeout=settings.timeout)]


FACTORIES: dict[str, Factory] = {
    "commands": _commands,
    "env": lambda settings: [EnvProvider()],
    "rattler-auth-file": _rattler_auth_file,
    # the keyring runs under the chain's timeout: its OAuth refresh must end a little sooner
    "keyring": lambda settings: [
        KeyringProvider(refresh_timeout=process_timeout(settings.timeout))
    ],
    "rattler-credentials-file": _rattler_credentials_file,
    "netrc": lambda settings: [NetrcProvider()],
    "cargo": lambda settings: [CargoProvider(timeout=settings.timeout)],
    "git": lambda settings: [GitProvider(timeout=settings.timeout)],
}


def default_providers(settings: Settings | None = None) -> list[CredentialProvider]:
    """Providers in lookup order; read the environment (paths, variables) now.

    Without ``settings`` the configuration file is read (``load_config``).
    """
    if settings is None:
        settings = load_config()
    providers: list[CredentialProvider] = []
    for name in settings.order:
        factory = FACTORIES.get(name)
        if factory is not None and settings.is_enabled(name):
            providers.extend(factory(settings))
    return providers
