"""``import authadapter`` works with only httpx or only requests installed.

Each case runs a fresh interpreter in which the other client cannot be
imported (``sys.modules[name] = None`` makes ``import name`` raise
ImportError, as an absent package would), then makes one real request
through the client that is there.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.support import LoopbackServer, require_authorization

SCRIPT = """
import sys
sys.modules[{missing!r}] = None
import authadapter
from authadapter import BearerToken, Found, RegistryAuth

class Static:
    name = "static"
    blocking = False
    def lookup(self, origin, url):
        return Found(BearerToken("tok-optional"), "static")

auth = RegistryAuth([Static()], config=False)
{request}
assert {missing!r} not in sys.modules or sys.modules[{missing!r}] is None
print(status)
"""

REQUESTS_ONLY = """
import requests
session = requests.Session()
session.auth = auth
status = session.get({url!r}).status_code
"""

HTTPX_ONLY = """
import httpx
status = httpx.get({url!r}, auth=auth).status_code
"""


@pytest.mark.parametrize(
    ("missing", "request_code"), [("httpx", REQUESTS_ONLY), ("requests", HTTPX_ONLY)]
)
def test_one_client_is_enough(
    loopback_server: Callable[..., LoopbackServer], missing: str, request_code: str
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer tok-optional"))
    code = SCRIPT.format(missing=missing, request=request_code.format(url=server.url + "/x"))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200"
    assert [r.authorization for r in server.received] == ["Bearer tok-optional"]


def test_importing_authadapter_imports_neither_aiohttp_nor_niquests() -> None:
    code = (
        "import sys, authadapter\n"
        "authadapter.RegistryAuth\n"
        "print(sorted(name for name in ('aiohttp', 'niquests') if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
