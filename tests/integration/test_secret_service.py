"""The private Secret Service fixture is real: other programs see what python-keyring wrote."""

from __future__ import annotations

import shutil
import subprocess

import keyring.core

from tests.conftest import service_unavailable
from tests.fixtures_secret_service import SecretService


def _secret_tool() -> str:
    path = shutil.which("secret-tool")
    if path is None:
        service_unavailable("secret-tool not installed (Debian: libsecret-tools)")
    assert path is not None
    return path


def test_python_keyring_item_is_visible_to_secret_tool(secret_service: SecretService) -> None:
    backend = keyring.core.load_env()
    assert backend is not None
    backend.set_password("rattler", "repo.example.org", '{"BearerToken": "t-1"}')

    found = subprocess.run(
        [_secret_tool(), "lookup", "service", "rattler", "username", "repo.example.org"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert found.stdout == '{"BearerToken": "t-1"}'


def test_secret_tool_item_is_visible_to_python_keyring(secret_service: SecretService) -> None:
    subprocess.run(
        [_secret_tool(), "store", "--label=x", "service", "svc", "username", "someone"],
        input="s3cret",
        text=True,
        timeout=30,
        check=True,
    )
    backend = keyring.core.load_env()
    assert backend is not None

    assert backend.get_password("svc", "someone") == "s3cret"


def test_clear_empties_the_keyring_between_tests(secret_service: SecretService) -> None:
    backend = keyring.core.load_env()
    assert backend is not None
    backend.set_password("rattler", "repo.example.org", "x")

    secret_service.clear()

    assert backend.get_password("rattler", "repo.example.org") is None
