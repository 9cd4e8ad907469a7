"""A first real round trip through both clients; the adapter test modules go further."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import requests

from authadapter import BearerToken, Found, Miss, Origin, RegistryAuth
from tests.support import LoopbackServer, require_authorization


class OneHost:
    name = "one-host"
    blocking = False

    def __init__(self, host: str) -> None:
        self.host = host

    def lookup(self, origin: Origin, url: str) -> Found | Miss:
        if origin.host == self.host:
            return Found(BearerToken("tok-smoke"), "test")
        return Miss()


def test_httpx_and_requests_send_bearer(loopback_server: Callable[..., LoopbackServer]) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-smoke"))
    auth = RegistryAuth([OneHost("127.0.0.1")])
    assert httpx.get(server.url + "/a", auth=auth).status_code == 200
    session = requests.Session()
    session.auth = auth
    assert session.get(server.url + "/b").status_code == 200
    assert [r.authorization for r in server.received] == ["Bearer tok-smoke"] * 2
