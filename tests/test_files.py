"""Credential files are rewritten atomically, privately and one writer at a time."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from authadapter import StoreError, StoreWriteError
from authadapter._files import atomic_write, locked, read_text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_private_in_a_private_directory(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "credentials.json"

    with locked(target) as real:
        atomic_write(real, "{}\n")

    assert target.read_text() == "{}\n"
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700


def test_rewrite_makes_a_world_readable_file_private(tmp_path: Path) -> None:
    target = tmp_path / "credentials.json"
    target.write_text("{}")
    target.chmod(0o644)

    with locked(target) as real:
        atomic_write(real, '{"a": 1}')

    assert _mode(target) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "credentials.json"
    target.write_text("old content")

    def refuse(source: str, destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StoreWriteError, match=r"credentials\.json: cannot write"):
        atomic_write(target, "new content")

    assert target.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.json"]


def test_a_symlinked_file_is_updated_where_it_lives(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real_file = dotfiles / "credentials.json"
    real_file.write_text("{}")
    link = tmp_path / "credentials.json"
    link.symlink_to(real_file)

    with locked(link) as real:
        atomic_write(real, "updated")

    assert link.is_symlink()
    assert real_file.read_text() == "updated"


def test_read_text_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert read_text(tmp_path / "absent.json") is None


def test_read_text_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    directory = tmp_path / "credentials.json"
    directory.mkdir()

    with pytest.raises(StoreError, match=r"credentials\.json: cannot read"):
        read_text(directory)


_WRITER = """
import sys
from authadapter import BearerToken
from authadapter.providers.rattler import RattlerFileProvider
from pathlib import Path
provider = RattlerFileProvider(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    provider.save(f"host{i}.{sys.argv[2]}.example", BearerToken(f"token-{sys.argv[2]}-{i}"))
"""


def test_concurrent_writers_in_separate_processes_lose_no_entry(tmp_path: Path) -> None:
    target = tmp_path / "credentials.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(target), name, "25"])
        for name in ("a", "b", "c")
    ]
    for writer in writers:
        assert writer.wait(60) == 0

    import json

    stored = json.loads(target.read_text())
    assert len(stored) == 75
    assert stored["host24.c.example"] == {"BearerToken": "token-c-24"}


@pytest.mark.parametrize("below", ["auth.json", "sub/auth.json"])
def test_a_file_where_the_directory_should_be_is_named(tmp_path: Path, below: str) -> None:
    (tmp_path / "afile").write_text("not a directory")
    path = tmp_path / "afile" / below

    with pytest.raises(StoreWriteError) as raised, locked(path):
        pass

    message = str(raised.value)
    assert message.startswith(f"{path}: cannot create {path.parent}")
    assert message.endswith((": a file is in the way", "(Not a directory)"))
    assert (tmp_path / "afile").read_text() == "not a directory"
