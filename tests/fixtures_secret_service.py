"""The private Secret Service (``tests.support``) as pytest fixtures.

One bus and one keyring daemon per pytest process (each xdist worker gets its
own), started on first use and stopped at the end of the session. Tests ask
for ``secret_service``: it points ``DBUS_SESSION_BUS_ADDRESS`` at the private
bus, selects python-keyring's Secret Service backend, and empties the default
collection before the test so every test starts from a clean keyring.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import service_unavailable
from tests.support import SecretService, ServiceUnavailable, private_secret_service

__all__ = ["secret_service"]


@pytest.fixture(scope="session")
def _secret_service_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SecretService | str]:
    """Start the bus and the daemon once; yields the service or the reason it is missing."""
    try:
        with private_secret_service(tmp_path_factory.mktemp("secret-service")) as service:
            yield service
    except ServiceUnavailable as reason:
        yield str(reason)


@pytest.fixture
def secret_service(
    _secret_service_session: SecretService | str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService]:
    """The private Secret Service, selected for this test through the environment.

    Sets ``DBUS_SESSION_BUS_ADDRESS`` (so secretstorage, python-keyring, the
    ``secret-tool`` command and py-rattler all talk to it) and
    ``PYTHON_KEYRING_BACKEND`` to python-keyring's Secret Service backend.
    """
    if isinstance(_secret_service_session, str):
        service_unavailable(_secret_service_session)
        raise AssertionError("unreachable")
    service = _secret_service_session
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    service.clear()
    yield service
    service.clear()
