"""Running a credential command or plugin without letting it stop, or outlive, the caller.

``CommandProcess`` runs a child with its stdout piped and read in the
background under a size cap and one deadline, so a command that hangs, or
floods its output, is stopped instead of stopping the caller. Every provider
that runs a program builds on it: ``[[commands]]`` entries and Cargo's
``token-from-stdout`` through ``run_token_command`` (Cargo's output rules),
Cargo's plugin client through its line protocol, the macOS keychain.

Decisions a caller may rely on:

* stdin is ``/dev/null``, not inherited as Cargo does: inside a library an
  inherited stdin would let the command swallow the host program's own input,
  or wait forever on a pipe no one writes to. Commands that prompt should open
  the terminal themselves (as ``ssh``, ``gpg`` and ``pass`` do).
* stderr is inherited, so the command's own diagnostics reach the user.
* ``AUTHADAPTER_IN_LOOKUP=1`` is added to its environment: a ``keyring``
  command it runs must not ask authadapter's keyring backend, which would
  run the lookup again (``_reentry``).
* Errors name the command (its executable, never its arguments or output,
  either of which may hold a secret) and say what went wrong.
* No process is left behind by a failure: when the command times out,
  floods its output, exits non-zero or the caller's code raises while it
  runs, the command and every process it started are killed
  (``ProcessTree``). After a successful exit, helpers it left running are
  its own business and are left alone, as a shell leaves them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import IO

from ._concurrency import process_timeout
from ._exceptions import ProviderError, ProviderTimeoutError
from ._process_tree import ProcessTree
from ._reentry import REENTRY_VARIABLE

__all__ = [
    "MAX_OUTPUT",
    "CommandProcess",
    "describe_command",
    "parse_token_output",
    "process_timeout",
    "run_token_command",
]

MAX_OUTPUT = 64 * 1024
"""Bytes of stdout accepted from a credential command before it is stopped."""


def describe_command(argv: Sequence[str]) -> str:
    """How errors name a command: its executable only, as arguments may carry secrets."""
    return f"command `{argv[0]}`" if argv else "empty command"


class _OutputReader(threading.Thread):
    """Collects a pipe's bytes until EOF, or until more than ``limit`` arrived."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(name="authadapter-command-output", daemon=True)
        self._stream = stream
        self._limit = limit
        self._changed = threading.Condition()
        self.buffer = bytearray()
        self.eof = False
        self.overflow = False

    def run(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            while True:
                try:
                    chunk = read(65536)
                except (OSError, ValueError):
                    chunk = b""
                with self._changed:
                    if not chunk:
                        self.eof = True
                    else:
                        self.buffer += chunk
                        self.overflow = len(self.buffer) > self._limit
                    self._changed.notify_all()
                    if self.eof or self.overflow:
                        break
        finally:
            self._stream.close()

    def take_line(self) -> bytes | None:
        """Remove and return the first complete line (without ``\\n``), if there is one."""
        with self._changed:
            end = self.buffer.find(b"\n")
            if end < 0:
                return None
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            return line

    def take_all(self) -> bytes:
        with self._changed:
            data = bytes(self.buffer)
            self.buffer.clear()
            return data

    def wait_for(self, ready: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``ready()`` (called under the lock) holds; False at the deadline."""
        with self._changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True


class CommandProcess:
    """A child process whose stdout is read under a size cap and a deadline.

    ``new_session`` runs the child without a controlling terminal even when
    we have one, for a command that must never prompt.

    Use it as a context manager: on exit the child is always reaped; when the
    block raised, or the child still runs, the child and every process it
    started are killed first. Every method raises ``ProviderError`` (or
    ``ProviderTimeoutError``) with a message that names ``what``.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float,
        what: str | None = None,
        pipe_stdin: bool = False,
        max_output: int = MAX_OUTPUT,
        cwd: str | os.PathLike[str] | None = None,
        new_session: bool = False,
    ) -> None:
        self.what = what or describe_command(argv)
        self.timeout = timeout
        self.max_output = max_output
        self._deadline = time.monotonic() + timeout
        # a child of a lookup is inside it: its keyring command cannot ask authadapter again
        full_env = {**os.environ, **(env or {}), REENTRY_VARIABLE: "1"}
        if not argv:
            raise ProviderError("empty command")
        self._tree = ProcessTree(new_session=new_session)
        self._status: int | None = None
        self._closed = False
        try:
            self._process = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if pipe_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env=full_env,
                cwd=cwd,
                start_new_session=self._tree.start_new_session,
            )
        except FileNotFoundError:
            raise ProviderError(f"{self.what} was not found") from None
        except PermissionError:
            raise ProviderError(f"{self.what} is not executable") from None
        except OSError as error:
            raise ProviderError(f"{self.what} could not be started: {error.strerror}") from None
        self._tree.attach(self._process.pid)
        assert self._process.stdout is not None
        self._reader = _OutputReader(self._process.stdout, max_output)
        self._reader.start()

    def __enter__(self) -> CommandProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(failed=error is not None)

    def close(self, *, failed: bool = True) -> None:
        """Reap the child; kill it and every process it started if it failed or still runs.

        ``failed=False`` (a ``with`` block that ended without an exception)
        leaves alone what a command that exited on its own left running.
        """
        if self._closed:
            return
        self._closed = True
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        if failed or self._exit_status() is None:
            self._tree.kill()  # before the reap: until then no one else can have its pid
            if self._process.poll() is None:
                self._process.kill()
        self._process.wait()

    def _exit_status(self) -> int | None:
        """The exit status once the child exited, not reaping it (``-N``: killed by signal N)."""
        if self._status is not None or self._process.returncode is not None:
            return self._process.returncode if self._status is None else self._status
        if not hasattr(os, "waitid"):  # pragma: no cover - Windows
            return self._process.poll()
        try:
            info = os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped by someone else (a SIGCHLD handler of the host)
            return self._process.poll()
        if info is None or info.si_pid == 0:
            return None
        exited = info.si_code == os.CLD_EXITED
        self._status = info.si_status if exited else -info.si_status
        return self._status

    def _check_overflow(self) -> None:
        if self._reader.overflow:
            self.close(failed=True)
            raise ProviderError(f"{self.what} printed more than {self.max_output} bytes")

    def _timed_out(self) -> ProviderTimeoutError:
        self.close(failed=True)
        return ProviderTimeoutError(
            f"{self.what} did not finish within {self.timeout:g} s and was stopped"
        )

    def read_line(self) -> bytes | None:
        """The next stdout line without its ``\\n``; ``None`` if output ended without one."""
        reader = self._reader

        def ready() -> bool:
            return b"\n" in reader.buffer or reader.eof or reader.overflow

        if not reader.wait_for(ready, self._deadline):
            raise self._timed_out()
        line = reader.take_line()
        if line is None:
            self._check_overflow()
        return line

    def read_rest(self) -> bytes:
        """Everything stdout still has to give, up to EOF."""
        reader = self._reader
        if not reader.wait_for(lambda: reader.eof or reader.overflow, self._deadline):
            raise self._timed_out()
        self._check_overflow()
        return reader.take_all()

    def send(self, data: bytes) -> None:
        """Write ``data`` to the child's stdin and close it, as Cargo does with a request.

        A child that already exited is not an error here: its missing answer
        or its exit status tells the caller what went wrong.
        """
        stdin = self._process.stdin
        if stdin is None:
            raise ProviderError(f"{self.what} has no stdin to write to")
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def wait(self) -> int:
        """The child's exit status, waiting for it until the deadline.

        The child is not reaped yet, so ``close`` can still kill what it
        left behind by its process group without hitting a reused pid.
        """
        delay = 0.0005
        while (status := self._exit_status()) is None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise self._timed_out()
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.02)
        return status


def parse_token_output(output: bytes, what: str) -> str:
    """Cargo's ``token-from-stdout`` rules: one line, ``\\n`` and one ``\\r`` cut, nothing trimmed.

    Raises ``ProviderError`` naming ``what`` for more than one line or for
    bytes that are not UTF-8. An empty result is returned as it is: the
    caller decides what an empty token means.
    """
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise ProviderError(f"{what} printed output that is not UTF-8") from None
    end = text.find("\n")
    if end >= 0:
        if len(text) > end + 1:
            raise ProviderError(
                f"{what} printed more than one line of output; expected a single token"
            )
        text = text[:end]
    if text.endswith("\r"):
        text = text[:-1]
    return text


def run_token_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float,
    what: str | None = None,
    max_output: int = MAX_OUTPUT,
    cwd: str | os.PathLike[str] | None = None,
) -> str:
    """Run ``argv`` and return the one line it printed, as Cargo reads a token command.

    ``env`` adds variables to the inherited environment; ``cwd`` is where
    the command runs (default: here), which also resolves a relative command.
    A non-zero exit, a second line of output, more than ``max_output`` bytes,
    or no exit within ``timeout`` seconds (the command is then killed) raise
    ``ProviderError`` naming the command, never its output.
    """
    what = what or describe_command(argv)
    with CommandProcess(
        argv, env=env, timeout=timeout, what=what, max_output=max_output, cwd=cwd
    ) as child:
        output = child.read_rest()
        status = child.wait()
        if status != 0:  # raised inside: what the command left running is killed
            raise ProviderError(f"{what} failed with exit status {status}")
        return parse_token_output(output, what)
