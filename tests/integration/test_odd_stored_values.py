"""Whatever a store holds, httpx and requests never raise with the secret in their message.

A value no client could send (a space at either end, a tab, CR, NUL,
non-ASCII; for a conda token anything a path segment cannot hold unchanged)
is skipped by the store that holds it, with a warning naming the store and
the key. Every other value reaches a real loopback server exactly as stored.
Both halves are checked here for random values, through the real readers
(a rattler credentials file, a netrc file) and the real clients.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authadapter import CredentialProvider, InvalidCredentialError, RegistryAuth
from authadapter.providers.netrc import NetrcProvider
from authadapter.providers.rattler import RattlerFileProvider
from authadapter.providers.rattler_format import parse_credential_value
from tests.fixtures_security import count
from tests.support import LoopbackServer

CORE = "Sekr3tCore"
"""In every generated value: it must never show in a message, a warning or an exception."""

ODD = " \t\r\n\x00\x0b\x0c\x1b\x7f\x85\xa0\u2028\u3000é€/%?#[]|\\^`<>\"'{}:;@=+.~-_"
odd_text = st.text(st.sampled_from(ODD) | st.characters(codec="utf-8"), max_size=4)
values = st.builds(lambda left, right: f"{left}{CORE}{right}", odd_text, odd_text)
kinds = st.sampled_from(["BearerToken", "CondaToken", "BasicHTTP", "netrc"])


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer("127.0.0.1") as started:
        yield started


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _store(kind: str, value: str, host: str, directory: Path) -> CredentialProvider:
    if kind == "netrc":
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        path = directory / "netrc"
        path.write_text(f'machine {host} login me password "{quoted}"\n', encoding="utf-8")
        path.chmod(0o600)
        return NetrcProvider(path)
    body = {"username": "me", "password": value} if kind == "BasicHTTP" else value
    path = directory / "credentials.json"
    path.write_text(json.dumps({host: {kind: body}}), encoding="utf-8")
    return RattlerFileProvider(path)


def _expected(kind: str, value: str) -> tuple[str | None, str] | None:
    """The Authorization header and path the server must see, or ``None`` if refused."""
    tagged = {"BasicHTTP": {"username": "me", "password": value}} if kind == "netrc" else None
    body = {"username": "me", "password": value} if kind == "BasicHTTP" else value
    try:
        credential = parse_credential_value(tagged or {kind: body})
    except InvalidCredentialError:
        return None
    return credential.authorization(), urlsplit(credential.rewrite_url("http://h/simple/")).path


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=kinds, value=values)
def test_a_stored_value_is_sent_exactly_or_skipped_without_showing(
    server: LoopbackServer, kind: str, value: str
) -> None:
    count("hypothesis: odd stored values sent through httpx and requests")
    messages = _Messages()
    logger = logging.getLogger("authadapter")
    logger.addHandler(messages)
    try:
        with tempfile.TemporaryDirectory() as directory:
            provider = _store(kind, value, server.host, Path(directory))
            auth = RegistryAuth(providers=[provider], config=False)
            expected = _expected(kind, value)
            server.received.clear()
            with httpx.Client(auth=auth) as client:
                client.get(f"{server.url}/simple/")
            with requests.Session() as session:
                session.auth = auth
                session.get(f"{server.url}/simple/", timeout=10)
    finally:
        logger.removeHandler(messages)
    assert all(CORE not in line for line in messages.lines)
    assert len(server.received) == 2
    for received in server.received:
        if expected is None:
            assert received.authorization is None
            assert received.path == "/simple/"
        else:
            assert (received.authorization, received.path) == expected
    if expected is None:  # skipped, and the user is told where
        where = "netrc" if kind == "netrc" else "credentials.json"
        assert any(where in line and server.host in line for line in messages.lines)
