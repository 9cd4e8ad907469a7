"""Credentials printed by a command: one token line on stdout, nothing else trusted.

Two layers. ``CommandProcess`` runs a child with its stdout piped and read in
the background under a size cap and one deadline, so a command that hangs, or
floods its output, is stopped instead of stopping the caller; Cargo's plugin
client builds its line protocol on it. ``run_token_command`` applies Cargo's
``token-from-stdout`` output rules on top, and ``CommandProvider`` turns a
command into a provider for chosen hosts.

Decisions a caller may rely on:

* stdin is ``/dev/null``, not inherited as Cargo does: inside a library an
  inherited stdin would let the command swallow the host program's own input,
  or wait forever on a pipe no one writes to. Commands that prompt should open
  the terminal themselves (as ``ssh``, ``gpg`` and ``pass`` do).
* stderr is inherited, so the command's own diagnostics reach the user.
* Errors name the command (its executable, never its arguments or output,
  either of which may hold a secret) and say what went wrong.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import IO

from authadapter._credentials import BearerToken, Credential
from authadapter._exceptions import InvalidCredentialError, ProviderError, ProviderTimeoutError
from authadapter._matching import candidate_keys, normalize_key
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss

__all__ = [
    "MAX_OUTPUT",
    "CommandProcess",
    "CommandProvider",
    "describe_command",
    "parse_token_output",
    "process_timeout",
    "run_token_command",
]

MAX_OUTPUT = 64 * 1024
"""Bytes of stdout accepted from a credential command before it is stopped."""


def process_timeout(timeout: float) -> float:
    """How long a child may run inside a provider the chain waits ``timeout`` seconds for.

    A little less than the chain's wait: the child is killed, and its provider
    answers with an error naming it, before the chain stops waiting and the
    lookup ends as an anonymous "did not answer" warning with the child still
    running behind it.
    """
    return max(0.0, timeout - min(1.0, timeout / 10))


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

    Use it as a context manager: on exit the child is killed if it still runs
    and always reaped. Every method raises ``ProviderError`` (or
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
        full_env = None if env is None else {**os.environ, **env}
        if not argv:
            raise ProviderError("empty command")
        try:
            self._process = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if pipe_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env=full_env,
                cwd=cwd,
                start_new_session=new_session,  # no controlling terminal: nothing can prompt
            )
        except FileNotFoundError:
            raise ProviderError(f"{self.what} was not found") from None
        except PermissionError:
            raise ProviderError(f"{self.what} is not executable") from None
        except OSError as error:
            raise ProviderError(f"{self.what} could not be started: {error.strerror}") from None
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
        self.close()

    def close(self) -> None:
        """Kill the child if it still runs and reap it."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()

    def _check_overflow(self) -> None:
        if self._reader.overflow:
            self.close()
            raise ProviderError(f"{self.what} printed more than {self.max_output} bytes")

    def _timed_out(self) -> ProviderTimeoutError:
        self.close()
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
        """The child's exit status, waiting for it until the deadline."""
        try:
            return self._process.wait(max(0.0, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise self._timed_out() from None


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
    if status != 0:
        raise ProviderError(f"{what} failed with exit status {status}")
    return parse_token_output(output, what)


class CommandProvider:
    """A provider that runs a command for the hosts it is configured for.

    ``hosts`` are store keys as ``candidate_keys`` produces them
    (``host``, ``host:port``, ``*.domain``); the command runs only for an
    origin one of them matches, with ``AUTHADAPTER_URL`` (the request URL)
    and ``AUTHADAPTER_HOST`` added to its environment. Its single line of
    output becomes ``credential(line)`` (a ``BearerToken`` by default). A
    failing command is a non-fatal ``Failure``: the chain warns and asks the
    next provider. ``timeout`` is the chain's; the command gets slightly less
    (``process_timeout``), so a hung command is reported by name.
    """

    blocking = True

    def __init__(
        self,
        argv: Sequence[str],
        *,
        hosts: Iterable[str],
        credential: Callable[[str], Credential] = BearerToken,
        env: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        ttl: float | None = None,
        name: str = "command",
    ) -> None:
        if not argv:
            raise ValueError("a command provider needs a command")
        self.argv = tuple(argv)
        self.hosts = frozenset(normalize_key(host) for host in hosts)
        self.credential = credential
        self.env = dict(env or {})
        self.timeout = timeout
        self.ttl = ttl
        self.name = name

    def __repr__(self) -> str:
        return f"CommandProvider({describe_command(self.argv)}, hosts={sorted(self.hosts)!r})"

    def applies_to(self, origin: Origin) -> bool:
        return any(key in self.hosts for key in candidate_keys(origin))

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        if not self.applies_to(origin):
            return Miss()
        what = describe_command(self.argv)
        env = {**self.env, "AUTHADAPTER_URL": url, "AUTHADAPTER_HOST": origin.host}
        try:
            timeout = process_timeout(self.timeout)
            line = run_token_command(self.argv, env=env, timeout=timeout, what=what)
            if not line:
                return Failure(f"{what} printed an empty token", ttl=self.ttl)
            return Found(self.credential(line), what, self.ttl)
        except InvalidCredentialError as error:
            return Failure(f"{what}: {error}", ttl=self.ttl)
        except ProviderError as error:
            return Failure(str(error), ttl=self.ttl)
