"""The per-request cost of authadapter, each figure next to a reference from the same run.

Run ``nox -s bench`` (or ``python benchmarks/run.py``; ``--quick`` for a smoke
run). Prints one Markdown table; docs/performance.md quotes the latest one.

Method: ``time.perf_counter`` around many iterations, rounds of contender and
reference interleaved, the garbage collector paused inside a round, and the
best round kept for per-call costs (the least disturbed by the machine) or
the median sample for cold lookups (each sample is one fresh chain). Request
URLs cycle through 1 000 distinct paths so no URL-parsing cache flatters
anyone. Everything runs against in-process transports or loopback servers,
with HOME pointed at a temporary directory: no store of the user's is read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.server
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.cold import cold_rows  # noqa: E402
from benchmarks.common import FULL, QUICK, Row, Settings, fmt_us, verdict  # noqa: E402
from tests.support import LoopbackServer, ServiceUnavailable, private_secret_service  # noqa: E402

HOST = "repo.example.org"
URLS = [f"https://{HOST}/simple/pkg-{n}/" for n in range(1000)]


# --- timing helpers ---------------------------------------------------------------------------

Contender = tuple[Callable[[int], Any], Callable[[Any], None]]
"""(setup(n) -> items, run(items)): only ``run`` is timed; it must do n calls."""


def interleaved_best(contenders: dict[str, Contender], n: int, rounds: int) -> dict[str, float]:
    """Best per-call time of each contender, rounds interleaved so drift hits all alike."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, (setup, run) in contenders.items():
            items = setup(n)
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                run(items)
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            best[name] = min(best[name], elapsed / n)
    return best


def calls_of(call: Callable[[int], object]) -> Contender:
    """A contender that calls ``call(i)`` for i in range(n)."""

    def run(count: int) -> None:
        for i in range(count):
            call(i)

    return (lambda n: n), run


def median_sample(sample: Callable[[], float], count: int) -> float:
    return statistics.median(sample() for _ in range(count))


# --- providers used by several sections -------------------------------------------------------


class Fixed:
    """A store with one bearer token for every origin, answering at once."""

    name = "fixed"
    blocking = False

    def lookup(self, origin: Any, url: str) -> Any:
        from authadapter import BearerToken, Found

        return Found(BearerToken("bench-token"), "benchmark")


class Slow:
    """A blocking store that takes 20 ms, counting its lookups."""

    name = "slow"
    blocking = True

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def lookup(self, origin: Any, url: str) -> Any:
        from authadapter import BearerToken, Found

        with self._lock:
            self.calls += 1
        time.sleep(0.02)
        return Found(BearerToken("bench-token"), "benchmark")


# --- warm path: httpx -------------------------------------------------------------------------


def warm_httpx(s: Settings) -> list[Row]:
    import httpx

    from authadapter import RegistryAuth

    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    registry_auth = RegistryAuth([Fixed()])
    basic = httpx.BasicAuth("user", "pass")
    clients = {
        "registry": httpx.Client(transport=httpx.MockTransport(ok), auth=registry_auth),
        "basic": httpx.Client(transport=httpx.MockTransport(ok), auth=basic),
        "none": httpx.Client(transport=httpx.MockTransport(ok)),
    }
    for client in clients.values():
        client.get(URLS[0])  # warm: the lookup is cached from here on

    def through(client: httpx.Client) -> Contender:
        def run(count: int) -> None:
            get = client.get
            for i in range(count):
                get(URLS[i % 1000])

        return (lambda n: n), run

    per_request = interleaved_best({k: through(c) for k, c in clients.items()}, s.n, s.rounds)

    response = httpx.Response(200)

    def flow_of(auth: httpx.Auth) -> Contender:
        def setup(n: int) -> list[httpx.Request]:
            return [httpx.Request("GET", URLS[i % 1000]) for i in range(n)]

        def run(requests: list[httpx.Request]) -> None:
            for request in requests:
                flow = auth.sync_auth_flow(request)
                next(flow)
                with suppress(StopIteration):
                    flow.send(response)

        return setup, run

    flows = interleaved_best(
        {"registry": flow_of(registry_auth), "basic": flow_of(basic)}, s.n, s.rounds
    )
    for client in clients.values():
        client.close()

    ratio = per_request["registry"] / per_request["basic"]
    return [
        Row(
            "httpx, warm, per request (Client + MockTransport)",
            f"RegistryAuth {fmt_us(per_request['registry'])}",
            f"httpx.BasicAuth {fmt_us(per_request['basic'])} "
            f"(no auth {fmt_us(per_request['none'])})",
            f"{ratio:.2f}x",
            "≤ 1.5x",
            verdict(ratio <= 1.5),
        ),
        Row(
            "httpx, warm, auth flow alone (sync_auth_flow, one 200)",
            f"RegistryAuth {fmt_us(flows['registry'])}",
            f"httpx.BasicAuth {fmt_us(flows['basic'])}",
            f"{flows['registry'] / flows['basic']:.2f}x",
            "≤ 1.25x",
            verdict(flows["registry"] / flows["basic"] <= 1.25),
        ),
    ]


# --- warm path: requests ----------------------------------------------------------------------


def warm_requests(s: Settings) -> list[Row]:
    import requests
    from requests.auth import HTTPBasicAuth

    from authadapter import RegistryAuth

    try:
        from pip._internal.network.auth import MultiDomainBasicAuth
    except ImportError:
        MultiDomainBasicAuth = None

    registry_auth = RegistryAuth([Fixed()])
    auths: dict[str, Callable[[requests.PreparedRequest], requests.PreparedRequest]] = {
        "registry": registry_auth,
        "basic": HTTPBasicAuth("user", "pass"),
    }
    if MultiDomainBasicAuth is not None:
        # pip as configured by `--index-url https://repo.example.org/simple/` after its
        # first lookup: credentials cached per netloc, keyring off, no prompting.
        pip_auth = MultiDomainBasicAuth(
            prompting=False, index_urls=[f"https://{HOST}/simple/"], keyring_provider="disabled"
        )
        pip_auth.passwords[HOST] = ("user", "pass")
        auths["pip"] = pip_auth

    def of(auth: Callable[[requests.PreparedRequest], requests.PreparedRequest]) -> Contender:
        def setup(n: int) -> list[requests.PreparedRequest]:
            # fresh requests, each with its own headers and hooks, as a session prepares them
            return [requests.Request("GET", URLS[i % 1000]).prepare() for i in range(n)]

        def run(prepared: list[requests.PreparedRequest]) -> None:
            for request in prepared:
                auth(request)

        return setup, run

    for auth in auths.values():
        of(auth)[1](of(auth)[0](1))  # warm
    best = interleaved_best({k: of(a) for k, a in auths.items()}, s.n, s.rounds)
    rows = [
        Row(
            "requests, warm, auth call on a PreparedRequest",
            f"RegistryAuth {fmt_us(best['registry'])}",
            f"requests HTTPBasicAuth {fmt_us(best['basic'])}",
            f"{best['registry'] / best['basic']:.2f}x",
            "≤ 1.5x",
            verdict(best["registry"] / best["basic"] <= 1.5),
        )
    ]
    if "pip" in best:
        ratio = best["registry"] / best["pip"]
        rows.append(
            Row(
                "requests, warm, auth call on a PreparedRequest",
                f"RegistryAuth {fmt_us(best['registry'])}",
                f"pip MultiDomainBasicAuth {fmt_us(best['pip'])}",
                f"{ratio:.2f}x",
                "≤ 0.1x",
                verdict(ratio <= 0.1),
            )
        )
    else:
        rows.append(Row("requests vs pip", "pip not importable", "", "", "≤ 0.1x", "not run"))
    return rows


# --- cold lookups per provider kind -----------------------------------------------------------


@contextmanager
def secret_service() -> Iterator[str | None]:
    """The private Secret Service of ``tests.support``, or ``None`` with the reason printed."""
    with tempfile.TemporaryDirectory(prefix="authadapter-ss-") as root:
        try:
            with private_secret_service(Path(root)) as service:
                yield service.address
        except ServiceUnavailable as reason:
            print(f"keyring: {reason}", file=sys.stderr)
            yield None


def first_lookup_rows(s: Settings, home: Path) -> list[Row]:
    from authadapter import ProviderChain

    url = URLS[0]
    rows = []
    kinds: list[tuple[str, Callable[[], Any] | None, int, str]] = []

    credentials = home / "credentials.json"
    credentials.write_text(json.dumps({HOST: {"BearerToken": "file-token"}}))
    try:
        from authadapter.providers.rattler import RattlerFileProvider

        kinds.append(
            (
                "file (rattler credentials.json)",
                lambda: RattlerFileProvider(credentials),
                s.cold_samples,
                "",
            )
        )
    except ImportError:
        kinds.append(("file (rattler credentials.json)", None, 0, "provider not available"))

    script = home / "token-command"
    script.write_text("#!/bin/sh\necho command-token\n")
    script.chmod(0o755)
    try:
        from authadapter.providers.command import CommandProvider

        kinds.append(
            (
                "command (a /bin/sh script printing a token)",
                lambda: CommandProvider([str(script)], hosts=[HOST]),
                s.process_samples,
                "",
            )
        )
    except ImportError:
        kinds.append(("command", None, 0, "provider not available"))

    plugin = home / "cargo-plugin"
    plugin.write_text(
        "#!/bin/sh\n"
        "echo '{\"v\":[1]}'\n"
        "read request\n"
        'echo \'{"Ok":{"kind":"get","token":"plugin-token","cache":"session",'
        '"operation_independent":true}}\'\n'
    )
    plugin.chmod(0o755)
    cargo_home = home / "cargo"
    cargo_home.mkdir(exist_ok=True)
    (cargo_home / "config.toml").write_text(
        f'[registry]\nglobal-credential-providers = ["{plugin}"]\n'
        f'[registries.bench]\nindex = "sparse+https://{HOST}/index/"\n'
    )
    try:
        from authadapter.providers.cargo.provider import CargoProvider

        environ = {"CARGO_HOME": str(cargo_home), "HOME": str(home), "PATH": os.environ["PATH"]}
        kinds.append(
            (
                "plugin (Cargo credential plugin, /bin/sh)",
                lambda: CargoProvider(cwd=home, environ=environ),
                s.process_samples,
                "",
            )
        )
    except ImportError:
        kinds.append(("plugin (Cargo credential plugin)", None, 0, "provider not available"))

    def measure(label: str, make: Callable[[], Any], samples: int, note: str) -> Row:
        def sample() -> float:
            chain = ProviderChain([make()])
            start = time.perf_counter()
            resolution = chain.resolve(url)
            elapsed = time.perf_counter() - start
            if resolution.credential is None:
                raise RuntimeError(f"{label}: the benchmark store gave no credential")
            return elapsed

        cold = median_sample(sample, samples)
        chain = ProviderChain([make()])
        chain.resolve(url)
        warm = interleaved_best(
            {"warm": calls_of(lambda i: chain.resolve(URLS[i % 1000]))},
            s.n,
            s.rounds,
        )["warm"]
        return Row(
            f"cold first lookup: {label}{note}",
            f"median {fmt_us(cold)} ({samples} fresh chains)",
            f"warm lookup {fmt_us(warm)}",
            f"{cold / warm:,.0f}x",
        )

    with secret_service() as address:
        if address is None:
            kinds.insert(1, ("keyring", None, 0, "no Secret Service"))
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
            os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"
            import keyring.core

            from authadapter.providers.keyring_store import KeyringProvider

            backend_name = "keyring.backends.SecretService.Keyring"
            backend = keyring.core.load_keyring(backend_name)
            backend.set_password("rattler", HOST, json.dumps({"BearerToken": "keyring-token"}))
            kinds.insert(
                1,
                (
                    "keyring (gnome-keyring Secret Service)",
                    lambda: KeyringProvider(backend=keyring.core.load_keyring(backend_name)),
                    s.cold_samples,
                    "",
                ),
            )
        for label, make, samples, why in kinds:
            if make is None:
                rows.append(Row(f"cold first lookup: {label}", f"not run: {why}", "", ""))
            else:
                rows.append(measure(label, make, samples, why))
    return rows


# --- store size and wildcard depth ------------------------------------------------------------


def store_rows(s: Settings, home: Path) -> list[Row]:
    try:
        from authadapter.providers.rattler import RattlerFileProvider
    except ImportError:
        return [Row("lookup vs store size", "not run: file provider not available", "", "")]
    from authadapter import Origin

    def provider_with(entries: dict[str, Any], name: str) -> Any:
        path = home / name
        path.write_text(json.dumps(entries))
        provider = RattlerFileProvider(path)
        return provider

    origin = Origin.from_url(URLS[0])
    costs: dict[int, float] = {}
    loads: dict[int, float] = {}
    for size in s.store_sizes:
        entries = {f"host-{n}.example.net": {"BearerToken": f"t{n}"} for n in range(size - 1)}
        entries[HOST] = {"BearerToken": "the-one"}
        provider = provider_with(entries, f"store-{size}.json")
        start = time.perf_counter()
        provider.lookup(origin, URLS[0])
        loads[size] = time.perf_counter() - start
        costs[size] = interleaved_best(
            {"lookup": calls_of(lambda i, p=provider: p.lookup(origin, URLS[0]))},
            s.n // 4,
            s.rounds,
        )["lookup"]
    small, large = min(s.store_sizes), max(s.store_sizes)
    rows = []
    for size in s.store_sizes:
        ratio = costs[size] / costs[small]
        row = Row(
            f"file store lookup (parsed), {size:,} entries",
            fmt_us(costs[size]),
            f"{small} entries {fmt_us(costs[small])}",
            f"{ratio:.2f}x",
            f"first read {fmt_us(loads[size])}",
        )
        if size == large:
            row.target, row.met = "≤ 1.2x", verdict(ratio <= 1.2)
            row.ratio = f"{ratio:.2f}x (first read {fmt_us(loads[size])})"
        else:
            row.target = ""
            row.ratio = f"{ratio:.2f}x (first read {fmt_us(loads[size])})"
        rows.append(row)

    provider = provider_with({"*.example.org": {"BearerToken": "wild"}}, "wildcards.json")
    exact = provider_with({HOST: {"BearerToken": "exact"}}, "exact.json")
    depth_costs = {}
    for depth in (3, 5, 8):
        host = ".".join([f"l{n}" for n in range(depth - 2)] + ["example", "org"])
        deep = Origin.from_url(f"https://{host}/")
        depth_costs[depth] = interleaved_best(
            {
                "wild": calls_of(lambda i, o=deep: provider.lookup(o, "")),
            },
            s.n // 4,
            s.rounds,
        )["wild"]
    exact_cost = interleaved_best(
        {"exact": calls_of(lambda i: exact.lookup(origin, ""))},
        s.n // 4,
        s.rounds,
    )["exact"]
    for depth, cost in depth_costs.items():
        rows.append(
            Row(
                f"file store lookup via *.example.org, host of {depth} labels",
                fmt_us(cost),
                f"exact key {fmt_us(exact_cost)}",
                f"{cost / exact_cost:.2f}x",
            )
        )
    return rows


# --- stampede ---------------------------------------------------------------------------------


def stampede_rows(s: Settings) -> list[Row]:
    import httpx

    from authadapter import RegistryAuth

    rows = []
    trials = 3 if s is QUICK else 5
    with LoopbackServer("127.0.0.1") as server:
        server.httpd.socket.listen(128)
        limits = httpx.Limits(max_connections=64)
        thread_calls, task_calls = [], []
        for _ in range(trials):
            store = Slow()
            with httpx.Client(auth=RegistryAuth([store]), limits=limits) as client:
                barrier = threading.Barrier(64)
                statuses: list[int] = []

                def hit(
                    n: int,
                    client: httpx.Client = client,
                    barrier: Any = barrier,
                    statuses: list[int] = statuses,
                ) -> None:
                    barrier.wait()
                    statuses.append(client.get(f"{server.url}/p{n}").status_code)

                threads = [threading.Thread(target=hit, args=(n,)) for n in range(64)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            assert statuses == [200] * 64, statuses
            thread_calls.append(store.calls)

            store = Slow()

            async def tasks(store: Slow = store) -> list[int]:
                async with httpx.AsyncClient(auth=RegistryAuth([store]), limits=limits) as client:
                    responses = await asyncio.gather(
                        *(client.get(f"{server.url}/p{n}") for n in range(64))
                    )
                return [r.status_code for r in responses]

            assert asyncio.run(tasks()) == [200] * 64
            task_calls.append(store.calls)
    for label, calls in (
        ("64 threads (httpx.Client)", thread_calls),
        ("64 asyncio tasks (httpx.AsyncClient)", task_calls),
    ):
        rows.append(
            Row(
                f"store lookups, {label} on one cold origin",
                f"{max(calls)} (max of {trials} trials)",
                "64 without single flight",
                f"{max(calls) / 64:.3f}x",
                "exactly 1",
                verdict(set(calls) == {1}),
            )
        )
    return rows


# --- round trip -------------------------------------------------------------------------------


class _Ok(http.server.BaseHTTPRequestHandler):
    """200 "ok", keep-alive, Nagle off: a response is not held back by delayed ACKs."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve_ok(port: Any) -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    httpd.daemon_threads = True
    port.put(httpd.server_address[1])
    httpd.serve_forever()


@contextmanager
def ok_server() -> Iterator[str]:
    """The server in its own process, so it does not compete with the client for the GIL."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    port = context.Queue()
    process = context.Process(target=_serve_ok, args=(port,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{port.get(timeout=30)}"
    finally:
        process.terminate()
        process.join(10)


def round_trip_rows(s: Settings) -> list[Row]:
    import httpx
    import requests
    from requests.auth import HTTPBasicAuth

    from authadapter import RegistryAuth

    with ok_server() as base:
        urls = [f"{base}/simple/pkg-{n}/" for n in range(1000)]
        auth = RegistryAuth([Fixed()])
        clients = {
            "httpx-registry": httpx.Client(auth=auth),
            "httpx-basic": httpx.Client(auth=httpx.BasicAuth("user", "pass")),
            "httpx-none": httpx.Client(),
        }
        sessions = {
            "requests-registry": requests.Session(),
            "requests-basic": requests.Session(),
            "requests-none": requests.Session(),
        }
        sessions["requests-registry"].auth = auth
        sessions["requests-basic"].auth = HTTPBasicAuth("user", "pass")
        for session in sessions.values():
            session.trust_env = False
        gets: dict[str, Callable[[str], Any]] = {k: c.get for k, c in clients.items()}
        gets.update({k: x.get for k, x in sessions.items()})
        for get in gets.values():
            get(urls[0])
        best = interleaved_best(
            {k: calls_of(lambda i, get=get: get(urls[i % 1000])) for k, get in gets.items()},
            s.round_trips,
            s.rounds,
        )
        for client in clients.values():
            client.close()
        for session in sessions.values():
            session.close()
    return [
        Row(
            f"loopback round trip, {name} (keep-alive, http.server in another process)",
            f"RegistryAuth {fmt_us(best[f'{name}-registry'])}",
            f"no auth {fmt_us(best[f'{name}-none'])}; BasicAuth {fmt_us(best[f'{name}-basic'])}",
            f"{best[f'{name}-registry'] / best[f'{name}-none']:.2f}x; "
            f"{best[f'{name}-registry'] / best[f'{name}-basic']:.2f}x",
        )
        for name in ("httpx", "requests")
    ]


# --- report -----------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import httpx
    import requests

    try:
        import pip

        pip_version = pip.__version__
    except ImportError:
        pip_version = "absent"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"httpx {httpx.__version__}, requests {requests.__version__}, pip {pip_version}, "
        f"{platform.system()} {platform.release()}"
    )


def table(rows: list[Row]) -> str:
    header = ["measurement", "figure", "reference (same run)", "ratio", "target", "result"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.what, row.figure, row.reference, row.ratio, row.target, row.met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


GROUPS: dict[str, Callable[[Settings, Path], list[Row]]] = {
    "warm": lambda settings, home: warm_httpx(settings) + warm_requests(settings),
    "first-lookup": first_lookup_rows,
    "cold": cold_rows,
    "store": store_rows,
    "stampede": lambda settings, home: stampede_rows(settings),
    "round-trip": lambda settings, home: round_trip_rows(settings),
}


def report(rows: list[Row], took: float, quick: bool, status: int, markdown: bool) -> str:
    """The run's output; with ``markdown``, the "Latest results" block of docs/performance.md."""
    mode = "Quick" if quick else "Full"
    if not markdown:
        return f"machine: {machine()}\nmode: {mode.lower()}, {took:.0f} s\n\n{table(rows)}"
    return (
        f"Machine: {machine()}.\n\n"
        f"{mode} run, {took:.0f} s (`python benchmarks/run.py`, exit status {status}):\n\n"
        f"{table(rows)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke run")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the machine, the run and the table as docs/performance.md quotes them",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(GROUPS),
        help="run only these groups of rows (repeatable); all by default",
    )
    options = parser.parse_args(argv)
    settings = QUICK if options.quick else FULL
    groups = options.only or list(GROUPS)
    with tempfile.TemporaryDirectory(prefix="authadapter-bench-") as directory:
        home = Path(directory)
        os.environ["HOME"] = str(home)
        os.environ.pop("NETRC", None)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        started = time.perf_counter()
        rows = [row for name in GROUPS if name in groups for row in GROUPS[name](settings, home)]
        took = time.perf_counter() - started
    # Timing targets decide the exit status of a full run only; a quick run is too
    # short to judge them, but a miscount (the stampede) fails any run.
    judged = rows if not options.quick else [r for r in rows if r.target == "exactly 1"]
    status = 0 if all(row.met != "MISSED" for row in judged) else 1
    print(report(rows, took, options.quick, status, options.markdown))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
