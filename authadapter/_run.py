"""``authadapter run -- COMMAND ...``: run an unmodified program with its HTTP clients patched.

The program is started with ``AUTHADAPTER_PATCH`` set and a directory holding
a ``sitecustomize`` in front of ``PYTHONPATH``; every Python process it
starts inherits both, so subprocesses are patched too. The configuration is
checked before the program starts, so a broken config file is reported once,
here, instead of by each process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ENV_VARIABLE", "SITECUSTOMIZE_DIR", "run", "run_environment"]

ENV_VARIABLE = "AUTHADAPTER_PATCH"

SITECUSTOMIZE_DIR = str(Path(__file__).with_name("_sitecustomize"))


def run_environment(environ: Mapping[str, str], libraries: str = "1") -> dict[str, str]:
    """``environ`` with the patch switched on for ``libraries``.

    ``libraries`` is the value of ``AUTHADAPTER_PATCH``: ``1`` for every
    client (requests, httpx, aiohttp, niquests), or a comma-separated list.
    """
    env = dict(environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(
        [SITECUSTOMIZE_DIR, *(p for p in paths if p != SITECUSTOMIZE_DIR)]
    )
    env[ENV_VARIABLE] = libraries
    return env


def run(command: Sequence[str], libraries: str = "1") -> int:
    """Run ``command`` patched; its exit status (replaces this process on POSIX)."""
    from ._config import load_config

    load_config()
    env = run_environment(os.environ, libraries)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvpe(command[0], list(command), env)  # noqa: S606
        except OSError as error:
            print(f"authadapter run: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
            return 127
    try:
        return subprocess.call(list(command), env=env)
    except OSError as error:
        print(f"authadapter run: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
        return 127
