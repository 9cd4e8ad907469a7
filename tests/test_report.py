"""What list/which show: how each credential applies, masked; which provider's answer is used."""

from __future__ import annotations

import threading

import pytest

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    RawToken,
)
from authadapter._report import describe_credential, explain, list_entries
from authadapter.providers._entry import StoredEntry


@pytest.mark.parametrize(
    ("credential", "masked", "shown"),
    [
        (
            BearerToken("tok-123456"),
            "Authorization: Bearer ***",
            "Authorization: Bearer tok-123456",
        ),
        (RawToken("cargo-raw-123"), "Authorization: ***", "Authorization: cargo-raw-123"),
        (
            BasicCredential("me", "pw-123456"),
            "Authorization: Basic (user 'me', password ***)",
            "Authorization: Basic (user 'me', password pw-123456)",
        ),
        (CondaToken("ct-123456"), "path /t/***/", "path /t/ct-123456/"),
    ],
)
@pytest.mark.canary_exempt("show_secret=True shows the secret on purpose")
def test_describe_masks_unless_asked(credential: Credential, masked: str, shown: str) -> None:
    assert describe_credential(credential) == masked
    assert describe_credential(credential, show_secret=True) == shown


class Answers:
    """A provider that gives one fixed answer."""

    blocking = False

    def __init__(self, name: str, result: LookupResult) -> None:
        self.name = name
        self.result = result
        self.calls = 0

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        return self.result


def test_explain_asks_everyone_and_marks_the_first_found() -> None:
    providers = [
        Answers("a", Miss()),
        Answers("b", Failure("broken file")),
        Answers("c", Found(BearerToken("first-123"), "c-source")),
        Answers("d", Found(BearerToken("second-123"), "d-source")),
    ]

    explanation = explain("https://repo.example.org/x", providers)

    assert [(a.provider, a.used) for a in explanation.answers] == [
        ("a", False),
        ("b", False),
        ("c", True),
        ("d", False),
    ]
    assert all(p.calls == 1 for p in providers)


def test_explain_marks_nothing_after_a_fatal_failure() -> None:
    providers = [
        Answers("plugin", Failure("plugin broke its protocol", fatal=True)),
        Answers("file", Found(BearerToken("never-used-1"), "file")),
    ]

    explanation = explain("https://repo.example.org/", providers)

    assert not any(answer.used for answer in explanation.answers)


@pytest.mark.parametrize(
    ("url", "carries"),
    [
        ("https://repo.example.org/x", False),
        ("https://user:pw-123456@repo.example.org/x", True),
        ("https://repo.example.org/t/own-123456/x", True),
    ],
)
def test_explain_notices_urls_with_their_own_credentials(url: str, carries: bool) -> None:
    assert explain(url, []).url_has_credentials is carries


@pytest.mark.parametrize(
    ("url", "allow", "plain_http", "sent"),
    [
        ("https://repo.example.org/x", (), None, True),
        ("http://repo.example.org/x", (), "refused", False),
        ("http://repo.example.org/x", ("REPO.example.org",), "allowed", True),
        ("http://127.0.0.1:8080/x", (), None, True),
        ("https://user:pw-123456@repo.example.org/x", (), None, False),
    ],
)
def test_explain_says_whether_the_chosen_credential_is_really_sent(
    url: str, allow: tuple[str, ...], plain_http: str | None, sent: bool
) -> None:
    providers = [Answers("file", Found(BearerToken("chosen-123456"), "file"))]

    explanation = explain(url, providers, allow_http_hosts=allow)

    assert explanation.plain_http == plain_http
    assert explanation.answers[0].used
    assert (explanation.sends is explanation.answers[0]) is sent


class SlowKeyring:
    """A listable, blocking store that answers only when released, like a hung D-Bus."""

    name = "keyring"
    blocking = True

    def __init__(self) -> None:
        self.release = threading.Event()

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        return Miss()

    def entries(self) -> list[StoredEntry]:
        self.release.wait()
        return [StoredEntry("late.example.org", BearerToken("late-123456"), "keyring")]


class QuickFile(SlowKeyring):
    name = "file"
    blocking = False

    def entries(self) -> list[StoredEntry]:
        return [StoredEntry("file.example.org", BearerToken("file-123456"), "file")]


def test_a_store_that_never_answers_does_not_hang_the_listing() -> None:
    slow = SlowKeyring()
    try:
        entries, errors = list_entries([slow, QuickFile()], timeout=0.05)
    finally:
        slow.release.set()

    assert [entry.key for entry in entries] == ["file.example.org"]
    assert errors == ["keyring: did not answer within 0.05 s; not listed"]
