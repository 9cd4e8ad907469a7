"""Credential kinds: how each applies, that none shows its secret, that none can forge a header."""

from __future__ import annotations

import base64
import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    InvalidCredentialError,
    RawToken,
)
from authadapter._credentials import check_header_safe
from tests.fixtures_security import canary, count


def test_how_each_kind_applies() -> None:
    url = "https://h.example/chan/x.json"
    assert BearerToken("abc").authorization() == "Bearer abc"
    assert RawToken("abc").authorization() == "abc"
    assert BasicCredential("u", "p").authorization() == "Basic " + base64.b64encode(b"u:p").decode(
        "ascii"
    )
    assert CondaToken("abc").authorization() is None
    assert CondaToken("abc").rewrite_url(url) == "https://h.example/t/abc/chan/x.json"
    for credential in (BearerToken("abc"), RawToken("abc"), BasicCredential("u", "p")):
        assert credential.rewrite_url(url) == url


def test_no_kind_shows_its_secret() -> None:
    secret = canary()
    for credential in (
        BearerToken(secret),
        RawToken(secret),
        CondaToken(secret),
        BasicCredential("alice", secret),
    ):
        for shown in (repr(credential), str(credential), f"{credential}", f"{credential!r}"):
            assert secret not in shown
        assert secret not in repr([credential])
        assert secret not in repr({"k": credential})
        assert copy.copy(credential) == credential
        assert pickle.loads(pickle.dumps(credential))
    assert "alice" in str(BasicCredential("alice", secret))


@pytest.mark.parametrize(
    "value",
    ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb", "a\x1bb", "ä", "", "\u2028"],
)
@pytest.mark.parametrize("kind", [BearerToken, RawToken, CondaToken])
def test_tokens_that_would_corrupt_a_header_are_refused(kind: type, value: str) -> None:
    with pytest.raises(InvalidCredentialError) as caught:
        kind(value)
    assert value not in str(caught.value) or value == ""


def test_basic_refuses_control_characters_and_a_colon_in_the_username() -> None:
    for username, password in (("u\r\n", "p"), ("u", "p\nq"), ("a:b", "p"), ("", "")):
        with pytest.raises(InvalidCredentialError):
            BasicCredential(username, password)
    assert BasicCredential("", "only-a-password").authorization() is not None
    assert BasicCredential("tab\tok", "p").username == "tab\tok"


@pytest.mark.parametrize("token", ["a/b", "a?b", "a#b", "a b", "a%2Fb", ".", ".."])
def test_conda_tokens_must_stay_one_path_segment(token: str) -> None:
    with pytest.raises(InvalidCredentialError):
        CondaToken(token)


@given(st.text(max_size=20))
def test_a_token_is_refused_or_safe_in_a_header(value: str) -> None:
    count("hypothesis: token values checked for header safety")
    try:
        token = BearerToken(value)
    except InvalidCredentialError as error:
        message = str(error)
    else:
        message = None
    if message is not None:
        assert value == "" or value not in message
        return
    header = token.authorization()
    assert header is not None
    assert all(32 <= ord(c) < 127 or c == "\t" for c in header)


def test_check_header_safe_names_what_not_the_value() -> None:
    secret = canary()
    with pytest.raises(InvalidCredentialError, match=r"^password contains a control character"):
        check_header_safe(secret + "\n", "password")
