"""Nothing a user stored is lost: concurrent writers, a reader, corrupt and odd files.

Real processes (not threads pretending) write to one credentials file through
``save_credential``/``delete_credential``, the code path of ``authadapter
login``/``logout``, with ``RATTLER_AUTH_FILE`` naming the file as pixi users
do. A reader process parses the file the whole time: it must never see a
half-written file. Afterwards every entry that should be there is there, the
entries authadapter does not understand are still there, the mode is 0600
and no temporary file is left behind.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from authadapter import (
    BearerToken,
    StoreError,
    StoreFormatError,
    delete_credential,
    save_credential,
)
from authadapter.providers.rattler import RattlerFileProvider
from tests.fixtures_security import count

WRITERS = 8
WRITES = 50
DELETES = 10

WRITER = """
import os, sys, time
from pathlib import Path
from authadapter import BearerToken
from authadapter import delete_credential, save_credential
number, writes, deletes = (int(value) for value in sys.argv[1:4])
go = Path(sys.argv[4])
while not go.exists():
    time.sleep(0.001)
for i in range(writes):
    save_credential(f"w{number}-{i}.example.org", BearerToken(f"tok-{number}-{i}-0123456789"))
for i in range(deletes):
    assert delete_credential(f"w{number}-{i}.example.org"), i
"""

READER = """
import json, sys, time
from pathlib import Path
path, go, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
reads = 0
while not go.exists():
    time.sleep(0.001)
while not stop.exists():
    document = json.loads(path.read_text())  # raises (and exits non-zero) on a torn file
    assert isinstance(document, dict)
    reads += 1
print(reads)
"""

UNKNOWN = {
    "s3://bucket": {
        "S3Credentials": {"access_key_id": "AK", "secret_access_key": "SK", "session_token": None}
    },
    "future.example.org": {"SomethingNew": {"x": [1, 2, {"y": None}]}},
}


def test_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    store = tmp_path / "auth" / "credentials.json"
    store.parent.mkdir()
    store.write_text(json.dumps({**UNKNOWN, "kept.example.org": {"BearerToken": "kept-0123"}}))
    go, stop = tmp_path / "go", tmp_path / "stop"
    env = {**os.environ, "RATTLER_AUTH_FILE": str(store)}
    python = [sys.executable, "-c"]
    writers = [
        subprocess.Popen([*python, WRITER, str(n), str(WRITES), str(DELETES), str(go)], env=env)
        for n in range(WRITERS)
    ]
    reader = subprocess.Popen(
        [*python, READER, str(store), str(go), str(stop)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    go.touch()
    codes = [writer.wait(timeout=240) for writer in writers]
    stop.touch()
    reads, _ = reader.communicate(timeout=60)
    assert codes == [0] * WRITERS
    assert reader.returncode == 0, "the reader saw a half-written file"
    count("writers: processes", WRITERS)
    count("writers: writes and deletes", WRITERS * (WRITES + DELETES))
    count("writers: concurrent reads of the file, none torn", int(reads))

    document = json.loads(store.read_text())
    expected = {f"w{n}-{i}.example.org" for n in range(WRITERS) for i in range(DELETES, WRITES)} | {
        "kept.example.org",
        *UNKNOWN,
    }
    assert set(document) == expected, "an entry was lost or a deleted one came back"
    assert document["w3-20.example.org"] == {"BearerToken": "tok-3-20-0123456789"}
    for key, value in UNKNOWN.items():
        assert document[key] == value
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    leftovers = [p.name for p in store.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    count("writers: entries checked after the run", len(expected))


def test_threads_writing_at_once_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "credentials.json"
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(store))
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait()
            provider = RattlerFileProvider(store) if number % 2 else None
            for i in range(WRITES):
                key = f"t{number}-{i}.example.org"
                credential = BearerToken(f"tok-{number}-{i}-0123456789")
                if provider is not None:
                    provider.save(key, credential)
                else:
                    save_credential(key, credential)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert errors == []
    document = json.loads(store.read_text())
    assert len(document) == WRITERS * WRITES
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    count("writers: threads", WRITERS)
    count("writers: writes and deletes", WRITERS * WRITES)


@pytest.mark.parametrize(
    "content",
    [
        b'{"repo.example.org": {"BearerToken": "tok"',
        b"[1, 2, 3]\n",
        b"\xff\xfe not utf-8 \x00",
        b'{"a": 1} trailing',
    ],
    ids=["truncated", "not-an-object", "not-utf8", "trailing-garbage"],
)
def test_a_corrupt_store_is_named_and_left_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    store = tmp_path / "credentials.json"
    store.write_bytes(content)
    os.chmod(store, 0o644)
    before = store.stat()
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(store))
    with pytest.raises(StoreError) as saving:
        save_credential("repo.example.org", BearerToken("new-token-0123"))
    with pytest.raises(StoreError) as deleting:
        delete_credential("repo.example.org")
    lookup = RattlerFileProvider(store).lookup(*_origin("https://repo.example.org/"))
    for message in (str(saving.value), str(deleting.value), getattr(lookup, "message", "")):
        assert str(store) in message
        assert "\n" not in message
    assert isinstance(saving.value, StoreFormatError) or content.startswith(b"\xff")
    assert store.read_bytes() == content
    assert stat.S_IMODE(store.stat().st_mode) == 0o644
    assert store.stat().st_mtime_ns == before.st_mtime_ns
    count("corrupt stores left untouched", 1)


def test_a_directory_in_place_of_the_store_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "credentials.json"
    store.mkdir()
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(store))
    with pytest.raises(StoreError, match=str(store)):
        save_credential("repo.example.org", BearerToken("new-token-0123"))
    assert store.is_dir()


def test_a_symlinked_store_is_updated_where_it_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "dotfiles" / "credentials.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "credentials.json"
    link.symlink_to(real)
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(link))
    save_credential("repo.example.org", BearerToken("new-token-0123"))
    assert link.is_symlink()
    assert json.loads(real.read_text()) == {"repo.example.org": {"BearerToken": "new-token-0123"}}


def _origin(url: str) -> tuple[object, str]:
    from authadapter import Origin

    return Origin.from_url(url), url
