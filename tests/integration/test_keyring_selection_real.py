"""python-keyring's own keyring choice, with a real Secret Service and a real third-party backend.

Fast paths must not change whom we ask: with the private Secret Service
running, with a third-party backend package installed into a venv through
the ``keyring.backends`` entry point, and with both, authadapter's keyring
provider names the backend python-keyring chooses (its chainer, for two),
and ``authadapter cargo-credential`` answers from it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from authadapter import BearerToken
from tests.support import (
    SecretService,
    install_package,
    store_like_rattler,
    venv_with_this_environment,
)
from tests.test_keyring_selection import choices, environment

pytestmark = pytest.mark.service

THIRD_PARTY_BACKEND = '''
from keyring.backend import KeyringBackend


class Keyring(KeyringBackend):
    """A company's keyring: one bearer token for every rattler key."""

    priority = 7

    def get_password(self, service, username):
        return '{"BearerToken": "company-token"}' if service == "rattler" else None

    def set_password(self, service, username, password):
        raise NotImplementedError
'''

REQUEST = {
    "v": 1,
    "kind": "get",
    "operation": "read",
    "registry": {"index-url": "sparse+https://repo.example.org/index/"},
}


def cargo_get(python: str, env: dict[str, str]) -> str:
    """The token ``authadapter cargo-credential`` gives Cargo for repo.example.org."""
    result = subprocess.run(
        [python, "-m", "authadapter.cli", "cargo-credential"],
        input=json.dumps(REQUEST) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    answer = json.loads(result.stdout.splitlines()[-1])
    return str(answer["Ok"]["token"])


@pytest.fixture(scope="module")
def company_venv(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv with a third-party keyring backend package installed; its python."""
    directory = tmp_path_factory.mktemp("company")
    python = venv_with_this_environment(directory / "venv")
    install_package(
        python,
        directory,
        "company-keyring",
        {"company_keyring.py": THIRD_PARTY_BACKEND},
        "[keyring.backends]\ncompany = company_keyring\n",
    )
    return python


@pytest.mark.canary_exempt("cargo-credential hands the token to Cargo on stdout")
def test_a_running_secret_service_is_chosen_and_answers(
    secret_service: SecretService, tmp_path: Path
) -> None:
    store_like_rattler(secret_service, "repo.example.org", BearerToken("from-the-keyring"))
    env = environment(tmp_path, DBUS_SESSION_BUS_ADDRESS=secret_service.address)

    keyring_choice, ours, _ = choices(env)

    assert keyring_choice == ours == "keyring.backends.SecretService.Keyring"
    assert cargo_get(sys.executable, env) == "Bearer from-the-keyring"


def test_a_third_party_backend_is_chosen_and_answers(company_venv: str, tmp_path: Path) -> None:
    env = environment(tmp_path)

    keyring_choice, ours, _ = choices(env, company_venv)

    assert keyring_choice == ours == "company_keyring.Keyring"
    assert cargo_get(company_venv, env) == "Bearer company-token"


def test_a_third_party_backend_next_to_a_secret_service_gets_keyrings_chainer(
    company_venv: str, secret_service: SecretService, tmp_path: Path
) -> None:
    env = environment(tmp_path, DBUS_SESSION_BUS_ADDRESS=secret_service.address)

    keyring_choice, ours, _ = choices(env, company_venv)

    assert keyring_choice == ours == "keyring.backends.chainer.ChainerBackend"
    assert cargo_get(company_venv, env) == "Bearer company-token"  # priority 7 is asked first
