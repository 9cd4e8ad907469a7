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
    dump_credential_value,
    dump_document,
    parse_credential_value,
    parse_document,
    with_entry,
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

    assert [skipped.key for skipped in document.skipped] == ["s3://bucket", "auth.example.io"]
    assert "S3Credentials" in document.skipped[0].reason
    assert "OAuth" in document.skipped[1].reason
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
