"""The keyring backend python-keyring would choose, found without keyring's needless work.

python-keyring chooses (``keyring.core``): the backend ``PYTHON_KEYRING_BACKEND``
names; else the one ``keyringrc.cfg`` names; else, of every backend class it
can see, the viable one of highest priority, its ``fail`` backend (priority 0:
"no keyring") when none is better. To "see" them it imports the module of every
``keyring.backends`` entry point, and to rank them it asks each class for its
priority. On Linux that means importing the macOS backend (which runs
``ctypes.util.find_library``, i.e. subprocesses), importing ``importlib_metadata``
and SecretStorage, and opening a D-Bus connection: a fifth of a second, in a
process (``authadapter cargo-credential``) that otherwise lives a tenth of that.

:func:`choose_backend` reaches the same choice, doing only the work whose
outcome is not already known:

* A backend named by ``PYTHON_KEYRING_BACKEND`` or ``keyringrc.cfg``, or one a
  program set with ``keyring.set_keyring()``, is loaded through keyring itself,
  as before: only that backend's module is imported.
* Otherwise keyring's own entry points are ruled out without importing them
  when their ``priority`` would raise for a reason visible from outside: the
  macOS backend off macOS, Windows' without pywin32, KWallet without
  dbus-python, libsecret without PyGObject, the Secret Service when
  SecretStorage is missing or no session bus address is set. A backend not
  ruled out that way is imported and asked, as keyring asks it.
* Anything we cannot rank as keyring would (a third-party backend, two viable
  backends, for which keyring builds its chainer, Windows) is handed to keyring
  whole: ``keyring.core.get_keyring()``.
* authadapter's own keyring backend (``authadapter.keyring_backend``, for
  pip and uv) answers nothing to authadapter's own lookups (``_reentry``), so
  it counts as absent here.

When nothing is left, keyring would choose its ``fail`` backend; we return
:data:`NO_KEYRING` without having imported keyring at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from authadapter._entry_points import find_entry_points
from authadapter._log import logger

__all__ = ["NO_KEYRING", "NoKeyring", "backend_name", "choose_backend", "keyring_config_path"]


class NoKeyring:
    """python-keyring's choice when it finds no keyring: its ``fail`` backend, not loaded."""

    name = "keyring.backends.fail.Keyring"

    def __repr__(self) -> str:
        return "NO_KEYRING"


NO_KEYRING = NoKeyring()


_OWN_DISTRIBUTION = "authadapter"
_KEYRING_DISTRIBUTION = "keyring"
_CHAINER = "keyring.backends.chainer"


def _missing(module: str) -> bool:
    """Whether no import hook finds top-level ``module``.

    The search ``importlib.util.find_spec`` makes, without importing ``importlib.util``.
    """
    if module in sys.modules:
        return False
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        try:
            if find_spec is not None and find_spec(module, None) is not None:
                return False
        except (ImportError, ValueError):
            continue
    return True


def _no_session_bus(environ: Mapping[str, str]) -> bool:
    # jeepney reads only DBUS_SESSION_BUS_ADDRESS; the standard socket is
    # checked too, so that a jeepney that learns that fallback is asked
    runtime = environ.get("XDG_RUNTIME_DIR")
    standard_socket = bool(runtime) and os.path.exists(os.path.join(str(runtime), "bus"))
    return not environ.get("DBUS_SESSION_BUS_ADDRESS") and not standard_socket


_RULED_OUT: dict[str, Callable[[Mapping[str, str]], bool]] = {
    "keyring.backends.macOS": lambda environ: sys.platform != "darwin",
    "keyring.backends.Windows": lambda environ: _missing("win32ctypes") and _missing("win32cred"),
    "keyring.backends.kwallet": lambda environ: _missing("dbus"),
    "keyring.backends.libsecret": lambda environ: _missing("gi"),
    "keyring.backends.SecretService": (
        lambda environ: _no_session_bus(environ) or _missing("secretstorage")
    ),
}
"""Per keyring module: whether its backends' ``priority`` would raise, decided from outside."""


def keyring_config_path(environ: Mapping[str, str]) -> str:
    """Where python-keyring reads ``keyringrc.cfg`` off Windows (``keyring.util.platform_``)."""
    root = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(root, "python_keyring", "keyringrc.cfg")


def backend_name(backend: object) -> str:
    """``module.Class`` of a backend, keyring's ``fail`` backend for :data:`NO_KEYRING`."""
    if isinstance(backend, NoKeyring):
        return backend.name
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def choose_backend(configured: str | None, environ: Mapping[str, str] | None = None) -> Any:
    """The backend python-keyring would choose now, or :data:`NO_KEYRING`.

    ``configured`` is the value ``PYTHON_KEYRING_BACKEND`` had; ``environ``
    the rest of the environment (``os.environ`` by default). Errors loading a
    named backend propagate, as they do from keyring.
    """
    environ = os.environ if environ is None else environ
    if configured:
        import keyring.core

        return keyring.core.load_keyring(configured)
    core = sys.modules.get("keyring.core")
    if core is not None and getattr(core, "_keyring_backend", None) is not None:
        return core.get_keyring()  # chosen already in this process, or set by the program
    if sys.platform == "win32" or os.path.exists(keyring_config_path(environ)):
        return _keyring_choice()
    if _unusual_layout():
        return _keyring_choice()  # distributions the directory scan does not read
    candidates = []
    for entry in find_entry_points("keyring.backends"):
        if entry.package == _OWN_DISTRIBUTION:
            continue
        if entry.package != _KEYRING_DISTRIBUTION:
            return _keyring_choice()  # a third-party backend: keyring ranks it
        module = entry.value.partition(":")[0].strip()
        ruled_out = _RULED_OUT.get(module)
        if module != _CHAINER and not (ruled_out is not None and ruled_out(environ)):
            candidates.append(module)
    if not candidates and "keyring.backend" not in sys.modules:
        return NO_KEYRING
    return _ranked(candidates)


def _priority(backend_class: Any) -> float:
    """The class's priority; one that raises now (a daemon gone since) ranks below ``fail``."""
    try:
        return float(backend_class.priority)
    except Exception as error:
        logger.debug("keyring: %s not viable (%s)", backend_class.__name__, type(error).__name__)
        return -1.0


def _unusual_layout() -> bool:
    """Whether distributions may sit where ``find_entry_points`` does not look.

    A zip or an egg on ``sys.path``, or an import hook that lists
    distributions of its own: keyring (through ``importlib.metadata``) would
    see a backend there, so keyring must choose.
    """
    from importlib.machinery import PathFinder

    for entry in sys.path:
        if entry.lower().endswith(".egg") or os.path.isfile(entry):
            return True
    for finder in sys.meta_path:
        if finder is PathFinder or not hasattr(finder, "find_distributions"):
            continue
        if not type(finder).__module__.startswith("importlib_metadata"):
            return True  # the backport's replacement of the standard finder is not foreign
    return False


def _keyring_choice() -> Any:
    import keyring.core

    return keyring.core.load_config() or keyring.core.get_keyring()


def _ranked(modules: list[str]) -> Any:
    """Import ``modules`` and rank every backend class keyring can see, as keyring does."""
    import importlib

    import keyring.backend

    for module in modules:
        importlib.import_module(module)
    recommended = []
    for backend_class in keyring.backend.KeyringBackend.get_viable_backends():
        module = backend_class.__module__
        if module == _CHAINER or module.partition(".")[0] == _OWN_DISTRIBUTION:
            continue
        if _priority(backend_class) > 0:
            recommended.append(backend_class)
    if len(recommended) > 1:
        return _keyring_choice()  # keyring chains them (priority 10): let it build the chainer
    if recommended:
        return recommended[0]()
    return NO_KEYRING
