"""Files per second of a mirror spread over processes, 1 worker against N, all authenticated.

Run ``python benchmarks/mirror.py`` (``--quick`` for a smoke run). Prints
one Markdown table; docs/processes.md quotes the latest one.

The registry is a threaded ``http.server`` in its own process on 127.0.0.2
that answers each file after a fixed delay (``--latency``, 10 ms: a nearby
remote registry), and 401 without the bearer token. The token lives only in
a rattler credentials file (``RATTLER_AUTH_FILE``); the script pickles one
``requests.Session`` with ``RegistryAuth()`` to every task, and each worker
process looks the token up itself. Each task downloads a batch of files
with its session (keep-alive), as a mirror script does. The reference is
the same run with one worker; "no auth" is the same N workers against the
same server told to accept anything, so the ratio shows what the
authentication costs at scale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "mirror-bench-token-5c1e"
SERVER = """
import http.server, sys, time
latency, size, token = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
body = b"x" * size

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        time.sleep(latency)
        ok = token == "-" or self.headers.get("Authorization") == "Bearer " + token
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body) if ok else 0))
        self.end_headers()
        if ok:
            self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

server = Server(("127.0.0.2", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def download_batch(session: requests.Session, urls: list[str]) -> int:
    """Download ``urls`` with ``session``; how many arrived with a 200."""
    done = 0
    for url in urls:
        response = session.get(url, timeout=60)
        hashlib.sha256(response.content).digest()  # a mirror checks what it stored
        done += response.status_code == 200
    return done


_worker_session: requests.Session | None = None


def warm(mirror: requests.Session | None = None) -> None:
    """A worker's one-off start-up (imports, about half a second), kept out of the figure.

    With ``mirror``, the worker keeps that session for all its tasks
    (``download_batch_here``): one cache, so one lookup, per worker.
    """
    global _worker_session
    from authadapter import RegistryAuth

    RegistryAuth()  # the first default chain of a process imports the stores' modules
    _worker_session = mirror


def download_batch_here(urls: list[str]) -> int:
    """``download_batch`` with the session this worker was started with."""
    assert _worker_session is not None
    return download_batch(_worker_session, urls)


def start_server(latency: float, size: int, token: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(latency), str(size), token],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    return process, f"http://127.0.0.2:{port}"


def batches(urls: list[str], count: int) -> list[list[str]]:
    return [urls[i::count] for i in range(count)]


def session() -> requests.Session:
    from authadapter import RegistryAuth

    mirror = requests.Session()
    mirror.auth = RegistryAuth()
    mirror.trust_env = False
    return mirror


def pool_run(workers: int, urls: list[str], authenticated: bool, per_task: bool) -> float:
    """Files per second with ``workers`` spawned processes, pool start-up excluded.

    ``per_task``: the session is pickled with every task (a fresh cache in
    each); otherwise each worker gets it once, at start-up.
    """
    context = multiprocessing.get_context("spawn")
    mirror = session() if authenticated else requests.Session()
    initargs = (None,) if per_task else (mirror,)
    with ProcessPoolExecutor(workers, context, initializer=warm, initargs=initargs) as pool:
        list(pool.map(int, range(workers)))  # the workers are up before the clock starts
        start = time.perf_counter()
        parts = batches(urls, workers * 8)
        if per_task:
            done = sum(pool.map(download_batch, [mirror] * len(parts), parts))
        else:
            done = sum(pool.map(download_batch_here, parts))
        elapsed = time.perf_counter() - start
    assert done == len(urls), f"{len(urls) - done} downloads were refused"
    return len(urls) / elapsed


def dask_run(workers: int, urls: list[str]) -> float:
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        client.run(warm)
        parts = batches(urls, workers * 8)
        start = time.perf_counter()
        [shared] = client.scatter([session()], broadcast=True)  # one copy, one cache per worker
        futures = client.map(download_batch, [shared] * len(parts), parts, pure=False)
        done = sum(client.gather(futures))
        elapsed = time.perf_counter() - start
    assert done == len(urls), f"{len(urls) - done} downloads were refused"
    return len(urls) / elapsed


def interleaved(runs: int, measures: list[Callable[[], float]]) -> list[float]:
    """The best of ``runs`` for each measure, rounds interleaved so that a busy
    moment of the machine does not fall on one measure only."""
    figures = [0.0] * len(measures)
    for _ in range(runs):
        for index, measure in enumerate(measures):
            figures[index] = max(figures[index], measure())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.010)
    parser.add_argument("--size", type=int, default=64 * 1024)
    args = parser.parse_args()
    files, runs = (48, 1) if args.quick else (480, 3)
    home = tempfile.mkdtemp(prefix="authadapter-mirror-")
    store = Path(home, "credentials.json")
    store.write_text(json.dumps({"127.0.0.2": {"BearerToken": TOKEN}}))
    os.environ.update(
        HOME=home,
        XDG_CONFIG_HOME=str(Path(home, ".config")),
        RATTLER_AUTH_FILE=str(store),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    servers = [start_server(args.latency, args.size, token) for token in (TOKEN, "-")]
    try:
        (_, authenticated), (_, open_server) = servers
        urls = [f"{authenticated}/chan/noarch/pkg-{n}.conda" for n in range(files)]
        open_urls = [url.replace(authenticated, open_server) for url in urls]
        n = args.workers
        one, many, per_task, plain, dask = interleaved(
            runs,
            [
                lambda: pool_run(1, urls, True, False),
                lambda: pool_run(n, urls, True, False),
                lambda: pool_run(n, urls, True, True),
                lambda: pool_run(n, open_urls, False, False),
                lambda: dask_run(n, urls),
            ],
        )
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait()
    print(
        f"{files} files of {args.size // 1024} KiB, {args.latency * 1000:g} ms registry latency, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, best of {runs}\n"
    )
    rows = [
        ("process pool (spawn), 1 worker, session given once per worker", one, "", 0.0),
        (f"process pool (spawn), {n} workers, session once per worker", many, "1 worker", one),
        (f"Dask LocalCluster, {n} worker processes, session scattered", dask, "1 worker", one),
        (f"process pool, {n} workers, session pickled with every task", per_task, "1 worker", one),
        (f"process pool, {n} workers, no auth at all", plain, "1 worker", one),
        (f"process pool, {n} workers, RegistryAuth", many, "same without auth", plain),
    ]
    print("| run | files per second | reference (same run) | ratio |")
    print("|---|---|---|---|")
    for what, figure, reference, base in rows:
        if base:
            print(f"| {what} | {figure:.0f} | {reference} {base:.0f} | {figure / base:.2f}x |")
        else:
            print(f"| {what} | {figure:.0f} | | |")


if __name__ == "__main__":
    main()
