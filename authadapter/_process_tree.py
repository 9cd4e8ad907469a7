"""Every process a command started, and how all of them are stopped when it fails.

Killing the command's own pid is not enough: a ``[[commands]]`` entry or a
Cargo plugin is often a shell wrapper whose real work (``vault``, ``op``,
``aws``) runs in a child, and that child would outlive a timeout. Two
mechanisms, chosen when the command starts:

* **A process group of its own** (the usual case: no terminal, as in CI, or a
  terminal whose foreground belongs to someone else). The command starts a
  new session, so it and everything it starts, however deep and even after
  their parent exited, share one process group that one ``killpg`` stops.
* **Our terminal's foreground** (a developer's shell). A command may prompt
  there (``ssh``, ``vault login`` read ``/dev/tty``), and in a process group of
  its own it would be stopped by ``SIGTTIN`` at its first read (a new session
  has no terminal at all). So it stays in ours, and its processes are found
  by parent pid in ``/proc``.

In both cases teardown also walks ``/proc``: each descendant is frozen with
``SIGSTOP`` as it is found (so none can fork behind the walk), the walk is
repeated until it finds nothing new, then all get ``SIGKILL``. A process is
pinned with a pidfd and its start time re-checked before it is signalled, so
a pid reused by a stranger is never touched.

What is left alone, on purpose: a descendant that started a session of its
own (a daemon such as ``gpg-agent`` or ssh's ``ControlPersist`` master
detaches so that it outlives its starter); and everything after a normal,
successful exit, when the command's background helpers are its own business.
Limits: in the terminal case a descendant orphaned before teardown (its
parent already exited) is no longer found by parent pid; without ``/proc``
(macOS) only the process group, or in the terminal case only the command
itself, is killed; on Windows only the command itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

__all__ = ["ProcessTree", "in_terminal_foreground"]

_PROC = Path("/proc")


def in_terminal_foreground() -> bool:
    """Whether this process owns its terminal's foreground, where a command can prompt."""
    if os.name != "posix":
        return False
    try:
        descriptor = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(descriptor) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(descriptor)


class ProcessTree:
    """The processes started by one command, as ``subprocess.Popen`` should start it.

    ``new_session`` asks for a session of its own even at a terminal, for a
    command that must not prompt (git's helpers). Pass ``start_new_session``
    to ``Popen``, then ``attach`` the child's pid;
    ``kill`` stops the whole tree and must run before the command is reaped,
    while its pid (and so its process group id) cannot be reused.
    """

    def __init__(self, *, new_session: bool = False) -> None:
        own = new_session or not in_terminal_foreground()
        self.own_group = os.name == "posix" and own
        self._root: int | None = None

    @property
    def start_new_session(self) -> bool:
        return self.own_group

    def attach(self, pid: int) -> None:
        self._root = pid

    def kill(self) -> None:
        """``SIGKILL`` to the command and every descendant still in its session (POSIX only).

        Elsewhere the caller kills the command itself.
        """
        root = self._root
        if root is None or os.name != "posix":
            return
        with contextlib.suppress(OSError):  # the command forks no more while the walk runs
            if self.own_group:
                os.killpg(root, signal.SIGSTOP)
            else:
                os.kill(root, signal.SIGSTOP)
        session = root if self.own_group else os.getsid(0)
        frozen = _freeze_descendants(root, session)
        try:
            if self.own_group:
                with contextlib.suppress(OSError):
                    os.killpg(root, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(root, signal.SIGKILL)
            for process in frozen:
                process.signal(signal.SIGKILL)
        finally:
            for process in frozen:
                process.close()


class _Pinned:
    """A process signalled through a pidfd where the system has them, else by pid."""

    def __init__(self, pid: int, descriptor: int | None) -> None:
        self.pid = pid
        self._descriptor = descriptor

    def signal(self, number: int) -> None:
        with contextlib.suppress(OSError):
            if self._descriptor is not None:
                signal.pidfd_send_signal(self._descriptor, number)
            else:
                os.kill(self.pid, number)

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _freeze_descendants(root: int, session: int) -> list[_Pinned]:
    """Stop every descendant of ``root`` in ``session``, repeating until none is new."""
    frozen: dict[int, _Pinned] = {}
    for _ in range(100):  # a fork bomb outpacing the walk is stopped by the kill that follows
        table = _process_table()
        new = [
            (pid, start)
            for pid, start in _descendants(table, root, session)
            if pid not in frozen and pid != root
        ]
        if not new:
            break
        for pid, start in new:
            pinned = _pin(pid, start)
            if pinned is not None:
                pinned.signal(signal.SIGSTOP)
                frozen[pid] = pinned
    return list(frozen.values())


def _pin(pid: int, start: int) -> _Pinned | None:
    """Hold ``pid`` if it is still the process that was listed (same start time)."""
    descriptor: int | None = None
    if hasattr(os, "pidfd_open"):
        try:
            descriptor = os.pidfd_open(pid)
        except OSError:
            return None
    stat = _read_stat(pid)
    if stat is None or stat[2] != start:
        if descriptor is not None:
            os.close(descriptor)
        return None
    return _Pinned(pid, descriptor)


_Stat = tuple[int, int, int]
"""(parent pid, session id, start time in clock ticks since boot)."""


def _read_stat(pid: int) -> _Stat | None:
    try:
        text = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: the fields start after the last ')'
    fields = text[text.rfind(b")") + 2 :].split()
    try:
        return int(fields[1]), int(fields[3]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _process_table() -> dict[int, _Stat]:
    table: dict[int, _Stat] = {}
    try:
        entries = os.listdir(_PROC)
    except OSError:
        return table
    for entry in entries:
        if entry.isdigit():
            stat = _read_stat(int(entry))
            if stat is not None:
                table[int(entry)] = stat
    return table


def _descendants(table: dict[int, _Stat], root: int, session: int) -> list[tuple[int, int]]:
    """(pid, start time) of ``root``'s descendants, not entering another session."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found: list[tuple[int, int]] = []
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        _, pid_session, start = table[pid]
        if pid_session != session:
            continue  # detached on purpose: a daemon outlives its starter
        found.append((pid, start))
        pending.extend(children.get(pid, ()))
    return found
