"""authadapter's keyring backend, as pip, uv, twine, poetry and pdm call it in-process.

Credentials come from real stores (``AUTHADAPTER_CREDENTIALS``, rattler's
credentials file, a token command, a Secret Service); the tools themselves
are run in tests/integration/test_python_tools.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import keyring.errors
import pytest

from authadapter._reentry import own_lookup
from authadapter.cli import main
from authadapter.keyring_backend import PRIORITY, AuthAdapterKeyring
from tests.fixtures_secret_service import SecretService

BASIC = {"BasicHTTP": {"username": "alice", "password": "basic-pw-8c1d"}}


@pytest.fixture
def backend() -> AuthAdapterKeyring:
    return AuthAdapterKeyring()


class EnvironmentStore(dict[str, object]):
    """``AUTHADAPTER_CREDENTIALS``, rewritten whenever an entry is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        self.monkeypatch = monkeypatch

    def __setitem__(self, key: str, value: object) -> None:
        super().__setitem__(key, value)
        self.monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", json.dumps(dict(self)))


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> EnvironmentStore:
    return EnvironmentStore(monkeypatch)


def write_rattler_file(entries: dict[str, object]) -> None:
    path = Path.home() / ".rattler" / "credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(path))
    return path


def pair(credential: object) -> tuple[str, str] | None:
    if credential is None:
        return None
    return credential.username, credential.password  # type: ignore[attr-defined]


# service forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    "service",
    [
        "http://127.0.0.1:8765/simple/",  # pip, uv: the index URL
        "http://127.0.0.1:8765/simple",  # without its trailing slash
        "http://127.0.0.1:8765/legacy/",  # twine: an upload URL
        "http://127.0.0.1:8765",  # uv: scheme://host:port
        "127.0.0.1:8765",  # pip, uv, poetry: host:port
        "HTTP://127.0.0.1:8765/simple/",
    ],
)
def test_every_service_form_the_tools_ask_is_answered(
    service: str, backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["127.0.0.1:8765"] = BASIC
    assert pair(backend.get_credential(service, None)) == ("alice", "basic-pw-8c1d")
    assert backend.get_password(service, "alice") == "basic-pw-8c1d"


@pytest.mark.parametrize(
    "service",
    [
        "poetry-repository-private",  # names no URL: the tools ask with the URL next
        "pdm-pypi-private",
        "",
        "ftp://127.0.0.1:8765/",
        "alice@127.0.0.1:8765",
        "http://127.0.0.1:8765 /simple/",
        "http:///simple/",
    ],
)
def test_a_service_that_names_no_index_gets_nothing(
    service: str, backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["*"] = BASIC
    stores["127.0.0.1"] = BASIC
    assert backend.get_credential(service, None) is None
    assert backend.get_password(service, "alice") is None


def test_the_username_given_must_be_the_stored_one(
    backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["127.0.0.1"] = BASIC
    url = "http://127.0.0.1:8765/simple/"
    for unknown in (None, ""):  # pip and twine pass None, pdm's CLI form passes ""
        assert pair(backend.get_credential(url, unknown)) == ("alice", "basic-pw-8c1d")
    assert backend.get_password(url, "") == "basic-pw-8c1d"
    assert backend.get_credential(url, "bob") is None
    assert backend.get_password(url, "bob") is None


def test_a_bearer_token_is_the_password_of_token_user(
    backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["127.0.0.1"] = {"BearerToken": "bearer-tok-4e2a"}
    url = "http://127.0.0.1/simple/"
    assert pair(backend.get_credential(url, None)) == ("__token__", "bearer-tok-4e2a")
    assert backend.get_password(url, "__token__") == "bearer-tok-4e2a"
    assert backend.get_password(url, "alice") is None


def test_a_conda_token_is_not_offered(
    backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["127.0.0.1"] = {"CondaToken": "conda-tok-77aa"}
    assert backend.get_credential("http://127.0.0.1/simple/", None) is None


def test_a_raw_token_is_not_offered(
    backend: AuthAdapterKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = executable(tmp_path / "token", f"#!{sys.executable}\nprint('raw-tok-5b5b')\n")
    configure(
        tmp_path,
        monkeypatch,
        f'[[commands]]\nhosts = ["127.0.0.1"]\ncommand = ["{script}"]\nkind = "raw"\n',
    )
    assert backend.get_credential("http://127.0.0.1/simple/", None) is None


# what authadapter would send ----------------------------------------------------


def test_plain_http_to_a_remote_host_gets_nothing(
    backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["repo.example.org"] = BASIC
    assert pair(backend.get_credential("https://repo.example.org/simple/", None)) is not None
    assert backend.get_credential("http://repo.example.org/simple/", None) is None
    # a bare host says nothing about TLS: as strict as plain http
    assert backend.get_credential("repo.example.org", None) is None


def test_allow_http_hosts_opens_plain_http_and_the_bare_host(
    backend: AuthAdapterKeyring,
    stores: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores["repo.example.org"] = BASIC
    configure(tmp_path, monkeypatch, 'allow_http_hosts = ["repo.example.org"]\n')
    expected = ("alice", "basic-pw-8c1d")
    assert pair(backend.get_credential("http://repo.example.org/simple/", None)) == expected
    assert pair(backend.get_credential("repo.example.org", None)) == expected


def test_the_chain_order_decides_as_for_every_client(
    backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    """``AUTHADAPTER_CREDENTIALS`` comes before rattler's file, as for httpx and requests."""
    write_rattler_file({"127.0.0.1": {"BearerToken": "from-file-0c0c"}})
    url = "http://127.0.0.1/simple/"
    assert pair(backend.get_credential(url, None)) == ("__token__", "from-file-0c0c")
    stores["127.0.0.1"] = BASIC
    assert pair(backend.get_credential(url, None)) == ("alice", "basic-pw-8c1d")


def test_a_broken_store_is_a_warning_and_no_answer(
    backend: AuthAdapterKeyring,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", "{not json")
    assert backend.get_credential("http://127.0.0.1/simple/", None) is None
    assert "AUTHADAPTER_CREDENTIALS" in caplog.text


# storing ------------------------------------------------------------------------


def test_set_and_delete_refuse_and_say_where_credentials_go(backend: AuthAdapterKeyring) -> None:
    with pytest.raises(keyring.errors.PasswordSetError, match="authadapter login"):
        backend.set_password("http://127.0.0.1/simple/", "alice", "new-pw-1234")
    with pytest.raises(keyring.errors.PasswordDeleteError, match="authadapter login"):
        backend.delete_password("http://127.0.0.1/simple/", "alice")


# priority and the off switch ----------------------------------------------------


def test_priority_is_above_no_keyring_and_below_a_recommended_one() -> None:
    """Chosen where nothing else is viable; chained after the user's keyring (tested there)."""
    from keyring.backends import fail

    assert AuthAdapterKeyring.viable
    assert fail.Keyring.priority < AuthAdapterKeyring.priority == PRIORITY < 1


@pytest.mark.parametrize("value", ["0", "false", "off", "no", "OFF"])
def test_the_environment_variable_switches_it_off(
    value: str,
    backend: AuthAdapterKeyring,
    stores: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stores["127.0.0.1"] = BASIC
    monkeypatch.setenv("AUTHADAPTER_KEYRING_BACKEND", value)
    assert not AuthAdapterKeyring.viable
    with pytest.raises(RuntimeError, match="AUTHADAPTER_KEYRING_BACKEND"):
        AuthAdapterKeyring.priority  # noqa: B018


def test_the_configuration_file_switches_it_off_and_the_variable_back_on(
    backend: AuthAdapterKeyring,
    stores: EnvironmentStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file's switch is read when a question comes: the backend answers nothing."""
    stores["127.0.0.1"] = BASIC
    url = "http://127.0.0.1/simple/"
    configure(tmp_path, monkeypatch, "keyring_backend = false\n")
    assert backend.get_credential(url, None) is None
    assert backend.get_password(url, "alice") is None
    monkeypatch.setenv("AUTHADAPTER_KEYRING_BACKEND", "1")
    assert backend.get_password(url, "alice") == "basic-pw-8c1d"


def test_a_bad_switch_is_named_and_nothing_is_answered(
    backend: AuthAdapterKeyring,
    stores: EnvironmentStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stores["127.0.0.1"] = BASIC
    monkeypatch.setenv("AUTHADAPTER_KEYRING_BACKEND", "maybe")
    with pytest.raises(RuntimeError, match="AUTHADAPTER_KEYRING_BACKEND: expected 1 or 0"):
        AuthAdapterKeyring.priority  # noqa: B018
    monkeypatch.delenv("AUTHADAPTER_KEYRING_BACKEND")
    path = configure(tmp_path, monkeypatch, 'keyring_backend = "no"\n')
    assert backend.get_credential("http://127.0.0.1/simple/", None) is None
    assert f"{path}: keyring_backend: expected true or false" in caplog.text


def config_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["config"]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if "keyring backend" in line]


def test_authadapter_config_says_whether_the_backend_is_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert config_lines(capsys) == [
        "keyring backend (pip, uv, twine, poetry, pdm): on "
        "(keyring_backend = true, AUTHADAPTER_KEYRING_BACKEND unset)"
    ]
    configure(tmp_path, monkeypatch, "keyring_backend = false\n")
    assert "): off (keyring_backend = false" in config_lines(capsys)[0]
    monkeypatch.setenv("AUTHADAPTER_KEYRING_BACKEND", "1")
    assert "): on (AUTHADAPTER_KEYRING_BACKEND=1)" in config_lines(capsys)[0]


# no loops -----------------------------------------------------------------------


def test_inside_authadapters_own_lookup_it_answers_nothing(
    backend: AuthAdapterKeyring, stores: dict[str, object]
) -> None:
    stores["127.0.0.1"] = BASIC
    with own_lookup():
        assert AuthAdapterKeyring.priority < 0  # out of keyring's choice and its chainer
        assert backend.get_credential("http://127.0.0.1/simple/", None) is None
        assert backend.get_password("http://127.0.0.1/simple/", "alice") is None
    assert backend.get_password("http://127.0.0.1/simple/", "alice") == "basic-pw-8c1d"


def test_a_lookup_through_the_keyring_store_does_not_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pixi's keyring store asks python-keyring, whose backend is this one: no second lookup.

    The store asks for service ``rattler``, account ``127.0.0.1:8765``. With
    plain http allowed to a host named ``rattler``, that question would be
    answered outside a lookup, by running the chain again, and with it the
    token command, which counts its runs.
    """
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "authadapter.keyring_backend.AuthAdapterKeyring")
    calls = tmp_path / "calls"
    script = executable(tmp_path / "count", f"#!/bin/sh\necho call >> {calls}\nexit 1\n")
    configure(
        tmp_path,
        monkeypatch,
        'allow_http_hosts = ["rattler"]\n'
        f'[[commands]]\nhosts = ["127.0.0.1", "rattler"]\ncommand = ["{script}"]\n',
    )
    write_rattler_file({"127.0.0.1": BASIC})  # after the keyring store in the chain
    url = "http://127.0.0.1:8765/simple/"
    assert AuthAdapterKeyring().get_password(url, "alice") == "basic-pw-8c1d"
    assert calls.read_text() == "call\n"


def test_a_lookup_that_asks_keyring_plugins_does_not_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pip-keyring store asks python-keyring with the URL, as pip does: this backend, once.

    Nothing holds a credential, so every store is asked, the pip-keyring
    store last; a lookup that came back would run the token command again.
    """
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "authadapter.keyring_backend.AuthAdapterKeyring")
    calls = tmp_path / "calls"
    script = executable(tmp_path / "count", f"#!/bin/sh\necho call >> {calls}\nexit 1\n")
    configure(
        tmp_path, monkeypatch, f'[[commands]]\nhosts = ["127.0.0.1"]\ncommand = ["{script}"]\n'
    )
    assert AuthAdapterKeyring().get_credential("http://127.0.0.1:8765/simple/", None) is None
    assert calls.read_text() == "call\n"


# with the user's Secret Service ---------------------------------------------------


def test_a_credential_pixi_keeps_in_the_secret_service_serves_the_tools(
    secret_service: SecretService, backend: AuthAdapterKeyring
) -> None:
    import keyring.core

    secret = json.dumps({"BearerToken": "from-pixi-2f2f"})
    user_keyring = keyring.core.load_keyring("keyring.backends.SecretService.Keyring")
    user_keyring.set_password("rattler", "127.0.0.1", secret)
    assert pair(backend.get_credential("http://127.0.0.1/simple/", None)) == (
        "__token__",
        "from-pixi-2f2f",
    )


def test_authadapter_login_with_only_this_backend_writes_the_file() -> None:
    """With no keyring that stores, login still falls back to rattler's file.

    Run as a command, so python-keyring chooses its backend afresh: this one,
    for everything but authadapter's own lookups and writes.
    """
    names = ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")
    env = {k: v for k, v in os.environ.items() if k not in names}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "authadapter.cli",
            "login",
            "127.0.0.1",
            "--token",
            "login-tok-6d6d",
        ],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stored = json.loads((Path.home() / ".rattler" / "credentials.json").read_text())
    assert stored == {"127.0.0.1": {"BearerToken": "login-tok-6d6d"}}


def test_keyring_discovering_the_backend_imports_no_client_and_reads_no_store() -> None:
    """keyring imports the module and reads its priority for every command and every tool."""
    code = (
        "import sys, keyring.backend\n"
        "found = [str(k) for k in keyring.backend.get_all_keyring()]\n"  # the entry point
        "assert 'authadapter.keyring_backend.AuthAdapterKeyring (priority: 0.1)' in found\n"
        "print(sorted(m for m in ('httpx', 'requests') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env["AUTHADAPTER_CREDENTIALS"] = "{broken"  # a lookup would warn about it
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")
