"""``cargo:token``: the token in ``credentials.toml``, the config, or the environment.

Precedence as Cargo's: the environment variable (``CARGO_REGISTRIES_<NAME>_TOKEN``,
or ``CARGO_REGISTRY_TOKEN`` for crates.io), then ``$CARGO_HOME/credentials.toml``
(``credentials`` when that legacy file exists), then a ``token`` key in the
configuration files. ``credentials.toml`` is read on every call, not once:
a ``cargo login`` while a long-running program runs is seen at its next lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from authadapter._exceptions import StoreFormatError
from authadapter.providers.cargo.config import CRATES_IO, Registry, env_name

__all__ = ["TokenEntry", "credentials_path", "parse_credentials", "registry_token"]


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """A token and where it was found (a file and table, or a variable), for messages."""

    token: str = field(repr=False)
    source: str


def credentials_path(home: Path) -> Path:
    legacy = home / "credentials"
    return legacy if legacy.is_file() else home / "credentials.toml"


def parse_credentials(text: str, path: Path) -> dict[str, str]:
    """Tokens by registry name (crates.io as ``crates-io``) from a credentials file's text."""
    from authadapter._toml import tomllib

    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise StoreFormatError(f"{path}: not valid TOML") from None
    except RecursionError:
        raise StoreFormatError(f"{path}: TOML nested too deeply") from None
    tokens: dict[str, str] = {}
    registry = table.get("registry")
    if isinstance(registry, dict) and isinstance(registry.get("token"), str):
        tokens[CRATES_IO] = registry["token"]
    registries = table.get("registries")
    if isinstance(registries, dict):
        for name, entry in registries.items():
            if isinstance(entry, dict) and isinstance(entry.get("token"), str):
                tokens[name] = entry["token"]
    return tokens


def _table_name(registry: Registry) -> str:
    return "[registry]" if registry.name == CRATES_IO else f"[registries.{registry.name}]"


def registry_token(registry: Registry, home: Path, environ: Mapping[str, str]) -> TokenEntry | None:
    """The token ``cargo:token`` would use for ``registry``, or ``None``.

    Raises ``StoreFormatError`` naming the file when ``credentials.toml``
    cannot be parsed: Cargo refuses it too, and guessing could send nothing
    where the user meant to send a token.
    """
    if registry.name == CRATES_IO:
        variable = "CARGO_REGISTRY_TOKEN"
    else:
        variable = f"CARGO_REGISTRIES_{env_name(registry.name)}_TOKEN"
    if variable in environ:
        return TokenEntry(environ[variable], f"environment variable {variable}")
    path = credentials_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreFormatError(f"{path}: cannot read ({error.__class__.__name__})") from None
    if text is not None:
        token = parse_credentials(text, path).get(registry.name)
        if token is not None:
            return TokenEntry(token, f"{path} {_table_name(registry)} token")
    if registry.config_token is not None:
        return TokenEntry(registry.config_token, f"Cargo config {_table_name(registry)} token")
    return None
