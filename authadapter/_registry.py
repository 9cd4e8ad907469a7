"""Every store of the default chain, named once: built-ins here, others from installed plugins.

The default order, the ``[providers]`` switches and their validation,
``authadapter config``'s listing and the stores ``login`` writes to are all
read from ``BUILTINS`` plus the installed plugins, so a store cannot be in
one and missing from another. Adding a built-in store is one more
``ProviderEntry`` in ``BUILTINS``, at the place it takes in the default
order; its ``build`` imports its module on first use, so naming a store here
costs nothing at import time.

A package adds a store through the entry point group ``authadapter.providers``
(see ``_entry_points`` and docs/plugins.md): the entry point's name is the
store's name, its object a ``ProviderEntry`` that says where the store goes
(``before`` or ``after`` a built-in; neither: last). A plugin never replaces
a built-in and two plugins never share a name: such a plugin is left out with
a warning naming its entry point, as is one that cannot be imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authadapter._log import logger

from ._provider import CredentialProvider

if TYPE_CHECKING:
    from ._config import Settings

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "OFF_BY_DEFAULT",
    "SWITCH_GROUPS",
    "Installed",
    "ProviderEntry",
    "builtin_names",
    "installed",
]


ENTRY_POINT_GROUP = "authadapter.providers"
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """One named store of the default chain: its switch, its place, how to build it.

    ``name`` is what ``[providers]`` switches and ``providers.order`` lists
    (lower-case words joined by ``-``). ``build`` returns the store's
    providers for the effective ``Settings`` (none when there is nothing to
    read, e.g. an unset variable); it runs whenever a default chain is made,
    so it should only construct, never wait on the network. ``description``
    says what the store is, for ``authadapter config``. ``before``/``after``
    name the built-in store a plugin goes next to (at most one; neither puts
    it at the end of the chain, where it cannot take a host over from a store
    the user already has). ``writable``: ``login`` may write to its providers
    (they implement ``WritableStore``). ``group`` is a switch shared with
    other built-ins (``rattler = false`` switches off both rattler files).
    ``on_by_default`` false: asked only when switched on (``git = true``).
    """

    name: str
    build: Callable[[Settings], Sequence[CredentialProvider]] = field(repr=False)
    description: str
    before: str | None = None
    after: str | None = None
    writable: bool = False
    group: str | None = None
    on_by_default: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(f"provider entry name {self.name!r}: expected words joined by '-'")
        if self.before is not None and self.after is not None:
            raise ValueError(f"provider entry {self.name!r}: give before or after, not both")


def _commands(settings: Settings) -> Sequence[CredentialProvider]:
    from ._defaults import command_provider

    return [command_provider(spec, settings.timeout) for spec in settings.commands]


def _env(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.env import EnvProvider

    return [EnvProvider()]


def _rattler_auth_file(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.rattler import rattler_auth_file_provider

    provider = rattler_auth_file_provider(refresh_timeout=settings.timeout)
    return [] if provider is None else [provider]


def _keyring(settings: Settings) -> Sequence[CredentialProvider]:
    from ._concurrency import process_timeout
    from .providers.keyring_store import KeyringProvider

    # the keyring runs under the chain's timeout: its OAuth refresh must end a little sooner
    return [KeyringProvider(refresh_timeout=process_timeout(settings.timeout))]


def _rattler_credentials_file(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.rattler import rattler_credentials_file_provider

    return [rattler_credentials_file_provider(refresh_timeout=settings.timeout)]


def _netrc(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.netrc import NetrcProvider

    return [NetrcProvider()]


def _cargo(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.cargo import CargoProvider

    return [CargoProvider(timeout=settings.timeout)]


def _uv(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.uv import UvProvider

    return [UvProvider()]


def _git(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.git import GitProvider

    return [GitProvider(timeout=settings.timeout)]


def _pip_keyring(settings: Settings) -> Sequence[CredentialProvider]:
    from .providers.pip_keyring import PipKeyringProvider

    return [PipKeyringProvider()]


BUILTINS: tuple[ProviderEntry, ...] = (
    ProviderEntry("commands", _commands, "per-host commands from [[commands]]"),
    ProviderEntry("env", _env, "the environment variable AUTHADAPTER_CREDENTIALS"),
    ProviderEntry("uv", _uv, "uv's credentials.toml and UV_INDEX_<NAME>_USERNAME/_PASSWORD"),
    ProviderEntry(
        "rattler-auth-file",
        _rattler_auth_file,
        "the file named by RATTLER_AUTH_FILE (not set)",
        writable=True,
        group="rattler",
    ),
    ProviderEntry("keyring", _keyring, "the OS keyring, service rattler", writable=True),
    ProviderEntry(
        "rattler-credentials-file",
        _rattler_credentials_file,
        "~/.rattler/credentials.json",
        writable=True,
        group="rattler",
    ),
    ProviderEntry("netrc", _netrc, "$NETRC, else ~/.netrc"),
    ProviderEntry("cargo", _cargo, "Cargo's registries and credential providers"),
    ProviderEntry("pip-keyring", _pip_keyring, "python-keyring as pip asks it (keyring plugins)"),
    ProviderEntry(
        "git", _git, "git's credential helpers (git credential fill)", on_by_default=False
    ),
)
"""The built-in stores in their default order: per-host commands first (the
most specific setting), our variable (a CI job's value overrides the machine),
uv's store (its entries are scoped to a path: a host serving both conda and
PyPI gets the uv entry for its PyPI path only), then pixi's order, then
Cargo, then keyring plugins (they may be slow, a subprocess or a browser, and
pip too asks the keyring only when nothing else answered), then git's
helpers, off by default: they hold credentials for code hosting, and sending
them to a package registry on the same host is for the user to choose. The ``writable``
ones in this order are pixi's rule for where ``pixi auth login`` writes."""


def _groups(entries: Sequence[ProviderEntry]) -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        if entry.group is not None:
            groups[entry.group] = (*groups.get(entry.group, ()), entry.name)
    return groups


SWITCH_GROUPS: Mapping[str, tuple[str, ...]] = _groups(BUILTINS)
OFF_BY_DEFAULT = frozenset(entry.name for entry in BUILTINS if not entry.on_by_default)
"""One switch for several built-ins (``rattler``); a plugin cannot join or add one."""


def builtin_names() -> tuple[str, ...]:
    """The built-in stores' names in default order."""
    return tuple(entry.name for entry in BUILTINS)


@dataclass(frozen=True, slots=True)
class Installed:
    """The stores of this installation: ``entries`` in default order, and the plugins left out.

    ``packages`` maps a plugin store's name to its entry point (``package:
    name = module:object``) for ``authadapter config``; ``broken`` maps the
    name of each plugin left out to why.
    """

    entries: tuple[ProviderEntry, ...]
    packages: Mapping[str, str]
    broken: Mapping[str, str]

    @property
    def default_order(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.entries)

    def get(self, name: str) -> ProviderEntry | None:
        for entry in self.entries:
            if entry.name == name:
                return entry
        return None


def installed() -> Installed:
    """Built-ins plus the installed plugins that load, placed; one warning per plugin left out."""
    from ._entry_points import load_plugins

    plugins = load_plugins(ENTRY_POINT_GROUP)
    entries = list(BUILTINS)
    reserved = {entry.name for entry in BUILTINS} | set(SWITCH_GROUPS)
    packages: dict[str, str] = {}
    broken: dict[str, str] = {}
    accepted: list[ProviderEntry] = []
    by_name: dict[str, list[str]] = {}
    for plugin in plugins:
        by_name.setdefault(plugin.name, []).append(plugin.where)
    for plugin in plugins:
        reason = plugin.problem
        if reason is None and plugin.name in reserved:
            reason = "a built-in store has that name; the built-in is kept"
        elif reason is None and len(by_name[plugin.name]) > 1:
            others = ", ".join(w for w in by_name[plugin.name] if w != plugin.where)
            reason = f"{others} has the same name; neither is used"
        if reason is not None:
            logger.warning("plugin %s left out: %s", plugin.where, reason)
            if plugin.name not in reserved:
                broken[plugin.name] = f"{plugin.where} left out: {reason}"
            continue
        assert plugin.entry is not None
        packages[plugin.name] = plugin.where
        accepted.append(plugin.entry)
    for entry in sorted(accepted, key=lambda e: e.name):
        _place(entries, entry, packages[entry.name])
    return Installed(tuple(entries), packages, broken)


def _place(entries: list[ProviderEntry], entry: ProviderEntry, where: str) -> None:
    """Insert ``entry`` next to its anchor, behind plugins placed there before it (name order)."""
    builtin = {b.name for b in BUILTINS}
    anchor = entry.before or entry.after
    if anchor is None:
        entries.append(entry)
        return
    if anchor not in builtin:
        logger.warning(
            "plugin %s: %r is not a built-in store; placed last in the chain", where, anchor
        )
        entries.append(entry)
        return
    index = next(i for i, e in enumerate(entries) if e.name == anchor)
    if entry.after is not None:
        index += 1
        while index < len(entries) and entries[index].after == anchor:
            index += 1
    entries.insert(index, entry)
