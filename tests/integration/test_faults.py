"""Faults injected for real: writers killed with SIGKILL mid-write, on a real tmpfs.

``authadapter login`` runs as its own process and is killed at the moment
that matters: after it created its temporary file (a copy of the store,
every secret in it) and before the rename. The test watches the store's
directory and sends ``SIGKILL`` as soon as that process has begun writing
its temporary file; an attempt counts only if afterwards the file is still
there, holds the victim's secret and the store is unchanged, i.e. the kill
landed in between. The store lives on a
tmpfs mounted for the test, so "no copy of the secret anywhere on disk" can
be checked by reading every file of that file system.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.fixtures_security import count

SECRET = "victim-s3cret-4f9c2a"
VICTIM = "victim.example.org"
BLOB = "x" * 1_200_000
"""An entry authadapter keeps without understanding it: it makes each rewrite long enough to hit."""

CLI = "import sys; from authadapter.cli import main; sys.exit(main())"


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs: room for the store, one dead writer's copy and nothing more."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0:
        service_unavailable("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        service_unavailable(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], check=True)
            pytest.fail(f"{mount} was still busy: a writer of the test outlived it")


@dataclass
class Home:
    env: dict[str, str]
    store: Path

    def cli(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", CLI, *arguments],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self, *arguments: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, *arguments],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def temporaries(self) -> list[Path]:
        return sorted(self.store.parent.glob(f".{self.store.name}.*.tmp"))


@pytest.fixture
def home(tmpfs: Path) -> Home:
    """A home on the tmpfs whose ``~/.rattler/credentials.json`` holds the victim's secret."""
    env = {**os.environ, "HOME": str(tmpfs / "home")}
    env.pop("RATTLER_AUTH_FILE", None)
    store = tmpfs / "home" / ".rattler" / "credentials.json"
    home = Home(env, store)
    assert home.cli("login", VICTIM, "--token", SECRET).returncode == 0
    document = json.loads(store.read_text())
    document["blob.example.org"] = {"SomethingNew": BLOB}
    store.write_text(json.dumps(document))
    return home


def kill_between_create_and_rename(home: Home, host: str) -> tuple[int, Path]:
    """Kill ``authadapter login HOST`` after it wrote its temporary file, before the rename.

    Returns how many attempts it took and the copy the dead writer left.
    """
    for attempt in range(1, 51):
        before = home.store.read_bytes()
        writer = home.start("login", host, "--token", "other-token-0123")
        copy = wait_for_temporary(home, writer)
        if copy is not None:
            wait_for_content(copy, writer)
            os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        if copy is None or not copy.exists() or home.store.read_bytes() != before:
            continue  # it finished first, or was killed after the rename
        if SECRET.encode() not in copy.read_bytes():
            copy.unlink()  # killed before it wrote: an empty file, no copy of anything
            continue
        count("faults: SIGKILL attempts", attempt)
        count("faults: writers killed between temporary file and rename", 1)
        return attempt, copy
    pytest.fail("no SIGKILL landed between the temporary file and the rename in 50 attempts")


def wait_for_temporary(home: Home, writer: subprocess.Popen[bytes]) -> Path | None:
    """The writer's temporary file as soon as it appears; ``None`` if the writer ended first."""
    prefix = f".{home.store.name}.{writer.pid}."
    while writer.poll() is None:
        for name in os.listdir(home.store.parent):
            if name.startswith(prefix):
                return home.store.parent / name
    return None


def wait_for_content(copy: Path, writer: subprocess.Popen[bytes]) -> None:
    """Until the writer has begun writing the copy (the victim's entry comes first)."""
    with contextlib.suppress(FileNotFoundError):
        while os.stat(copy).st_size == 0 and writer.poll() is None:
            pass


def stopped(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state in ("T", "t")


def files_holding(root: Path, secret: str) -> list[Path]:
    """Every file on the file system under ``root`` whose bytes contain ``secret``."""
    holding = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if not path.is_symlink() and secret.encode() in path.read_bytes():
                holding.append(path)
    return holding


def test_a_killed_writer_leaves_a_copy_that_logout_removes(home: Home) -> None:
    _, copy = kill_between_create_and_rename(home, "other.example.org")
    assert SECRET.encode() in copy.read_bytes()  # the fault is real: a full copy of the store
    assert json.loads(home.store.read_text())[VICTIM] == {"BearerToken": SECRET}

    logout = home.cli("logout", VICTIM)

    assert logout.returncode == 0, logout.stderr
    assert files_holding(home.store.parents[2], SECRET) == []
    assert home.temporaries() == []
    assert VICTIM not in json.loads(home.store.read_text())
    count("faults: logouts checked for copies on the whole tmpfs", 1)


def test_logout_removes_the_copy_even_when_the_store_is_gone(home: Home) -> None:
    """The copy is all that is left of the store (deleted by hand): logout still removes it.

    It still says the store held nothing, which is true of the store.
    """
    _, copy = kill_between_create_and_rename(home, "other.example.org")
    home.store.unlink()

    logout = home.cli("logout", VICTIM)

    assert logout.stderr == f"authadapter: error: no stored credential for {VICTIM}\n"
    assert not copy.exists()
    assert files_holding(home.store.parents[2], SECRET) == []


def test_a_dead_writers_copy_does_not_fill_the_disk_for_the_next_login(home: Home) -> None:
    """On a small file system the store and a dead writer's copy leave no room for a third."""
    for number in range(2):
        kill_between_create_and_rename(home, f"other-{number}.example.org")
        assert len(home.temporaries()) == 1  # each writer removed the one before

    login = home.cli("login", "next.example.org", "--token", "next-token-0123")

    assert login.returncode == 0, login.stderr
    document = json.loads(home.store.read_text())
    assert document["next.example.org"] == {"BearerToken": "next-token-0123"}
    assert document[VICTIM] == {"BearerToken": SECRET}
    assert home.temporaries() == []
    count("faults: logins on a tmpfs a dead writer's copy had filled", 1)


def test_a_writer_stopped_mid_write_keeps_its_file_and_finishes(home: Home) -> None:
    """A live writer's temporary file is never taken: the next writer waits for the lock."""
    writers: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(50):
            before = home.store.read_bytes()
            first = home.start("login", "first.example.org", "--token", "first-token-0123")
            writers.append(first)
            copy = wait_for_temporary(home, first)
            if copy is not None:
                os.kill(first.pid, signal.SIGSTOP)
                while first.poll() is None and not stopped(first.pid):
                    time.sleep(0.001)
            if copy is not None and copy.exists() and home.store.read_bytes() == before:
                break
            if first.returncode is None:
                os.kill(first.pid, signal.SIGCONT)
            first.wait()
        else:
            pytest.fail("no SIGSTOP landed between the temporary file and the rename")
        second = home.start("login", "second.example.org", "--token", "second-token-0123")
        writers.append(second)
        time.sleep(1.0)
        assert second.poll() is None  # it waits for the stopped writer's lock
        assert copy.exists()

        os.kill(first.pid, signal.SIGCONT)

        assert first.wait(60) == 0
        assert second.wait(60) == 0
    finally:
        for writer in writers:
            if writer.returncode is None:
                writer.kill()
                writer.wait()
    document = json.loads(home.store.read_text())
    assert {"first.example.org", "second.example.org", VICTIM} <= set(document)
    assert home.temporaries() == []
    count("faults: writers stopped mid-write, file kept", 1)


def test_a_hung_vault_behind_a_wrapper_is_gone_when_the_lookup_moves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case end to end: ``[[commands]]`` runs ``sh`` around a tool that hangs."""
    from authadapter import CommandSpec, RegistryAuth

    vault_pid = tmp_path / "vault.pid"
    wrapper = tmp_path / "get-token.sh"
    wrapper.write_text(f"#!/bin/sh\nsleep 600 &\necho $! > {vault_pid}\nwait\n")
    wrapper.chmod(0o755)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine h.example login me password netrc-pass-0042\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    spec = CommandSpec(hosts=("h.example",), command=(str(wrapper),), timeout=1.5)
    auth = RegistryAuth(commands=[spec], config=False)

    resolution = auth.resolve("https://h.example/simple/")

    assert resolution.provider == "netrc"  # the next store answered after the timeout
    pid = int(vault_pid.read_text())
    deadline = time.monotonic() + 5
    while _runs(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _runs(pid), "the wrapper's child outlived the timeout"
    count("process tree: [[commands]] wrappers timed out through RegistryAuth", 1)


def _runs(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
