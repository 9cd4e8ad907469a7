"""The default provider chain: every store a user may already have, in a documented order."""

from __future__ import annotations

from ._provider import CredentialProvider

__all__ = ["default_providers"]


def default_providers() -> list[CredentialProvider]:
    """Providers in lookup order; see docs/lookup.md for why this order."""
    return []
