"""patch_requests / patch_httpx / patch_aiohttp / patch_niquests against real loopback servers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import httpx
import pytest
import requests

import authadapter
from authadapter import BearerToken, CondaToken, Found, LookupResult, Miss, Origin, RegistryAuth
from tests.conftest import service_unavailable
from tests.support import LoopbackServer, Received, Reply, require_authorization

TOKEN = "patched-token"
EXPECTED = f"Bearer {TOKEN}"

ServerFactory = Callable[..., LoopbackServer]


class OneHost:
    """A provider holding one bearer token for one host; counts its lookups."""

    name = "one-host"
    blocking = False

    def __init__(self, host: str, token: str = TOKEN) -> None:
        self.host = host
        self.token = token
        self.calls = 0

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        if origin.host == self.host:
            return Found(BearerToken(self.token), f"test provider for {self.host}")
        return Miss()


def _patchable() -> tuple[object, ...]:
    """Everything the patches replace; each test must leave all of it as it found it."""
    niquests = _niquests()
    return (
        aiohttp.ClientSession.__init__,
        *(
            ()
            if niquests is None
            else (
                niquests.Session.__init__,
                niquests.AsyncSession.__init__,
                niquests.Session.prepare_request,
            )
        ),
        requests.Session.__init__,
        requests.Session.prepare_request,
        httpx.Client.__init__,
        httpx.AsyncClient.__init__,
        httpx.get,
        httpx.request,
        httpx.stream,
    )


@pytest.fixture(autouse=True)
def _no_patch_left_behind() -> Iterator[None]:
    originals = _patchable()
    yield
    authadapter.unpatch_requests()
    authadapter.unpatch_httpx()
    authadapter.unpatch_aiohttp()
    authadapter.unpatch_niquests()
    assert _patchable() == originals


def _niquests() -> Any:
    try:
        import niquests
    except ImportError:
        return None
    return niquests


def niquests_or_fail() -> Any:
    niquests = _niquests()
    if niquests is None:
        service_unavailable("niquests is not installed (noxfile.py: install_niquests)")
    return niquests


@pytest.fixture
def server(loopback_server: ServerFactory) -> LoopbackServer:
    return loopback_server("127.0.0.1", require_authorization(EXPECTED))


@pytest.fixture
def auth(server: LoopbackServer) -> RegistryAuth:
    return RegistryAuth([OneHost(server.host)])


# requests


def test_sessions_created_after_patching_authenticate(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    authadapter.patch_requests(auth)
    assert requests.Session().get(server.url + "/a").status_code == 200
    assert requests.get(server.url + "/b", timeout=10).status_code == 200
    assert [r.authorization for r in server.received] == [EXPECTED, EXPECTED]


def test_session_auth_stays_none_and_a_callers_auth_wins(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    authadapter.patch_requests(auth)
    session = requests.Session()
    assert session.auth is None
    session.auth = ("user", "pw")
    session.get(server.url + "/session-auth")
    requests.get(server.url + "/request-auth", auth=("other", "pw"), timeout=10)
    requests.get(server.url.replace("//", "//who:pw@") + "/userinfo", timeout=10)
    sent = [r.authorization for r in server.received]
    assert sent == [
        requests.auth._basic_auth_str("user", "pw"),
        requests.auth._basic_auth_str("other", "pw"),
        requests.auth._basic_auth_str("who", "pw"),
    ]


def test_a_netrc_entry_requests_would_use_wins(
    server: LoopbackServer, auth: RegistryAuth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {server.host} login nu password np\n")
    monkeypatch.setenv("NETRC", str(netrc))
    authadapter.patch_requests(auth)
    requests.get(server.url + "/x", timeout=10)
    assert server.received[0].authorization == requests.auth._basic_auth_str("nu", "np")


def test_sessions_from_before_the_patch_are_left_alone(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    before = requests.Session()
    authadapter.patch_requests(auth)
    assert before.get(server.url + "/x").status_code == 401
    assert server.received[0].authorization is None


def test_unpatch_and_context_manager_restore_requests(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    with authadapter.patch_requests(auth) as patch:
        assert patch.active
        assert requests.get(server.url + "/in", timeout=10).status_code == 200
    assert not patch.active
    assert requests.get(server.url + "/out", timeout=10).status_code == 401
    authadapter.patch_requests(auth)
    authadapter.unpatch_requests()
    assert requests.get(server.url + "/unpatched", timeout=10).status_code == 401


def test_patching_twice_is_one_patch_and_nesting_restores_the_outer(
    loopback_server: ServerFactory,
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer inner"))
    outer_auth = RegistryAuth([OneHost(server.host, "outer")])
    inner_auth = RegistryAuth([OneHost(server.host, "inner")])
    outer = authadapter.patch_requests(outer_auth)
    again = authadapter.patch_requests()
    assert again.auth is outer_auth
    with authadapter.patch_requests(inner_auth):
        assert requests.get(server.url + "/inner", timeout=10).status_code == 200
    assert requests.get(server.url + "/outer", timeout=10).status_code == 401
    assert server.received[-1].authorization == "Bearer outer"
    again.undo()
    assert outer.active
    outer.undo()
    requests.get(server.url + "/none", timeout=10)
    assert server.received[-1].authorization is None


def test_undoing_the_outer_patch_first_keeps_the_inner_one(
    loopback_server: ServerFactory,
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer inner"))
    outer = authadapter.patch_requests(RegistryAuth([OneHost(server.host, "outer")]))
    inner = authadapter.patch_requests(RegistryAuth([OneHost(server.host, "inner")]))

    outer.undo()
    kept = requests.get(server.url + "/inner", timeout=10).status_code
    inner.undo()
    inner.undo()  # a second undo is harmless
    requests.get(server.url + "/none", timeout=10)

    assert (kept, outer.active, inner.active) == (200, False, False)
    assert server.received[-1].authorization is None


def test_one_lookup_serves_every_patched_session(
    server: LoopbackServer,
) -> None:
    provider = OneHost(server.host)
    authadapter.patch_requests(RegistryAuth([provider]))
    for _ in range(5):
        requests.get(server.url + "/x", timeout=10)
    assert provider.calls == 1


def test_concurrent_patching_and_requests_leave_requests_restored(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    authadapter.patch_requests(auth)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def churn() -> None:
        try:
            for _ in range(20):
                with authadapter.patch_requests(auth):
                    pass
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def fetch() -> None:
        try:
            with requests.Session() as session:
                for _ in range(5):
                    statuses.append(session.get(server.url + "/t").status_code)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    threads += [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == [200] * 20


# httpx


def test_clients_and_module_helpers_authenticate(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    authadapter.patch_httpx(auth)
    with httpx.Client() as client:
        assert client.get(server.url + "/client").status_code == 200
    assert httpx.get(server.url + "/get").status_code == 200
    assert httpx.request("GET", server.url + "/request").status_code == 200
    with httpx.stream("GET", server.url + "/stream") as response:
        assert response.status_code == 200
    assert [r.authorization for r in server.received] == [EXPECTED] * 4


async def test_async_clients_authenticate(server: LoopbackServer, auth: RegistryAuth) -> None:
    authadapter.patch_httpx(auth)
    async with httpx.AsyncClient() as client:
        response = await client.get(server.url + "/async")
    assert response.status_code == 200


def test_auth_none_is_filled_and_callers_auth_wins(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    authadapter.patch_httpx(auth)
    with httpx.Client(auth=None) as client:  # wrappers pass httpx's default through
        assert client.get(server.url + "/none").status_code == 200
    with httpx.Client(auth=("u", "p")) as client:
        client.get(server.url + "/client-auth")
    with httpx.Client() as client:
        client.get(server.url + "/request-auth", auth=("r", "p"))
    httpx.get(server.url + "/helper-auth", auth=("h", "p"))
    sent = [r.authorization for r in server.received]
    assert sent == [
        EXPECTED,
        httpx.BasicAuth("u", "p")._auth_header,
        httpx.BasicAuth("r", "p")._auth_header,
        httpx.BasicAuth("h", "p")._auth_header,
    ]


def test_clients_from_before_the_patch_and_after_unpatch_are_plain(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    before = httpx.Client()
    with authadapter.patch_httpx(auth):
        assert before.get(server.url + "/before").status_code == 401
    assert httpx.get(server.url + "/after").status_code == 401
    before.close()


def test_callers_event_hooks_are_kept(server: LoopbackServer, auth: RegistryAuth) -> None:
    seen: list[int] = []
    authadapter.patch_httpx(auth)
    hooks = {"response": [lambda response: seen.append(response.status_code)]}
    with httpx.Client(event_hooks=hooks) as client:
        client.get(server.url + "/hooked")
    assert seen == [200]


def test_patched_clients_keep_a_conda_token_off_a_cross_origin_redirect(
    loopback_server: ServerFactory,
) -> None:
    other = loopback_server("127.0.0.2")

    def leaky_redirect(server: LoopbackServer, request: Received) -> Reply:
        # a server that copies the path, token included, into an off-origin Location
        return Reply(302, {"Location": other.url + request.path})

    first = loopback_server("127.0.0.1", leaky_redirect)

    class CondaStore(OneHost):
        def lookup(self, origin: Origin, url: str) -> LookupResult:
            if origin.host == first.host:
                return Found(CondaToken("ctok-secret"), "test conda store")
            return Miss()

    authadapter.patch_httpx(RegistryAuth([CondaStore(first.host)]))
    with httpx.Client(follow_redirects=True) as client:
        assert client.get(first.url + "/channel/noarch/repodata.json").status_code == 200
    assert first.received[0].path == "/t/ctok-secret/channel/noarch/repodata.json"
    assert other.received[0].path == "/channel/noarch/repodata.json"


def test_without_an_auth_both_patches_share_one_default_from_the_stores(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = {server.host: {"BearerToken": TOKEN}}
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", json.dumps(stored))
    first = authadapter.patch_requests()
    second = authadapter.patch_httpx()
    assert first.auth is second.auth
    assert requests.get(server.url + "/r", timeout=10).status_code == 200
    assert httpx.get(server.url + "/h").status_code == 200
    authadapter.unpatch_requests()
    authadapter.unpatch_httpx()
    assert authadapter.patch_requests().auth is not first.auth  # the stores are read again


def test_unpatching_keeps_a_wrapper_someone_installed_after_us(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    original = requests.Session.prepare_request
    authadapter.patch_requests(auth)
    ours = requests.Session.prepare_request
    seen: list[str] = []

    def instrumented(self: requests.Session, request: requests.Request) -> requests.PreparedRequest:
        seen.append(str(request.url))
        return ours(self, request)

    requests.Session.prepare_request = instrumented  # type: ignore[method-assign]
    try:
        session = requests.Session()
        assert session.get(server.url + "/patched", timeout=10).status_code == 200
        authadapter.unpatch_requests()
        assert requests.Session.prepare_request is instrumented
        assert session.get(server.url + "/unpatched", timeout=10).status_code == 401
        assert seen == [server.url + "/patched", server.url + "/unpatched"]
    finally:
        requests.Session.prepare_request = original  # type: ignore[method-assign]


# aiohttp


async def aiohttp_get(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> int:
    async with session.get(url, **kwargs) as response:
        return response.status


async def test_aiohttp_sessions_created_while_patched_authenticate(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    before = aiohttp.ClientSession()
    with authadapter.patch_aiohttp(auth):
        async with aiohttp.ClientSession() as session:
            assert await aiohttp_get(session, server.url + "/a") == 200
        async with aiohttp.request("GET", server.url + "/b") as response:
            assert response.status == 200
    async with before:
        assert await aiohttp_get(before, server.url + "/c") == 401
    async with aiohttp.ClientSession() as after:
        assert await aiohttp_get(after, server.url + "/d") == 401
    assert [r.authorization for r in server.received] == [EXPECTED, EXPECTED, None, None]


async def test_aiohttp_callers_own_credentials_and_middlewares_win(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    seen: list[str | None] = []

    async def theirs(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        seen.append(request.headers.get("Authorization"))
        return await handler(request)

    authadapter.patch_aiohttp(auth)
    async with aiohttp.ClientSession(middlewares=[theirs]) as session:
        assert await aiohttp_get(session, server.url) == 200
        mine = {"Authorization": "Bearer mine-0123"}
        assert await aiohttp_get(session, server.url, headers=mine) == 401
    assert [r.authorization for r in server.received] == [EXPECTED, "Bearer mine-0123"]
    assert seen == [None, "Bearer mine-0123"]  # theirs ran first, before ours added ours


# niquests


def test_niquests_sessions_created_while_patched_authenticate(
    server: LoopbackServer, auth: RegistryAuth
) -> None:
    niquests = niquests_or_fail()
    before = niquests.Session()
    with authadapter.patch_niquests(auth):
        with niquests.Session() as session:
            assert session.get(server.url + "/a").status_code == 200
            assert session.auth is None  # as requests leaves it

        async def asynchronous() -> int:
            async with niquests.AsyncSession() as session:
                return int((await session.get(server.url + "/b")).status_code)

        assert anyio.run(asynchronous) == 200
    with before:
        assert before.get(server.url + "/c").status_code == 401
    with niquests.Session() as after:
        assert after.get(server.url + "/d").status_code == 401
    assert [r.authorization for r in server.received] == [EXPECTED, EXPECTED, None, None]


def test_niquests_callers_own_auth_wins(server: LoopbackServer, auth: RegistryAuth) -> None:
    niquests = niquests_or_fail()
    authadapter.patch_niquests(auth)
    with niquests.Session() as session:
        session.auth = ("me", "pw")
        session.get(server.url)
        session.auth = None
        session.get(server.url, auth=("you", "pw"))
        session.get(server.url.replace("http://", "http://they:pw@"))
    assert [r.authorization for r in server.received] == [
        "Basic bWU6cHc=",
        "Basic eW91OnB3",
        "Basic dGhleTpwdw==",
    ]
