"""``cargo:libsecret``: the Secret Service items ``cargo login`` writes on Linux.

Cargo stores one item per registry with the schema
``org.rust-lang.cargo.registry`` and the attribute ``url`` = the index URL
(``sparse+`` kept); libsecret adds the schema as the ``xdg:schema``
attribute. Both attributes are searched, across every collection, as
libsecret's lookup does. secretstorage is imported only when a registry
uses this provider.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

from authadapter._exceptions import ProviderError

__all__ = ["SCHEMA", "libsecret_attributes", "libsecret_token"]

SCHEMA = "org.rust-lang.cargo.registry"


def libsecret_attributes(index_url: str) -> dict[str, str]:
    """The attributes that identify Cargo's item for a registry."""
    return {"xdg:schema": SCHEMA, "url": index_url}


def libsecret_token(index_url: str) -> str | None:
    """The token Cargo stored for ``index_url``, or ``None`` when there is no item.

    Raises ``ProviderError`` when the Secret Service cannot be reached or the
    item stays locked: Cargo fails then too, and carrying on would send the
    request without the credential the user configured.
    """
    try:
        import secretstorage
    except ImportError:
        raise ProviderError("cargo:libsecret needs the secretstorage package") from None
    try:
        connection: Any = secretstorage.dbus_init()
    except Exception as error:
        raise ProviderError(
            f"cargo:libsecret: cannot reach the Secret Service ({type(error).__name__})"
        ) from None
    with closing(connection):
        try:
            items = list(secretstorage.search_items(connection, libsecret_attributes(index_url)))
            for item in items:
                if item.is_locked():
                    item.unlock()
                if item.is_locked():
                    raise ProviderError(f"cargo:libsecret: the item for {index_url} is locked")
                secret: bytes = item.get_secret()
                return secret.decode("utf-8")
        except secretstorage.exceptions.SecretStorageException as error:
            raise ProviderError(
                f"cargo:libsecret: the Secret Service failed ({type(error).__name__})"
            ) from None
        except UnicodeDecodeError:
            raise ProviderError(f"cargo:libsecret: the item for {index_url} is not UTF-8") from None
    return None
