"""Cargo test fixtures: a private sparse registry on loopback, a CARGO_HOME writer, real cargo.

``sparse_registry(token)`` serves one crate (``demo`` 1.0.0, index entry and
``.crate`` tarball) behind ``"auth-required": true``: every request without
``Authorization: <token>`` gets 401, as a private registry answers, and the
server records them all. ``cargo_home`` writes ``config.toml`` and
``credentials.toml`` into the per-test ``$CARGO_HOME``. ``cargo`` is the real
binary (or ``service_unavailable``), with ``run`` for a cargo command in the
test's isolated environment.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.support import LoopbackServer, Received, Reply

CRATE = "demo"
VERSION = "1.0.0"


def crate_tarball(name: str = CRATE, version: str = VERSION) -> bytes:
    """A minimal, valid ``.crate`` (a gzipped tar of ``<name>-<version>/``)."""
    files = {
        "Cargo.toml": f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n',
        "src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{path}")
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def index_path(name: str) -> str:
    """The sparse-index path of a crate name of four or more characters."""
    return f"{name[:2]}/{name[2:4]}/{name}"


@dataclass
class SparseRegistry:
    server: LoopbackServer
    token: str

    @property
    def index_url(self) -> str:
        return f"sparse+{self.server.url}/index/"

    @property
    def received(self) -> list[Received]:
        return self.server.received

    def authorizations(self) -> list[str | None]:
        return [request.authorization for request in self.server.received]


def _registry_handler(token: str, crate: bytes) -> Callable[[LoopbackServer, Received], Reply]:
    checksum = hashlib.sha256(crate).hexdigest()

    def handle(server: LoopbackServer, request: Received) -> Reply:
        if request.authorization != token:
            return Reply(401, {"WWW-Authenticate": 'Cargo login_url="https://example.invalid"'})
        path = request.path.split("?", 1)[0]
        if path == "/index/config.json":
            config = {
                "dl": f"{server.url}/dl/{{crate}}/{{version}}/download",
                "api": server.url,
                "auth-required": True,
            }
            return Reply(200, {"Content-Type": "application/json"}, json.dumps(config).encode())
        if path == f"/index/{index_path(CRATE)}":
            entry = {
                "name": CRATE,
                "vers": VERSION,
                "deps": [],
                "cksum": checksum,
                "features": {},
                "yanked": False,
            }
            return Reply(200, {"Content-Type": "text/plain"}, json.dumps(entry).encode() + b"\n")
        if path == f"/dl/{CRATE}/{VERSION}/download":
            return Reply(200, {"Content-Type": "application/octet-stream"}, crate)
        return Reply(404, {}, b"not found")

    return handle


@pytest.fixture
def sparse_registry(
    loopback_server: Callable[..., LoopbackServer],
) -> Callable[..., SparseRegistry]:
    """Factory: ``sparse_registry("tok", host="127.0.0.2")`` -> a started private registry."""

    def start(token: str, host: str = "127.0.0.1") -> SparseRegistry:
        server = loopback_server(host, _registry_handler(token, crate_tarball()))
        return SparseRegistry(server, token)

    return start


@dataclass
class CargoHome:
    path: Path

    def write_config(self, text: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / "config.toml"
        target.write_text(text)
        return target

    def write_credentials(self, text: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / "credentials.toml"
        target.write_text(text)
        return target

    @property
    def credentials(self) -> Path:
        return self.path / "credentials.toml"


@pytest.fixture
def cargo_home() -> CargoHome:
    """The per-test ``$CARGO_HOME`` that ``isolated_home`` set."""
    return CargoHome(Path(os.environ["CARGO_HOME"]))


@dataclass
class Cargo:
    binary: str

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        stdin: str | None = None,
        extra_env: dict[str, str] | None = None,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **(extra_env or {})}
        env.pop("CARGO_NET_OFFLINE", None)
        env["CARGO_TERM_COLOR"] = "never"
        return subprocess.run(
            [self.binary, *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )


@pytest.fixture
def cargo() -> Cargo:
    binary = shutil.which("cargo") or (
        "/root/.cargo/bin/cargo" if os.path.exists("/root/.cargo/bin/cargo") else None
    )
    if binary is None:
        service_unavailable("cargo is not installed")
        raise AssertionError("unreachable")
    return Cargo(binary)


def write_project(directory: Path, registry: str, name: str = "app") -> Path:
    """A library crate depending on ``demo`` from ``registry``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f'[dependencies]\n{CRATE} = {{ version = "1", registry = "{registry}" }}\n'
    )
    (directory / "src").mkdir(exist_ok=True)
    (directory / "src" / "lib.rs").write_text("")
    return directory


@dataclass
class Hanging:
    """A script that records its pid and sleeps: a credential command or plugin that hangs."""

    path: Path
    pid_file: Path

    def assert_reaped(self) -> None:
        """The process was killed and waited for: no sleeper, no zombie is left."""
        with pytest.raises(ProcessLookupError):
            os.kill(int(self.pid_file.read_text()), 0)


def hanging_script(directory: Path) -> Hanging:
    path, pid_file = directory / "hangs.py", directory / "hangs.pid"
    path.write_text(
        f"#!{sys.executable}\nimport os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)\n"
    )
    path.chmod(0o755)
    return Hanging(path, pid_file)
