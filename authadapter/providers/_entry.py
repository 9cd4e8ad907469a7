"""What a store holds, for listing: the answer to ``authadapter list``.

Listing is not part of the provider interface (the chain never lists, and
some stores cannot), so providers that can list offer ``entries()`` and
callers check for it with ``ListableProvider``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from authadapter._credentials import Credential

__all__ = ["ListableProvider", "StoredEntry"]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One stored credential: the key as written, the credential, where it is kept."""

    key: str
    credential: Credential
    source: str


@runtime_checkable
class ListableProvider(Protocol):
    """A provider that can enumerate its entries (files, netrc, the env variable)."""

    @property
    def name(self) -> str: ...

    def entries(self) -> list[StoredEntry]: ...
