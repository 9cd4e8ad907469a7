"""A child forked while a parent thread is inside a slow lookup neither hangs nor goes without.

The store is a real subprocess (``[[commands]]``-style: a command that
prints a token) that the parent's first call keeps waiting on a file the
test creates only after the fork; a keyring-like blocking store behaves the
same. Without the reset at fork, the child would wait for ever on the
parent's flight (no thread in the child will finish it), or for the whole
timeout on the parent's in-flight call of the blocking store, and then
send nothing.

Forks are real: ``os.fork`` and ``multiprocessing`` with the fork start
method. Each child reports through a pipe or a queue, and a child that
does not answer in time fails the test (and is killed).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from authadapter import Authorizer, BearerToken, Found, LookupResult, Origin
from tests.support import LoopbackServer

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

Servers = Callable[..., LoopbackServer]
URL = "https://registry.example/simple/"
CHILD_DEADLINE = 20.0


class SlowFirstCall:
    """A blocking store whose first call waits until ``gate`` exists; the others answer at once.

    The first call runs in the parent (a thread stuck in it at fork time);
    the child, which inherits the count, is answered without waiting.
    """

    name = "slow-first-call"
    blocking = True
    timeout = 60.0

    def __init__(self, gate: Path) -> None:
        self.gate = gate
        self.calls = 0
        self.entered = threading.Event()

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            while not self.gate.exists():
                time.sleep(0.01)
        return Found(BearerToken(f"fork-token-{os.getpid()}"), "test")


def parent_thread_inside_a_lookup(
    authorizer: Authorizer, store: SlowFirstCall
) -> tuple[threading.Thread, list[str | None]]:
    result: list[str | None] = []
    thread = threading.Thread(
        target=lambda: result.append(authorizer.decide(URL).authorization), daemon=True
    )
    thread.start()
    assert store.entered.wait(10), "the parent's lookup did not start"
    return thread, result


def in_forked_child(answer: Callable[[], str], release: Path | None = None) -> tuple[int, str]:
    """Fork; the child runs ``answer`` and reports it (or its error) through a pipe.

    ``release`` (a gate file) is touched once the child has answered or been
    killed, so a parent thread held inside a lookup can finish.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, whatever happens
        try:
            text = answer()
        except BaseException as error:
            text = f"error: {error!r}"
        os.write(write_end, text.encode())
        os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], CHILD_DEADLINE)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        text = os.read(read_end, 1000).decode()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, text
        return pid, text
    finally:
        if release is not None:
            release.touch()
        os.close(read_end)


def test_os_fork_during_a_lookup(tmp_path: Path) -> None:
    store = SlowFirstCall(tmp_path / "gate")
    authorizer = Authorizer([store], config=False)
    thread, parent_result = parent_thread_inside_a_lookup(authorizer, store)

    pid, child_answer = in_forked_child(
        lambda: str(authorizer.decide(URL).authorization), release=tmp_path / "gate"
    )

    assert child_answer == f"Bearer fork-token-{pid}"  # looked up in the child itself
    thread.join(10)
    assert parent_result == [f"Bearer fork-token-{os.getpid()}"]  # the parent is unharmed


def decide_in_child(authorizer: Authorizer, queue: multiprocessing.Queue[str]) -> None:
    try:
        queue.put(f"{os.getpid()} {authorizer.decide(URL).authorization}")
    except BaseException as error:
        queue.put(f"error: {error!r}")


def test_multiprocessing_fork_during_a_lookup(tmp_path: Path) -> None:
    store = SlowFirstCall(tmp_path / "gate")
    authorizer = Authorizer([store], config=False)
    thread, _ = parent_thread_inside_a_lookup(authorizer, store)
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    children = [context.Process(target=decide_in_child, args=(authorizer, queue)) for _ in range(3)]
    try:
        for child in children:
            child.start()
        answers = sorted(queue.get(timeout=CHILD_DEADLINE) for _ in children)
    finally:
        (tmp_path / "gate").touch()
        for child in children:
            child.join(5)
            if child.is_alive():
                child.kill()
    expected = sorted(f"{child.pid} Bearer fork-token-{child.pid}" for child in children)
    assert answers == expected
    thread.join(10)


def test_a_child_keeps_what_the_parent_had_looked_up(tmp_path: Path) -> None:
    """Finished lookups are kept: a pool of forked workers does not ask the store again."""
    (tmp_path / "gate").touch()
    store = SlowFirstCall(tmp_path / "gate")
    authorizer = Authorizer([store], config=False)
    parent = authorizer.decide(URL).authorization

    _, answer = in_forked_child(lambda: f"{authorizer.decide(URL).authorization} {store.calls}")

    assert answer == f"{parent} 1"


def test_a_command_store_answers_a_child_forked_while_it_runs(tmp_path: Path) -> None:
    """The same with a real ``[[commands]]`` entry: a subprocess that waits for the gate."""
    from authadapter import CommandSpec

    gate = tmp_path / "gate"
    script = tmp_path / "token.py"
    script.write_text(
        "import os, pathlib, sys, time\n"
        f"gate = pathlib.Path({str(gate)!r})\n"
        f"marker = pathlib.Path({str(tmp_path / 'started')!r})\n"
        "first = not marker.exists()\n"
        "marker.touch()\n"
        "while first and not gate.exists():\n"
        "    time.sleep(0.01)\n"
        "print('command-token-' + ('first' if first else 'later'))\n"
    )
    spec = CommandSpec(
        hosts=("registry.example",), command=(sys.executable, str(script)), timeout=30
    )
    authorizer = Authorizer(commands=[spec], config=False, order=["commands"])
    result: list[str | None] = []
    thread = threading.Thread(
        target=lambda: result.append(authorizer.decide(URL).authorization), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.01)
    _, child_answer = in_forked_child(
        lambda: str(authorizer.decide(URL).authorization), release=gate
    )
    thread.join(20)
    assert child_answer == "Bearer command-token-later"
    assert result == ["Bearer command-token-first"]
