"""pixi OAuth entries: sent as Bearer, renewed at a real loopback token endpoint, written back."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from authadapter import Failure, Found, LookupResult, Origin, RegistryAuth
from authadapter._chain import ProviderChain
from authadapter._files import locked
from authadapter.providers.env import ENV_VARIABLE, EnvProvider
from authadapter.providers.netrc import NetrcProvider
from authadapter.providers.rattler import RattlerFileProvider, rattler_credentials_path
from tests.oauth_endpoint import TokenEndpoint, oauth_value
from tests.support import LoopbackServer, Reply
from tests.test_cli import run_cli

Start = Callable[..., LoopbackServer]


def _write(path: Path, document: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def _endpoint(
    start: Start, refresh: str = "refresh-original-0001", **options: object
) -> tuple[TokenEndpoint, str]:
    endpoint = TokenEndpoint(refresh, **options)  # type: ignore[arg-type]
    server = start("127.0.0.9", endpoint)
    return endpoint, f"{server.url}/oauth/token"


def _lookup(
    provider: RattlerFileProvider | EnvProvider, url: str = "https://repo.example.org/x"
) -> LookupResult:
    return provider.lookup(Origin.from_url(url), url)


def _stored(path: Path, key: str = "repo.example.org") -> dict[str, object]:
    value = json.loads(path.read_text())[key]["OAuth"]
    assert isinstance(value, dict)
    return value


# sending ---------------------------------------------------------------------------


def test_a_valid_token_is_sent_as_bearer_and_cached_until_the_margin(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=3600)})

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Found)
    assert result.credential.authorization() == "Bearer access-original-0001"
    assert result.ttl is not None
    assert 3290 <= result.ttl <= 3300
    assert "OAuth, expires" in result.source
    assert "refreshable" in result.source
    assert endpoint.forms == []


def test_a_token_without_expiry_is_sent_with_the_chains_lifetime(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=None)})

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Found)
    assert result.ttl is None
    assert "no expiry" in result.source
    assert endpoint.forms == []


def test_registry_auth_sends_the_oauth_token_on_the_wire(
    loopback_server: Start, tmp_path: Path
) -> None:
    _, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2")
    _write(rattler_credentials_path(), {"127.0.0.2": oauth_value(url, expires_in=3600)})

    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{registry.url}/channel/noarch/repodata.json")

    assert registry.received[0].authorization == "Bearer access-original-0001"


def test_the_chain_asks_again_when_the_token_enters_the_margin(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2")
    _write(rattler_credentials_path(), {"127.0.0.2": oauth_value(url, expires_in=304)})
    auth = RegistryAuth(config=False, ttl=3600)

    with httpx.Client(auth=auth) as client:
        client.get(f"{registry.url}/a")
        client.get(f"{registry.url}/b")
        time.sleep(4.5)  # the token is now within five minutes of its expiry
        client.get(f"{registry.url}/c")

    assert [r.authorization for r in registry.received] == [
        "Bearer access-original-0001",
        "Bearer access-original-0001",
        "Bearer access-renewed-0001",
    ]
    assert endpoint.refreshes == 1


# renewing --------------------------------------------------------------------------


def test_a_token_expiring_within_five_minutes_is_renewed_and_written_back(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server, expires_in=7200)
    other = {"BasicHTTP": {"username": "u", "password": "other-pass-1"}}
    s3 = {"S3Credentials": {"access_key_id": "a", "secret_access_key": "s3-secret-77"}}
    document = {
        "a.example.org": other,
        "Repo.Example.org": oauth_value(url, expires_in=240, audience="conda-forge"),
        "s3://bucket": s3,
    }
    path = _write(tmp_path / "c.json", document)
    before = time.time()

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Found)
    assert result.credential.authorization() == "Bearer access-renewed-0001"
    assert "refreshed" in result.source
    assert result.ttl is not None
    assert 6890 <= result.ttl <= 6900
    assert endpoint.forms == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-original-0001",
            "client_id": "pixi-test-client",
            "audience": "conda-forge",
        }
    ]
    written = json.loads(path.read_text())
    assert list(written) == ["a.example.org", "Repo.Example.org", "s3://bucket"]
    assert written["a.example.org"] == other
    assert written["s3://bucket"] == s3
    login = written["Repo.Example.org"]["OAuth"]
    assert login["access_token"] == "access-renewed-0001"
    assert login["refresh_token"] == "refresh-renewed-0001"
    assert int(before) + 7200 <= login["expires_at"] <= int(time.time()) + 7200
    assert (login["client_id"], login["audience"]) == ("pixi-test-client", "conda-forge")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_renewed_token_is_used_without_a_second_refresh(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=10)})
    provider = RattlerFileProvider(path)

    first, second = _lookup(provider), _lookup(RattlerFileProvider(path))

    assert isinstance(first, Found)
    assert isinstance(second, Found)
    assert first.credential == second.credential
    assert endpoint.refreshes == 1


def test_an_answer_without_refresh_token_or_expiry_keeps_the_old_refresh_token(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    endpoint.answer = Reply(
        200, {"Content-Type": "application/json"}, b'{"access_token": "access-plain-0009"}'
    )
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-5)})

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Found)
    assert result.ttl is None
    stored = _stored(path)
    assert (stored["access_token"], stored["refresh_token"], stored["expires_at"]) == (
        "access-plain-0009",
        "refresh-original-0001",
        None,
    )


def test_the_auth_file_named_by_the_variable_is_the_one_written_back(
    loopback_server: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = _endpoint(loopback_server)
    registry = loopback_server("127.0.0.2")
    auth_file = _write(tmp_path / "auth.json", {"127.0.0.2": oauth_value(url, expires_in=30)})
    home_file = rattler_credentials_path()
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))

    with httpx.Client(auth=RegistryAuth(config=False)) as client:
        client.get(f"{registry.url}/x")

    assert registry.received[0].authorization == "Bearer access-renewed-0001"
    assert _stored(auth_file, "127.0.0.2")["access_token"] == "access-renewed-0001"
    assert not home_file.exists()


# failing -----------------------------------------------------------------------------


def test_invalid_grant_on_an_expired_token_keeps_the_entry_and_asks_the_next_store(
    loopback_server: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint, url = _endpoint(loopback_server, refresh="some-other-refresh-token")
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-60)})
    before = path.read_bytes()
    netrc = tmp_path / "netrc"
    netrc.write_text("machine repo.example.org login me password netrc-pass-0042\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    chain = ProviderChain([RattlerFileProvider(path, name="rattler-file"), NetrcProvider()])

    with caplog.at_level(logging.WARNING, logger="authadapter"):
        resolution = chain.resolve("https://repo.example.org/x")

    assert resolution.provider == "netrc"
    assert path.read_bytes() == before
    assert len(endpoint.forms) == 1
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in warning
    assert "invalid_grant" in warning
    assert "127.0.0.9" in warning
    assert "expired" in warning
    for secret in ("access-original-0001", "refresh-original-0001"):
        assert secret not in warning


def test_a_failed_refresh_still_sends_a_token_that_has_not_expired(
    loopback_server: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, url = _endpoint(loopback_server)
    endpoint.answer = Reply(503, {}, b"<html>down for maintenance</html>")
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=100)})
    before = path.read_bytes()

    with caplog.at_level(logging.WARNING, logger="authadapter"):
        result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Found)
    assert result.credential.authorization() == "Bearer access-original-0001"
    assert result.ttl is not None
    assert result.ttl <= 30
    assert path.read_bytes() == before
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "HTTP 503" in warning
    assert "127.0.0.9" in warning
    assert "maintenance" not in warning


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Reply(200, {}, b"<html>login page</html>"), "without a usable token"),
        (Reply(200, {}, b'{"access_token": "x y\\n"}'), "without a usable token"),
        (Reply(200, {}, b'{"access_token": "a-token-1", "token_type": "mac"}'), "usable token"),
        (Reply(200, {}, b'{"access_token": "a-token-1", "expires_in": "3600"}'), "usable token"),
        (Reply(200, {}, b"[" * 200_000), "more than"),
        (Reply(302, {"Location": "http://127.0.0.8/steal"}, b""), "HTTP 302"),
        (Reply(400, {}, b'{"error": "invalid_client"}'), "HTTP 400 (invalid_client)"),
    ],
    ids=["html", "header-unsafe", "not-bearer", "string-expiry", "oversized", "redirect", "400"],
)
def test_a_misbehaving_endpoint_is_a_failure_naming_its_host(
    loopback_server: Start, tmp_path: Path, answer: Reply, expected: str
) -> None:
    endpoint, url = _endpoint(loopback_server)
    endpoint.answer = answer
    elsewhere = loopback_server("127.0.0.8")
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-1)})
    before = path.read_bytes()

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Failure)
    assert expected in result.message
    assert "127.0.0.9" in result.message
    assert "\n" not in result.message
    assert path.read_bytes() == before
    assert elsewhere.received == []


def test_an_unreachable_endpoint_is_a_failure(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.7", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.7:{port}/token"
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-1)})

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Failure)
    assert f"127.0.0.7:{port} did not answer" in result.message


def test_a_slow_endpoint_is_given_up_after_the_timeout(
    loopback_server: Start, tmp_path: Path
) -> None:
    _, url = _endpoint(loopback_server, delay=3.0)
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-1)})
    started = time.monotonic()

    result = _lookup(RattlerFileProvider(path, refresh_timeout=0.5))

    assert time.monotonic() - started < 2.5
    assert isinstance(result, Failure)
    assert "timed out" in result.message


def test_the_refresh_token_never_goes_over_plain_http_to_a_remote_host(tmp_path: Path) -> None:
    url = "http://auth.example.invalid/token"
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-1)})

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Failure)
    assert "auth.example.invalid is not https" in result.message


def test_an_expired_token_without_refresh_token_is_not_sent(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    value = oauth_value(url, expires_in=-1, refresh_token=None)
    path = _write(tmp_path / "c.json", {"repo.example.org": value})

    result = _lookup(RattlerFileProvider(path))

    assert isinstance(result, Failure)
    assert "no refresh token" in result.message
    assert endpoint.forms == []


def test_an_entry_replaced_by_another_login_meanwhile_is_not_refreshed(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server)
    path = _write(tmp_path / "c.json", {"repo.example.org": oauth_value(url, expires_in=-1)})
    outcome: list[LookupResult] = []

    with locked(path):  # another process is logging in again
        lookup = threading.Thread(target=lambda: outcome.append(_lookup(RattlerFileProvider(path))))
        lookup.start()
        time.sleep(0.5)  # the lookup has read the expired entry and waits for the lock
        _write(path, {"repo.example.org": {"BearerToken": "relogged-in-0005"}})
    lookup.join(30)

    (result,) = outcome
    assert isinstance(result, Found)
    assert result.credential.authorization() == "Bearer relogged-in-0005"
    assert endpoint.forms == []


# concurrency -----------------------------------------------------------------------


def test_threads_with_their_own_registry_auth_cause_one_refresh(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server, delay=0.3)
    registry = loopback_server("127.0.0.2")
    _write(rattler_credentials_path(), {"127.0.0.2": oauth_value(url, expires_in=30)})
    barrier = threading.Barrier(12)
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            auth = RegistryAuth(config=False)
            barrier.wait()
            with httpx.Client(auth=auth) as client:
                client.get(f"{registry.url}/x")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert endpoint.refreshes == 1
    assert len(endpoint.forms) == 1
    assert {r.authorization for r in registry.received} == {"Bearer access-renewed-0001"}
    assert len(registry.received) == 12


def test_asyncio_tasks_to_several_origins_cause_one_refresh(
    loopback_server: Start, tmp_path: Path
) -> None:
    endpoint, url = _endpoint(loopback_server, delay=0.3)
    registries = [loopback_server("127.0.0.1") for _ in range(4)]  # one key, four origins
    _write(rattler_credentials_path(), {"127.0.0.1": oauth_value(url, expires_in=30)})
    auth = RegistryAuth(config=False)

    async def main() -> None:
        async with httpx.AsyncClient(auth=auth) as client:
            await asyncio.gather(
                *(client.get(f"{r.url}/x/{n}") for r in registries for n in range(5))
            )

    asyncio.run(main())

    assert endpoint.refreshes == 1
    sent = {r.authorization for server in registries for r in server.received}
    assert sent == {"Bearer access-renewed-0001"}


# the read-only variable --------------------------------------------------------------


def test_the_variable_is_renewed_in_memory_once_and_never_rewritten(
    loopback_server: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, url = _endpoint(loopback_server)
    text = json.dumps({"repo.example.org": oauth_value(url, expires_in=-1)})
    monkeypatch.setenv(ENV_VARIABLE, text)
    provider = EnvProvider()

    first, second = _lookup(provider), _lookup(provider)

    assert isinstance(first, Found)
    assert isinstance(second, Found)
    assert first.credential.authorization() == "Bearer access-renewed-0001"
    assert second.credential == first.credential
    assert endpoint.refreshes == 1
    assert os.environ[ENV_VARIABLE] == text


def test_a_new_value_of_the_variable_replaces_what_was_renewed(
    loopback_server: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = _endpoint(loopback_server)
    monkeypatch.setenv(
        ENV_VARIABLE, json.dumps({"repo.example.org": oauth_value(url, expires_in=-1)})
    )
    provider = EnvProvider()
    assert isinstance(_lookup(provider), Found)
    fresh = oauth_value(url, access_token="access-from-ci-0002", expires_in=3600)
    monkeypatch.setenv(ENV_VARIABLE, json.dumps({"repo.example.org": fresh}))

    result = _lookup(provider)

    assert isinstance(result, Found)
    assert result.credential.authorization() == "Bearer access-from-ci-0002"


# list and which ------------------------------------------------------------------------


def test_list_and_which_show_the_expiry_and_no_token(loopback_server: Start) -> None:
    _, url = _endpoint(loopback_server)
    expires = oauth_value(url, expires_in=3600)
    _write(rattler_credentials_path(), {"repo.example.org": expires})
    moment = time.strftime("%Y-%m-%d %H:%M", time.gmtime(expires["OAuth"]["expires_at"]))

    listed = run_cli("list")
    which = run_cli("which", "https://repo.example.org/x")

    assert listed.returncode == 0, listed.stderr
    assert which.returncode == 0, which.stderr
    for output in (listed.stdout, which.stdout):
        assert f"OAuth, expires {moment}" in output
        assert "access-original-0001" not in output
        assert "refresh-original-0001" not in output
    assert "Bearer ***" in which.stdout
