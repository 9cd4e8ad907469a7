"""Real services for the tests and the benchmarks: loopback registries, a private Secret Service.

Plain context managers, no pytest: ``tests/conftest.py`` and
``tests/fixtures_secret_service.py`` wrap them as fixtures, and
``benchmarks/run.py`` uses them as they are.

* ``LoopbackServer``: a registry on port 0 of its own 127.0.0.x address, so one
  test can have several "hosts". It records every request it receives and
  answers through a handler the test sets (by default 200 to everything;
  ``require_authorization`` gives "200 if the expected credential came, else
  401").
* ``private_secret_service``: gnome-keyring-daemon on a D-Bus bus of its own,
  with no service directories, so nothing is auto-activated behind our back:
  the only Secret Service on it is the daemon started here, unlocked with a
  known password. It raises ``ServiceUnavailable`` (with the reason) when the
  programs or packages it needs are missing.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authadapter import Credential
from authadapter.providers.rattler_format import dump_credential_value


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[["LoopbackServer", Received], Reply]


def accept_all(server: LoopbackServer, request: Received) -> Reply:
    return Reply(200, {"Content-Type": "text/plain"}, b"ok")


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # stampede tests open 64 connections at once
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class LoopbackServer:
    def __init__(self, host: str = "127.0.0.1", handler: Handler = accept_all) -> None:
        self.handler = handler
        self.received: list[Received] = []
        self._lock = threading.Lock()
        outer = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without this, delayed ACKs
            # add ~40 ms to every keep-alive request
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = Received(self.command, self.path, headers, body)
                with outer._lock:
                    outer.received.append(record)
                reply = outer.handler(outer, record)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        server_class = _Server6 if ":" in host else _Server
        self.httpd = server_class((host, 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def require_authorization(expected: str) -> Handler:
    """A handler that answers 200 only to requests carrying ``Authorization: expected``."""

    def handler(server: LoopbackServer, request: Received) -> Reply:
        if request.authorization == expected:
            return Reply(200, {}, b"ok")
        return Reply(401, {"WWW-Authenticate": 'Basic realm="test"'}, b"")

    return handler


# --- the private Secret Service ------------------------------------------------------------

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


class ServiceUnavailable(Exception):
    """A real service could not be started here; the message says why."""


@dataclass
class SecretService:
    """The running private Secret Service."""

    address: str
    """``DBUS_SESSION_BUS_ADDRESS`` of its bus."""
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


def store_like_rattler(service: SecretService, key: str, credential: Credential) -> None:
    """Create the item exactly as rattler (Rust keyring crate) does on Linux."""
    import secretstorage

    secret = json.dumps(dump_credential_value(credential))
    attributes = {
        "service": "rattler",
        "username": key,
        "target": "default",
        "application": "rust-keyring",
    }
    with closing(service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        label = f"keyring-rs for target 'default', service 'rattler', user '{key}'"
        collection.create_item(label, attributes, secret.encode(), replace=True)


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


def _start(root: Path, processes: list[subprocess.Popen[bytes]]) -> SecretService:
    home = root / "home"
    runtime = root / "run"
    for directory in (home, runtime):
        directory.mkdir(mode=0o700)
    config = root / "bus.conf"
    config.write_text(_BUS_CONFIG.format(directory=root))
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
    return service


@contextmanager
def private_secret_service(root: Path) -> Iterator[SecretService]:
    """Start a bus and a keyring daemon under ``root`` (an empty directory); stop them after.

    Raises ``ServiceUnavailable`` when they cannot be started here.
    """
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    if missing:
        raise ServiceUnavailable(
            f"{', '.join(missing)} not installed (Debian: apt-get install {DEBIAN_PACKAGES})"
        )
    try:
        import secretstorage  # noqa: F401
    except ImportError:
        raise ServiceUnavailable("the secretstorage package is not installed") from None
    processes: list[subprocess.Popen[bytes]] = []
    try:
        try:
            service = _start(root, processes)
        except Exception as error:
            raise ServiceUnavailable(f"could not start a private Secret Service: {error}") from None
        yield service
    finally:
        for process in reversed(processes):
            _stop(process)


# --- a package installed into a temporary venv ---------------------------------------------


def venv_with_this_environment(directory: Path) -> str:
    """A new venv that also sees this interpreter's packages (authadapter, keyring); its python.

    Packages installed into it (``install_package``) are its own: the test's
    environment stays as it was.
    """
    import site
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    python = directory / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    inherited = [p for p in sys.path if p and Path(p).is_dir() and p not in site.PREFIXES]
    (Path(purelib) / "_inherited.pth").write_text("\n".join(inherited) + "\n")
    return str(python)


def install_package(
    python: str, directory: Path, name: str, modules: dict[str, str], entry_points: str
) -> None:
    """Build a wheel of ``modules`` (file name -> source) and pip-install it for ``python``.

    ``entry_points`` is the text of its ``entry_points.txt``. A wheel written
    here, installed by the real pip, is what an installed third-party package
    is, without a build backend or the network.
    """
    import base64
    import hashlib
    import sys
    import zipfile

    version = "1.0"
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = dict(modules)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = entry_points

    def record_line(path: str, text: str) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        return f"{path},sha256={digest.decode()},{len(text.encode())}"

    record = [record_line(path, text) for path, text in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )


class NeedsTheLoop:
    """A blocking store that answers only once another task of the event loop has run.

    An adapter that runs a cold lookup on the event loop deadlocks with it
    (the lookup waits for ``ticker``, which cannot run): the store then gives
    up after 5 s and answers ``loop-was-blocked``, which the server refuses.
    Run ``ticker`` beside the request; it counts the loop turns it got in ``ticks``.
    """

    name = "needs-the-loop"
    blocking = True
    token = "loop-ok"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.ticks = 0

    def lookup(self, origin: Any, url: str) -> Any:
        from authadapter import BearerToken, Found

        self.entered.set()
        if self.release.wait(5):
            return Found(BearerToken(self.token), "test")
        return Found(BearerToken("loop-was-blocked"), "test")

    async def ticker(self) -> None:
        import anyio

        while not self.entered.is_set():
            await anyio.sleep(0.001)
        for _ in range(3):
            self.ticks += 1
            await anyio.sleep(0)
        self.release.set()
