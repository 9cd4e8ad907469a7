"""What list/which show: how each credential applies, masked; which provider's answer is used."""

from __future__ import annotations

import threading

import pytest

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    LookupResult,
    Miss,
    Origin,
    RawToken,
)
from authadapter._report import describe_credential, list_entries
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
