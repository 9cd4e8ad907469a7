"""The ``authadapter`` logger, without importing ``logging`` before a record could go anywhere.

Importing ``logging`` (and the ``traceback`` it imports) is a large part of
a short-lived process's start: ``authadapter cargo-credential`` runs once per
Cargo operation. Until a program has imported ``logging`` it cannot have
configured a handler or a level, so a DEBUG or INFO record has nowhere to go
and is dropped unseen, exactly as ``logging`` itself would drop it. A
WARNING or worse imports ``logging`` and is logged as usual (the last-resort
handler prints it to stderr when nothing is configured). Records keep the
caller's file and line (``stacklevel``).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["logger"]

NAME = "authadapter"


class _Logger:
    __slots__ = ()

    @staticmethod
    def _real() -> Any:
        import logging

        return logging.getLogger(NAME)

    def debug(self, message: str, *args: object) -> None:
        if "logging" in sys.modules:
            self._real().debug(message, *args, stacklevel=2)

    def info(self, message: str, *args: object) -> None:
        if "logging" in sys.modules:
            self._real().info(message, *args, stacklevel=2)

    def warning(self, message: str, *args: object) -> None:
        self._real().warning(message, *args, stacklevel=2)


logger = _Logger()
