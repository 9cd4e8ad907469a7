"""What ``authadapter config`` prints: the effective chain, in words, without a secret.

Users debugging "why was nothing sent" need to see which file was read, which
stores are on and in what order, where each one reads from, and the
lifetimes. Command arguments are not shown (they may carry a token); only
the executable is.
"""

from __future__ import annotations

from ._config import DEFAULT_ORDER, CommandSpec, Settings
from ._provider import CredentialProvider
from .providers.keyring_store import KeyringProvider

__all__ = ["describe_configuration"]


def describe_configuration(settings: Settings, config_file: str, file_exists: bool) -> list[str]:
    """Lines describing ``settings`` as read from ``config_file``."""
    from ._defaults import FACTORIES

    state = "" if file_exists else " (not found: built-in defaults)"
    lines = [f"configuration file: {config_file}{state}"]
    lines.append(
        f"cache: credentials {_seconds(settings.ttl)}, no credential "
        f"{_seconds(settings.negative_ttl)}; provider timeout {_seconds(settings.timeout)}"
    )
    hosts = ", ".join(settings.allow_http_hosts) or "none besides loopback"
    lines.append(f"plain http allowed for: {hosts}")
    lines.append("providers, in lookup order:")
    names = list(settings.order) + [n for n in DEFAULT_ORDER if n not in settings.order]
    width = max(len(name) for name in names)
    for number, name in enumerate(names, 1):
        listed = name in settings.order
        factory = FACTORIES.get(name)
        if not listed:
            state, where = "off", "not in providers.order"
        elif factory is None:
            state, where = "off", "not available in this installation"
        else:
            state = "on" if settings.is_enabled(name) else "off"
            where = _where(name, factory(settings), settings)
        label = f"{number}." if listed else "-"
        lines.append(f"  {label:<3} {name:<{width}}  {state:<3}  {where}")
        if name == "commands" and listed:
            lines.extend(f"        {_command(spec, settings)}" for spec in settings.commands)
    return lines


def _where(name: str, providers: list[CredentialProvider], settings: Settings) -> str:
    if name == "commands":
        count = len(settings.commands)
        return f"{count} command(s) from [[commands]]" if count else "no [[commands]] configured"
    if not providers:
        return "RATTLER_AUTH_FILE not set" if name == "rattler-auth-file" else "nothing to read"
    return "; ".join(_location(provider) for provider in providers)


_READS_FROM = {
    "cargo": "Cargo's config.toml (working directory upwards, then $CARGO_HOME), "
    "its credentials.toml and credential providers",
}
"""For stores that are not one file or variable: what to tell the user instead of a class name."""


def _location(provider: CredentialProvider) -> str:
    if provider.name in _READS_FROM:
        return _READS_FROM[provider.name]
    if isinstance(provider, KeyringProvider):
        return _keyring(provider)
    description = getattr(provider, "description", None)
    if isinstance(description, str):
        return description
    path = getattr(provider, "path", None)
    if path is not None:
        exists = "" if _exists(path) else " (absent)"
        return f"{path}{exists}"
    variable = getattr(provider, "variable", None)
    if isinstance(variable, str):
        return f"environment variable {variable}"
    return type(provider).__name__


def _keyring(provider: KeyringProvider) -> str:
    """Which backend, as far as the environment says: loading one may wait on D-Bus."""
    chosen = provider.configured_backend
    if not chosen:
        return f"{provider.description}, backend chosen by python-keyring"
    if chosen.startswith(("keyring.backends.null", "keyring.backends.fail")):
        return f"{provider.description}: none, PYTHON_KEYRING_BACKEND={chosen}"
    return f"{provider.description}, PYTHON_KEYRING_BACKEND={chosen}"


def _exists(path: object) -> bool:
    from pathlib import Path

    try:
        return Path(str(path)).exists()
    except OSError:
        return False


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
