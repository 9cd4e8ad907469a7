"""The optional configuration file, and the same settings given as keyword arguments.

One TOML file, ``config.toml`` in the platform's user configuration directory
(``~/.config/authadapter/config.toml`` on Linux), or the file named by
``AUTHADAPTER_CONFIG``. Every key is optional::

    ttl = 300                      # seconds a found credential is cached
    negative_ttl = 300             # seconds "no credential" is cached
    timeout = 10                   # seconds a keyring or command may take
    allow_http_hosts = ["mirror.internal"]
    keyring_backend = false        # pip, uv, twine... no longer ask authadapter

    [providers]
    order = ["commands", "env", "rattler-auth-file", "keyring",
             "rattler-credentials-file", "netrc", "cargo", "git"]
    keyring = false                # switch one store off (or "rattler" for both files)
    git = true                     # switch on a store that is off by default

    [[commands]]
    hosts = ["pkgs.example.org"]
    command = ["vault", "read", "-field=token", "secret/pkgs"]
    kind = "bearer"                # bearer, raw, basic (with username) or conda
    ttl = 3600

Parsing is a pure function of the TOML text (``parse_config``), so every rule
is tested without a disk. A wrong key or value is a ``ConfigError`` of one
line that names the file, the key and what was expected; it never repeats a
value, as a mistyped line may hold a secret.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError
from ._origin import normalize_host
from ._registry import ENTRY_POINT_GROUP, OFF_BY_DEFAULT, SWITCH_GROUPS, builtin_names

__all__ = [
    "CONFIG_ENV_VARIABLE",
    "DEFAULT_ORDER",
    "KINDS",
    "OFF_BY_DEFAULT",
    "CommandSpec",
    "Settings",
    "config_path",
    "load_config",
    "parse_config",
    "resolve_settings",
]

CONFIG_ENV_VARIABLE = "AUTHADAPTER_CONFIG"

DEFAULT_ORDER = builtin_names()
"""The built-in stores in default order (``_registry.BUILTINS``); plugins are placed among them."""

KINDS = ("bearer", "raw", "basic", "conda")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command that prints a token for some hosts (one ``[[commands]]`` entry).

    ``hosts`` are keys as in the credential stores (``host``, ``host:port``,
    ``*.domain``). ``kind`` says how the printed line is sent; for ``basic``
    it is the password of ``username``. ``ttl`` is how long the answer is
    cached (``None``: the chain's ``ttl``); ``timeout`` defaults to the
    settings' ``timeout`` and is the one the chain waits for, even when it is
    longer than the chain's (the command is killed a little before it, so a
    hung one is reported by name). The arguments are hidden from ``repr`` as
    they may hold secrets. Invalid values raise ``ConfigError`` here, at
    construction, rather than at the first request.
    """

    hosts: tuple[str, ...]
    command: tuple[str, ...] = field(repr=False)
    kind: str = "bearer"
    username: str | None = None
    ttl: float | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        where = "CommandSpec"
        _check_strings(list(self.hosts), where, "hosts", allow_empty=False)
        _check_strings(list(self.command), where, "command", allow_empty=False)
        _check_kind(self.kind, self.username, where, "")
        if self.ttl is not None:
            _check_seconds(self.ttl, where, "ttl", allow_zero=True)
        if self.timeout is not None:
            _check_seconds(self.timeout, where, "timeout", allow_zero=False)


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings: built-in defaults, then the file, then keyword arguments.

    ``order`` is ``providers.order`` as given; ``None`` means the default order
    of the installed stores (built-ins with the plugins placed among them).
    A store not in an explicit order is off.
    """

    order: tuple[str, ...] | None = None
    enabled: Mapping[str, bool] = field(default_factory=dict)
    commands: tuple[CommandSpec, ...] = ()
    ttl: float = 300.0
    negative_ttl: float = 300.0
    timeout: float = 10.0
    allow_http_hosts: tuple[str, ...] = ()
    path: Path | None = None
    keyring_backend: bool = True
    """Whether authadapter's python-keyring backend answers (``authadapter.keyring_backend``)."""

    def is_enabled(self, name: str) -> bool:
        """Whether provider ``name`` is on: unless switched off, or off by default and not on."""
        if name in self.enabled:
            return self.enabled[name]
        for group, members in SWITCH_GROUPS.items():
            if name in members and group in self.enabled:
                return self.enabled[group]
        return name not in OFF_BY_DEFAULT


def config_path() -> Path:
    """Where the configuration file is looked for: ``AUTHADAPTER_CONFIG`` or the user config dir."""
    named = os.environ.get(CONFIG_ENV_VARIABLE)
    if named:
        return Path(named).expanduser()
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not os.environ.get(
        "ANDROID_DATA"
    ):
        # platformdirs' answer here (XDG), without importing it: it imports tempfile
        # and shutil, a tenth of what `authadapter cargo-credential` costs
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        return Path(base) / "authadapter" / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("authadapter", appauthor=False)) / "config.toml"


def load_config(path: Path | str | None = None) -> Settings:
    """The settings of ``path`` (default: ``config_path()``); built-in defaults if it is absent.

    A file named explicitly (argument or ``AUTHADAPTER_CONFIG``) must exist.
    """
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV_VARIABLE))
    target = Path(path) if path is not None else config_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{target}: configuration file not found") from None
        return Settings()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{target}: cannot read ({reason})") from None
    return parse_config(text, target)


def parse_config(text: str, path: Path | str) -> Settings:
    """Settings from the TOML ``text`` of the file ``path`` (named in errors only)."""
    where = str(path)
    from authadapter._toml import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML: {error}") from None
    _check_keys(
        data,
        where,
        "",
        {"ttl", "negative_ttl", "timeout", "allow_http_hosts", "keyring_backend"},
        {
            "providers",
            "commands",
        },
    )
    settings = _apply_scalars(Settings(path=Path(path)), data, where)
    if "keyring_backend" in data:
        if not isinstance(data["keyring_backend"], bool):
            kind = _kind(data["keyring_backend"])
            raise ConfigError(f"{where}: keyring_backend: expected true or false, got {kind}")
        settings = replace(settings, keyring_backend=data["keyring_backend"])
    providers = data.get("providers", {})
    if not isinstance(providers, dict):
        raise ConfigError(f"{where}: providers: expected a table, got {_kind(providers)}")
    switches = {k: v for k, v in providers.items() if k != "order"}
    settings = _with_providers(settings, providers.get("order"), switches, where, "providers.")
    commands = data.get("commands", [])
    if not isinstance(commands, list):
        raise ConfigError(f"{where}: commands: expected an array of tables ([[commands]])")
    specs = tuple(_command(entry, where, f"commands[{i}]") for i, entry in enumerate(commands))
    return replace(settings, commands=specs)


def resolve_settings(
    config: Path | str | bool | None = None,
    *,
    order: Sequence[str] | None = None,
    enabled: Mapping[str, bool] | None = None,
    commands: Iterable[CommandSpec] | None = None,
    ttl: float | None = None,
    negative_ttl: float | None = None,
    timeout: float | None = None,
    allow_http_hosts: Iterable[str] | None = None,
) -> Settings:
    """The settings ``RegistryAuth`` uses: arguments that are not ``None`` override the file.

    ``config`` is a file path, ``None``/``True`` for the default file (when it
    exists), or ``False`` to read no file.
    """
    if config is False:
        settings = Settings()
    elif config is None or config is True:
        settings = load_config()
    else:
        settings = load_config(config)
    where = "RegistryAuth"
    scalars: dict[str, Any] = {"ttl": ttl, "negative_ttl": negative_ttl, "timeout": timeout}
    if allow_http_hosts is not None:
        scalars["allow_http_hosts"] = list(allow_http_hosts)
    settings = _apply_scalars(settings, {k: v for k, v in scalars.items() if v is not None}, where)
    settings = _with_providers(settings, order, dict(enabled or {}), where, "")
    if commands is not None:
        specs = tuple(commands)
        for spec in specs:
            if not isinstance(spec, CommandSpec):
                raise ConfigError(f"{where}: commands: expected CommandSpec, got {_kind(spec)}")
        settings = replace(settings, commands=specs)
    return settings


def _apply_scalars(settings: Settings, data: Mapping[str, Any], where: str) -> Settings:
    changes: dict[str, Any] = {}
    for key in ("ttl", "negative_ttl"):
        if key in data:
            changes[key] = _check_seconds(data[key], where, key, allow_zero=True)
    if "timeout" in data:
        changes["timeout"] = _check_seconds(data["timeout"], where, "timeout", allow_zero=False)
    if "allow_http_hosts" in data:
        hosts = data["allow_http_hosts"]
        _check_strings(hosts, where, "allow_http_hosts", allow_empty=True)
        _check_hosts(hosts, where, "allow_http_hosts", store_keys=False)
        changes["allow_http_hosts"] = tuple(hosts)
    return replace(settings, **changes)


def _with_providers(
    settings: Settings,
    order: object,
    switches: Mapping[str, object],
    where: str,
    prefix: str,
) -> Settings:
    names = _store_names(order, switches, where, prefix)
    if order is not None:
        assert isinstance(order, list | tuple)
        for name in order:
            if name not in names:
                raise ConfigError(
                    f"{where}: {prefix}order: unknown provider {name!r}; "
                    f"expected some of {', '.join(names)}"
                )
        if len(set(order)) != len(order):
            raise ConfigError(f"{where}: {prefix}order: a provider is listed twice")
        settings = replace(settings, order=tuple(order))
    enabled = dict(settings.enabled)
    for name, value in switches.items():
        if name not in names and name not in SWITCH_GROUPS:
            expected = ", ".join(["order", *names, *SWITCH_GROUPS])
            raise ConfigError(f"{where}: unknown key '{prefix}{name}'; expected one of {expected}")
        if not isinstance(value, bool):
            raise ConfigError(
                f"{where}: {prefix}{name}: expected true or false, got {_kind(value)}"
            )
        enabled[name] = value
    return replace(settings, enabled=enabled)


def _store_names(
    order: object, switches: Mapping[str, object], where: str, prefix: str
) -> tuple[str, ...]:
    """The store names the settings may use: built-ins, plus plugins when a name needs them.

    Plugins are looked for only when a name is not a built-in's, and only by
    name: the check imports no plugin (a broken one is reported when a chain
    is built, not as an error in the user's file).
    """
    names = DEFAULT_ORDER
    if order is not None:
        _check_strings(order, where, f"{prefix}order", allow_empty=True)
        assert isinstance(order, list | tuple)
    wanted = set(order or ()) | set(switches)
    if wanted - set(names) - set(SWITCH_GROUPS):
        from ._entry_points import find_entry_points

        plugins = [point.name for point in find_entry_points(ENTRY_POINT_GROUP)]
        names = (*names, *sorted(set(plugins) - set(names)))
    return names


def _command(entry: object, where: str, key: str) -> CommandSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: {key}: expected a table, got {_kind(entry)}")
    _check_keys(entry, where, f"{key}.", {"hosts", "command", "kind", "username", "ttl", "timeout"})
    for required in ("hosts", "command"):
        if required not in entry:
            raise ConfigError(f"{where}: {key}: missing '{required}'")
    hosts, command = entry["hosts"], entry["command"]
    if isinstance(hosts, str):
        hosts = [hosts]
    _check_strings(hosts, where, f"{key}.hosts", allow_empty=False)
    _check_hosts(hosts, where, f"{key}.hosts", store_keys=True)
    _check_strings(command, where, f"{key}.command", allow_empty=False)
    kind = entry.get("kind", "bearer")
    username = entry.get("username")
    _check_kind(kind, username, where, key)
    ttl = entry.get("ttl")
    timeout = entry.get("timeout")
    return CommandSpec(
        hosts=tuple(hosts),
        command=tuple(command),
        kind=kind,
        username=username,
        ttl=None if ttl is None else _check_seconds(ttl, where, f"{key}.ttl", allow_zero=True),
        timeout=None
        if timeout is None
        else _check_seconds(timeout, where, f"{key}.timeout", allow_zero=False),
    )


def _check_keys(
    data: Mapping[str, Any], where: str, prefix: str, keys: set[str], tables: Iterable[str] = ()
) -> None:
    allowed = keys | set(tables)
    for key in data:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise ConfigError(f"{where}: unknown key '{prefix}{key}'; expected one of {expected}")


def _check_seconds(value: object, where: str, key: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        got = "not a finite number" if isinstance(value, float) else f"got {_kind(value)}"
        raise ConfigError(f"{where}: {key}: expected a number of seconds, {got}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ConfigError(f"{where}: {key}: expected {bound} seconds")
    return float(value)


def _check_strings(value: object, where: str, key: str, *, allow_empty: bool) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: {key}: expected a list of non-empty strings")
    if not value and not allow_empty:
        raise ConfigError(f"{where}: {key}: expected at least one entry")


def _check_kind(kind: object, username: object, where: str, key: str) -> None:
    """``key`` is the entry's own name (``commands[0]``), empty for a ``CommandSpec``."""
    prefix = f"{key}." if key else ""
    if kind not in KINDS:
        raise ConfigError(f"{where}: {prefix}kind: expected one of {', '.join(KINDS)}")
    if kind == "basic" and not (isinstance(username, str) and username):
        raise ConfigError(f"{where}: {prefix}username: kind 'basic' needs a non-empty user name")
    if kind != "basic" and username is not None:
        raise ConfigError(f"{where}: {prefix}username: only used with kind 'basic'")


def _check_hosts(hosts: Sequence[str], where: str, key: str, *, store_keys: bool) -> None:
    """Each entry must be a host (``store_keys``: or ``host:port``, ``*.domain``).

    A URL or a typo here would be accepted and then never match, which looks
    to the user like authadapter ignoring the setting; the value itself is
    not repeated, like every other value.
    """
    expected = "a host name, host:port or *.domain" if store_keys else "a host name"
    for index, host in enumerate(hosts):
        if not _is_host(host, store_key=store_keys):
            raise ConfigError(
                f"{where}: {key}[{index}]: expected {expected} (no scheme, path or spaces)"
            )


def _is_host(text: str, *, store_key: bool) -> bool:
    host = text
    if store_key:
        host = host.removeprefix("*.")
        before, colon, port = host.rpartition(":")
        if colon and port.isdigit() and (before.endswith("]") or ":" not in before):
            host = before
    try:
        normal = normalize_host(host)
    except (ValueError, UnicodeError):
        return False
    return ":" in normal or _HOST_NAME.fullmatch(normal) is not None


def _kind(value: object) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)
