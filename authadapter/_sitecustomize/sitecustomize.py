"""Put on ``PYTHONPATH`` by ``authadapter run``: patch the HTTP clients of an unmodified program.

``AUTHADAPTER_PATCH`` says what to patch: ``1`` (or ``all``) for requests,
httpx, aiohttp and niquests, or a comma-separated list of them
(``requests,httpx``).

Three rules shape this file:

- Python imports the first ``sitecustomize`` on ``sys.path`` and no other, so
  this one first imports the one it shadows (a distribution's or a virtual
  environment's).
- Start-up must stay cheap and must not import the program's libraries: a
  library is patched right after the program itself imports it (a
  meta-path finder wraps its loader), and authadapter is imported only then.
  This file therefore imports nothing of authadapter at start-up.
- It must never keep the program from starting: a Python without
  authadapter (a subprocess of another interpreter inherits ``PYTHONPATH``
  too) runs unpatched, saying so in one line on stderr when it imports a
  library it was asked to patch; every error is one line on stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

LIBRARIES = ("requests", "httpx", "aiohttp", "niquests")


def _import_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ours = sys.modules.pop("sitecustomize", None)
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if os.path.abspath(p or os.curdir) != here]
    try:
        import sitecustomize  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as error:
        if error.name != "sitecustomize":
            print(f"Error in sitecustomize: {error!r}", file=sys.stderr)
    except Exception as error:
        print(f"Error in sitecustomize: {error!r}", file=sys.stderr)
    finally:
        added = [p for p in sys.path if p not in saved]
        sys.path[:] = saved + added
        if "sitecustomize" not in sys.modules and ours is not None:
            sys.modules["sitecustomize"] = ours


def _requested(value: str) -> list[str]:
    value = value.strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return []
    if value in ("1", "true", "yes", "on", "all"):
        return list(LIBRARIES)
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in LIBRARIES]
    if unknown:
        print(
            f"authadapter: AUTHADAPTER_PATCH: unknown library {unknown[0]!r}; "
            "expected 1 or a comma-separated list of " + ", ".join(LIBRARIES),
            file=sys.stderr,
        )
        return []
    return names


class _Patcher:
    """Patches each requested library once both it and authadapter are fully imported."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.executing: set[str] = set()
        self.failed = False
        self.flushing = False

    def imported(self, library: str) -> None:
        if library in LIBRARIES and not self.failed:
            self.queue.append(library)
        self.flush()

    def flush(self) -> None:
        # authadapter imports httpx: a callback fired while authadapter itself is
        # being executed waits for authadapter's own callback.
        # Patching one library can import the other (RegistryAuth imports httpx):
        # that import's callback only queues, and the loop below picks it up.
        if "authadapter" in self.executing or self.flushing:
            return
        self.flushing = True
        try:
            self._drain()
        finally:
            self.flushing = False

    def _drain(self) -> None:
        while self.queue:
            library = self.queue.pop(0)
            try:
                from authadapter import _patch
                from authadapter._exceptions import AuthAdapterError
            except ImportError:
                # said once, and only to a program that imported what it wanted patched
                print(
                    f"authadapter: not importable by {sys.executable}; {library} is not patched",
                    file=sys.stderr,
                )
                self.queue.clear()
                self.failed = True
                return
            if self.failed:  # set by a nested flush while authadapter was imported
                return
            try:
                getattr(_patch, f"patch_{library}")()
            except Exception as error:
                # the same error (a broken config file, a missing dependency)
                # would follow for every library: say it once
                reason = error if isinstance(error, AuthAdapterError) else repr(error)
                print(f"authadapter: {reason}; nothing is patched", file=sys.stderr)
                self.queue.clear()
                self.failed = True


class _AfterImport:
    """A meta-path finder that calls back when a watched top-level module has executed."""

    def __init__(self, names: Sequence[str], patcher: _Patcher) -> None:
        self.pending = set(names)
        self.patcher = patcher

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.pending:
            return None
        self.pending.discard(fullname)
        spec = _find_with_other_finders(self, fullname, path, target)
        loader: Any = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        loader.exec_module = self._wrap(fullname, loader.exec_module)
        return spec

    def _wrap(self, name: str, exec_module: Callable[[ModuleType], None]) -> Callable[..., None]:
        patcher = self.patcher

        def wrapped(module: ModuleType) -> None:
            patcher.executing.add(name)
            try:
                exec_module(module)
            finally:
                patcher.executing.discard(name)
            patcher.imported(name)

        return wrapped


def _find_with_other_finders(
    finder: object, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> ModuleSpec | None:
    for other in sys.meta_path:
        find_spec = getattr(other, "find_spec", None)
        if other is finder or find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


def _start() -> None:
    libraries = _requested(os.environ.get("AUTHADAPTER_PATCH", ""))
    if not libraries:
        return
    patcher = _Patcher()
    late = [name for name in libraries if name not in sys.modules]
    patcher.queue.extend(name for name in libraries if name in sys.modules)
    sys.meta_path.insert(0, _AfterImport([*late, "authadapter"], patcher))
    patcher.flush()


_import_shadowed_sitecustomize()
_start()
