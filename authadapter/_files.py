"""Reading and rewriting credential files without ever leaving half a file behind.

A rewrite holds an exclusive ``flock`` on a sidecar ``<name>.lock`` file (not
on the file itself, which ``os.replace`` swaps out from under any lock), writes
a temporary file in the same directory, fsyncs it and renames it over the
original: a reader sees the old file or the new one, never a mix, and two
concurrent ``authadapter login`` runs do not lose each other's entry. Files
are created 0600 in a 0700 directory because they hold secrets.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._exceptions import StoreError, StoreWriteError

__all__ = ["atomic_write", "locked", "read_text"]

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
        yield real
    finally:
        os.close(descriptor)


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, mode 0600.

    Call it while holding ``locked(path)``. On failure the old file is left
    as it was and ``StoreWriteError`` names the file.
    """
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
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
