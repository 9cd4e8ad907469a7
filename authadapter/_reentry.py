"""Guards that keep authadapter from asking itself for a credential.

authadapter serves other tools (a keyring backend, a Cargo credential
provider) and reads stores those same tools read. Without a guard a lookup
could come back to us: our keyring provider asks python-keyring, whose
chosen backend may be authadapter's own backend, which would run a lookup,
which asks python-keyring... Every place where authadapter calls out to a
store that could lead back to it wraps the call in ``own_lookup()``, and
every front end that answers other tools checks ``inside_own_lookup()``
first and answers "nothing" when it is set.

The flag is per thread (blocking providers run in worker threads: the flag
is set by the provider itself, in the thread that makes the call) and is
also exported to child processes through ``REENTRY_VARIABLE``, so a
``keyring`` command or a Cargo plugin started from a lookup cannot loop
back through another process either.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

__all__ = ["IN_PLUGIN_VARIABLE", "REENTRY_VARIABLE", "inside_own_lookup", "own_lookup"]

REENTRY_VARIABLE = "AUTHADAPTER_IN_LOOKUP"
"""Set to ``1`` in the environment of processes that a lookup starts."""

IN_PLUGIN_VARIABLE = "AUTHADAPTER_IN_CARGO_PLUGIN"
"""Set while authadapter answers Cargo: its own Cargo store then answers nothing, as
asking Cargo's configuration would ask authadapter again."""

_state = threading.local()


def inside_own_lookup() -> bool:
    """Whether this thread (or a parent process) is inside one of authadapter's own lookups."""
    return getattr(_state, "depth", 0) > 0 or os.environ.get(REENTRY_VARIABLE) == "1"


@contextlib.contextmanager
def own_lookup() -> Iterator[None]:
    """Mark the current thread as inside one of authadapter's own lookups."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
