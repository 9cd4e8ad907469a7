"""authadapter's keyring provider uses the backend python-keyring would choose, in every case.

Each case runs two fresh processes in the same environment: one asks
python-keyring (``keyring.get_keyring()``, inside ``own_lookup()`` as
authadapter's keyring provider asks it), the other asks authadapter's
keyring provider which backend it uses. They must name the same backend. Where
no keyring can exist, authadapter must get there without importing keyring.
The cases with a running Secret Service or an installed third-party backend
are in ``tests/integration/test_keyring_selection_real.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

KEYRING_CHOICE = (
    "import keyring\n"
    "from authadapter._reentry import own_lookup\n"
    # as keyring chooses inside authadapter's lookups, where authadapter's own backend is out
    "with own_lookup():\n"
    "    backend = keyring.get_keyring()\n"
    "print(f'{type(backend).__module__}.{type(backend).__qualname__}')\n"
)

AUTHADAPTER_CHOICE = (
    "import sys\n"
    "from authadapter.providers.keyring_selection import backend_name\n"
    "from authadapter.providers.keyring_store import KeyringProvider\n"
    "print(backend_name(KeyringProvider().backend()))\n"
    "print('keyring imported' if 'keyring' in sys.modules else 'keyring not imported')\n"
)

MEMORY_BACKEND = '''
from keyring.backend import KeyringBackend


class Keyring(KeyringBackend):
    """Answers every rattler lookup with one bearer token."""

    priority = 1

    def get_password(self, service, username):
        return '{"BearerToken": "memory-token"}' if service == "rattler" else None

    def set_password(self, service, username, password):
        raise NotImplementedError
'''


def environment(home: Path, **extra: str) -> dict[str, str]:
    """A user's environment with nothing keyring-related unless ``extra`` adds it."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **extra}


def run_python(program: str, env: Mapping[str, str], python: str = sys.executable) -> list[str]:
    result = subprocess.run(
        [python, "-c", program], env=dict(env), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def choices(env: Mapping[str, str], python: str = sys.executable) -> tuple[str, str, str]:
    """(keyring's choice, authadapter's choice, whether authadapter imported keyring)."""
    [keyring_choice] = run_python(KEYRING_CHOICE, env, python)
    ours, imported = run_python(AUTHADAPTER_CHOICE, env, python)
    return keyring_choice, ours, imported


@pytest.fixture
def home(tmp_path: Path) -> Path:
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture
def backend_directory(tmp_path: Path) -> Path:
    """A directory holding ``memory_backend.py``, a keyring backend a user wrote."""
    directory = tmp_path / "backends"
    directory.mkdir()
    (directory / "memory_backend.py").write_text(MEMORY_BACKEND)
    return directory


def test_no_keyring_anywhere_is_keyrings_fail_backend_without_importing_keyring(
    home: Path,
) -> None:
    keyring_choice, ours, imported = choices(environment(home))

    assert keyring_choice == ours == "keyring.backends.fail.Keyring"
    assert imported == "keyring not imported"


def test_a_session_bus_that_does_not_answer_is_asked_and_means_no_keyring(
    home: Path, tmp_path: Path
) -> None:
    env = environment(home, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path / 'no-bus'}")

    keyring_choice, ours, _ = choices(env)

    assert keyring_choice == ours == "keyring.backends.fail.Keyring"


def test_a_standard_bus_socket_without_an_address_is_asked_and_means_no_keyring(
    home: Path, tmp_path: Path
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    (runtime / "bus").write_text("")  # where a systemd user session puts its bus
    env = environment(home, XDG_RUNTIME_DIR=str(runtime))

    keyring_choice, ours, _ = choices(env)

    assert keyring_choice == ours == "keyring.backends.fail.Keyring"


def test_python_keyring_backend_is_honoured(home: Path, backend_directory: Path) -> None:
    env = environment(
        home,
        PYTHONPATH=str(backend_directory),
        PYTHON_KEYRING_BACKEND="memory_backend.Keyring",
    )

    keyring_choice, ours, _ = choices(env)

    assert keyring_choice == ours == "memory_backend.Keyring"


@pytest.mark.parametrize("xdg", [False, True], ids=["home-config", "xdg-config-home"])
def test_keyringrc_cfg_is_honoured_with_its_keyring_path(
    home: Path, backend_directory: Path, tmp_path: Path, xdg: bool
) -> None:
    config_home = tmp_path / "xdg" if xdg else home / ".config"
    (config_home / "python_keyring").mkdir(parents=True)
    (config_home / "python_keyring" / "keyringrc.cfg").write_text(
        f"[backend]\ndefault-keyring = memory_backend.Keyring\nkeyring-path = {backend_directory}\n"
    )
    env = environment(home, **({"XDG_CONFIG_HOME": str(config_home)} if xdg else {}))

    keyring_choice, ours, _ = choices(env)

    assert keyring_choice == ours == "memory_backend.Keyring"


def test_keyringrc_cfg_turning_the_keyring_off_is_honoured(home: Path) -> None:
    (home / ".config" / "python_keyring").mkdir(parents=True)
    (home / ".config" / "python_keyring" / "keyringrc.cfg").write_text(
        "[backend]\ndefault-keyring = keyring.backends.null.Keyring\n"
    )

    keyring_choice, ours, _ = choices(environment(home))

    assert keyring_choice == ours == "keyring.backends.null.Keyring"


def test_a_backend_installed_in_a_zip_on_sys_path_is_found_as_keyring_finds_it(
    home: Path, tmp_path: Path
) -> None:
    import zipfile

    archive = tmp_path / "backends.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped_backend.py", MEMORY_BACKEND)
        zipped.writestr("zipped_backend-1.0.dist-info/METADATA", "Name: zipped-backend\n")
        zipped.writestr(
            "zipped_backend-1.0.dist-info/entry_points.txt",
            "[keyring.backends]\nzipped = zipped_backend\n",
        )

    keyring_choice, ours, _ = choices(environment(home, PYTHONPATH=str(archive)))

    assert keyring_choice == ours == "zipped_backend.Keyring"


def test_a_backend_the_program_set_is_the_one_used(home: Path, backend_directory: Path) -> None:
    program = (
        "import keyring, memory_backend\n"
        "keyring.set_keyring(memory_backend.Keyring())\n" + AUTHADAPTER_CHOICE
    )

    ours, _ = run_python(program, environment(home, PYTHONPATH=str(backend_directory)))

    assert ours == "memory_backend.Keyring"


def test_a_backend_class_the_program_defined_is_ranked_as_keyring_ranks_it(
    home: Path, backend_directory: Path
) -> None:
    # keyring sees every KeyringBackend subclass defined in the process, entry point or not
    env = environment(home, PYTHONPATH=str(backend_directory))

    [keyring_choice] = run_python("import memory_backend\n" + KEYRING_CHOICE, env)
    ours, _ = run_python("import memory_backend\n" + AUTHADAPTER_CHOICE, env)

    assert keyring_choice == ours == "memory_backend.Keyring"


def test_the_chosen_backend_answers_the_lookup(home: Path, backend_directory: Path) -> None:
    request = {
        "v": 1,
        "kind": "get",
        "operation": "read",
        "registry": {"index-url": "sparse+https://repo.example.org/index/"},
    }
    env = environment(
        home, PYTHONPATH=str(backend_directory), PYTHON_KEYRING_BACKEND="memory_backend.Keyring"
    )

    result = subprocess.run(
        [sys.executable, "-m", "authadapter.cli", "cargo-credential"],
        input=json.dumps(request) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["Ok"]["token"] == "Bearer memory-token"
