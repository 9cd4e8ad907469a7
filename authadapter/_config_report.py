"""What ``authadapter config`` prints: the effective chain, in words, without a secret.

Users debugging "why was nothing sent" need to see which file was read, which
stores are on and in what order, where each one reads from, and the
lifetimes. Command arguments are not shown (they may carry a token); only
the executable is.
"""

from __future__ import annotations

from ._config import CommandSpec, Settings
from ._provider import CredentialProvider, as_provider
from .providers.keyring_store import KeyringProvider

__all__ = ["describe_configuration"]


def describe_configuration(settings: Settings, config_file: str, file_exists: bool) -> list[str]:
    """Lines describing ``settings`` as read from ``config_file``.

    Every installed store is listed, plugins and plugins that did not load
    included: the configured order first, then the stores it leaves out.
    """
    from ._defaults import order_of, providers_of
    from ._registry import installed

    stores = installed()
    state = "" if file_exists else " (not found: built-in defaults)"
    lines = [f"configuration file: {config_file}{state}"]
    lines.append(
        f"cache: credentials {_seconds(settings.ttl)}, no credential "
        f"{_seconds(settings.negative_ttl)}; provider timeout {_seconds(settings.timeout)}"
    )
    hosts = ", ".join(settings.allow_http_hosts) or "none besides loopback"
    lines.append(f"plain http allowed for: {hosts}")
    lines.append(_keyring_backend(settings))
    lines.append("providers, in lookup order:")
    order = order_of(settings, stores)
    known = [*stores.default_order, *stores.broken]
    names = list(order) + [name for name in known if name not in order]
    width = max(len(name) for name in names)
    for number, name in enumerate(names, 1):
        listed = name in order
        entry = stores.get(name)
        if name in stores.broken:
            state, where = "off", f"plugin {stores.broken[name]}"
        elif entry is None:
            state, where = "off", "not available in this installation"
        elif not listed:
            state, where = "off", "not in providers.order"
        else:
            state = "on" if settings.is_enabled(name) else "off"
            providers = providers_of(name, settings, stores)
            where = _where(name, providers, settings) or f"nothing to read: {entry.description}"
        if name in stores.packages:
            where = f"{where} [plugin {stores.packages[name]}]"
        label = f"{number}." if listed else "-"
        lines.append(f"  {label:<3} {name:<{width}}  {state:<3}  {where}")
        if name == "commands" and listed:
            lines.extend(f"        {_command(spec, settings)}" for spec in settings.commands)
    return lines


def _keyring_backend(settings: Settings) -> str:
    """Whether pip, uv, twine... get answers through keyring, and which switch says so."""
    from ._exceptions import ConfigError
    from .keyring_backend import switch_state

    try:
        on, why = switch_state(settings.keyring_backend)
    except ConfigError as error:
        return f"keyring backend (pip, uv, twine, poetry, pdm): off, {error}"
    return f"keyring backend (pip, uv, twine, poetry, pdm): {'on' if on else 'off'} ({why})"


def _where(name: str, providers: list[CredentialProvider], settings: Settings) -> str:
    if name == "commands":
        count = len(settings.commands)
        return f"{count} command(s) from [[commands]]" if count else "no [[commands]] configured"
    return "; ".join(_location(provider) for provider in providers)


def _location(provider: CredentialProvider) -> str:
    if isinstance(provider, KeyringProvider):
        return _keyring(provider)
    return as_provider(provider).description


def _keyring(provider: KeyringProvider) -> str:
    """Which backend, as far as the environment says: loading one may wait on D-Bus."""
    chosen = provider.configured_backend
    if not chosen:
        return f"{provider.description}, backend chosen by python-keyring"
    if chosen.startswith(("keyring.backends.null", "keyring.backends.fail")):
        return f"{provider.description}: none, PYTHON_KEYRING_BACKEND={chosen}"
    return f"{provider.description}, PYTHON_KEYRING_BACKEND={chosen}"


def _command(spec: CommandSpec, settings: Settings) -> str:
    kind = f"basic (user {spec.username})" if spec.kind == "basic" else spec.kind
    ttl = _seconds(spec.ttl) if spec.ttl is not None else f"{_seconds(settings.ttl)} (default)"
    timeout = spec.timeout if spec.timeout is not None else settings.timeout
    return (
        f"{', '.join(spec.hosts)} -> command `{spec.command[0]}`: {kind}, "
        f"cached {ttl}, timeout {_seconds(timeout)}"
    )


def _seconds(value: float) -> str:
    return f"{value:g} s"
