"""Credential kinds: how each applies, that none shows its secret, that none can forge a header."""

from __future__ import annotations

import base64
import copy
import pickle
import re

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


@pytest.mark.parametrize(
    ("kind", "what"),
    [(BearerToken, "bearer token"), (RawToken, "token"), (CondaToken, "conda token")],
)
@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Tok ", "starts or ends with a space"),
        (" Tok", "starts or ends with a space"),
        ("   ", "starts or ends with a space"),
        ("a\tb", "contains a control character (position 1)"),
        ("Tok\t", "contains a control character (position 3)"),
    ],
)
def test_a_token_with_a_tab_or_a_space_at_either_end_is_refused(
    kind: type, what: str, value: str, why: str
) -> None:
    """What a paste or ``printf "Tok \\n"`` leaves: httpx would raise with it in the message."""
    with pytest.raises(InvalidCredentialError) as caught:
        kind(value)
    assert str(caught.value) == f"{what} {why}"


def test_a_space_inside_a_raw_or_bearer_token_is_sent() -> None:
    assert RawToken("Bearer xyz").authorization() == "Bearer xyz"
    assert BearerToken("a b").authorization() == "Bearer a b"


def test_basic_keeps_spaces_which_travel_base64_encoded() -> None:
    credential = BasicCredential(" me ", " pass word ")
    assert credential.authorization() == "Basic " + base64.b64encode(b" me : pass word ").decode(
        "ascii"
    )
    for username, password in (("tab\tme", "p"), ("me", "p\tq")):
        with pytest.raises(InvalidCredentialError, match="contains a control character"):
            BasicCredential(username, password)


@pytest.mark.parametrize(
    "token", ["a/b", "a?b", "a#b", "a b", "a%2Fb", ".", "..", "a[b", "a|b", "a\\b", "a^b", 'a"b']
)
def test_conda_tokens_must_stay_one_path_segment(token: str) -> None:
    with pytest.raises(InvalidCredentialError, match=r"^conda token contains a character not"):
        CondaToken(token)


def test_conda_tokens_may_hold_what_a_path_segment_holds() -> None:
    token = "Az09-._~!$&'()*+,;=:@"
    assert CondaToken(token).rewrite_url("https://h/c") == f"https://h/t/{token}/c"


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
        # the message is one of a fixed set: nothing of the value but a position
        assert re.fullmatch(
            r"bearer token (is empty|starts or ends with a space|contains a "
            r"(control|non-ASCII) character \(position \d+\))",
            message,
        ), message
        return
    header = token.authorization()
    assert header is not None
    assert all(32 <= ord(c) < 127 for c in header)
    assert header == header.strip()


def test_check_header_safe_names_what_not_the_value() -> None:
    secret = canary()
    with pytest.raises(InvalidCredentialError, match=r"^password contains a control character"):
        check_header_safe(secret + "\n", "password")
