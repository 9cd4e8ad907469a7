"""``cargo:macos-keychain`` and ``cargo:wincred``: where Cargo keeps a token on those systems.

Both store one secret per registry under the name ``cargo-registry:<index-url>``
(``sparse+`` kept): on macOS a generic password with that service and an
empty account, on Windows a generic credential with that target name. On
other systems these providers hold nothing, as Cargo's own do not exist there.
"""

from __future__ import annotations

import sys

from authadapter._exceptions import ProviderError
from authadapter._subprocess import CommandProcess

__all__ = [
    "keychain_service",
    "macos_keychain_token",
    "wincred_target",
    "wincred_token",
]

SECURITY = "/usr/bin/security"
SECURITY_NOT_FOUND = 44


def keychain_service(index_url: str) -> str:
    """The macOS keychain service name Cargo uses for a registry (the account is empty)."""
    return f"cargo-registry:{index_url}"


def wincred_target(index_url: str) -> str:
    """The Windows Credential Manager target name Cargo uses for a registry."""
    return f"cargo-registry:{index_url}"


def macos_keychain_token(index_url: str, *, timeout: float) -> str | None:
    """The token in the login keychain, through the ``security`` tool; ``None`` elsewhere."""
    if sys.platform != "darwin":
        return None
    argv = [SECURITY, "find-generic-password", "-s", keychain_service(index_url), "-a", "", "-w"]
    what = "macOS `security find-generic-password`"
    with CommandProcess(argv, timeout=timeout, what=what) as child:
        output = child.read_rest()
        status = child.wait()
        if status not in (0, SECURITY_NOT_FOUND):
            raise ProviderError(f"{what} failed with exit status {status}")
    if status == SECURITY_NOT_FOUND:
        return None
    return output.decode("utf-8", "replace").rstrip("\n")


def wincred_token(index_url: str) -> str | None:  # pragma: no cover - Windows only
    """The token in the Windows Credential Manager; ``None`` elsewhere or when absent."""
    if sys.platform != "win32":
        return None
    try:
        from win32ctypes.pywin32 import (  # type: ignore[import-not-found, unused-ignore]
            pywintypes,
            win32cred,
        )
    except ImportError:
        raise ProviderError("cargo:wincred needs the pywin32-ctypes package") from None
    try:
        credential = win32cred.CredRead(wincred_target(index_url), win32cred.CRED_TYPE_GENERIC)
    except pywintypes.error as error:
        if getattr(error, "winerror", None) == 1168:  # ERROR_NOT_FOUND
            return None
        raise ProviderError("cargo:wincred: the Credential Manager refused the read") from None
    blob = credential["CredentialBlob"]
    return blob.decode("utf-8") if isinstance(blob, bytes) else str(blob)
