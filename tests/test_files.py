"""Credential files are rewritten atomically, privately and one writer at a time."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from authadapter import StoreError, StoreWriteError
from authadapter._files import atomic_write, has_leftovers, locked, read_text


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


_HOLDS_A_LOCK = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.write(descriptor, b'{"live.example.org": {"BearerToken": "live-writer-0123"}}')
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def test_the_next_writer_removes_a_dead_writers_copy_and_nothing_else(tmp_path: Path) -> None:
    """A dead writer's copy goes; a live writer's copy, and files not ours, stay."""
    target = tmp_path / "credentials.json"
    target.write_text("{}")
    dead = [
        tmp_path / ".credentials.json.4242.abcd1234.tmp",
        tmp_path / ".credentials.json.k3j_9x0q.tmp",
    ]
    for path in dead:  # what a killed writer, of this version or an older one, leaves
        path.write_text('{"gone.example.org": {"BearerToken": "dead-writer-0123"}}')
    live = tmp_path / ".credentials.json.77.zz99yy88.tmp"
    others = [
        ".credentials.json.bak",
        "credentials.json.tmp",
        ".other.json.4242.abcd1234.tmp",
        ".credentials.json.4242.abcd1234.tmp.keep",
    ]
    for name in others:
        (tmp_path / name).write_text("not ours")
    (tmp_path / ".credentials.json.1.linklink.tmp").symlink_to(tmp_path / "credentials.json.tmp")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDS_A_LOCK, str(live)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"

        with locked(target) as real:
            atomic_write(real, '{"a": 1}')

        assert not any(path.exists() for path in dead)
        assert live.exists()
        assert all((tmp_path / name).read_text() == "not ours" for name in others)
        assert (tmp_path / ".credentials.json.1.linklink.tmp").is_symlink()
    finally:
        holder.kill()
        holder.wait()

    with locked(target):  # its writer is gone now
        pass
    assert not live.exists()


def test_has_leftovers_sees_a_copy_beside_an_absent_store(tmp_path: Path) -> None:
    target = tmp_path / "credentials.json"
    assert not has_leftovers(target)

    (tmp_path / ".credentials.json.99.abcdefgh.tmp").write_text("{}")

    assert has_leftovers(target)
