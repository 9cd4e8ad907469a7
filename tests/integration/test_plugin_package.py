"""A store shipped as a package: the example of docs/plugins.md, installed with pip, used by all.

The two files of the example are taken from the page itself, so the page
cannot drift from what works. They are installed together with authadapter
(this checkout, with httpx) into a new virtual environment by pip, as a user
would install them; nothing of this test's own environment is visible there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.support import LoopbackServer, require_authorization
from tests.test_docs_examples import DOCS, blocks

ROOT = DOCS.parent
HOST = "127.0.0.7"
TOKEN = "acme-sso-token-7"
FILES = ("pyproject.toml", "acme_authadapter.py")

pytestmark = pytest.mark.service


def page_files() -> dict[str, str]:
    found = {
        block.directive.removeprefix("file:").strip(): block.body
        for block in blocks(DOCS / "plugins.md")
        if block.directive.startswith("file:")
    }
    return {name: found[name].replace("repo.example.org", HOST) for name in FILES}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("plugin")
    project = base / "acme-authadapter"
    project.mkdir()
    for name, text in page_files().items():
        (project / name).write_text(text)
    target = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=120)
    install = subprocess.run(
        [
            str(target / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            f"{ROOT}[httpx]",
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")
        },
        check=False,
    )
    if install.returncode != 0:
        service_unavailable(
            f"pip could not install the plugin and authadapter: {install.stderr[-500:]}"
        )
    return target


@pytest.fixture
def server(loopback_server: Callable[..., LoopbackServer]) -> LoopbackServer:
    return loopback_server(HOST, require_authorization(f"Bearer {TOKEN}"))


@pytest.fixture
def sso_token() -> Path:
    path = Path.home() / ".acme" / "registry-token"
    path.parent.mkdir(parents=True)
    path.write_text(TOKEN + "\n")
    return path


def run(venv: Path, *argv: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, **env},
        check=False,
    )


REQUEST = """\
import sys
import httpx
from authadapter import RegistryAuth
print(httpx.get(sys.argv[1], auth=RegistryAuth()).status_code)
"""


def test_the_plugins_token_reaches_the_server_through_registry_auth(
    venv: Path, server: LoopbackServer, sso_token: Path
) -> None:
    done = run(venv, "python", "-c", REQUEST, server.url + "/simple/")

    assert (done.stdout, done.stderr) == ("200\n", "")
    assert server.received[-1].authorization == f"Bearer {TOKEN}"


def test_which_and_config_show_the_plugin_in_its_place(
    venv: Path, server: LoopbackServer, sso_token: Path
) -> None:
    which = run(venv, "authadapter", "which", server.url + "/simple/")
    config = run(venv, "authadapter", "config")

    assert (which.returncode, which.stderr) == (0, "")
    [line] = [line for line in which.stdout.splitlines() if "acme-sso" in line]
    assert str(sso_token) in line
    assert line.endswith("<- used")
    assert TOKEN not in which.stdout
    assert (config.returncode, config.stderr) == (0, "")
    stores = [line.split()[:3] for line in config.stdout.splitlines()[4:] if line.startswith("  ")]
    assert stores[:3] == [["1.", "commands", "on"], ["2.", "env", "on"], ["3.", "acme-sso", "on"]]
    assert "[plugin acme-authadapter: acme-sso = acme_authadapter:ENTRY]" in config.stdout


def test_the_cargo_front_end_gets_the_plugins_token(venv: Path, sso_token: Path) -> None:
    get = {
        "v": 1,
        "kind": "get",
        "operation": "read",
        "registry": {"index-url": f"sparse+https://{HOST}/index/", "name": "acme"},
    }

    done = run(venv, "authadapter", "cargo-credential", stdin=json.dumps(get) + "\n")

    assert json.loads(done.stdout.splitlines()[1])["Ok"]["token"] == f"Bearer {TOKEN}"


def test_the_plugins_switch_turns_it_off(
    venv: Path, server: LoopbackServer, sso_token: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[providers]\nacme-sso = false\n")

    done = run(venv, "python", "-c", REQUEST, server.url + "/x", AUTHADAPTER_CONFIG=str(config))
    listed = run(venv, "authadapter", "config", AUTHADAPTER_CONFIG=str(config))

    assert done.stdout == "401\n"
    assert server.received[-1].authorization is None
    assert ["3.", "acme-sso", "off"] in [line.split()[:3] for line in listed.stdout.splitlines()]


def test_a_broken_plugin_is_one_warning_and_the_rest_still_works(
    venv: Path, server: LoopbackServer, tmp_path: Path
) -> None:
    (tmp_path / "acme_authadapter.py").write_text(
        "raise ImportError('the agent is not installed')\n"
    )
    store = tmp_path / "auth.json"
    store.write_text(json.dumps({HOST: {"BearerToken": TOKEN}}))

    done = run(
        venv,
        "python",
        "-c",
        REQUEST,
        server.url + "/x",
        PYTHONPATH=str(tmp_path),
        RATTLER_AUTH_FILE=str(store),
    )

    assert done.stdout == "200\n"
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        "plugin acme-authadapter: acme-sso = acme_authadapter:ENTRY left out: cannot import it "
        "(ImportError: the agent is not installed)"
    )
