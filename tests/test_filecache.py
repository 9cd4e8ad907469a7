"""One stat-based cache for every file store: parsed once, again only after a change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from authadapter._exceptions import StoreError
from authadapter._filecache import ParsedFile


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str, where: str) -> str:
        self.calls += 1
        return text.upper()


def test_a_file_is_parsed_once_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "store"
    path.write_text("one")
    parse = Counting()
    cached = ParsedFile(path, parse)

    assert [cached.read() for _ in range(100)] == ["ONE"] * 100
    path.write_text("two!")  # another size
    assert cached.read() == "TWO!"
    replacement = tmp_path / "new"
    replacement.write_text("tri!")
    os.replace(replacement, path)  # an atomic rewrite: another inode
    assert cached.read() == "TRI!"
    assert parse.calls == 3


def test_an_edit_that_keeps_the_size_is_seen_through_the_modification_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store"
    path.write_text("aaa")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    cached = ParsedFile(path, Counting())
    assert cached.read() == "AAA"

    with path.open("r+") as file:  # same inode, same size
        file.write("bbb")
    os.utime(path, ns=(2_000_000_000, 2_000_000_000))

    assert cached.read() == "BBB"


def test_a_missing_file_is_none_and_its_return_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "store"
    cached = ParsedFile(path, Counting())

    assert cached.read() is None
    path.write_text("back")
    assert cached.read() == "BACK"
    path.unlink()
    assert cached.read() is None


def test_forget_parses_again(tmp_path: Path) -> None:
    path = tmp_path / "store"
    path.write_text("x")
    parse = Counting()
    cached = ParsedFile(path, parse)
    cached.read()

    cached.forget()
    cached.read()

    assert parse.calls == 2


def test_a_parse_error_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "store"
    path.write_text("bad")
    calls: list[str] = []

    def parse(text: str, where: str) -> str:
        calls.append(text)
        raise StoreError(f"{where}: broken")

    cached = ParsedFile(path, parse)
    for _ in range(2):
        with pytest.raises(StoreError, match="store: broken"):
            cached.read()
    assert len(calls) == 2
