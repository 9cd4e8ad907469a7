"""``CargoProvider``: a request to a Cargo registry gets the token Cargo would send.

A request belongs to a registry when its origin is the origin of the
registry's sparse index URL. The registry's providers are asked in Cargo's
order; ``not-found`` moves on to the next one, any other error stops the
lookup (``Failure(fatal=True)``), as it stops Cargo: sending no credential, or
another one, is not what the user configured. The token is sent as Cargo
sends it, ``Authorization: <token>`` verbatim (``RawToken``).

Cheap when unused: the configuration is read once per provider, on the first
lookup; no file beyond it is read and no process started unless a registry
matches. Inside ``authadapter cargo-credential`` (``AUTHADAPTER_IN_CARGO_PLUGIN``
set) the provider answers nothing, so cargo -> authadapter -> cargo config ->
authadapter cannot recurse.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from authadapter._credentials import RawToken
from authadapter._exceptions import AuthAdapterError, ConfigError, ProviderTimeoutError
from authadapter._log import logger
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider
from authadapter._reentry import IN_PLUGIN_VARIABLE
from authadapter.providers.cargo.config import (
    CRATES_IO_INDEX,
    CargoConfig,
    ProviderSpec,
    Registry,
    load_cargo_config,
)
from authadapter.providers.cargo.token import registry_token

__all__ = ["IN_PLUGIN_VARIABLE", "CargoProvider"]


_Answer = tuple[str, str, "float | None"] | None
"""(token, source, ttl) or None for Cargo's not-found."""


class CargoProvider(Provider):
    """Registry tokens from Cargo's configuration, credentials and credential providers.

    ``cwd`` is where Cargo's configuration search starts (default: the
    working directory at the first lookup) and where commands and plugins
    run, as Cargo runs them in its own directory; ``environ`` defaults to
    ``os.environ``; ``timeout`` is the chain's. The commands and plugins of
    one lookup share slightly less (``process_timeout``): a hung plugin is
    killed and reported by name as the fatal error it is to Cargo, before the
    chain would give up on the whole provider with a mere warning.
    """

    name = "cargo"
    blocking = True
    timeout: float

    def __init__(
        self,
        *,
        cwd: Path | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cwd = cwd
        self.environ = environ
        self.timeout = timeout
        self.clock = clock
        self._config: CargoConfig | None = None
        self._config_error: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CargoProvider(cwd={self.cwd!r})"

    @property
    def description(self) -> str:
        return (
            "Cargo's config.toml (working directory upwards, then $CARGO_HOME), "
            "its credentials.toml and credential providers"
        )

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def config(self) -> CargoConfig:
        """The merged configuration, read on first use; raises ``ConfigError`` every time."""
        with self._lock:
            if self._config is None and self._config_error is None:
                try:
                    self._config = load_cargo_config(self.cwd, self.env)
                except AuthAdapterError as error:
                    self._config_error = str(error)
            if self._config_error is not None:
                raise ConfigError(self._config_error)
            assert self._config is not None
            return self._config

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        if self.env.get(IN_PLUGIN_VARIABLE):
            return Miss()
        started = time.monotonic()  # the chain's clock runs
        try:
            config = self.config()
            registries = config.registries_for(origin, _path_of(url))
        except AuthAdapterError as error:
            return Failure(str(error))
        # crates.io's index never declares auth-required, so Cargo never sends
        # it a token: the crates.io token is a publish token for the web API.
        registries = [r for r in registries if r.index_url != CRATES_IO_INDEX]
        # Two registries on one origin: the answer depends on the path, and the
        # chain caches per origin, so it must not be cached at all.
        path_dependent = len(registries) > 1
        for registry in registries:
            for spec in config.providers_for(registry):
                label = f"{spec} for Cargo registry `{registry.name}`"
                try:
                    answer = self._ask(config, registry, spec, started)
                except AuthAdapterError as error:
                    # a plugin's own errors name it already
                    where = label if spec.is_builtin else f"Cargo registry `{registry.name}`"
                    return Failure(f"{where}: {error}", fatal=True)
                if answer is None:
                    continue
                token, source, ttl = answer
                try:
                    credential = RawToken(token)
                except AuthAdapterError as error:
                    return Failure(f"{label}: {error}", fatal=True)
                return Found(credential, f"{label} ({source})", 0 if path_dependent else ttl)
        return Miss(ttl=0 if path_dependent else None)

    def _time_left(self, spec: ProviderSpec, started: float) -> float:
        # the subprocess toolkit is imported only when a process is about to run:
        # most lookups find no Cargo configuration, and Cargo's own calls to
        # `authadapter cargo-credential` skip this provider
        from authadapter._subprocess import process_timeout

        left = started + process_timeout(self.timeout) - time.monotonic()
        if left <= 0:
            raise ProviderTimeoutError(f"no time left to run {spec} within {self.timeout:g} s")
        return left

    def _ask(
        self, config: CargoConfig, registry: Registry, spec: ProviderSpec, started: float
    ) -> _Answer:
        from authadapter.providers.cargo.keychain import macos_keychain_token, wincred_token
        from authadapter.providers.cargo.libsecret import libsecret_token
        from authadapter.providers.cargo.plugin_client import plugin_get

        program = spec.program
        index_url = registry.index_url
        if program == "cargo:token":
            entry = registry_token(registry, config.home, self.env)
            return None if entry is None else (entry.token, entry.source, None)
        if program == "cargo:token-from-stdout":
            return self._token_from_stdout(registry, spec, self._time_left(spec, started))
        if program == "cargo:libsecret":
            token = libsecret_token(index_url)
            return None if token is None else (token, "Secret Service", None)
        if program == "cargo:macos-keychain":
            token = macos_keychain_token(index_url, timeout=self._time_left(spec, started))
            return None if token is None else (token, "macOS keychain", None)
        if program == "cargo:wincred":
            token = wincred_token(index_url)
            return None if token is None else (token, "Windows Credential Manager", None)
        if program == "cargo:paseto":
            logger.warning(
                "Cargo registry `%s`: cargo:paseto tokens are signed per request by Cargo; "
                "authadapter cannot produce them and asks the next provider",
                registry.name,
            )
            return None
        if spec.is_builtin:
            raise ConfigError(f"unknown Cargo credential provider `{program}` in {spec.defined_in}")
        found = plugin_get(
            spec.resolved_program(),
            spec.args,
            index_url,
            registry.name,
            timeout=self._time_left(spec, started),
            now=self.clock,
            cwd=self.cwd,
        )
        return None if found is None else (found.token, "credential plugin", found.ttl)

    def _token_from_stdout(self, registry: Registry, spec: ProviderSpec, timeout: float) -> _Answer:
        if not spec.args:
            raise ConfigError(f"no command given in {spec.defined_in}")
        argv = [arg.replace("{index_url}", registry.index_url) for arg in spec.args]
        env = {"CARGO_REGISTRY_INDEX_URL": registry.index_url}
        env["CARGO_REGISTRY_NAME_OPT"] = registry.name
        from authadapter._subprocess import describe_command, run_token_command

        what = describe_command(argv)
        token = run_token_command(argv, env=env, timeout=timeout, what=what, cwd=self.cwd)
        return token, what, None


def _path_of(url: str) -> str:
    return urlsplit(url).path or "/"
