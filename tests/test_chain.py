"""The chain's cache, lifetimes, single flight and timeouts, counted in provider calls."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator

import anyio.to_thread
import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import (
    BearerToken,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    ProviderChain,
    ProviderError,
    Resolution,
)

URL = "https://repo.example.org/simple/pkg/"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Counting:
    """Answers from ``answer(n)`` for the n-th call (from 1) and counts its calls."""

    def __init__(
        self,
        answer: Callable[[int], LookupResult],
        *,
        name: str = "counting",
        blocking: bool = False,
        delay: float = 0.0,
    ) -> None:
        self.name = name
        self.blocking = blocking
        self.answer = answer
        self.delay = delay
        self.calls = 0
        self.urls: list[str] = []
        self._lock = threading.Lock()

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        with self._lock:
            self.calls += 1
            n = self.calls
            self.urls.append(url)
        if self.delay:
            time.sleep(self.delay)
        return self.answer(n)


def token(n: int, ttl: float | None = None) -> Found:
    return Found(BearerToken(f"tok-{n}"), "test store", ttl=ttl)


def token_of(chain: ProviderChain, url: str = URL) -> str | None:
    credential = chain.resolve(url).credential
    return None if credential is None else credential.authorization()


class Stuck:
    """A blocking provider that does not answer until the test lets it."""

    name = "stuck-keyring"
    blocking = True
    timeout: float | None = None  # the chain's timeout applies

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        self.release.wait(30)
        return Miss()


@pytest.fixture
def stuck() -> Iterator[Stuck]:
    provider = Stuck()
    yield provider
    provider.release.set()


def test_one_lookup_serves_every_spelling_of_an_origin() -> None:
    provider = Counting(token)
    chain = ProviderChain([provider])
    urls = [
        URL,
        "https://repo.example.org/other",
        "HTTPS://Repo.Example.ORG:443/x?y=1",
        "https://repo.example.org.",
        "https://repo.example.org#frag",
    ]
    assert {token_of(chain, url) for url in urls} == {"Bearer tok-1"}
    assert provider.calls == 1
    assert chain.lookups == 1


def test_origins_are_cached_separately() -> None:
    provider = Counting(token)
    chain = ProviderChain([provider])
    assert token_of(chain, "https://a.example.org/") == "Bearer tok-1"
    assert token_of(chain, "https://b.example.org/") == "Bearer tok-2"
    assert token_of(chain, "https://a.example.org:8443/") == "Bearer tok-3"
    assert token_of(chain, "http://a.example.org/") == "Bearer tok-4"
    assert token_of(chain, "https://a.example.org/again") == "Bearer tok-1"
    assert provider.calls == 4


def test_found_lives_ttl_seconds() -> None:
    clock = FakeClock()
    provider = Counting(token)
    chain = ProviderChain([provider], ttl=60, clock=clock)
    assert token_of(chain) == "Bearer tok-1"
    clock.advance(59)
    assert token_of(chain) == "Bearer tok-1"
    clock.advance(2)
    assert token_of(chain) == "Bearer tok-2"
    assert provider.calls == 2


def test_miss_is_cached_for_negative_ttl() -> None:
    clock = FakeClock()
    provider = Counting(lambda n: Miss())
    chain = ProviderChain([provider], ttl=600, negative_ttl=30, clock=clock)
    assert token_of(chain) is None
    clock.advance(29)
    assert token_of(chain) is None
    assert provider.calls == 1
    clock.advance(2)
    assert token_of(chain) is None
    assert provider.calls == 2


@pytest.mark.parametrize(
    ("provider_ttl", "chain_ttl", "wait", "calls"),
    [
        (5.0, 300.0, 6.0, 2),  # shorter than the chain's: expires early
        (3600.0, 10.0, 11.0, 1),  # longer than the chain's: outlives it
        (float("inf"), 10.0, 1e9, 1),  # "for the life of the process"
        (0.0, 300.0, 0.0, 2),  # Cargo's cache "never": asked on every request
        (-5.0, 300.0, 0.0, 2),  # an expiry already past: never cached
    ],
)
def test_a_providers_own_lifetime_wins(
    provider_ttl: float, chain_ttl: float, wait: float, calls: int
) -> None:
    clock = FakeClock()
    provider = Counting(lambda n: token(n, ttl=provider_ttl))
    chain = ProviderChain([provider], ttl=chain_ttl, clock=clock)
    token_of(chain)
    clock.advance(wait)
    token_of(chain)
    assert provider.calls == calls


def test_a_providers_miss_lifetime_wins_over_negative_ttl() -> None:
    clock = FakeClock()
    never = Counting(lambda n: Miss(ttl=0), name="path-scoped")
    chain = ProviderChain([never], negative_ttl=300, clock=clock)
    token_of(chain)
    token_of(chain)
    assert never.calls == 2

    longer = Counting(lambda n: Miss(ttl=3600))
    chain = ProviderChain([longer], negative_ttl=300, clock=clock)
    token_of(chain)
    clock.advance(301)
    token_of(chain)
    assert longer.calls == 1


def test_an_uncacheable_miss_before_a_found_keeps_the_found_uncached() -> None:
    """A provider that must be asked every time is asked every time, even behind a hit."""
    first = Counting(lambda n: Miss(ttl=0), name="first")
    second = Counting(token, name="second")
    chain = ProviderChain([first, second])
    assert token_of(chain) == "Bearer tok-1"
    assert token_of(chain) == "Bearer tok-2"
    assert (first.calls, second.calls) == (2, 2)


def test_a_failure_before_a_found_caps_its_lifetime(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    broken = Counting(lambda n: Failure("keyring locked") if n == 1 else token(100 + n))
    fallback = Counting(token, name="fallback")
    chain = ProviderChain([broken, fallback], ttl=600, failure_ttl=20, clock=clock)
    with caplog.at_level(logging.WARNING, logger="authadapter"):
        assert token_of(chain) == "Bearer tok-1"
    assert "counting" in caplog.text
    assert "keyring locked" in caplog.text
    clock.advance(19)
    assert token_of(chain) == "Bearer tok-1"
    clock.advance(2)
    assert token_of(chain) == "Bearer tok-102"  # the first provider is back and wins
    assert fallback.calls == 1


def test_invalidate_one_origin_or_all() -> None:
    provider = Counting(token)
    chain = ProviderChain([provider])
    token_of(chain, "https://a.example.org/")
    token_of(chain, "https://b.example.org/")
    chain.invalidate("https://A.example.org/some/path")
    assert token_of(chain, "https://a.example.org/") == "Bearer tok-3"
    assert token_of(chain, "https://b.example.org/") == "Bearer tok-2"
    chain.invalidate()
    assert token_of(chain, "https://a.example.org/") == "Bearer tok-4"
    assert token_of(chain, "https://b.example.org/") == "Bearer tok-5"


@pytest.mark.parametrize(
    ("invalidated", "afterwards", "calls"),
    [
        (URL, "Bearer tok-2", 2),  # the credential being read is now known to be stale
        # a server that rejects everything must not keep other origins uncached
        ("https://rejecting.example.org/", "Bearer tok-1", 1),
    ],
    ids=["same-origin", "other-origin"],
)
def test_invalidate_during_a_lookup_keeps_only_that_origins_result_out_of_the_cache(
    invalidated: str, afterwards: str, calls: int
) -> None:
    entered, proceed = threading.Event(), threading.Event()

    def answer(n: int) -> LookupResult:
        if n == 1:
            entered.set()
            proceed.wait(10)
        return token(n)

    provider = Counting(answer)
    chain = ProviderChain([provider])
    results: list[str | None] = []
    worker = threading.Thread(target=lambda: results.append(token_of(chain)))
    worker.start()
    assert entered.wait(10)
    chain.invalidate(invalidated)
    proceed.set()
    worker.join(10)
    assert results == ["Bearer tok-1"]
    assert token_of(chain) == afterwards
    assert token_of(chain) == afterwards
    assert provider.calls == calls


def together(threads: int, call: Callable[[], None]) -> None:
    """Run ``call`` in that many threads, released at once by a barrier."""
    barrier = threading.Barrier(threads)

    def run() -> None:
        barrier.wait()
        call()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(30)


def test_sixty_four_threads_missing_one_origin_make_one_provider_call() -> None:
    provider = Counting(token, delay=0.05)
    chain = ProviderChain([provider])
    results: list[str | None] = []
    together(64, lambda: results.append(token_of(chain)))
    assert results == ["Bearer tok-1"] * 64
    assert provider.calls == 1


def test_an_uncacheable_answer_still_serves_a_stampede_on_one_url() -> None:
    provider = Counting(lambda n: token(n, ttl=0), delay=0.05)
    chain = ProviderChain([provider])
    results: list[str | None] = []
    together(64, lambda: results.append(token_of(chain)))
    assert results == ["Bearer tok-1"] * 64
    assert provider.calls == 1
    assert token_of(chain) == "Bearer tok-2"  # and it was not cached


def test_waiting_threads_share_a_fatal_error_without_asking_again() -> None:
    provider = Counting(lambda n: Failure("plugin said no", fatal=True), delay=0.05)
    chain = ProviderChain([provider])
    errors: list[str] = []

    def request() -> None:
        try:
            chain.resolve(URL)
        except ProviderError as error:
            errors.append(str(error))

    together(16, request)
    assert errors == ["counting: plugin said no"] * 16
    assert provider.calls == 1
    with pytest.raises(ProviderError):  # a fatal error is not cached
        chain.resolve(URL)
    assert provider.calls == 2


def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the chain never got there")


def lead_and_wait(
    chain: ProviderChain, first_url: str, second_url: str, release: threading.Event
) -> list[object]:
    """The first URL's lookup starts and blocks; the second joins its flight; then release."""
    outcomes: list[object] = [None, None]

    def run(index: int, url: str) -> None:
        try:
            outcomes[index] = chain.resolve(url)
        except BaseException as error:  # the test looks at what each thread got
            outcomes[index] = error

    leader = threading.Thread(target=run, args=(0, first_url))
    leader.start()
    wait_until(lambda: chain.stats().lookups_in_flight == 1)
    waiter = threading.Thread(target=run, args=(1, second_url))
    waiter.start()
    wait_until(lambda: chain.stats().callers_waiting == 1)
    release.set()
    leader.join(10)
    waiter.join(10)
    return outcomes


def test_an_answer_for_one_path_is_not_shared_with_a_waiter_for_another() -> None:
    release = threading.Event()

    def per_path(origin: Origin, url: str) -> LookupResult:
        if url.endswith("/one/"):
            release.wait(10)
        return Found(BearerToken("for" + url.rsplit("/", 2)[1]), "per-path store", ttl=0)

    provider = Counting(token)
    provider.lookup = per_path  # type: ignore[method-assign]
    chain = ProviderChain([provider])
    base = "https://repo.example.org/registries"
    outcomes = lead_and_wait(chain, base + "/one/", base + "/two/", release)
    credentials = [o.credential for o in outcomes if isinstance(o, Resolution)]
    assert credentials == [BearerToken("forone"), BearerToken("fortwo")]


def test_a_waiter_asks_again_when_the_leaders_thread_is_interrupted() -> None:
    release = threading.Event()

    def answer(n: int) -> LookupResult:
        if n == 1:
            release.wait(10)
            raise KeyboardInterrupt  # meant for the leader's thread alone
        return token(n)

    provider = Counting(answer)
    chain = ProviderChain([provider])
    outcomes = lead_and_wait(chain, URL, URL, release)
    assert isinstance(outcomes[0], KeyboardInterrupt)
    assert isinstance(outcomes[1], Resolution)
    assert outcomes[1].credential == BearerToken("tok-2")


def test_each_waiter_raises_its_own_copy_of_a_fatal_error() -> None:
    release = threading.Event()

    def answer(n: int) -> LookupResult:
        release.wait(10)
        return Failure("plugin said no", fatal=True)

    chain = ProviderChain([Counting(answer)])
    leader, waiter = lead_and_wait(chain, URL, URL, release)
    assert isinstance(leader, ProviderError)
    assert isinstance(waiter, ProviderError)
    assert str(waiter) == str(leader) == "counting: plugin said no"
    assert waiter is not leader  # one traceback per thread, not frames of both in one


async def test_sixty_four_tasks_missing_one_origin_make_one_provider_call() -> None:
    provider = Counting(token, blocking=True, delay=0.05)
    chain = ProviderChain([provider])
    results = await asyncio.gather(*(anyio.to_thread.run_sync(token_of, chain) for _ in range(64)))
    assert results == ["Bearer tok-1"] * 64
    assert provider.calls == 1


def test_a_provider_past_the_timeout_is_skipped_with_a_warning(
    stuck: Stuck, caplog: pytest.LogCaptureFixture
) -> None:
    fallback = Counting(token, name="netrc")
    chain = ProviderChain([stuck, fallback], timeout=0.05, failure_ttl=0)
    with caplog.at_level(logging.WARNING, logger="authadapter"):
        assert token_of(chain) == "Bearer tok-1"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "stuck-keyring" in warnings[0]
    assert "did not answer" in warnings[0]

    # Still stuck: not asked again (no second thread piles up), the chain goes on.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="authadapter"):
        assert token_of(chain) == "Bearer tok-2"
    assert stuck.calls == 1
    assert "stuck-keyring" in caplog.text

    # Once it answers its old lookup, it is asked again.
    stuck.release.set()
    deadline = time.monotonic() + 10
    while stuck.calls < 2 and time.monotonic() < deadline:
        token_of(chain)
    assert stuck.calls == 2


class SlowWithItsOwnTimeout:
    """A blocking provider that answers after ``delay`` and declares a longer ``timeout``."""

    name = "sso-command"
    blocking = True

    def __init__(self, delay: float, timeout: float) -> None:
        self.delay = delay
        self.timeout = timeout

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        time.sleep(self.delay)
        return Found(BearerToken("slow-but-allowed"), "sso")


def test_a_provider_with_its_own_longer_timeout_is_waited_for() -> None:
    """A command the user allowed 5 s is not cut off at the chain's 0.05 s."""
    chain = ProviderChain([SlowWithItsOwnTimeout(delay=0.3, timeout=5)], timeout=0.05)
    assert token_of(chain) == "Bearer slow-but-allowed"


def test_a_provider_past_its_own_timeout_is_skipped(stuck: Stuck) -> None:
    stuck.timeout = 0.05
    chain = ProviderChain([stuck, Counting(token)], timeout=30, failure_ttl=0)
    assert token_of(chain) == "Bearer tok-1"


def test_a_provider_that_raises_is_a_failure_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(n: int) -> LookupResult:
        raise ValueError("line 3: password = hunter2")

    chain = ProviderChain([Counting(explode, name="fragile"), Counting(token)])
    with caplog.at_level(logging.DEBUG, logger="authadapter"):
        assert token_of(chain) == "Bearer tok-1"
    assert "fragile" in caplog.text
    assert "ValueError" in caplog.text
    assert "hunter2" not in caplog.text


def test_a_blocking_provider_that_raises_is_a_failure_too() -> None:
    def explode(n: int) -> LookupResult:
        raise OSError("dbus went away")

    chain = ProviderChain([Counting(explode, blocking=True), Counting(token, name="next")])
    assert token_of(chain) == "Bearer tok-1"


def test_no_providers_means_no_credential() -> None:
    chain = ProviderChain([])
    assert chain.resolve(URL).credential is None


_schemes = st.sampled_from(["https", "HTTP", "sparse+https", "wss", "ftp", "h"])
_hosts = st.sampled_from(
    [
        "repo.example.org",
        "Repo.EXAMPLE.org.",
        "127.0.0.1",
        "[::1]",
        "[2001:DB8::1]",
        "bücher.example",
        "a@b.example",
        "user:pw@host.example",
        "host.example\\evil.example",
        "",
        "host:",
        "host:99999",
        "host:8443",
    ]
)
_rests = st.sampled_from(["", "/", "/simple/", "?q=1", "#f", "/t/tok/x", "\n/x", " ", "\t/x"])


@given(scheme=_schemes, host=_hosts, rest=_rests)
def test_the_origin_memo_agrees_with_parsing_every_time(scheme: str, host: str, rest: str) -> None:
    chain = ProviderChain([])
    url = f"{scheme}://{host}{rest}"
    for _ in range(2):  # the second call is served by the memo
        try:
            expected: Origin | type[ValueError] = Origin.from_url(url)
        except ValueError:
            expected = ValueError
        try:
            got: Origin | type[ValueError] = chain.origin_of(url)
        except ValueError:
            got = ValueError
        assert got == expected


def test_the_origin_memo_stays_small() -> None:
    chain = ProviderChain([])
    for n in range(5000):
        chain.origin_of(f"https://host-{n}.example.org/x")
    assert chain.stats().memoised_authorities <= 512
    assert chain.origin_of("https://host-4999.example.org/y").host == "host-4999.example.org"


def test_the_cache_stays_bounded_however_many_origins_are_met() -> None:
    clock = FakeClock()
    provider = Counting(lambda n: Miss())
    chain = ProviderChain([provider], negative_ttl=60, clock=clock)
    for n in range(3000):
        chain.resolve(f"https://old-{n}.example.org/")
    clock.advance(120)  # all of those have expired
    for n in range(6000):
        chain.resolve(f"https://host-{n}.example.org/")
    assert chain.stats().cached_origins <= 4096
    calls = provider.calls
    chain.resolve("https://host-5999.example.org/")  # the newest answers are still cached
    assert provider.calls == calls
