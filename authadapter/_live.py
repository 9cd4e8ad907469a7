"""The live chains and authorizers of this process, held weakly.

Two things need to reach every one of them without being handed it:

- a child made by ``os.fork`` while another thread of the parent was inside
  a lookup inherits that lookup's locks held and its flight unfinished, with
  no thread left to finish them. ``os.register_at_fork(after_in_child=...)``
  calls ``_after_fork()`` on each registered object, which gives it new locks
  and forgets the flights (see docs/processes.md for what the child keeps);
- the log filter (``_logfilter``) masks the conda tokens that the live chains
  hold in their caches, and only those, for as long as they hold them.

Registration is weak: an object that is no longer used goes away as if it
had never been registered.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol

__all__ = ["ForkAware", "live", "register"]


class ForkAware(Protocol):
    def _after_fork(self) -> None: ...


_objects: weakref.WeakSet[ForkAware] = weakref.WeakSet()
_lock = threading.Lock()


def register(obj: ForkAware) -> None:
    with _lock:
        _objects.add(obj)


def live() -> list[ForkAware]:
    """The registered objects still alive, in no particular order."""
    with _lock:
        return list(_objects)


def _reset_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the parent's may have been held by another thread
    for obj in list(_objects):
        obj._after_fork()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_in_child)
