"""Real Python packaging tools and a real package index for the keyring backend's tests.

- ``shared_venv``: a virtual environment built once per test session with uv
  (from the test extra) and shared by the xdist workers (a file lock, a
  ``ready`` marker). Packages come from PyPI through the user's uv cache, so
  a second session builds in seconds.
- ``PackageIndex``: pypiserver with an htpasswd file, run by the tools
  environment's Python on 127.0.0.1, port 0; it demands Basic auth for
  listing, downloads and uploads.
- ``wheel``: a minimal valid wheel, built without any build backend.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USERNAME = "alice"
PASSWORD = "index-pass-5d81c2"
"""The only account of the test index (htpasswd)."""

UV_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uv"
"""Read when the tests are collected, before fixtures give each test a temporary home."""

TOOLS = [f"-e{ROOT}", "twine", "pdm[locked]", "poetry", "pypiserver[passlib]"]
"""The tools environment: authadapter itself (with keyring), twine, pdm, poetry and pypiserver.

``pdm[locked]``: pdm 2.29 fails to start with the newest hishel; its
``locked`` extra pins the versions it was released with."""

_SERVER = """
import socketserver, sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
import pypiserver

app = pypiserver.app(
    roots=[sys.argv[1]], authenticate=["download", "list", "update"], password_file=sys.argv[2]
)

class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, app, server_class=Server, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""

_HTPASSWD = """
import sys
from passlib.apache import HtpasswdFile
passwords = HtpasswdFile(sys.argv[1], new=True)
passwords.set_password(sys.argv[2], sys.argv[3])
passwords.save()
"""


def uv_binary() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without settings that would steer the tools elsewhere.

    Drops pip/uv/pdm/twine configuration (this machine points pip at local
    wheel directories), keyring's backend choice and the D-Bus address (no
    Secret Service unless a test brings one).
    """
    prefixes = ("PIP_", "UV_", "PDM_", "TWINE_", "POETRY_", "VIRTUAL_ENV", "KEYRING_PROPERTY_")
    names = {"PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in names}
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        UV_NO_CACHE="1",
        NO_COLOR="1",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra or {})
    return env


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_venv(root: Path, name: str, requirements: Sequence[str]) -> Path:
    """The environment ``root/name`` with ``requirements``, built by the first worker to ask.

    Raises ``RuntimeError`` with uv's message when it cannot be built (no
    network, for instance).
    """
    target = root / name
    with _locked(root / f"{name}.lock"):
        if (target / "ready").exists():
            return target
        uv = uv_binary()
        env = {**os.environ, "UV_CACHE_DIR": str(UV_CACHE)}
        env.pop("VIRTUAL_ENV", None)
        python = str(bin_dir(target) / "python")
        for argv in (
            [uv, "venv", "-q", "--seed", "--python", sys.executable, str(target)],
            *(
                [[uv, "pip", "install", "-q", "--python", python, *requirements]]
                * bool(requirements)
            ),
        ):
            result = subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=600, check=False
            )
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(argv[:3])} failed: {result.stderr.strip()[-500:]}")
        (target / "ready").touch()
    return target


def wheel(directory: Path, name: str, version: str) -> Path:
    """A minimal valid pure-Python wheel of ``name`` ``version`` in ``directory``."""
    module = name.replace("-", "_")
    dist = f"{module}-{version}"
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={encoded},{len(text.encode())}")
    files[f"{dist}.dist-info/RECORD"] = "\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n"
    target = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


@dataclass
class PackageIndex:
    """A running pypiserver; ``url`` is its root (uploads), ``simple`` its index."""

    process: subprocess.Popen[str]
    port: int
    packages: Path

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}/"

    @property
    def simple(self) -> str:
        return f"http://{self.netloc}/simple/"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_index(python: Path, directory: Path) -> PackageIndex:
    """pypiserver serving ``directory/packages``, one account (``USERNAME``, ``PASSWORD``)."""
    packages = directory / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    passwords = directory / "htpasswd"
    subprocess.run(
        [str(python), "-c", _HTPASSWD, str(passwords), USERNAME, PASSWORD],
        check=True,
        timeout=60,
    )
    process = subprocess.Popen(
        [str(python), "-c", _SERVER, str(packages), str(passwords)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.isdigit():
        process.kill()
        process.wait(5)
        raise RuntimeError("pypiserver did not start")
    return PackageIndex(process, int(line), packages)
