"""pip, uv, twine, pdm and poetry get an index's credentials from authadapter's stores (keyring).

The index is a real pypiserver that demands Basic auth for listing, downloads
and uploads; the tools are the real ones from PyPI, in an environment with
authadapter installed (which registers its keyring backend), and nothing in
their configuration names a credential. The credential lives only in
``~/.rattler/credentials.json`` of the test's temporary home, as ``authadapter
login`` or pixi would write it. No D-Bus session is passed on, so authadapter's
backend is the only keyring, except where a test brings a Secret Service.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.fixtures_secret_service import SecretService
from tests.integration.python_tools import (
    PASSWORD,
    TOOLS,
    USERNAME,
    PackageIndex,
    bin_dir,
    clean_environment,
    shared_venv,
    start_index,
    uv_binary,
    wheel,
)

pytestmark = pytest.mark.service

TIMEOUT = 120
"""A tool that waits for a prompt or a dead keyring would hang; this fails the test instead."""


@pytest.fixture(scope="session")
def venv_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every xdist worker of this session shares."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def _venv(root: Path, name: str, requirements: list[str]) -> Path:
    try:
        return shared_venv(root, name, requirements)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ImportError) as error:
        service_unavailable(f"cannot build the {name} environment: {error}")
        raise AssertionError("unreachable") from None


@pytest.fixture(scope="session")
def tools(venv_root: Path) -> Path:
    """pip, twine, pdm, pypiserver, keyring and authadapter in one environment."""
    return _venv(venv_root, "tools", TOOLS)


@pytest.fixture(scope="session")
def client(venv_root: Path) -> Path:
    """An environment with pip only: pip's subprocess mode runs a ``keyring`` from elsewhere."""
    return _venv(venv_root, "client", [])


@pytest.fixture(scope="session")
def keyring_alone(venv_root: Path) -> Path:
    """keyring without authadapter: the "before installing authadapter" environment."""
    return _venv(venv_root, "keyring-alone", ["keyring"])


@pytest.fixture(scope="session")
def index(tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """The password-protected index, holding ``demo-pkg`` 1.0."""
    directory = tmp_path_factory.mktemp("index")
    try:
        server = start_index(bin_dir(tools) / "python", directory)
    except (RuntimeError, subprocess.SubprocessError) as error:
        service_unavailable(f"pypiserver: {error}")
        raise AssertionError("unreachable") from None
    wheel(server.packages, "demo-pkg", "1.0")
    yield server
    server.stop()


@pytest.fixture
def home() -> Path:
    return Path.home()  # the temporary home of tests.conftest.isolated_home


def store_credential(home: Path, key: str, value: object) -> None:
    """Write ``{key: value}`` to rattler's credentials file, as ``authadapter login`` would."""
    path = home / ".rattler" / "credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: value}))


def store_index_login(home: Path, index: PackageIndex) -> None:
    basic = {"BasicHTTP": {"username": USERNAME, "password": PASSWORD}}
    store_credential(home, index.netloc, basic)


def run(argv: list[str], tools: Path, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run a tool with ``tools`` first on ``PATH`` (its ``keyring``); it must show no secret."""
    env = clean_environment({"PATH": f"{bin_dir(tools)}:{clean_environment()['PATH']}", **extra})
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )
    assert PASSWORD not in result.stdout + result.stderr  # whether it worked or not
    return result


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert PASSWORD not in output


def pip_download(python: Path, index: PackageIndex, target: Path, mode: str) -> list[str]:
    return [
        str(python),
        *("-m", "pip", "--isolated", "download", "--no-deps", "--no-input"),
        *("--keyring-provider", mode, "--index-url", index.simple, "-d", str(target)),
        "demo-pkg==1.0",
    ]


def uv_install(client: Path, index_url: str, target: Path) -> list[str]:
    return [
        uv_binary(),
        *("pip", "install", "--keyring-provider", "subprocess", "--default-index", index_url),
        *("--python", str(bin_dir(client) / "python"), "--target", str(target)),
        "demo-pkg==1.0",
    ]


# pip --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["import", "subprocess"])
def test_pip_downloads_with_the_stored_login(
    mode: str, tools: Path, client: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    # import mode: keyring in pip's own environment; subprocess mode: the `keyring` on PATH,
    # which pip finds only outside its own scripts directory
    python = bin_dir(tools if mode == "import" else client) / "python"
    result = run(pip_download(python, index, tmp_path / "dl", mode), tools, tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "dl").iterdir()] == ["demo_pkg-1.0-py3-none-any.whl"]


@pytest.mark.parametrize("mode", ["import", "subprocess"])
def test_pip_without_a_stored_login_fails_cleanly(
    mode: str, tools: Path, client: Path, index: PackageIndex, tmp_path: Path
) -> None:
    python = bin_dir(tools if mode == "import" else client) / "python"
    result = run(pip_download(python, index, tmp_path / "dl", mode), tools, tmp_path)
    assert_clean_failure(result)
    assert not (tmp_path / "dl").exists() or not any((tmp_path / "dl").iterdir())


def test_pip_gets_nothing_when_the_backend_is_switched_off(
    tools: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    argv = pip_download(bin_dir(tools) / "python", index, tmp_path / "dl", "import")
    result = run(argv, tools, tmp_path, AUTHADAPTER_KEYRING_BACKEND="0")
    assert_clean_failure(result)


# uv ---------------------------------------------------------------------------


def test_uv_installs_with_the_username_in_the_index_url(
    tools: Path, client: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    url = f"http://{USERNAME}@{index.netloc}/simple/"
    result = run(uv_install(client, url, tmp_path / "site"), tools, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "demo_pkg" / "__init__.py").read_text() == "VERSION = '1.0'\n"


def test_uv_installs_with_the_username_in_its_index_variable(
    tools: Path, client: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    argv = uv_install(client, f"private={index.simple}", tmp_path / "site")
    result = run(argv, tools, tmp_path, UV_INDEX_PRIVATE_USERNAME=USERNAME)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "demo_pkg").is_dir()


def test_uv_gets_nothing_for_another_username(
    tools: Path, client: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    url = f"http://bob@{index.netloc}/simple/"
    assert_clean_failure(run(uv_install(client, url, tmp_path / "site"), tools, tmp_path))


def test_uv_without_a_stored_login_fails_cleanly(
    tools: Path, client: Path, index: PackageIndex, tmp_path: Path
) -> None:
    url = f"http://{USERNAME}@{index.netloc}/simple/"
    assert_clean_failure(run(uv_install(client, url, tmp_path / "site"), tools, tmp_path))


# twine ------------------------------------------------------------------------


def twine_upload(tools: Path, index: PackageIndex, distribution: Path) -> list[str]:
    return [
        str(bin_dir(tools) / "twine"),
        *("upload", "--non-interactive", "--disable-progress-bar"),
        *("--repository-url", index.url, str(distribution)),
    ]


def test_twine_uploads_with_the_stored_login(
    tools: Path, index: PackageIndex, home: Path, tmp_path: Path, worker_id: str
) -> None:
    store_index_login(home, index)
    name = f"uploaded-{worker_id}-{tmp_path.name}".lower().replace("_", "-")
    distribution = wheel(tmp_path, name, "2.0")
    result = run(twine_upload(tools, index, distribution), tools, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (index.packages / distribution.name).read_bytes() == distribution.read_bytes()


def test_twine_without_a_stored_login_fails_cleanly(
    tools: Path, index: PackageIndex, tmp_path: Path
) -> None:
    distribution = wheel(tmp_path, "never-uploaded", "1.0")
    assert_clean_failure(run(twine_upload(tools, index, distribution), tools, tmp_path))
    assert not (index.packages / distribution.name).exists()


# pdm --------------------------------------------------------------------------


def pdm_project(directory: Path, index: PackageIndex) -> Path:
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        '[project]\nname = "client"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["demo-pkg==1.0"]\n\n'
        f'[[tool.pdm.source]]\nname = "pypi"\nurl = "{index.simple}"\n'
    )
    return directory


def pdm_lock(tools: Path, client: Path, project: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(bin_dir(tools) / "pdm"), "lock"]
    return run(argv, tools, project, PDM_PYTHON=str(bin_dir(client) / "python"))


def test_pdm_locks_with_the_stored_login(
    tools: Path, client: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    project = pdm_project(tmp_path / "project", index)
    result = pdm_lock(tools, client, project)
    assert result.returncode == 0, result.stdout + result.stderr
    lock = (project / "pdm.lock").read_text()
    assert 'name = "demo-pkg"' in lock
    assert "demo_pkg-1.0-py3-none-any.whl" in lock


def test_pdm_without_a_stored_login_fails_cleanly(
    tools: Path, client: Path, index: PackageIndex, tmp_path: Path
) -> None:
    project = pdm_project(tmp_path / "project", index)
    assert_clean_failure(pdm_lock(tools, client, project))
    assert not (project / "pdm.lock").exists()


# poetry -----------------------------------------------------------------------


def poetry_project(directory: Path, index: PackageIndex) -> Path:
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        '[project]\nname = "client"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["demo-pkg==1.0"]\n\n[tool.poetry]\npackage-mode = false\n\n'
        f'[[tool.poetry.source]]\nname = "private"\nurl = "{index.simple}"\n'
        'priority = "primary"\n'
    )
    return directory


def poetry_lock(tools: Path, project: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(bin_dir(tools) / "poetry"), "lock", "--no-interaction"]
    return run(argv, tools, project, POETRY_VIRTUALENVS_CREATE="false")


def test_poetry_locks_with_the_stored_login(
    tools: Path, index: PackageIndex, home: Path, tmp_path: Path
) -> None:
    store_index_login(home, index)
    project = poetry_project(tmp_path / "project", index)
    result = poetry_lock(tools, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo_pkg-1.0-py3-none-any.whl" in (project / "poetry.lock").read_text()


def test_poetry_without_a_stored_login_fails_cleanly(
    tools: Path, index: PackageIndex, tmp_path: Path
) -> None:
    project = poetry_project(tmp_path / "project", index)
    result = poetry_lock(tools, project)
    assert_clean_failure(result)
    assert "Authorization error accessing" in result.stdout + result.stderr
    assert not (project / "poetry.lock").exists()


# the keyring command ----------------------------------------------------------


def keyring(venv: Path, *args: str, stdin: str | None = None, **env: str) -> tuple[int, str]:
    result = subprocess.run(
        [str(bin_dir(venv) / "keyring"), *args],
        capture_output=True,
        text=True,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        env=clean_environment(env),
        timeout=TIMEOUT,
        check=False,
    )
    return result.returncode, result.stdout


def test_keyring_answers_in_every_argument_order_the_tools_use(tools: Path, home: Path) -> None:
    basic = {"BasicHTTP": {"username": "alice", "password": "pw-1a2b3c"}}
    store_credential(home, "127.0.0.1:8765", basic)
    url = "http://127.0.0.1:8765/simple/"
    as_json = '{"username": "alice", "password": "pw-1a2b3c"}\n'
    # pip's subprocess mode, without and with a username
    assert keyring(tools, "--mode=creds", "--output=json", "get", url) == (0, as_json)
    assert keyring(tools, "--mode=creds", "--output=json", "get", url, "alice") == (0, as_json)
    # uv: with a username, then its host:port form; without one, --mode creds after the service
    assert keyring(tools, "get", url, "alice") == (0, "pw-1a2b3c\n")
    assert keyring(tools, "get", "127.0.0.1:8765", "alice") == (0, "pw-1a2b3c\n")
    assert keyring(tools, "get", url, "--mode", "creds") == (0, "alice\npw-1a2b3c\n")
    # pdm (unearth) passes "" for an unknown username
    assert keyring(tools, "--mode=creds", "get", url, "") == (0, "alice\npw-1a2b3c\n")
    # another user, another port: nothing, exit status 1
    assert keyring(tools, "get", url, "bob") == (1, "")
    assert keyring(tools, "get", "http://127.0.0.1:9999/simple/", "alice") == (1, "")


def test_keyring_set_without_a_keyring_that_stores_refuses_and_says_where_logins_go(
    tools: Path, home: Path
) -> None:
    for argv, stdin in (
        (["set", "my-service", "me"], "pw-7a7a7a\n"),
        (["del", "my-service", "me"], ""),
    ):
        result = subprocess.run(
            [str(bin_dir(tools) / "keyring"), *argv],
            capture_output=True,
            text=True,
            input=stdin,
            env=clean_environment(),
            timeout=TIMEOUT,
            check=False,
        )
        assert result.returncode != 0
        assert result.stderr.splitlines()[-1].endswith(
            "authadapter's keyring backend stores nothing: save registry credentials with "
            "`authadapter login HOST`, or install a keyring that stores "
            "(Secret Service, keyrings.alt)"
        )
        assert "pw-7a7a7a" not in result.stdout + result.stderr
    assert not (home / ".rattler").exists()


def test_a_lookup_that_runs_keyring_does_not_come_back(
    tools: Path, home: Path, tmp_path: Path
) -> None:
    """A token command that itself runs ``keyring get`` is asked once, not in a loop."""
    calls = tmp_path / "calls"
    script = tmp_path / "token-command"
    keyring_command = bin_dir(tools) / "keyring"
    script.write_text(
        f"#!/bin/sh\necho call >> {calls}\nexec {keyring_command} get http://127.0.0.1:8765/ x\n"
    )
    script.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text(f'[[commands]]\nhosts = ["127.0.0.1"]\ncommand = ["{script}"]\n')
    store_credential(home, "127.0.0.1:8765", {"BearerToken": "token-9f8e7d"})
    status, output = keyring(
        tools, "get", "http://127.0.0.1:8765/simple/", "__token__", AUTHADAPTER_CONFIG=str(config)
    )
    assert (status, output) == (0, "token-9f8e7d\n")
    assert calls.read_text() == "call\n"


# a user's own keyring ---------------------------------------------------------


def secret_of(service: SecretService, attributes: dict[str, str]) -> list[bytes]:
    import secretstorage

    with closing(service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        return [item.get_secret() for item in collection.search_items(attributes)]


def test_the_users_keyring_keeps_its_entries_before_and_after_installing_authadapter(
    secret_service: SecretService, keyring_alone: Path, tools: Path, home: Path
) -> None:
    bus = {"DBUS_SESSION_BUS_ADDRESS": secret_service.address}
    url = "http://127.0.0.1:8765/simple/"
    store_credential(
        home, "127.0.0.1:8765", {"BasicHTTP": {"username": "alice", "password": "from-store-1"}}
    )

    # before: keyring alone writes to and reads from the Secret Service
    _, listing = keyring(keyring_alone, "--list-backends", **bus)
    assert "authadapter" not in listing
    assert keyring(keyring_alone, "set", "my-service", "me", stdin="mine-1\n", **bus)[0] == 0
    assert secret_of(secret_service, {"service": "my-service", "username": "me"}) == [b"mine-1"]

    # after: authadapter's backend is there, below the Secret Service
    _, listing = keyring(tools, "--list-backends", **bus)
    assert "authadapter.keyring_backend.AuthAdapterKeyring (priority: 0.1)" in listing
    assert "SecretService" in listing
    assert keyring(tools, "get", "my-service", "me", **bus) == (0, "mine-1\n")
    assert keyring(tools, "set", "my-service", "me2", stdin="mine-2\n", **bus)[0] == 0
    assert secret_of(secret_service, {"service": "my-service", "username": "me2"}) == [b"mine-2"]
    assert keyring(keyring_alone, "get", "my-service", "me2", **bus) == (0, "mine-2\n")
    assert keyring(tools, "del", "my-service", "me2", **bus)[0] == 0
    assert secret_of(secret_service, {"service": "my-service", "username": "me2"}) == []

    # without an entry of the user's own for an index, the store answers; with one, the entry
    assert keyring(tools, "get", url, "alice", **bus) == (0, "from-store-1\n")
    assert keyring(tools, "set", url, "alice", stdin="mine-3\n", **bus)[0] == 0
    assert keyring(tools, "get", url, "alice", **bus) == (0, "mine-3\n")
    assert secret_of(secret_service, {"service": url, "username": "alice"}) == [b"mine-3"]


def test_an_entry_pip_saved_under_host_port_is_not_shadowed(
    secret_service: SecretService, tools: Path, home: Path
) -> None:
    """pip asks with the index URL, then ``host:port``, where its "save credentials?" wrote."""
    bus = {"DBUS_SESSION_BUS_ADDRESS": secret_service.address}
    url = "http://127.0.0.1:8765/simple/"
    login = {"BasicHTTP": {"username": "alice", "password": "from-store-2"}}
    store_credential(home, "127.0.0.1:8765", login)
    assert keyring(tools, "set", "127.0.0.1:8765", "alice", stdin="saved-by-pip\n", **bus)[0] == 0
    as_json = '{"username": "alice", "password": "saved-by-pip"}\n'
    for service in (url, "127.0.0.1:8765"):  # pip's two questions, in its order
        answer = keyring(tools, "--mode=creds", "--output=json", "get", service, **bus)
        if answer[0] == 0:
            break
    assert (service, answer) == ("127.0.0.1:8765", (0, as_json))
    # another host's entry does not hold this one back
    assert keyring(tools, "get", "http://127.0.0.2:8765/simple/", "alice", **bus)[0] == 1
    store_credential(home, "127.0.0.2:8765", login)
    assert keyring(tools, "get", "http://127.0.0.2:8765/simple/", "alice", **bus) == (
        0,
        "from-store-2\n",
    )
