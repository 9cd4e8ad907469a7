"""A real keyring plugin package, installed by pip into a fresh venv, answers for its host.

The plugin is built here as a wheel (a ``keyring.backends`` entry point, a
backend that mints a token for the hosts it serves, the way artifacts-keyring
does for Azure DevOps) and installed by pip into a new venv, which also sees
authadapter from this checkout and its dependencies. A script in that venv
sends requests with ``RegistryAuth()``'s default chain to loopback servers:
python-keyring must pick the plugin by its priority, and only the plugin's
host may receive its credential.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import authadapter
from tests.conftest import service_unavailable
from tests.support import LoopbackServer, require_authorization

pytestmark = pytest.mark.service

ServerFactory = Callable[..., LoopbackServer]

PLUGIN = '''
import json
import os
from urllib.parse import urlsplit

from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential

from authadapter._reentry import inside_own_lookup


class CorpKeyring(KeyringBackend):
    """Mints a token for the hosts in CORP_KEYRING_HOSTS, whatever form the service takes."""

    priority = 20

    def get_credential(self, service, username):
        with open(os.environ["CORP_KEYRING_LOG"], "a") as log:
            log.write(json.dumps([service, username, inside_own_lookup()]) + "\\n")
        if os.environ.get("CORP_KEYRING_RAISE"):
            raise ConnectionError("token endpoint unreachable")
        host = urlsplit(service).hostname or service.rsplit(":", 1)[0]
        if host in os.environ["CORP_KEYRING_HOSTS"].split(","):
            return SimpleCredential("corp-user", "minted-for-" + host)
        return None

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        raise NotImplementedError
'''

CLIENT = """
import sys

import httpx

from authadapter import RegistryAuth

order = sys.argv[1].split(",") if sys.argv[1] else None
with httpx.Client(auth=RegistryAuth(config=False, order=order)) as client:
    for url in sys.argv[2:]:
        print(client.get(url).status_code)
"""


def build_wheel(directory: Path) -> Path:
    """``corp-keyring`` 1.0 as a wheel pip accepts (METADATA, WHEEL, entry points, RECORD)."""
    info = "corp_keyring-1.0.dist-info"
    files = {
        "corp_keyring/__init__.py": "",
        "corp_keyring/backend.py": PLUGIN,
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: corp-keyring\nVersion: 1.0\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: authadapter-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
        f"{info}/entry_points.txt": "[keyring.backends]\ncorp = corp_keyring.backend\n",
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / "corp_keyring-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the plugin installed by pip, and authadapter from this checkout."""
    root = tmp_path_factory.mktemp("plugin-venv")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    checkout = Path(authadapter.__file__).resolve().parent.parent
    outer = sysconfig.get_paths()["purelib"]  # keyring, httpx and their dependencies
    (Path(purelib) / "authadapter-tests.pth").write_text(
        f"{checkout}\nimport site; site.addsitedir({outer!r})\n"
    )
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    installed = subprocess.run(
        [*pip, "install", "--no-index", "--no-deps", "-q", str(build_wheel(root))],
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode != 0:
        service_unavailable(f"pip could not install the plugin wheel: {installed.stderr[-300:]}")
    return python


def run_client(
    python: Path, tmp_path: Path, urls: list[str], order: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    environment.update(
        CORP_KEYRING_LOG=str(tmp_path / "asked.jsonl"), CORP_KEYRING_HOSTS="127.0.0.2", **env
    )
    return subprocess.run(
        [str(python), "-c", CLIENT, order, *urls],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def asked(tmp_path: Path) -> list[list[object]]:
    lines = (tmp_path / "asked.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_python_keyring_in_the_venv_picks_the_installed_plugin(venv_python: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    chosen = subprocess.run(
        [str(venv_python), "-c", "import keyring; print(type(keyring.get_keyring()).__name__)"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert chosen.stdout.strip() == "CorpKeyring"


def test_the_plugins_host_gets_its_token_and_no_other_host_does(
    venv_python: Path, tmp_path: Path, loopback_server: ServerFactory
) -> None:
    corp_credential = base64.b64encode(b"corp-user:minted-for-127.0.0.2").decode()
    corp = loopback_server("127.0.0.2", require_authorization(f"Basic {corp_credential}"))
    other = loopback_server("127.0.0.3", require_authorization("never"))
    url = f"{corp.url}/org/_packaging/feed/pypi/simple/pkg/"

    result = run_client(venv_python, tmp_path, [url, f"{other.url}/simple/pkg/"])

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "401"]
    assert [r.authorization for r in other.received] == [None]
    questions = asked(tmp_path)
    assert questions[0] == [url, None, True]  # the URL first, no username, inside own_lookup()
    assert all(username is None and inside for _, username, inside in questions)
    # the other host: pip's three forms, asked again after its 401, and never answered
    assert [service for service, _, _ in questions[1:4]] == [
        f"{other.url}/simple/pkg/",
        f"{other.url}/",
        f"127.0.0.3:{other.port}",
    ]
    assert {service for service, _, _ in questions[4:]} <= {s for s, _, _ in questions[1:4]}


def test_a_plugin_that_raises_is_a_warning_and_the_next_store_answers(
    venv_python: Path, tmp_path: Path, loopback_server: ServerFactory
) -> None:
    netrc_credential = base64.b64encode(b"netrc-user:netrc-pass").decode()
    corp = loopback_server("127.0.0.2", require_authorization(f"Basic {netrc_credential}"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.2 login netrc-user password netrc-pass\n")

    result = run_client(
        venv_python,
        tmp_path,
        [f"{corp.url}/simple/"],
        order="pip-keyring,netrc",
        CORP_KEYRING_RAISE="1",
        NETRC=str(netrc),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200"]
    assert "pip-keyring" in result.stderr
    assert "CorpKeyring raised ConnectionError" in result.stderr
    assert "netrc-pass" not in result.stderr
