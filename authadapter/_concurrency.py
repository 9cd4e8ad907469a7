"""The concurrency toolkit every part of authadapter shares: written once, used everywhere.

* ``call_with_timeout``: run a call that may never return (a Secret Service
  that does not answer, a command that hangs) in a daemon thread and stop
  waiting for it after a deadline.
* ``OneCallAtATime``: at most one such call in flight per blocking store.
  A store that has stopped answering then costs one stuck thread, not one
  per origin looked up while it hangs: later callers wait at most until the
  stuck call's deadline, then go on without it.
* ``SingleFlight``: concurrent callers of one key (threads, or asyncio/trio
  tasks) share one computation and its result or its error.

Daemon threads, not an executor: a call that never returns must not keep
the interpreter from exiting.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from ._exceptions import ProviderTimeoutError

__all__ = ["OneCallAtATime", "SingleFlight", "call_with_timeout", "own_copy", "process_timeout"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def own_copy(error: BaseException) -> BaseException:
    """A copy of a shared error for one waiter to raise, so threads never share a traceback."""
    try:
        clone = copy.copy(error)
    except Exception:  # an exception class copy cannot rebuild
        return error
    return clone if type(clone) is type(error) else error


class _Outcome(Generic[T]):
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


def _start(call: Callable[[], T], name: str) -> _Outcome[T]:
    outcome: _Outcome[T] = _Outcome()

    def run() -> None:
        try:
            outcome.value = call()
        except BaseException as error:
            outcome.error = error
        finally:
            outcome.done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    return outcome


def _result(outcome: _Outcome[T]) -> T:
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[return-value]


def call_with_timeout(call: Callable[[], T], timeout: float, name: str) -> T:
    """``call()``'s result, or ``ProviderTimeoutError`` after ``timeout`` seconds.

    The call goes on in its daemon thread after the timeout; its result is
    dropped. ``name`` names the thread (seen in debuggers and py-spy).
    """
    outcome = _start(call, name)
    if not outcome.done.wait(timeout):
        raise ProviderTimeoutError(f"did not answer within {timeout:g} s")
    return _result(outcome)


class OneCallAtATime:
    """``call_with_timeout`` for one store, with at most one call of it in flight.

    A caller that finds a call in flight waits for it, but never past that
    call's deadline: if it finishes in time the store is alive and the
    caller makes its own call; if not, the caller gets
    ``ProviderTimeoutError`` at once and so does every later caller until
    the stuck call returns (it may never: a frozen keyring daemon).
    """

    __slots__ = ("_busy", "_deadline", "_lock", "clock")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._busy: threading.Event | None = None
        self._deadline = 0.0
        self.clock = clock

    def call(self, call: Callable[[], T], timeout: float, name: str) -> T:
        while True:
            with self._lock:
                busy, deadline = self._busy, self._deadline
                if busy is None:
                    done = self._busy = threading.Event()
                    self._deadline = self.clock() + timeout
                    break
            left = deadline - self.clock()
            if left <= 0 or not busy.wait(left):
                raise ProviderTimeoutError("has not answered an earlier lookup yet")

        def run() -> T:
            try:
                return call()
            finally:
                with self._lock:
                    self._busy = None
                done.set()

        outcome = _start(run, name)
        if not outcome.done.wait(timeout):
            raise ProviderTimeoutError(f"did not answer within {timeout:g} s")
        return _result(outcome)

    def _after_fork(self) -> None:
        """In a forked child: the call in flight belongs to a thread the child does not have."""
        self._lock = threading.Lock()
        self._busy = None
        self._deadline = 0.0


class _Flight(Generic[T]):
    __slots__ = ("done", "error", "result", "shared", "tag")

    def __init__(self, tag: object = None) -> None:
        self.tag = tag
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.shared = True


class SingleFlight(Generic[K, T]):
    """Concurrent callers of one key share one computation.

    ``run`` is for threads: the first caller (the leader) computes, the
    others block until it is done and share its result, or raise their own
    copy of its ``Exception``. ``run_async`` is for tasks of an event loop:
    tasks of one loop that ask for the same key await the first one's
    computation instead of each occupying a worker thread, and the
    computation itself runs in a worker thread through ``run``, so threads
    and loops share it too.

    A leader may mark its result private (``False`` as ``compute``'s second
    return value): it then goes only to waiters that passed the same ``tag``
    (the same URL, for an answer that depends on the path); the others
    compute again themselves. A
    leader interrupted by ``KeyboardInterrupt`` or ``SystemExit`` leaves its
    waiters to compute again as well. ``forget(key)`` (or ``forget()`` for
    every key) detaches the flights in progress, so callers arriving later
    start anew; the detached leaders still answer their own waiters.
    """

    __slots__ = ("_async", "_flights", "_lock", "waiting")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[K, _Flight[T]] = {}
        self._async: dict[tuple[int, K], _Flight[None]] = {}
        self.waiting = 0
        """How many threads are blocked on another's computation right now."""

    def __len__(self) -> int:
        """How many computations are in flight."""
        return len(self._flights)

    def run(self, key: K, compute: Callable[[], tuple[T, bool]], tag: object = None) -> T:
        while True:
            with self._lock:
                flight = self._flights.get(key)
                leader = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight(tag)
                else:
                    self.waiting += 1
            if leader:
                return self._lead(key, flight, compute)
            try:
                flight.done.wait()
            finally:
                with self._lock:
                    self.waiting -= 1
            if flight.error is not None:
                if isinstance(flight.error, Exception):
                    raise own_copy(flight.error)
            elif flight.shared or flight.tag == tag:
                return flight.result  # type: ignore[return-value]
            # otherwise compute again: the answer was the leader's alone, or the
            # leader was interrupted (KeyboardInterrupt, SystemExit)

    def _lead(self, key: K, flight: _Flight[T], compute: Callable[[], tuple[T, bool]]) -> T:
        try:
            flight.result, flight.shared = compute()
            return flight.result
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()

    def forget(self, key: K | None = None) -> None:
        with self._lock:
            if key is None:
                self._flights.clear()
            else:
                self._flights.pop(key, None)

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's flights, whose leaders the child lacks.

        A caller in the child that finds no flight leads its own; without
        this it would wait for ever on a leader that exists only in the parent.
        """
        self._lock = threading.Lock()
        self._flights = {}
        self._async = {}
        self.waiting = 0

    async def run_async(
        self,
        key: K,
        compute: Callable[[], tuple[T, bool]],
        tag: object,
        fetch: Callable[[], T | None],
    ) -> T:
        """``run`` in a worker thread, shared by the tasks of this thread's event loop.

        ``fetch`` gives the result the leader left behind (a fresh cache
        entry) for the waiting tasks; when it gives ``None`` they compute.
        """
        import anyio
        import anyio.to_thread

        loop_key = (threading.get_ident(), key)
        flight = self._async.get(loop_key)
        if flight is not None:
            event: anyio.Event = flight.result  # type: ignore[assignment]
            await event.wait()
            if flight.error is not None:
                raise own_copy(flight.error)
            cached = fetch()
            if cached is not None:
                return cached
            return await anyio.to_thread.run_sync(self.run, key, compute, tag)
        flight = self._async[loop_key] = _Flight()
        done = anyio.Event()
        flight.result = done  # type: ignore[assignment]
        try:
            return await anyio.to_thread.run_sync(self.run, key, compute, tag)
        except Exception as error:
            flight.error = error
            raise
        finally:
            del self._async[loop_key]
            done.set()


def process_timeout(timeout: float) -> float:
    """How long a child may run inside a provider the chain waits ``timeout`` seconds for.

    A little less than the chain's wait: the child is killed, and its provider
    answers with an error naming it, before the chain stops waiting and the
    lookup ends as an anonymous "did not answer" warning with the child still
    running behind it.
    """
    return max(0.0, timeout - min(1.0, timeout / 10))
