"""Cargo's configuration, read and merged the way Cargo merges it.

Files: ``.cargo/config.toml`` (or the legacy ``.cargo/config``, preferred
when both exist, as Cargo does) in the working directory and each of its
parents, the nearest one winning, then ``$CARGO_HOME/config.toml`` with the
lowest priority. Tables merge key by key, lists are joined (higher priority
later), other values are replaced, and the "program" keys that Cargo refuses
to merge (``credential-provider``, ``credential-alias.*``) are replaced
whole. Environment variables (``CARGO_REGISTRIES_<NAME>_INDEX``,
``..._CREDENTIAL_PROVIDER``, ``CARGO_REGISTRY_CREDENTIAL_PROVIDER``,
``CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS``, ``CARGO_CREDENTIAL_ALIAS_<NAME>``)
win over every file.

Only sparse registries (``sparse+http(s)://``) are kept: a git index is
fetched by git with git's credentials, and sending a registry token to the
git host (often github.com) would give it away.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authadapter._exceptions import ConfigError
from authadapter._origin import Origin

__all__ = [
    "CRATES_IO",
    "CRATES_IO_INDEX",
    "CargoConfig",
    "ProviderSpec",
    "Registry",
    "cargo_home",
    "config_paths",
    "env_name",
    "load_cargo_config",
    "merge_tables",
    "parse_cargo_config",
]

CRATES_IO = "crates-io"
CRATES_IO_INDEX = "sparse+https://index.crates.io/"
DEFAULT_GLOBAL_PROVIDERS = ("cargo:token",)


def env_name(name: str) -> str:
    """The part of an environment variable that stands for a registry or alias name."""
    return name.upper().replace("-", "_")


def cargo_home(environ: Mapping[str, str]) -> Path:
    """``$CARGO_HOME``, else ``~/.cargo``."""
    home = environ.get("CARGO_HOME")
    if home:
        return Path(home)
    return Path(environ.get("HOME") or os.path.expanduser("~")) / ".cargo"


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One credential provider reference: a ``cargo:`` name or a program, with its arguments.

    ``base`` is the directory a relative program path containing a slash is
    resolved against (the parent of the ``.cargo`` directory that defined it,
    as Cargo does); ``defined_in`` names that file or environment variable.
    """

    words: tuple[str, ...]
    base: Path
    defined_in: str

    @property
    def program(self) -> str:
        return self.words[0]

    @property
    def args(self) -> tuple[str, ...]:
        return self.words[1:]

    @property
    def is_builtin(self) -> bool:
        return self.program.startswith("cargo:")

    def resolved_program(self) -> str:
        """The path to run: relative paths with a slash are taken from ``base``."""
        program = self.program
        if ("/" in program or "\\" in program) and not os.path.isabs(program):
            return str(self.base / program)
        return program

    def __str__(self) -> str:
        return self.program


@dataclass(frozen=True, slots=True)
class Registry:
    """A sparse registry Cargo knows, by name and index URL (``sparse+`` kept)."""

    name: str
    index_url: str
    provider: ProviderSpec | None = None
    config_token: str | None = field(default=None, repr=False)
    origin: Origin = field(init=False, repr=False, compare=False)
    index_path: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Parse the URL once: every request's lookup compares against it."""
        object.__setattr__(self, "origin", Origin.from_url(self.index_url))
        object.__setattr__(self, "index_path", urlsplit(self.index_url).path or "/")


@dataclass(frozen=True, slots=True)
class CargoConfig:
    """The merged configuration: what ``CargoProvider`` needs of it, nothing more."""

    home: Path
    files: tuple[Path, ...]
    registries: tuple[Registry, ...]
    global_providers: tuple[ProviderSpec, ...] | None
    aliases: Mapping[str, ProviderSpec]
    env_aliases: Mapping[str, ProviderSpec] = field(default_factory=dict)
    """``CARGO_CREDENTIAL_ALIAS_<NAME>`` values by ``<NAME>``: a variable
    stands for every spelling of a name (``my-al`` and ``my_al``), a file key
    for exactly one."""

    def registries_for(self, origin: Origin, path: str) -> list[Registry]:
        """Registries whose index is on ``origin``; those whose index holds ``path`` first.

        The chain caches per origin, so every registry of the origin is a
        candidate; a path under an index only decides which one is asked first.
        """
        found = [r for r in self.registries if r.origin == origin]
        by_url: dict[str, str] = {}
        for registry in found:
            other = by_url.setdefault(registry.index_url, registry.name)
            if other != registry.name:
                raise ConfigError(
                    f"Cargo registries `{other}` and `{registry.name}` have the same index URL "
                    f"{registry.index_url}"
                )

        def rank(registry: Registry) -> int:
            prefix = registry.index_path
            return -len(prefix) if path.startswith(prefix) else 0

        return sorted(found, key=rank)

    def providers_for(self, registry: Registry) -> list[ProviderSpec]:
        """The providers Cargo would ask for ``registry``, in the order it asks them.

        A registry's own ``credential-provider`` is its only provider;
        otherwise the global list, last entry first. Aliases are resolved here.
        """
        if registry.provider is not None:
            specs = [registry.provider]
        elif self.global_providers is None:
            specs = [ProviderSpec(DEFAULT_GLOBAL_PROVIDERS, self.home, "Cargo's default")]
        else:
            specs = list(reversed(self.global_providers))
        return [self.resolve_alias(spec) for spec in specs]

    def resolve_alias(self, spec: ProviderSpec) -> ProviderSpec:
        """An alias applies to a reference without arguments that is not a ``cargo:`` name.

        The environment wins over the files, as for every Cargo setting.
        """
        if len(spec.words) != 1 or spec.is_builtin:
            return spec
        from_env = self.env_aliases.get(env_name(spec.program))
        return from_env or self.aliases.get(spec.program, spec)


def _config_file(directory: Path) -> Path | None:
    for name in ("config", "config.toml"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def config_paths(cwd: Path, home: Path) -> list[Path]:
    """Cargo's configuration files, highest priority first."""
    paths: list[Path] = []
    seen: set[Path] = set()
    for directory in (cwd, *cwd.parents):
        found = _config_file(directory / ".cargo")
        if found is not None:
            paths.append(found)
            seen.add(found.resolve())
    found = _config_file(home)
    if found is not None and found.resolve() not in seen:
        paths.append(found)
    return paths


def merge_tables(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two configuration tables as Cargo does; ``high`` wins."""
    merged = dict(low)
    for key, value in high.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = merge_tables(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = old + value
        else:
            merged[key] = value
    return merged


def _spec(value: object, base: Path, where: str, key: str) -> ProviderSpec:
    if isinstance(value, str):
        words = tuple(value.split())
    elif isinstance(value, list) and all(isinstance(word, str) for word in value):
        words = tuple(value)
    else:
        raise ConfigError(f"{where}: `{key}` must be a string or an array of strings")
    if not words or not words[0]:
        raise ConfigError(f"{where}: `{key}` is empty")
    return ProviderSpec(words, base, where)


def _table(value: object, where: str, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `{key}` must be a table")
    return value


def parse_cargo_config(text: str, path: Path) -> dict[str, Any]:
    """One file's table, its provider references turned into ``ProviderSpec``.

    Turning them into values here, while the file is known, keeps the
    directory their relative paths are resolved against, and makes the
    non-mergeable keys scalars for ``merge_tables``.
    """
    where = str(path)
    from authadapter._toml import tomllib

    try:
        table: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML ({error})") from None
    except RecursionError:
        raise ConfigError(f"{where}: TOML nested too deeply") from None
    base = path.parent.parent
    registry = _table(table.get("registry"), where, "registry")
    if "credential-provider" in registry:
        registry["credential-provider"] = _spec(
            registry["credential-provider"], base, where, "registry.credential-provider"
        )
    if "global-credential-providers" in registry:
        entries = registry["global-credential-providers"]
        key = "registry.global-credential-providers"
        if not isinstance(entries, list):  # a string too: cargo 1.95 refuses it
            raise ConfigError(f"{where}: `{key}` must be an array of strings")
        registry["global-credential-providers"] = [_spec(e, base, where, key) for e in entries]
    for name, entry in _table(table.get("registries"), where, "registries").items():
        entry = _table(entry, where, f"registries.{name}")
        if "credential-provider" in entry:
            key = f"registries.{name}.credential-provider"
            entry["credential-provider"] = _spec(entry["credential-provider"], base, where, key)
    aliases = _table(table.get("credential-alias"), where, "credential-alias")
    for name, value in aliases.items():
        aliases[name] = _spec(value, base, where, f"credential-alias.{name}")
    return table


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read ({error.__class__.__name__})") from None


def _string(value: object, where: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: `{key}` must be a string")
    return value


def load_cargo_config(
    cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> CargoConfig:
    """Read and merge every configuration file and variable Cargo would, from ``cwd``.

    Raises ``ConfigError`` naming the file for a file that cannot be read or
    parsed, as Cargo would refuse it too.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    home = cargo_home(environ)
    paths = config_paths(cwd, home)
    merged: dict[str, Any] = {}
    for path in reversed(paths):
        merged = merge_tables(merged, parse_cargo_config(_read(path), path))
    where = "Cargo configuration"
    registry_table = merged.get("registry", {})
    registries_table: dict[str, Any] = merged.get("registries", {})

    env_where = "environment"
    global_providers: list[ProviderSpec] | None = registry_table.get("global-credential-providers")
    variable = environ.get("CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS")
    if variable is not None:
        name = "CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS"
        extra = [ProviderSpec((word,), cwd, name) for word in variable.split()]
        global_providers = (global_providers or []) + extra

    env_aliases = {
        variable[len("CARGO_CREDENTIAL_ALIAS_") :]: _spec(value, cwd, variable, variable)
        for variable, value in environ.items()
        if variable.startswith("CARGO_CREDENTIAL_ALIAS_")
    }

    indexes: dict[str, str] = {}
    for name, entry in registries_table.items():
        index = _string(entry.get("index"), where, f"registries.{name}.index")
        if index is not None:
            indexes[name] = index
    for variable, value in environ.items():
        if variable.startswith("CARGO_REGISTRIES_") and variable.endswith("_INDEX"):
            suffix = variable[len("CARGO_REGISTRIES_") : -len("_INDEX")]
            matches = [n for n in registries_table if env_name(n) == suffix]
            for name in matches or [suffix.lower().replace("_", "-")]:
                indexes[name] = value

    registries: list[Registry] = []
    for name, index in indexes.items():
        if not index.startswith("sparse+"):
            continue
        entry = registries_table.get(name, {})
        provider = entry.get("credential-provider")
        variable = f"CARGO_REGISTRIES_{env_name(name)}_CREDENTIAL_PROVIDER"
        if variable in environ:
            provider = _spec(environ[variable], cwd, variable, variable)
        token = _string(entry.get("token"), where, f"registries.{name}.token")
        try:
            registries.append(Registry(name, index, provider, token))
        except ValueError:
            raise ConfigError(f"{where}: registry `{name}` has an invalid index URL") from None

    crates_provider = registry_table.get("credential-provider")
    if "CARGO_REGISTRY_CREDENTIAL_PROVIDER" in environ:
        variable = "CARGO_REGISTRY_CREDENTIAL_PROVIDER"
        crates_provider = _spec(environ[variable], cwd, env_where, variable)
    crates_token = _string(registry_table.get("token"), where, "registry.token")
    registries.append(Registry(CRATES_IO, CRATES_IO_INDEX, crates_provider, crates_token))

    return CargoConfig(
        home=home,
        files=tuple(paths),
        registries=tuple(registries),
        global_providers=None if global_providers is None else tuple(global_providers),
        aliases=merged.get("credential-alias", {}),
        env_aliases=env_aliases,
    )
