from __future__ import annotations

import os
import sysconfig
from collections.abc import Callable, Iterator

import pytest

from tests.support import Handler, LoopbackServer, accept_all

pytest_plugins = [
    "tests.fixtures_secret_service",
    "tests.fixtures_security",
    "tests.fixtures_cargo",
    "tests.fixtures_plugins",
]

REQUIRE_SERVICES = os.environ.get("AUTHADAPTER_REQUIRE_SERVICES") == "1"


def service_unavailable(reason: str) -> None:
    """Skip a test whose real service is missing; fail it when CI requires services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def loopback_server() -> Iterator[Callable[..., LoopbackServer]]:
    """A factory of started loopback servers: ``loopback_server("127.0.0.2", handler)``."""
    started: list[LoopbackServer] = []

    def start(host: str = "127.0.0.1", handler: Handler = accept_all) -> LoopbackServer:
        server = LoopbackServer(host, handler).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the developer's real stores."""
    home = tmp_path_factory.mktemp("home")
    # rustup's cargo proxy finds its toolchains through HOME unless told otherwise
    monkeypatch.setenv(
        "RUSTUP_HOME", os.environ.get("RUSTUP_HOME", os.path.expanduser("~/.rustup"))
    )
    monkeypatch.setenv("HOME", str(home))
    # the scripts of the interpreter under test (authadapter, http), as its venv activated would
    # put them: cargo runs `authadapter` by name, so the suite must not depend on activation
    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("CARGO_HOME", str(home / ".cargo"))
    for name in list(os.environ):
        if (
            name.startswith(("RATTLER_", "CARGO_REGISTR", "AUTHADAPTER_"))
            and name != "AUTHADAPTER_REQUIRE_SERVICES"
        ):
            monkeypatch.delenv(name)
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
