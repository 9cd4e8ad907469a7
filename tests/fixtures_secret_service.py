"""A real Secret Service for the tests: gnome-keyring-daemon on a private D-Bus bus.

One bus and one keyring daemon per pytest process (each xdist worker gets its
own), started on first use and stopped at the end of the session. The bus has
no service directories, so nothing is auto-activated behind our back: the only
Secret Service on it is the daemon we started, unlocked with a known password.

Tests ask for ``secret_service``: it points ``DBUS_SESSION_BUS_ADDRESS`` at the
private bus, selects python-keyring's Secret Service backend, and empties the
default collection before the test so every test starts from a clean keyring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_unavailable

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={directory}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

KEYRING_PASSWORD = "authadapter-tests"
DEBIAN_PACKAGES = " ".join(
    line
    for line in (Path(__file__).parents[1] / ".ci" / "debian-packages").read_text().splitlines()
    if line and not line.startswith("#")
)
"""What to install on Debian, from the one list ``.ci/run`` installs too."""
STARTUP_TIMEOUT = 15.0


@dataclass
class SecretService:
    """The running private Secret Service, as a test sees it."""

    address: str
    home: Path

    def connection(self) -> Any:
        """A new secretstorage (jeepney) connection to the private bus; close it after use."""
        import secretstorage
        from jeepney.io.blocking import open_dbus_connection

        connection = open_dbus_connection(bus=self.address)
        secretstorage.util.add_match_rules(connection)
        return connection

    def clear(self) -> None:
        """Delete every item of the default collection."""
        import secretstorage

        with closing(self.connection()) as connection:
            collection = secretstorage.get_default_collection(connection)
            for item in list(collection.get_all_items()):
                item.delete()


def _wait_for_secrets_name(address: str, processes: list[subprocess.Popen[bytes]]) -> None:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with closing(open_dbus_connection(bus=address)) as connection:
            reply = connection.send_and_get_reply(
                message_bus.NameHasOwner("org.freedesktop.secrets")
            )
            if reply.body[0]:
                return
        time.sleep(0.05)
    raise RuntimeError("gnome-keyring-daemon did not register org.freedesktop.secrets")


def _ensure_default_collection(service: SecretService) -> None:
    import secretstorage

    with closing(service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        if collection.is_locked():
            collection.unlock()
        if collection.is_locked():
            raise RuntimeError("the default collection stayed locked")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def _secret_service_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SecretService | str]:
    """Start the bus and the daemon once; yields the service or the reason it is missing."""
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    if missing:
        yield f"{', '.join(missing)} not installed (Debian: apt-get install {DEBIAN_PACKAGES})"
        return
    try:
        import secretstorage  # noqa: F401
    except ImportError:
        yield "the secretstorage package is not installed"
        return

    root = tmp_path_factory.mktemp("secret-service")
    home = root / "home"
    runtime = root / "run"
    for directory in (home, runtime):
        directory.mkdir(mode=0o700)
    config = root / "bus.conf"
    config.write_text(_BUS_CONFIG.format(directory=root))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--print-address=1", "--nofork"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        processes.append(bus)
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError("dbus-daemon printed no address")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_RUNTIME_DIR": str(runtime),
            "DBUS_SESSION_BUS_ADDRESS": address,
        }
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--components=secrets", "--unlock"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        processes.append(keyring_daemon)
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(KEYRING_PASSWORD.encode())
        keyring_daemon.stdin.close()
        _wait_for_secrets_name(address, processes)
        service = SecretService(address, home)
        _ensure_default_collection(service)
    except Exception as error:
        for process in reversed(processes):
            _stop(process)
        yield f"could not start a private Secret Service: {error}"
        return
    try:
        yield service
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture
def secret_service(
    _secret_service_session: SecretService | str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService]:
    """The private Secret Service, selected for this test through the environment.

    Sets ``DBUS_SESSION_BUS_ADDRESS`` (so secretstorage, python-keyring, the
    ``secret-tool`` command and py-rattler all talk to it) and
    ``PYTHON_KEYRING_BACKEND`` to python-keyring's Secret Service backend.
    """
    if isinstance(_secret_service_session, str):
        service_unavailable(_secret_service_session)
        raise AssertionError("unreachable")
    service = _secret_service_session
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    service.clear()
    yield service
    service.clear()
