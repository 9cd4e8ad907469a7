"""Cargo's registry credentials, found and used exactly as Cargo finds and uses them.

``config`` reads and merges Cargo's configuration, ``token``, ``libsecret``,
``keychain`` and ``plugin`` implement the credential providers Cargo knows,
and ``provider`` ties them into one ``CargoProvider`` for the chain.
"""

from __future__ import annotations

from authadapter.providers.cargo.provider import CargoProvider

__all__ = ["CargoProvider"]
