"""Redirects never carry a credential to another origin: real servers on several 127.0.0.x.

Each scenario starts at a server that holds a credential and answers with a
302 to another origin (another address, another port of the same address,
or from https down to http), written the way nginx's
``return 302 http://mirror$request_uri`` writes it: absolute, with the
original path, so a conda token in the path is copied into the Location.
The target server records everything it receives; the test searches every
header value and the path for the first origin's secret.

Clients: requests, httpx.Client and httpx.AsyncClient, each with
``event_hooks=httpx_event_hooks()`` (what ``patch_httpx`` installs),
aiohttp with ``AiohttpAuth`` as its middleware, and niquests' ``Session``
and ``AsyncSession`` with ``NiquestsAuth``/``AsyncNiquestsAuth``. One test pins
the known limit: an httpx client built without the hook follows a conda
token that the server itself copied into a cross-origin Location.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import httpx
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from authadapter import (
    AiohttpAuth,
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    RegistryAuth,
    httpx_event_hooks,
    patch_httpx,
)
from tests.conftest import service_unavailable
from tests.fixtures_security import KINDS, Static, canary, canary_credential, count
from tests.support import LoopbackServer, Received, Reply

Servers = Callable[..., LoopbackServer]


def make(kind: str, label: str) -> Credential:
    return canary_credential(kind, label, username="user")


def secret_of(credential: Credential) -> str:
    return credential.password if isinstance(credential, BasicCredential) else credential.token


def carried(request: Received, credential: Credential) -> bool:
    """Whether any trace of ``credential`` reached the server in ``request``."""
    header = credential.authorization()
    texts = [request.path, *request.headers.values()]
    return any(secret_of(credential) in t or (header and header in t) for t in texts)


def accepts(credential: Credential | None) -> Callable[[LoopbackServer, Received], Reply]:
    """200 when ``credential`` (or, for ``None``, anything) arrived, else 401."""

    def handler(server: LoopbackServer, request: Received) -> Reply:
        if credential is None or carried(request, credential):
            return Reply(200, {}, b"ok")
        return Reply(401, {"WWW-Authenticate": 'Bearer realm="x"'}, b"")

    return handler


def redirect_to(target: Callable[[], str]) -> Callable[[LoopbackServer, Received], Reply]:
    def handler(server: LoopbackServer, request: Received) -> Reply:
        return Reply(302, {"Location": target() + request.path}, b"")

    return handler


# -- TLS for the https -> http case -------------------------------------------------


@dataclass
class Tls:
    server: ssl.SSLContext
    ca_file: Path

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authadapter test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    addresses = [x509.IPAddress(ipaddress.ip_address(f"127.0.0.{i}")) for i in range(1, 10)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(addresses), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return Tls(context, cert_file)


@pytest.fixture
def https_server(tls: Tls) -> Iterator[Callable[..., LoopbackServer]]:
    started: list[LoopbackServer] = []

    def start(host: str, handler: Callable[[LoopbackServer, Received], Reply]) -> LoopbackServer:
        server = LoopbackServer(host, handler)
        server.httpd.socket = tls.server.wrap_socket(server.httpd.socket, server_side=True)
        started.append(server.__enter__())
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def https_url(server: LoopbackServer) -> str:
    return f"https://{server.host}:{server.port}"


# -- the clients ------------------------------------------------------------------------


CLIENTS = ["requests", "httpx", "aiohttp", "niquests", "niquests-async"]


async def fetch_aiohttp(auth: RegistryAuth, url: str, tls: Tls) -> int:
    async with (
        aiohttp.ClientSession(middlewares=[AiohttpAuth(auth)]) as session,
        session.get(url, ssl=tls.client()) as response,
    ):
        await response.read()
        return response.status


def niquests_or_fail() -> Any:
    try:
        import niquests
    except ImportError:
        service_unavailable("niquests is not installed (noxfile.py: install_niquests)")
    return niquests


async def fetch_niquests_async(auth: RegistryAuth, url: str, tls: Tls) -> int:
    niquests = niquests_or_fail()
    from authadapter import AsyncNiquestsAuth

    async with niquests.AsyncSession() as session:
        session.auth = AsyncNiquestsAuth(auth)
        session.trust_env = False
        response = await session.get(url, verify=str(tls.ca_file), timeout=10)
        return response.status_code or 0


def fetch(client: str, auth: RegistryAuth, url: str, tls: Tls) -> int:
    if client == "aiohttp":
        return asyncio.run(fetch_aiohttp(auth, url, tls))
    if client == "niquests-async":
        return asyncio.run(fetch_niquests_async(auth, url, tls))
    if client == "niquests":
        niquests = niquests_or_fail()
        from authadapter import NiquestsAuth

        with niquests.Session() as niquests_session:
            niquests_session.auth = NiquestsAuth(auth)
            niquests_session.trust_env = False
            response = niquests_session.get(url, verify=str(tls.ca_file), timeout=10)
            return response.status_code or 0
    if client == "requests":
        with requests.Session() as session:
            session.auth = auth
            session.trust_env = False
            return session.get(url, verify=str(tls.ca_file), timeout=10).status_code
    hooks = httpx_event_hooks() if client == "httpx" else {}
    with httpx.Client(
        auth=auth, follow_redirects=True, verify=tls.client(), event_hooks=hooks, trust_env=False
    ) as http:
        return http.get(url).status_code


async def fetch_async(auth: RegistryAuth, url: str, tls: Tls) -> int:
    async with httpx.AsyncClient(
        auth=auth,
        follow_redirects=True,
        verify=tls.client(),
        event_hooks=httpx_event_hooks(asynchronous=True),
        trust_env=False,
    ) as http:
        return (await http.get(url)).status_code


@dataclass
class Scenario:
    start_url: str
    first: LoopbackServer
    target: LoopbackServer
    store: dict[str, Credential]


def build(
    where: str, kind: str, target_has_own: bool, servers: Servers, https: Callable[..., Any]
) -> tuple[Scenario, Credential, Credential | None]:
    first_credential = make(kind, "first")
    own = make(kind, "target") if target_has_own else None
    box: list[LoopbackServer] = []
    if where == "other-host":
        target = servers("127.0.0.3", accepts(own))
        first = servers("127.0.0.2", redirect_to(lambda: box[0].url))
        start = first.url
    elif where == "other-port":
        target = servers("127.0.0.2", accepts(own))
        first = servers("127.0.0.2", redirect_to(lambda: box[0].url))
        start = first.url
    else:  # https down to http on the same address
        target = servers("127.0.0.4", accepts(own))
        first = https("127.0.0.4", redirect_to(lambda: box[0].url))
        start = https_url(first)
    box.append(target)
    store: dict[str, Credential] = {f"{first.host}:{first.port}": first_credential}
    if own is not None:
        store[f"{target.host}:{target.port}"] = own
    return (
        Scenario(start + "/chan/noarch/repodata.json", first, target, store),
        first_credential,
        own,
    )


def check(
    scenario: Scenario, first: Credential, own: Credential | None, status: int, client: str = ""
) -> None:
    count("redirect scenarios run")
    assert scenario.first.received, "the first server was asked"
    assert carried(scenario.first.received[0], first), "the first origin got its credential"
    for request in scenario.target.received:
        assert not carried(request, first), "the first origin's credential followed the redirect"
    if own is None:
        assert status == 200
        assert len(scenario.target.received) == 1
    else:
        assert status == 200
        assert carried(scenario.target.received[-1], own)
        if client == "aiohttp":  # its middleware sees every hop: the target's own at once
            assert len(scenario.target.received) == 1
        else:
            assert len(scenario.target.received) == 2  # one rejection, one re-send with its own


WHERE = ["other-host", "other-port", "https-to-http"]


@pytest.mark.parametrize("target_has_own", [False, True], ids=["no-own", "own"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("client", CLIENTS)
def test_nothing_follows_a_redirect_to_another_origin(
    client: str,
    where: str,
    kind: str,
    target_has_own: bool,
    loopback_server: Servers,
    https_server: Callable[..., LoopbackServer],
    tls: Tls,
) -> None:
    scenario, first, own = build(where, kind, target_has_own, loopback_server, https_server)
    status = fetch(client, RegistryAuth([Static(scenario.store)]), scenario.start_url, tls)
    check(scenario, first, own, status, client)


@pytest.mark.parametrize("target_has_own", [False, True], ids=["no-own", "own"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", WHERE)
async def test_nothing_follows_a_redirect_with_the_async_client(
    where: str,
    kind: str,
    target_has_own: bool,
    loopback_server: Servers,
    https_server: Callable[..., LoopbackServer],
    tls: Tls,
) -> None:
    scenario, first, own = build(where, kind, target_has_own, loopback_server, https_server)
    status = await fetch_async(RegistryAuth([Static(scenario.store)]), scenario.start_url, tls)
    check(scenario, first, own, status)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_redirect_within_the_origin_keeps_the_credential(
    client: str, loopback_server: Servers, tls: Tls
) -> None:
    for kind in KINDS:
        credential = make(kind, "same")

        def handler(
            server: LoopbackServer, request: Received, credential: Credential = credential
        ) -> Reply:
            if "/moved" in request.path:
                return Reply(302, {"Location": request.path.replace("/moved", "/here")})
            return accepts(credential)(server, request)

        server = loopback_server("127.0.0.5", handler)
        auth = RegistryAuth([Static({f"127.0.0.5:{server.port}": credential})])
        assert fetch(client, auth, server.url + "/moved/x", tls) == 200
        assert [carried(r, credential) for r in server.received] == [True, True]


def test_httpx_next_request_is_cleaned_too(loopback_server: Servers) -> None:
    target = loopback_server("127.0.0.3")
    first = loopback_server("127.0.0.2", redirect_to(lambda: target.url))
    token = CondaToken(canary())
    auth = RegistryAuth([Static({"127.0.0.2": token})])
    with httpx.Client(auth=auth, event_hooks=httpx_event_hooks()) as client:
        response = client.get(first.url + "/chan/")
        assert response.next_request is not None
        assert token.token not in str(response.next_request.url)
        client.send(response.next_request)
    assert target.received[0].path == "/chan/"


@pytest.mark.parametrize("client", CLIENTS)
def test_a_callers_own_conda_token_stays_on_its_origin_too(
    client: str, loopback_server: Servers, tls: Tls
) -> None:
    target = loopback_server("127.0.0.3")
    first = loopback_server("127.0.0.2", redirect_to(lambda: target.url))
    url = first.url + "/t/callers-token-01/chan/"
    assert fetch(client, RegistryAuth([Static({})]), url, tls) == 200
    assert [r.path for r in first.received] == ["/t/callers-token-01/chan/"]
    assert [r.path for r in target.received] == ["/chan/"]


def test_known_limit_httpx_without_the_hook_follows_a_copied_token(
    loopback_server: Servers,
) -> None:
    """Pins the limit documented in docs/security.md: the auth flow cannot see hops.

    A client built by hand without ``event_hooks=httpx_event_hooks()`` (and outside
    ``patch_httpx``) follows a Location into which the server copied the
    token. The header kinds are safe either way: httpx drops Authorization.
    """
    target = loopback_server("127.0.0.3")
    first = loopback_server("127.0.0.2", redirect_to(lambda: target.url))
    token = CondaToken("copied-token-01")
    auth = RegistryAuth([Static({"127.0.0.2": token})])
    with httpx.Client(auth=auth, follow_redirects=True) as client:
        client.get(first.url + "/chan/")
    assert target.received[0].path == "/t/copied-token-01/chan/"


def test_a_relative_or_odd_location_is_resolved_as_the_client_resolves_it(
    loopback_server: Servers,
) -> None:
    target = loopback_server("127.0.0.3")
    locations = [
        f"//127.0.0.3:{target.port}/t/tok-odd-01/a",
        f"HTTP://127.0.0.3:{target.port}/t/tok-odd-01/b",
        f"http://127.0.0.3:{target.port}/./t/tok-odd-01/c",
        f"http://127.0.0.3:{target.port}/mirror/t/tok-odd-01/d",
        f"http://127.0.0.3:{target.port}/e?next=/t/tok-odd-01/",
        f"http://127.0.0.3:{target.port}/t/tok%2Dodd-01/f",  # encoded: httpx sends it so
        f"http://127.0.0.3:{target.port}/%74/%74ok-odd-01/g?next=tok%2dodd-01",
    ]
    box = iter(locations * 3)

    def handler(server: LoopbackServer, request: Received) -> Reply:
        return Reply(302, {"Location": next(box)})

    first = loopback_server("127.0.0.2", handler)
    auth = RegistryAuth([Static({"127.0.0.2": CondaToken("tok-odd-01")})])
    with requests.Session() as session:
        session.auth = auth
        for _ in locations:
            session.get(first.url + "/x", timeout=10)
    with httpx.Client(auth=auth, follow_redirects=True, event_hooks=httpx_event_hooks()) as client:
        for _ in locations:
            client.get(first.url + "/x")
    assert len(target.received) == 2 * len(locations)
    assert all("tok-odd-01" not in unquote(r.path) for r in target.received)
    assert "/mirror/d" in [r.path for r in target.received]


# -- proxies --------------------------------------------------------------------------------


class ConnectRecorder:
    """A proxy that records CONNECT requests (their headers) and refuses them."""

    def __init__(self, host: str) -> None:
        self.listener = socket.create_server((host, 0))
        self.host, self.port = host, self.listener.getsockname()[1]
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data.decode("latin-1"))
                connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_a_forward_proxy_sees_the_targets_credential_in_authorization_only(
    client: str, loopback_server: Servers
) -> None:
    """Plain http through a proxy: the target's credential rides in Authorization.

    Looked up for the target's origin, never for the proxy's; never put in
    Proxy-Authorization; the proxy's own stored credential is not sent.
    """
    proxy = loopback_server("127.0.0.6")
    target_credential = BearerToken(canary("target"))
    store = Static({"127.0.0.7": target_credential, "127.0.0.6": BearerToken(canary("proxy"))})
    auth = RegistryAuth([store])
    url = "http://127.0.0.7:9/chan/x.json"
    if client == "requests":
        with requests.Session() as session:
            session.auth = auth
            session.trust_env = False
            session.get(url, proxies={"http": proxy.url}, timeout=10)
    else:
        with httpx.Client(auth=auth, proxy=proxy.url, trust_env=False) as http:
            http.get(url)
    [received] = proxy.received
    assert received.path == url
    assert received.authorization == target_credential.authorization()
    assert "proxy-authorization" not in received.headers


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_a_tunnel_proxy_never_sees_the_targets_credential(client: str) -> None:
    """https through a proxy: the CONNECT request carries no credential of ours."""
    proxy = ConnectRecorder("127.0.0.6")
    secret = canary("tunnel")
    auth = RegistryAuth(
        [Static({"127.0.0.7": BearerToken(secret), "127.0.0.6": BearerToken(secret + "p")})]
    )
    url = "https://127.0.0.7:9/t/x"
    try:
        if client == "requests":
            with requests.Session() as session:
                session.auth = auth
                session.trust_env = False
                proxies = {"https": f"http://127.0.0.6:{proxy.port}"}
                with pytest.raises(requests.exceptions.ProxyError):
                    session.get(url, proxies=proxies, timeout=10)
        else:
            proxy_url = f"http://127.0.0.6:{proxy.port}"
            with (
                httpx.Client(auth=auth, proxy=proxy_url, trust_env=False) as http,
                pytest.raises(httpx.ProxyError),
            ):
                http.get(url)
    finally:
        proxy.close()
    [connect] = proxy.requests
    assert connect.startswith("CONNECT 127.0.0.7:9 ")
    assert secret not in connect
    assert "authorization" not in connect.lower()


# -- IPv6 literals ---------------------------------------------------------------------------


def v6_url(server: LoopbackServer) -> str:
    return server.url


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
def test_ipv6_literal_origins_are_bound_like_any_other(
    client: str, kind: str, loopback_server: Servers, tls: Tls
) -> None:
    """127.0.0.2 -> [::1] -> 127.0.0.3: each gets only its own credential, keyed by literal."""
    try:
        box: list[LoopbackServer] = []
        v6_credential = make(kind, "v6")
        v6 = loopback_server("::1", redirect_to(lambda: box[0].url))
    except OSError:
        service_unavailable("no IPv6 loopback")
    last_credential = make(kind, "last")
    last = loopback_server("127.0.0.3", accepts(last_credential))
    box.append(last)
    first_credential = make(kind, "first")
    first = loopback_server("127.0.0.2", redirect_to(lambda: v6_url(v6)))
    store = Static(
        {
            "127.0.0.2": first_credential,
            f"[::1]:{v6.port}": v6_credential,
            "127.0.0.3": last_credential,
        }
    )
    status = fetch(client, RegistryAuth([store]), first.url + "/chan/", tls)
    assert status == 200
    assert carried(first.received[0], first_credential)
    for request in v6.received:
        assert not carried(request, first_credential)
    for request in last.received:
        assert not carried(request, first_credential)
        assert not carried(request, v6_credential)
    assert carried(last.received[-1], last_credential)
    count("redirect scenarios run")


@pytest.mark.parametrize("how", ["client", "module-helper", "async-client"])
async def test_clients_authenticated_by_patch_httpx_are_protected(
    how: str, loopback_server: Servers
) -> None:
    """What docs/security.md calls fully protected: httpx under ``patch_httpx``."""
    target = loopback_server("127.0.0.3")
    first = loopback_server("127.0.0.2", redirect_to(lambda: target.url))
    token = CondaToken(canary())
    with patch_httpx(RegistryAuth([Static({"127.0.0.2": token})])):
        url = first.url + "/chan/"
        if how == "client":
            with httpx.Client(follow_redirects=True) as client:
                client.get(url)
        elif how == "module-helper":
            httpx.get(url, follow_redirects=True)
        else:
            async with httpx.AsyncClient(follow_redirects=True) as client:
                await client.get(url)
    assert first.received[0].path == f"/t/{token.token}/chan/"
    assert [r.path for r in target.received] == ["/chan/"]
    count("redirect scenarios run")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_re_sent_request_answered_with_a_redirect_is_guarded_too(
    client: str, loopback_server: Servers, tls: Tls
) -> None:
    """401 to a stale token; the re-send with a fresh one is redirected off the origin."""
    stale, fresh = CondaToken(canary("stale")), CondaToken(canary("fresh"))
    target = loopback_server("127.0.0.3")

    def handler(server: LoopbackServer, request: Received) -> Reply:
        if fresh.token not in request.path:
            return Reply(401, {"WWW-Authenticate": 'Bearer realm="x"'})
        return Reply(302, {"Location": target.url + request.path})

    first = loopback_server("127.0.0.2", handler)
    answers = iter([stale, fresh])

    class Rotating:
        name = "rotating"
        blocking = False

        def lookup(self, origin: Any, url: str) -> Any:
            from authadapter import Found, Miss

            return Found(next(answers), "test") if origin.host == "127.0.0.2" else Miss()

    assert fetch(client, RegistryAuth([Rotating()]), first.url + "/chan/x", tls) == 200
    assert [r.path for r in first.received] == [
        f"/t/{stale.token}/chan/x",
        f"/t/{fresh.token}/chan/x",
    ]
    assert [r.path for r in target.received] == ["/chan/x"]
    count("redirect scenarios run")
