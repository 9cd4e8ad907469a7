"""The exceptions authadapter raises.

Every error the library raises on purpose derives from one root, so a caller
can catch everything with a single ``except AuthAdapterError``::

    AuthAdapterError
    ├── InvalidCredentialError     a token or password that cannot be sent safely
    ├── StoreError                 a credential store that cannot be used
    │   ├── StoreFormatError       the file exists but cannot be parsed
    │   └── StoreWriteError        the store refused a write or delete
    ├── ProviderError              a provider failed in a way the chain must not skip
    │   ├── ProviderTimeoutError   a provider took longer than its timeout
    │   └── PluginProtocolError    a credential plugin broke its protocol
    └── ConfigError                the configuration file or arguments are invalid

Messages name the file, host or command at fault. They never contain a
secret: callers may log them and show them to users as they are.
"""

from __future__ import annotations

import sys

__all__ = [
    "AuthAdapterError",
    "ConfigError",
    "InvalidCredentialError",
    "PluginProtocolError",
    "ProviderError",
    "ProviderTimeoutError",
    "StoreError",
    "StoreFormatError",
    "StoreWriteError",
]


class AuthAdapterError(Exception):
    """Root of every error authadapter raises on purpose.

    Each one is announced as the ``sys.audit`` event ``authadapter.error``
    when it is made, so a leak checker can read every message we write.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        sys.audit("authadapter.error", self)


class InvalidCredentialError(AuthAdapterError, ValueError):
    """A credential that would corrupt or forge an HTTP header if it were sent."""


class StoreError(AuthAdapterError):
    """A credential store (file, keyring) cannot be used."""


class StoreFormatError(StoreError):
    """A store file exists but cannot be parsed; it is left untouched."""


class StoreWriteError(StoreError):
    """A store could not be written or an entry could not be removed."""


class ProviderError(AuthAdapterError):
    """A provider failed and the chain must not silently move on."""


class ProviderTimeoutError(ProviderError):
    """A provider did not answer within its timeout."""


class PluginProtocolError(ProviderError):
    """A credential plugin sent something the protocol does not allow."""


class ConfigError(AuthAdapterError):
    """The configuration file or the arguments given to authadapter are invalid."""
