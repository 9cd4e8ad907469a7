"""A store file parsed on first use and again only when it changes: one cache for every file store.

A lookup runs on every cold origin and a file store is asked on each; parsing
the file each time would make a large store slow, and caching it forever
would miss ``pixi auth login`` writing to it. The file's size, inode and
modification time (nanoseconds) decide: an atomic rewrite (a new inode) or
any edit changes one of them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from ._exceptions import StoreError
from ._files import read_text

__all__ = ["ParsedFile"]

T = TypeVar("T")


class ParsedFile(Generic[T]):
    """``parse(text, path)`` of the file at ``path``, re-run only when the file changed.

    ``read`` returns ``None`` when the file does not exist (or vanished while
    being read) and raises ``StoreError`` naming it when it cannot be read;
    ``parse`` raises its own errors, which are not cached. ``mode`` is the
    file's mode as last seen (for warnings about its permissions), and
    ``generation`` changes whenever ``read`` starts returning something else.
    """

    def __init__(self, path: Path, parse: Callable[[str, str], T]) -> None:
        self.path = path
        self._parse = parse
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._value: T | None = None
        self.mode = 0
        self.generation = 0

    def read(self) -> T | None:
        try:
            status = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            self.forget()
            return None
        except OSError as error:
            raise StoreError(f"{self.path}: cannot read ({error.strerror})") from None
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        with self._lock:
            if stamp == self._stamp:
                return self._value
        text = read_text(self.path)
        if text is None:
            return None
        self.mode = status.st_mode
        value = self._parse(text, str(self.path))
        with self._lock:
            self._stamp, self._value = stamp, value
            self.generation += 1
        return value

    def forget(self) -> None:
        """Parse again on the next ``read`` (after writing the file ourselves)."""
        with self._lock:
            if self._stamp is not None:
                self._stamp, self._value = None, None
                self.generation += 1
