"""The default provider chain: every store a user may already have, in a documented order.

The stores, their order and their switches are ``_registry``'s: this module
turns them into providers for the effective settings (see docs/stores.md and
docs/configuration.md), and makes the provider of one ``[[commands]]`` entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from authadapter._config import CommandSpec, Settings, load_config
from authadapter._credentials import BasicCredential, BearerToken, CondaToken, Credential, RawToken
from authadapter._provider import CredentialProvider
from authadapter._registry import Installed, installed

__all__ = ["command_provider", "default_providers", "order_of", "providers_of"]


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


def default_providers(
    settings: Settings | None = None, *, exclude: Collection[str] = ()
) -> list[CredentialProvider]:
    """Providers in lookup order; read the environment (paths, variables) now.

    Without ``settings`` the configuration file is read (``load_config``).
    ``exclude`` names stores (``"cargo"``) a front end must not ask, as
    Cargo's own credential provider must not ask Cargo back; they are left
    out whatever the configuration says.
    """
    if settings is None:
        settings = load_config()
    stores = installed()
    providers: list[CredentialProvider] = []
    for name in order_of(settings, stores):
        if name not in exclude and settings.is_enabled(name):
            providers.extend(providers_of(name, settings, stores))
    return providers


def order_of(settings: Settings, stores: Installed) -> tuple[str, ...]:
    """The configured order, or the installed stores' default order."""
    return stores.default_order if settings.order is None else settings.order


def providers_of(name: str, settings: Settings, stores: Installed) -> list[CredentialProvider]:
    """What store ``name`` builds; nothing for a plugin that did not load (it was warned about)."""
    entry = stores.get(name)
    return [] if entry is None else list(entry.build(settings))
