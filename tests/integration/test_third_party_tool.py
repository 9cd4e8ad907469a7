"""A real third-party tool, run unmodified in a subprocess, gets credentials from a real store.

HTTPie's ``http`` command is built on requests and makes its own
``requests.Session``; nothing in it knows authadapter. The loopback server
demands a bearer token that lives only in a rattler credentials file named by
``RATTLER_AUTH_FILE``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from authadapter._run import SITECUSTOMIZE_DIR
from tests.conftest import service_unavailable
from tests.support import LoopbackServer, require_authorization

TOKEN = "tool-token-7f3a"

ServerFactory = Callable[..., LoopbackServer]


@pytest.fixture
def server(loopback_server: ServerFactory) -> LoopbackServer:
    return loopback_server("127.0.0.1", require_authorization(f"Bearer {TOKEN}"))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"127.0.0.1": {"BearerToken": TOKEN}}))
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(path))
    return path


@pytest.fixture
def httpie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    http = shutil.which("http")
    if http is None:
        service_unavailable("HTTPie's `http` command is not installed (pip install httpie)")
    assert http is not None
    config = tmp_path / "httpie"
    config.mkdir()
    (config / "config.json").write_text('{"disable_update_warnings": true}')
    monkeypatch.setenv("HTTPIE_CONFIG_DIR", str(config))
    return http


def authadapter_command() -> list[str]:
    return [sys.executable, "-m", "authadapter.cli"]


def run(argv: list[str], cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_httpie_is_refused_without_authadapter(
    server: LoopbackServer, store: Path, httpie: str
) -> None:
    result = run([httpie, "--ignore-stdin", "--check-status", "-b", server.url + "/x"])
    assert result.returncode == 4  # HTTPie's exit status for a 4xx
    assert server.received[0].authorization is None


def test_authadapter_run_gives_httpie_the_stored_token(
    server: LoopbackServer, store: Path, httpie: str
) -> None:
    argv = [httpie, "--ignore-stdin", "--check-status", "-b", server.url + "/private/x"]
    result = run([*authadapter_command(), "run", "--", *argv])
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
    assert [r.authorization for r in server.received] == [f"Bearer {TOKEN}"]
    assert TOKEN not in result.stderr


def test_httpies_own_auth_wins_over_the_patch(
    server: LoopbackServer, store: Path, httpie: str
) -> None:
    argv = [httpie, "--ignore-stdin", "-a", "me:pw", "-b", server.url + "/x"]
    run([*authadapter_command(), "run", "--", *argv])
    assert server.received[0].authorization == "Basic bWU6cHc="


def test_the_environment_variable_alone_patches_at_start_up(
    server: LoopbackServer, store: Path, httpie: str
) -> None:
    argv = [httpie, "--ignore-stdin", "--check-status", "-b", server.url + "/x"]
    result = run(argv, PYTHONPATH=SITECUSTOMIZE_DIR, AUTHADAPTER_PATCH="requests")
    assert result.returncode == 0, result.stderr
    assert server.received[0].authorization == f"Bearer {TOKEN}"


def test_an_existing_sitecustomize_still_runs(
    server: LoopbackServer, store: Path, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "sitecustomize.py").write_text("import os\nos.environ['THEIRS_RAN'] = 'yes'\n")
    program = (
        "import os, requests\n"
        f"r = requests.get({server.url + '/x'!r}, timeout=10)\n"
        "print(os.environ.get('THEIRS_RAN'), r.status_code)\n"
    )
    result = run(
        [*authadapter_command(), "run", "--", sys.executable, "-c", program],
        PYTHONPATH=str(theirs),
    )
    assert result.stdout.split() == ["yes", "200"], result.stderr


def test_a_library_is_patched_when_the_program_imports_it(store: Path) -> None:
    program = (
        "import sys\n"
        "before = 'requests' in sys.modules or 'httpx' in sys.modules\n"
        "import requests\n"
        "patched = hasattr(requests.Session.prepare_request, '__wrapped__')\n"
        "print(before, patched)\n"
    )
    result = run([*authadapter_command(), "run", "--", sys.executable, "-c", program])
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_a_broken_config_stops_run_with_one_line_naming_the_file(
    tmp_path: Path, store: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("timeout = 'soon'\n")
    result = run(
        [*authadapter_command(), "run", "--", sys.executable, "-c", "print('ran')"],
        AUTHADAPTER_CONFIG=str(config),
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"authadapter: error: {config}: timeout: expected a number of seconds, got a string\n"
    )


def test_a_config_broken_after_start_leaves_the_program_running_unpatched(
    server: LoopbackServer, tmp_path: Path, store: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("ttl = [\n")
    program = f"import requests; print(requests.get({server.url!r}, timeout=10).status_code)"
    result = run(
        [sys.executable, "-c", program],
        PYTHONPATH=SITECUSTOMIZE_DIR,
        AUTHADAPTER_PATCH="1",
        AUTHADAPTER_CONFIG=str(config),
    )
    assert result.stdout.strip() == "401"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"authadapter: {config}: not valid TOML")
    assert line.endswith("; nothing is patched")


def _bare_python_with_fake_requests(tmp_path: Path) -> tuple[str, Path]:
    """A venv's python without authadapter, and a directory whose ``requests`` only prints."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "requests.py").write_text("print('their requests')\n")
    return python, fake


def test_a_python_without_authadapter_runs_unpatched_and_says_so(tmp_path: Path) -> None:
    python, fake = _bare_python_with_fake_requests(tmp_path)
    pythonpath = os.pathsep.join([SITECUSTOMIZE_DIR, str(fake)])
    silent = run([python, "-c", "print('no http library')"], tmp_path, PYTHONPATH=pythonpath)
    assert (silent.stdout, silent.stderr) == ("no http library\n", "")
    importing = [python, "-c", "import requests"]
    result = run(importing, tmp_path, PYTHONPATH=pythonpath, AUTHADAPTER_PATCH="1")
    assert result.stdout == "their requests\n"
    assert result.stderr == f"authadapter: not importable by {python}; requests is not patched\n"


def test_authadapter_without_its_dependencies_does_not_stop_the_program(tmp_path: Path) -> None:
    # a Python that finds authadapter's source (here: on sys.path) but not platformdirs
    python, fake = _bare_python_with_fake_requests(tmp_path)
    source = Path(SITECUSTOMIZE_DIR).parent.parent
    pythonpath = os.pathsep.join([SITECUSTOMIZE_DIR, str(fake), str(source)])
    importing = [python, "-c", "import requests; print('still running')"]
    result = run(importing, tmp_path, PYTHONPATH=pythonpath, AUTHADAPTER_PATCH="requests")
    assert result.stdout == "their requests\nstill running\n"
    [line] = result.stderr.splitlines()
    assert line.startswith("authadapter: ModuleNotFoundError(")
    assert line.endswith("; nothing is patched")


def test_a_failing_shadowed_sitecustomize_does_not_stop_the_patch(
    server: LoopbackServer, tmp_path: Path, store: Path
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "sitecustomize.py").write_text("raise RuntimeError('their bug')\n")
    program = f"import requests; print(requests.get({server.url!r}, timeout=10).status_code)"
    result = run(
        [*authadapter_command(), "run", "--", sys.executable, "-c", program],
        PYTHONPATH=str(theirs),
    )
    assert result.stdout.strip() == "200"
    # the second line comes from the authadapter CLI process, which imports it too
    assert "Error in sitecustomize: RuntimeError('their bug')" in result.stderr.splitlines()


def test_run_reports_a_missing_program_in_one_line() -> None:
    result = run([*authadapter_command(), "run", "--", "no-such-program-4242"])
    assert result.returncode == 127
    assert result.stderr.startswith("authadapter run: cannot run 'no-such-program-4242': ")
    assert len(result.stderr.splitlines()) == 1


def test_print_env_switches_the_patch_on_for_any_python(
    server: LoopbackServer, store: Path
) -> None:
    printed = run([*authadapter_command(), "run", "--only", "requests", "--print-env"])
    variables = dict(line.split("=", 1) for line in printed.stdout.splitlines())
    assert variables["AUTHADAPTER_PATCH"] == "requests"
    assert variables["PYTHONPATH"].split(os.pathsep)[0] == SITECUSTOMIZE_DIR
    program = f"import requests; print(requests.get({server.url!r}, timeout=10).status_code)"
    result = run([sys.executable, "-c", program], None, **variables)
    assert result.stdout.strip() == "200", result.stderr


AIOHTTP_PROGRAM = """
import asyncio, aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get({url!r}) as response:
            print(response.status, await response.text())
    async with aiohttp.request("GET", {url!r}) as response:
        print(response.status, await response.text())

asyncio.run(main())
"""

NIQUESTS_PROGRAM = """
import asyncio, niquests

with niquests.Session() as session:
    response = session.get({url!r}, timeout=10)
    print(response.status_code, response.text)

async def main():
    async with niquests.AsyncSession() as session:
        response = await session.get({url!r}, timeout=10)
        print(response.status_code, response.text)

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("library", "program"), [("aiohttp", AIOHTTP_PROGRAM), ("niquests", NIQUESTS_PROGRAM)]
)
@pytest.mark.parametrize("how", ["all", "only"])
def test_authadapter_run_authenticates_an_unmodified_async_client_program(
    server: LoopbackServer, store: Path, library: str, program: str, how: str
) -> None:
    if library == "niquests" and importlib.util.find_spec("niquests") is None:
        service_unavailable("niquests is not installed (noxfile.py: install_niquests)")
    only = ["--only", library] if how == "only" else []
    code = program.format(url=server.url + "/private/x")
    result = run([*authadapter_command(), "run", *only, "--", sys.executable, "-c", code])
    assert result.stdout.split() == ["200", "ok", "200", "ok"], result.stderr
    assert [r.authorization for r in server.received] == [f"Bearer {TOKEN}"] * 2
