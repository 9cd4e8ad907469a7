"""rattler's credentials.json format: parse and dump as pure functions, no disk."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    InvalidCredentialError,
    RawToken,
    StoreFormatError,
)
from authadapter.providers.rattler_format import (
    OAuthEntry,
    dump_credential_value,
    dump_document,
    dump_oauth_value,
    parse_credential_value,
    parse_document,
    parse_oauth_value,
    with_entry,
    with_oauth_entry,
    without_entry,
)

PIXI_FILE = """{
  "repo.example.org": {"BearerToken": "tok"},
  "*.example.com": {"BasicHTTP": {"username": "u", "password": "p"}},
  "conda.example.net": {"CondaToken": "ct"},
  "s3://bucket": {"S3Credentials": {"access_key_id": "AK", "secret_access_key": "SK",
                                    "session_token": null}},
  "auth.example.io": {"OAuth": {"access_token": "at", "refresh_token": "rt",
      "expires_at": 1700000000, "token_endpoint": "https://auth.example.io/token",
      "revocation_endpoint": null, "client_id": "pixi"}}
}"""


def test_reads_every_kind_pixi_writes() -> None:
    document = parse_document(PIXI_FILE, "credentials.json")

    assert document.entries == {
        "repo.example.org": BearerToken("tok"),
        "*.example.com": BasicCredential("u", "p"),
        "conda.example.net": CondaToken("ct"),
    }


def test_kinds_it_cannot_send_are_skipped_by_key_without_their_secret() -> None:
    document = parse_document(PIXI_FILE, "credentials.json")

    assert [skipped.key for skipped in document.skipped] == ["s3://bucket"]
    assert "S3Credentials" in document.skipped[0].reason
    for skipped in document.skipped:
        for secret in ("AK", "SK", "at", "rt"):
            assert secret not in skipped.reason.split("'")


def test_rewrite_keeps_entries_it_does_not_understand_unchanged() -> None:
    document = parse_document(PIXI_FILE, "credentials.json")

    rewritten = json.loads(
        dump_document(with_entry(document.document, "new.example.org", BearerToken("n")))
    )

    original = json.loads(PIXI_FILE)
    assert rewritten["s3://bucket"] == original["s3://bucket"]
    assert rewritten["auth.example.io"] == original["auth.example.io"]
    assert rewritten["new.example.org"] == {"BearerToken": "n"}
    assert list(rewritten)[:5] == list(original)


def test_keys_are_normalised_but_remembered_as_written() -> None:
    document = parse_document('{"Repo.Example.ORG.": {"BearerToken": "t"}}', "f")

    assert document.entries == {"repo.example.org": BearerToken("t")}
    assert document.keys == {"repo.example.org": "Repo.Example.ORG."}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "not valid JSON (line 1"),
        ('["repo.example.org"]', "expected a JSON object"),
        ('"just a string"', "expected a JSON object"),
        ("{\n  'single': 'quotes'\n}", "not valid JSON (line 2"),
    ],
)
def test_a_file_that_is_not_a_json_object_is_an_error_naming_it(text: str, fragment: str) -> None:
    with pytest.raises(StoreFormatError) as caught:
        parse_document(text, "/home/u/.rattler/credentials.json")

    message = str(caught.value)
    assert message.startswith("/home/u/.rattler/credentials.json: ")
    assert fragment in message
    assert "\n" not in message


def test_json_error_message_never_quotes_the_file() -> None:
    with pytest.raises(StoreFormatError) as caught:
        parse_document('{"h": {"BearerToken": "SECRET-TOKEN"} oops}', "f")

    assert "SECRET" not in str(caught.value)


def test_an_empty_file_is_an_empty_store() -> None:
    assert parse_document("  \n", "f").entries == {}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"BearerToken": 5}, "malformed BearerToken"),
        ({"BasicHTTP": {"username": "u"}}, "malformed BasicHTTP"),
        ({"BearerToken": "a", "CondaToken": "b"}, "exactly one"),
        ("plain string", "exactly one"),
        ({"BearerToken": "line\r\nX-Injected: 1"}, "control character"),
        ({"Mystery": {}}, "unsupported credential type 'Mystery'"),
    ],
)
def test_unusable_values_are_refused_with_a_reason(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_credential_value(value)


def test_an_unusable_entry_does_not_hide_the_others() -> None:
    document = parse_document(
        '{"bad.org": {"BearerToken": "a\\nb"}, "good.org": {"BearerToken": "g"}}', "f"
    )

    assert document.entries == {"good.org": BearerToken("g")}
    assert [s.key for s in document.skipped] == ["bad.org"]


def test_dump_uses_rattlers_tags() -> None:
    assert dump_credential_value(BearerToken("t")) == {"BearerToken": "t"}
    assert dump_credential_value(CondaToken("t")) == {"CondaToken": "t"}
    assert dump_credential_value(BasicCredential("u", "p")) == {
        "BasicHTTP": {"username": "u", "password": "p"}
    }


def test_raw_tokens_cannot_be_stored_in_rattlers_format() -> None:
    with pytest.raises(InvalidCredentialError, match="raw"):
        dump_credential_value(RawToken("cargo-token"))


def test_with_entry_replaces_other_spellings_of_the_key_in_place() -> None:
    document = {"a.org": {"CondaToken": "1"}, "REPO.example.org": {"BearerToken": "old"}, "z": 1}

    updated = with_entry(document, "repo.example.org", BearerToken("new"))

    assert updated == {
        "a.org": {"CondaToken": "1"},
        "repo.example.org": {"BearerToken": "new"},
        "z": 1,
    }
    assert list(updated) == ["a.org", "repo.example.org", "z"]
    assert document["REPO.example.org"] == {"BearerToken": "old"}


def test_without_entry_removes_every_spelling_and_reports_it() -> None:
    document = {"Repo.example.org": {"BearerToken": "t"}, "keep.org": {"Weird": 1}}

    updated, removed = without_entry(document, "repo.example.org")
    again, removed_again = without_entry(updated, "repo.example.org")

    assert (updated, removed) == ({"keep.org": {"Weird": 1}}, True)
    assert (again, removed_again) == (updated, False)


_token = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"),
    min_size=1,
    max_size=40,
)
_credentials = st.one_of(
    st.builds(BearerToken, _token),
    st.builds(
        CondaToken,
        st.from_regex(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]{1,40}", fullmatch=True).filter(
            lambda t: t not in (".", "..")
        ),
    ),
    st.builds(
        BasicCredential,
        _token.filter(lambda u: ":" not in u),
        _token,
    ),
)
_hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)


@given(st.dictionaries(_hosts, _credentials, max_size=6))
def test_dump_then_parse_gives_back_every_credential(entries: dict[str, object]) -> None:
    document: dict[str, object] = {}
    for key, credential in entries.items():
        document = with_entry(document, key, credential)  # type: ignore[arg-type]

    parsed = parse_document(dump_document(document), "f")

    assert dict(parsed.entries) == entries
    assert parsed.skipped == ()


# pixi's OAuth logins ---------------------------------------------------------------

OAUTH = {
    "access_token": "oauth-access-0001",
    "refresh_token": "oauth-refresh-0001",
    "expires_at": 1700000000,
    "token_endpoint": "https://auth.example.io/token",
    "revocation_endpoint": None,
    "client_id": "pixi",
}


def test_oauth_entries_are_parsed_apart_from_the_credentials() -> None:
    document = parse_document(PIXI_FILE, "credentials.json")

    login = document.oauth["auth.example.io"]
    assert (login.access_token, login.refresh_token, login.expires_at) == ("at", "rt", 1700000000)
    assert (login.token_endpoint, login.client_id) == ("https://auth.example.io/token", "pixi")
    assert login.credential == BearerToken("at")
    assert "auth.example.io" not in document.entries
    assert document.keys["auth.example.io"] == "auth.example.io"


def test_the_first_spelling_of_a_key_wins_across_kinds() -> None:
    text = json.dumps(
        {"Repo.example.org": {"OAuth": OAUTH}, "repo.example.org": {"BearerToken": "b"}}
    )

    document = parse_document(text, "f")

    assert "repo.example.org" in document.oauth
    assert document.entries == {}
    assert document.keys == {"repo.example.org": "Repo.example.org"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"access_token": None}, "access_token"),
        ({"access_token": ""}, "access_token"),
        ({"token_endpoint": 3}, "token_endpoint"),
        ({"client_id": None}, "client_id"),
        ({"refresh_token": 5}, "refresh_token"),
        ({"expires_at": "soon"}, "expires_at"),
        ({"expires_at": 1.5}, "expires_at"),
        ({"expires_at": True}, "expires_at"),
        ({"access_token": "bad\ntoken"}, "control character"),
    ],
)
def test_a_malformed_oauth_entry_is_skipped_naming_the_field_not_the_value(
    change: dict[str, object], field: str
) -> None:
    document = parse_document(json.dumps({"a.example.org": {"OAuth": {**OAUTH, **change}}}), "f")

    assert document.oauth == {}
    assert [s.key for s in document.skipped] == ["a.example.org"]
    assert field in document.skipped[0].reason
    assert "oauth-access-0001" not in document.skipped[0].reason


def test_oauth_without_refresh_token_or_expiry_is_accepted() -> None:
    login = parse_oauth_value({"OAuth": {**OAUTH, "refresh_token": None, "expires_at": None}})

    assert login.refresh_token is None
    assert login.expires_at is None


def test_oauth_repr_shows_no_token() -> None:
    login = parse_oauth_value({"OAuth": OAUTH})

    assert "oauth-access-0001" not in repr(login)
    assert "oauth-refresh-0001" not in repr(login)


def test_a_renewed_entry_keeps_fields_it_does_not_use() -> None:
    login = parse_oauth_value({"OAuth": {**OAUTH, "audience": "conda", "future": [1]}})

    renewed = login.renewed("oauth-access-0002", None, 1800000000)

    assert dump_oauth_value(renewed) == {
        "OAuth": {
            **OAUTH,
            "audience": "conda",
            "future": [1],
            "access_token": "oauth-access-0002",
            "refresh_token": "oauth-refresh-0001",
            "expires_at": 1800000000,
        }
    }
    assert renewed.renewed("oauth-access-0003", "oauth-refresh-0003", None).refresh_token == (
        "oauth-refresh-0003"
    )


def test_with_oauth_entry_replaces_in_place_keeping_spelling_and_order() -> None:
    original = {
        "a.org": {"BearerToken": "a"},
        "Auth.Example.IO": {"OAuth": OAUTH},
        "s3://bucket": {"S3Credentials": {}},
    }
    renewed: OAuthEntry = parse_oauth_value({"OAuth": OAUTH}).renewed("new-access-9", None, 5)

    updated = with_oauth_entry(original, "auth.example.io", renewed)

    assert list(updated) == list(original)
    assert updated["Auth.Example.IO"]["OAuth"]["access_token"] == "new-access-9"
    assert updated["a.org"] == original["a.org"]
    assert updated["s3://bucket"] == original["s3://bucket"]
    assert with_oauth_entry({}, "x.org", renewed) == {"x.org": dump_oauth_value(renewed)}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_TOKEN = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12)
_REQUIRED = ("access_token", "token_endpoint", "client_id")
_OAUTH_FIELDS = st.fixed_dictionaries(
    {name: _TOKEN | _JSON for name in _REQUIRED},
    optional={name: _JSON | _TOKEN for name in OAUTH if name not in _REQUIRED},
)


@given(_OAUTH_FIELDS)
def test_any_oauth_value_is_an_entry_or_a_reason_without_its_values(
    body: dict[str, object],
) -> None:
    try:
        login = parse_oauth_value({"OAuth": body})
    except ValueError as error:
        message = str(error)
    else:
        assert dump_oauth_value(login) == {"OAuth": body}
        assert login.credential.authorization() == f"Bearer {body['access_token']}"
        return
    assert message.startswith("malformed OAuth value")
