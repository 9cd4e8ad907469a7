"""Reading and rewriting credential files without ever leaving half a file behind.

A rewrite holds an exclusive ``flock`` on a sidecar ``<name>.lock`` file (not
on the file itself, which ``os.replace`` swaps out from under any lock), writes
a temporary file in the same directory, fsyncs it and renames it over the
original: a reader sees the old file or the new one, never a mix, and two
concurrent ``authadapter login`` runs do not lose each other's entry. Files
are created 0600 in a 0700 directory because they hold secrets.

A writer killed between creating its temporary file and the rename leaves a
full copy of the store behind, every secret in it, and ``logout`` must not
leave such a copy of the secret it removes. So whoever takes the lock first
removes the copies of writers that died. A temporary file,
``.<name>.<pid>.<random>.tmp``, is a dead writer's when both hold:

* we hold the store's lock, which every writer holds from before it creates
  its temporary file until after the rename, so no writer is between the
  two; and
* the file's own ``flock`` is free: its writer takes it right after creating
  the file and keeps it through the rename, and the kernel drops it when
  the writer dies, even of ``SIGKILL``. A live writer that somehow does not
  hold the store's lock keeps its file.

The pid in the name only tells a person who left a file; pids are reused and
live in namespaces, so it decides nothing. Where there is no ``flock``
(Windows) nothing is removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from authadapter._log import logger

from ._exceptions import StoreError, StoreWriteError

__all__ = ["atomic_write", "has_leftovers", "locked", "read_text"]


_TEMPORARY_MIDDLE = re.compile(r"(?:[0-9]+\.)?[a-z0-9_]{8}")
"""What ``mkstemp`` puts between ``.<name>.`` and ``.tmp``: the pid (older versions had none)."""

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; rename is still atomic
    fcntl = None  # type: ignore[assignment]


def read_text(path: Path) -> str | None:
    """The file's text, or ``None`` when it does not exist.

    Raises ``StoreError`` naming the file for any other failure (permissions,
    a directory in its place, undecodable bytes).
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"{path}: cannot read ({_reason(error)})") from None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``path`` and yield the real path to rewrite.

    The real path follows symlinks, so a credentials file kept as a symlink
    into a dotfiles repository is updated where it lives instead of being
    replaced by a regular file.
    """
    real = Path(os.path.realpath(path))
    try:
        real.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:  # what mkdir says when a file stands where the directory goes
        raise StoreWriteError(
            f"{path}: cannot create {real.parent}: a file is in the way"
        ) from None
    except OSError as error:
        raise StoreWriteError(f"{path}: cannot create {real.parent} ({_reason(error)})") from None
    try:
        lock_path = real.with_name(real.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise StoreWriteError(f"{path}: cannot lock ({_reason(error)})") from None
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            _remove_leftovers(real)
        yield real
    finally:
        os.close(descriptor)


def has_leftovers(path: Path) -> bool:
    """Whether temporary files of writers (live or dead) lie beside ``path``.

    Lets a caller that would otherwise skip taking the lock (a ``logout`` of
    a store that does not exist) take it anyway, so the copies are removed.
    """
    return bool(_leftovers(Path(os.path.realpath(path))))


def _leftovers(real: Path) -> list[Path]:
    prefix, suffix = f".{real.name}.", ".tmp"
    try:
        names = os.listdir(real.parent)
    except OSError:
        return []
    return [
        real.parent / name
        for name in names
        if name.startswith(prefix)
        and name.endswith(suffix)
        and _TEMPORARY_MIDDLE.fullmatch(name[len(prefix) : -len(suffix)])
    ]


def _remove_leftovers(real: Path) -> None:
    """Remove the temporary files of dead writers; call it holding ``real``'s lock."""
    for leftover in _leftovers(real):
        if _remove_if_abandoned(leftover):
            logger.info("removed %s, left behind by a writer that died", leftover)


def _remove_if_abandoned(path: Path) -> bool:
    assert fcntl is not None
    try:  # a symlink planted under such a name is not ours: O_NOFOLLOW refuses it
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its writer is alive and holds it
        if os.stat(path, follow_symlinks=False).st_ino != os.fstat(descriptor).st_ino:
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, mode 0600.

    Call it while holding ``locked(path)``: that is what makes a temporary
    file found beside the store, by a later holder of the lock, a dead
    writer's. On failure the old file is left as it was and
    ``StoreWriteError`` names the file.
    """
    temporary: str | None = None
    try:
        import tempfile  # only writers pay for it (shutil, random)

        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            if fcntl is not None:  # "alive" until closed after the rename; see the module
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
            if fcntl is not None:
                os.replace(temporary, path)
                temporary = None
        if temporary is not None:  # pragma: no cover - Windows renames only closed files
            os.replace(temporary, path)
            temporary = None
        _fsync_directory(path.parent)
    except OSError as error:
        raise StoreWriteError(f"{path}: cannot write ({_reason(error)})") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return type(error).__name__
