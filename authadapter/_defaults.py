"""The default provider chain: every store a user may already have, in a documented order.

The order is pixi's (``$RATTLER_AUTH_FILE``, keyring, ``~/.rattler/credentials.json``,
netrc) with our own environment variable in front: a value set for one CI job
should override what the machine has stored. See docs/stores.md.
"""

from __future__ import annotations

from authadapter._provider import CredentialProvider
from authadapter.providers.env import EnvProvider
from authadapter.providers.keyring_store import KeyringProvider
from authadapter.providers.netrc import NetrcProvider
from authadapter.providers.rattler import (
    rattler_auth_file_provider,
    rattler_credentials_file_provider,
)

__all__ = ["default_providers"]


def default_providers() -> list[CredentialProvider]:
    """Providers in lookup order; read the environment (paths, variables) now."""
    providers: list[CredentialProvider] = [EnvProvider()]
    auth_file = rattler_auth_file_provider()
    if auth_file is not None:
        providers.append(auth_file)
    providers.append(KeyringProvider())
    providers.append(rattler_credentials_file_provider())
    providers.append(NetrcProvider())
    return providers
