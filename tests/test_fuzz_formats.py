"""Every format authadapter parses, fed hostile input: only the library's own errors come out.

A parser that crashes with ``KeyError`` or ``RecursionError`` on a bad file
would surface as a traceback in a user's install command; one that quotes
the input in its message could print a secret. Each property feeds random
text, mutated valid documents and random JSON values, and checks that the
only exceptions are ``AuthAdapterError`` subclasses whose message is one line
and never contains a marked secret from the input.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authadapter import AuthAdapterError
from authadapter._subprocess import parse_token_output
from authadapter.providers.cargo.config import parse_cargo_config
from authadapter.providers.cargo.plugin_client import interpret_response
from authadapter.providers.cargo.token import parse_credentials
from authadapter.providers.netrc import parse_netrc
from authadapter.providers.rattler_format import parse_document
from tests.fixtures_security import count

SECRET = "SECRETV0123456789"
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID_JSON = json.dumps(
    {
        "repo.example.org": {"BearerToken": SECRET},
        "*.example.com": {"BasicHTTP": {"username": "u", "password": SECRET}},
        "conda.example.net": {"CondaToken": SECRET},
        "s3://bucket": {"S3Credentials": {"access_key_id": "a", "secret_access_key": SECRET}},
    },
    indent=1,
)
VALID_NETRC = f"""# comment
machine repo.example.org login alice password {SECRET}
machine "quoted host" login "bob smith" password "{SECRET}"
macdef init
  cd /pub

default login anonymous password {SECRET}
"""
VALID_CARGO_CONFIG = f"""[registry]
global-credential-providers = ["cargo:token", "cargo:token-from-stdout echo {SECRET}"]
[registries.my-reg]
index = "sparse+https://cargo.example.org/index/"
credential-provider = ["cargo:token-from-stdout", "echo", "{SECRET}"]
[credential-alias]
mine = "/usr/bin/helper --token {SECRET}"
"""
VALID_CARGO_CREDENTIALS = f"""[registry]
token = "{SECRET}"
[registries.my-reg]
token = "{SECRET}"
"""


ALPHABET = st.sampled_from([*string.printable, "\x00", "é", "\ufeff", '"', "\\", "["])


@st.composite
def mutations(draw: st.DrawFn, valid: str) -> str:
    """``valid`` with random cuts, insertions and swaps: almost-right files, the usual kind."""
    text = valid
    for _ in range(draw(st.integers(1, 4))):
        cut = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "truncate", "duplicate"]))
        if action == "insert":
            text = text[:cut] + draw(st.text(ALPHABET, max_size=5)) + text[cut:]
        elif action == "delete":
            text = text[:cut] + text[cut + draw(st.integers(1, 8)) :]
        elif action == "truncate":
            text = text[:cut]
        else:
            text = text[:cut] + text[cut // 2 : cut] + text[cut:]
    return text


def inputs(valid: str) -> st.SearchStrategy[str]:
    return st.one_of(mutations(valid), st.text(max_size=200))


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.just(SECRET),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def only_library_errors(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except AuthAdapterError as error:
        message = str(error)
        assert "\n" not in message
        assert SECRET not in message
        return None


@EXAMPLES
@given(st.one_of(inputs(VALID_JSON), json_values.map(json.dumps)))
def test_rattler_json(text: str) -> None:
    count("fuzz: rattler credentials.json inputs")
    document = only_library_errors(parse_document, text, "/x/credentials.json")
    if document is not None:
        for skipped in document.skipped:
            assert SECRET not in skipped.reason
            assert "\n" not in skipped.reason
        assert SECRET not in repr(document)


@EXAMPLES
@given(inputs(VALID_NETRC))
def test_netrc(text: str) -> None:
    count("fuzz: netrc inputs")
    entries = only_library_errors(parse_netrc, text, "/x/.netrc")
    for entry in entries or []:
        if len(entry.password) >= 6 and entry.password not in entry.machine + entry.login:
            assert entry.password not in repr(entry)


@EXAMPLES
@given(inputs(VALID_CARGO_CONFIG))
def test_cargo_config(text: str) -> None:
    count("fuzz: Cargo config.toml inputs")
    table = only_library_errors(parse_cargo_config, text, Path("/x/.cargo/config.toml"))
    if table is not None:
        assert isinstance(table, dict)


@EXAMPLES
@given(inputs(VALID_CARGO_CREDENTIALS))
def test_cargo_credentials(text: str) -> None:
    count("fuzz: Cargo credentials.toml inputs")
    tokens = only_library_errors(parse_credentials, text, Path("/x/.cargo/credentials.toml"))
    if tokens is not None:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in tokens.items())


@EXAMPLES
@given(json_values)
def test_cargo_plugin_answers(value: Any) -> None:
    count("fuzz: Cargo plugin answers")
    only_library_errors(interpret_response, value, "plugin `x`")
    only_library_errors(interpret_response, {"Ok": value}, "plugin `x`")
    only_library_errors(interpret_response, {"Err": value}, "plugin `x`")


@EXAMPLES
@given(st.binary(max_size=300) | st.just(SECRET.encode() + b"\nmore"))
def test_token_command_output(output: bytes) -> None:
    count("fuzz: token command outputs")
    only_library_errors(parse_token_output, output, "command `x`")


DEEP = 100_000


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        pytest.param(
            lambda t: parse_document(t, "/x/credentials.json"),
            "[" * DEEP,
            id="json-arrays",
        ),
        pytest.param(
            lambda t: parse_document(t, "/x/credentials.json"),
            '{"a":' * DEEP,
            id="json-objects",
        ),
        pytest.param(
            lambda t: parse_credentials(t, Path("/x/c.toml")),
            "a=" + "[" * DEEP,
            id="cargo-credentials",
        ),
        pytest.param(
            lambda t: parse_cargo_config(t, Path("/x/.cargo/c.toml")),
            "a=" + "{b=" * DEEP,
            id="cargo-config",
        ),
        pytest.param(lambda t: parse_netrc(t, "/x/.netrc"), "machine " * DEEP, id="netrc"),
        pytest.param(lambda t: parse_netrc(t, "/x/.netrc"), '"' + "\\" * DEEP, id="netrc-quote"),
    ],
)
def test_deeply_nested_input(parse: Any, text: str) -> None:
    """Nesting deeper than Python's recursion limit (json and tomllib raise RecursionError).

    A hostile file must give the one-line store error, not a traceback from
    ``authadapter login`` or ``list``.
    """
    count("fuzz: deeply nested inputs")
    only_library_errors(parse, text)
