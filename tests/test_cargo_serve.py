"""The provider side: ``authadapter cargo-credential`` answering Cargo's requests.

``serve`` runs in-process on text streams here; tests/integration/test_cargo_real.py
runs it under real cargo through the console script.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from authadapter._credentials import BearerToken, RawToken
from authadapter._exceptions import InvalidCredentialError
from authadapter._reentry import IN_PLUGIN_VARIABLE
from authadapter._serve_cargo import serve, store_key, stored_credential
from tests.fixtures_cargo import CargoHome

INDEX = "sparse+http://127.0.0.1:8765/index/"


@pytest.fixture(autouse=True)
def _restore_plugin_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """serve() marks the process as the plugin; undo that after each test."""
    monkeypatch.setenv(IN_PLUGIN_VARIABLE, "")


def exchange(request: object | str) -> tuple[int, list[Any]]:
    line = request if isinstance(request, str) else json.dumps(request) + "\n"
    stdout = io.StringIO()
    status = serve(io.StringIO(line), stdout, [])
    return status, [json.loads(out) for out in stdout.getvalue().splitlines()]


def request(kind: str, index: str = INDEX, **fields: object) -> dict[str, object]:
    return {"v": 1, "registry": {"index-url": index, "name": "my-reg"}, "kind": kind, **fields}


def get(index: str = INDEX) -> Any:
    status, (hello, answer) = exchange(request("get", index, operation="read"))
    assert status == 0
    assert hello == {"v": [1]}
    return answer


def credentials(monkeypatch: pytest.MonkeyPatch, value: dict[str, object]) -> None:
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", json.dumps(value))


def test_get_answers_the_exact_authorization_value(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch, {"127.0.0.1:8765": {"BearerToken": "xyz"}})

    assert get() == {
        "Ok": {
            "kind": "get",
            "token": "Bearer xyz",
            "cache": "session",
            "operation_independent": True,
        }
    }


def test_basic_credentials_come_out_as_the_basic_header(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch, {"127.0.0.1": {"BasicHTTP": {"username": "u", "password": "p"}}})

    assert get()["Ok"]["token"] == "Basic dTpw"


@pytest.mark.parametrize(
    ("stored", "index"),
    [
        ({}, INDEX),
        ({"127.0.0.1:9999": {"BearerToken": "other-port"}}, INDEX),
        ({"127.0.0.1": {"CondaToken": "conda"}}, INDEX),
        ({"registry.example": {"BearerToken": "clear"}}, "sparse+http://registry.example/i/"),
    ],
    ids=["nothing", "other-port", "conda-token-is-no-header", "plain-http-refused"],
)
def test_not_found_when_registry_auth_would_send_nothing(
    monkeypatch: pytest.MonkeyPatch, stored: dict[str, object], index: str
) -> None:
    credentials(monkeypatch, stored)

    assert get(index) == {"Err": {"kind": "not-found"}}


@pytest.mark.parametrize(
    ("stored", "index"),
    [
        ({"127.0.0.1:8765": {"BearerToken": "b"}}, INDEX),
        ({"*.example.org": {"BasicHTTP": {"username": "u", "password": "p"}}},
         "sparse+https://cargo.example.org/index/"),
        ({"registry.example": {"BearerToken": "clear"}}, "sparse+http://registry.example/i/"),
        ({"127.0.0.1": {"CondaToken": "conda"}}, INDEX),
        ({}, INDEX),
    ],
)  # fmt: skip
def test_get_agrees_with_registry_auth(
    monkeypatch: pytest.MonkeyPatch, stored: dict[str, object], index: str
) -> None:
    """get answers without RegistryAuth (it imports httpx); the answers must stay the same.

    What RegistryAuth sends is read off a real httpx request, routed by respx.
    """
    import httpx
    import respx

    from authadapter import RegistryAuth

    credentials(monkeypatch, stored)
    url = index.removeprefix("sparse+")
    with respx.mock(assert_all_called=True) as router:
        route = router.route().respond(200)
        httpx.get(url, auth=RegistryAuth(order=["env"]))
    sent = route.calls.last.request
    expected = sent.headers.get("Authorization") if sent.url == httpx.URL(url) else None

    assert get(index).get("Ok", {}).get("token") == expected


def test_cargos_own_configuration_is_not_consulted(
    cargo_home: CargoHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    cargo_home.write_config(
        f'[registries.my-reg]\nindex = "{INDEX}"\n'
        '[registry]\nglobal-credential-providers = ["cargo:token"]\n'
    )
    cargo_home.write_credentials('[registries.my-reg]\ntoken = "cargo-own"\n')

    assert get() == {"Err": {"kind": "not-found"}}


def test_login_get_logout_round_trip(tmp_path: Path) -> None:
    status, (_, stored) = exchange(request("login", token="Bearer round-trip"))
    assert status == 0
    assert stored == {"Ok": {"kind": "login"}}

    assert get()["Ok"]["token"] == "Bearer round-trip"

    _, (_, removed) = exchange(request("logout"))
    assert removed == {"Ok": {"kind": "logout"}}
    assert get() == {"Err": {"kind": "not-found"}}
    _, (_, again) = exchange(request("logout"))
    assert again == {"Err": {"kind": "not-found"}}


def test_login_of_a_raw_token_is_refused_saying_where_it_can_go() -> None:
    """Stored as a bearer token it would be sent as `Bearer raw-s3cret`, which Cargo never sends."""
    _, (_, answer) = exchange(request("login", token="raw-s3cret"))

    message = answer["Err"]["message"]
    assert answer["Err"]["kind"] == "other"
    assert "log in with `Bearer <token>`" in message
    assert 'credential-provider = "cargo:token"' in message
    assert "\n" not in message
    assert "raw-s3cret" not in json.dumps(answer)
    assert get() == {"Err": {"kind": "not-found"}}


@pytest.mark.parametrize("token", [None, "", "Bearer bad\x01"])
def test_login_without_a_usable_token(token: str | None) -> None:
    fields = {} if token is None else {"token": token}
    _, (_, answer) = exchange(request("login", **fields))

    assert answer["Err"]["kind"] == "other"
    assert "bad" not in answer["Err"]["message"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (json.dumps(request("cache-clear")) + "\n", "operation-not-supported"),
        (json.dumps(request("get", "not a url")) + "\n", "url-not-supported"),
        ("{not json\n", "other"),
        (json.dumps({**request("get"), "v": 2}) + "\n", "other"),
        (json.dumps({"v": 1, "kind": "get"}) + "\n", "other"),
    ],
)
def test_requests_outside_what_we_serve(line: str, kind: str) -> None:
    status, (hello, answer) = exchange(line)

    assert status == 0
    assert hello == {"v": [1]}
    assert answer["Err"]["kind"] == kind


def test_no_request_exits_1_after_hello() -> None:
    status, lines = exchange("")

    assert status == 1
    assert lines == [{"v": [1]}]


def test_store_key_is_host_with_port_off_the_default() -> None:
    assert store_key(INDEX) == "127.0.0.1:8765"
    assert store_key("sparse+https://Cargo.Example.org/index/") == "cargo.example.org"
    assert store_key("sparse+https://[::1]:8443/i/") == "[::1]:8443"


def test_stored_credential_sends_the_token_back_verbatim() -> None:
    assert stored_credential("Bearer abc") == BearerToken("abc")
    assert stored_credential("Bearer abc").authorization() == "Bearer abc"
    for token in ("abc", "Bearer  two-spaces"):
        assert stored_credential(token) == RawToken(token)
        assert stored_credential(token).authorization() == token
    with pytest.raises(InvalidCredentialError, match=r"^token starts or ends with a space$"):
        stored_credential("Bearer ")  # httpx would refuse the header, with the token in its error


def test_allow_http_hosts_lets_a_plain_http_registry_have_its_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "authadapter.toml"
    config.write_text('allow_http_hosts = ["registry.example"]\n')
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(config))
    credentials(monkeypatch, {"registry.example": {"BearerToken": "clear"}})

    assert get("sparse+http://registry.example/i/")["Ok"]["token"] == "Bearer clear"


def test_get_answers_without_importing_an_http_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cargo starts the plugin once per registry; httpx alone would add a third to that."""
    credentials(monkeypatch, {"127.0.0.1:8765": {"BearerToken": "xyz"}})
    code = (
        "import sys\n"
        "from authadapter._serve_cargo import serve\n"
        "serve(sys.stdin, sys.stdout, [])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'requests')),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(request("get", operation="read")) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert json.loads(done.stdout.splitlines()[1])["Ok"]["token"] == "Bearer xyz"
    assert done.stderr.strip() == "[]"
