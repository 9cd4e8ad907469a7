"""Cold start: whole processes, started the way Cargo and one-shot scripts start them.

Short-lived processes are most of the real use: Cargo runs ``authadapter
cargo-credential`` once per registry operation, installers and mirror scripts
run once per command. Each figure here is the median wall time of a fresh
process (``subprocess.run`` until exit), every case of a group run once per
round and the rounds interleaved, so that machine noise hits a figure and its
reference alike. Every process gets a bare environment: ``PATH`` and a
temporary ``HOME`` holding the credential, no ``PYTHON_KEYRING_BACKEND``, and
no session bus unless the row says a Secret Service runs. Each case is run
once and its answer checked before the timing starts.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Row, Settings, fmt_us, verdict
from tests.support import (
    LoopbackServer,
    Received,
    Reply,
    SecretService,
    ServiceUnavailable,
    private_secret_service,
    store_like_rattler,
)

__all__ = ["cold_rows"]

REGISTRY_HOST = "repo.example.org"
TOKEN = "cold-start-token"
BASIC = "Basic dXNlcjpwYXNz"  # user:pass, what httpx.BasicAuth("user", "pass") sends

CARGO_GET = {
    "v": 1,
    "kind": "get",
    "operation": "read",
    "registry": {"index-url": f"sparse+https://{REGISTRY_HOST}/index/", "name": "bench"},
}

ONE_SHOT_REGISTRY = """\
import sys
import httpx
import authadapter
response = httpx.get(sys.argv[1], auth=authadapter.RegistryAuth())
sys.exit(response.status_code != 200)
"""

ONE_SHOT_BASIC = """\
import sys
import httpx
response = httpx.get(sys.argv[1], auth=httpx.BasicAuth("user", "pass"))
sys.exit(response.status_code != 200)
"""


@dataclass
class Case:
    """One process to start: its command line, its standard input, what it must print."""

    argv: list[str]
    stdin: bytes = b""
    expect: str = ""
    """A string its standard output must contain (checked once, before timing)."""
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Timing:
    """Medians of one case: wall time, and the CPU time (user + system) the process used."""

    wall: float
    cpu: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(case: Case) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; the CPU time is that of the process reaped here."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(
        case.argv, input=case.stdin, env=case.env, capture_output=True, timeout=120, check=False
    )
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if result.returncode != 0 or case.expect.encode() not in result.stdout:
        raise RuntimeError(
            f"{case.argv[-1]!r} exited {result.returncode}: "
            f"{result.stderr.decode(errors='replace')[-500:]}"
        )
    return elapsed, cpu


def medians(cases: dict[str, Case], rounds: int) -> dict[str, Timing]:
    """Medians per case; rounds interleaved, each case checked once first."""
    for case in cases.values():
        run_once(case)
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            wall, cpu = run_once(case)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {
        name: Timing(statistics.median(walls[name]), statistics.median(cpus[name]))
        for name in cases
    }


def python(program: str, *args: str) -> list[str]:
    return [sys.executable, "-c", program, *args]


def cargo_credential() -> list[str]:
    """The ``authadapter`` console script next to this Python, as Cargo runs it."""
    script = Path(sys.executable).with_name("authadapter.exe" if os.name == "nt" else "authadapter")
    if script.exists():
        return [str(script), "cargo-credential"]
    return [sys.executable, "-m", "authadapter.cli", "cargo-credential"]


def accept_token_or_basic(server: LoopbackServer, request: Received) -> Reply:
    if request.authorization in (f"Bearer {TOKEN}", BASIC):
        return Reply(200, {}, b"ok")
    return Reply(401, {"WWW-Authenticate": 'Basic realm="bench"'}, b"")


def goal_cases(env: dict[str, str], url: str, scripts: Path) -> dict[str, Case]:
    """The processes of the three goals, and their references."""
    (scripts / "one_shot_registry.py").write_text(ONE_SHOT_REGISTRY)
    (scripts / "one_shot_basic.py").write_text(ONE_SHOT_BASIC)
    get = (json.dumps(CARGO_GET) + "\n").encode()
    return {
        "pass": Case(python("pass"), env=env),
        "cargo": Case(cargo_credential(), get, f'"Bearer {TOKEN}"', env),
        "one-shot registry": Case(
            [sys.executable, str(scripts / "one_shot_registry.py"), url], env=env
        ),
        "one-shot basic": Case([sys.executable, str(scripts / "one_shot_basic.py"), url], env=env),
        "import httpx": Case(python("import httpx"), env=env),
        "import httpx, authadapter": Case(python("import httpx, authadapter"), env=env),
    }


def goal_rows(times: dict[str, Timing], where: str, judged: bool) -> list[Row]:
    def row(what: str, name: str, reference: str, ref_label: str, limit: float) -> Row:
        ratio = times[name].wall / times[reference].wall
        cpu_ratio = times[name].cpu / times[reference].cpu
        return Row(
            f"cold, {where}: {what}",
            f"{fmt_us(times[name].wall)} (CPU {fmt_us(times[name].cpu)})",
            f"{ref_label} {fmt_us(times[reference].wall)} (CPU {fmt_us(times[reference].cpu)})",
            f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x)",
            f"≤ {limit:g}x" if judged else "",
            verdict(ratio <= limit) if judged else "",
        )

    return [
        row("`authadapter cargo-credential`, one get", "cargo", "pass", "python -c pass", 4),
        row(
            "one-shot script, one httpx.get with RegistryAuth()",
            "one-shot registry",
            "one-shot basic",
            "same script with httpx.BasicAuth",
            1.15,
        ),
        row(
            "python -c 'import httpx, authadapter'",
            "import httpx, authadapter",
            "import httpx",
            "import httpx",
            1.05,
        ),
    ]


STDLIB_NEEDED = "import re, json, urllib.parse, threading"
STDLIB_CORE = STDLIB_NEEDED + ", dataclasses, logging, typing"


def part_rows(env: dict[str, str], rounds: int) -> list[Row]:
    """What parts of a start cost a process: choosing the keyring, listing entry points, and
    the standard library the core imports (the floor under ``cargo-credential``)."""
    cases = {
        "pass": Case(python("pass"), env=env),
        "ours": Case(
            python(
                "from authadapter.providers.keyring_store import KeyringProvider\n"
                "KeyringProvider().backend()"
            ),
            env=env,
        ),
        "keyring": Case(python("import keyring\nkeyring.get_keyring()"), env=env),
        "scan ours": Case(
            python(
                "from authadapter._entry_points import find_entry_points\n"
                "find_entry_points('authadapter.providers')"
            ),
            env=env,
        ),
        "scan importlib": Case(
            python(
                "import importlib.metadata\n"
                "importlib.metadata.entry_points(group='authadapter.providers')"
            ),
            env=env,
        ),
        "stdlib needed": Case(python(STDLIB_NEEDED), env=env),
        "stdlib core": Case(python(STDLIB_CORE), env=env),
    }
    times = medians(cases, rounds)
    base = times["pass"]

    def against_pass(name: str) -> str:
        timing = times[name]
        return (
            f"{fmt_us(timing.wall)} ({timing.wall / base.wall:.2f}x python -c pass; "
            f"CPU {timing.cpu / base.cpu:.2f}x)"
        )

    def row(what: str, name: str, other: str, other_label: str) -> Row:
        ratio = times[name].wall / times[other].wall
        cpu_ratio = times[name].cpu / times[other].cpu
        return Row(
            f"cold, no Secret Service: {what}",
            against_pass(name),
            f"{other_label} {against_pass(other)}",
            f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x)",
        )

    return [
        row(
            "a process choosing the keyring (KeyringProvider().backend())",
            "ours",
            "keyring",
            "keyring.get_keyring()",
        ),
        row(
            "a process listing the entry points of authadapter.providers (find_entry_points)",
            "scan ours",
            "scan importlib",
            "importlib.metadata.entry_points",
        ),
        row(
            f"the standard library the core imports (`{STDLIB_CORE}`)",
            "stdlib core",
            "stdlib needed",
            f"what any answer needs (`{STDLIB_NEEDED}`)",
        ),
    ]


@contextmanager
def secret_service(stack: ExitStack) -> Iterator[SecretService | str]:
    """The private Secret Service, or the reason it could not start."""
    root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="authadapter-ss-")))
    try:
        with private_secret_service(root) as service:
            yield service
    except ServiceUnavailable as reason:
        yield str(reason)


def cold_rows(settings: Settings, home: Path) -> list[Row]:
    rounds = settings.process_rounds
    rows: list[Row] = []
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    with ExitStack() as stack:
        server = stack.enter_context(LoopbackServer("127.0.0.1", accept_token_or_basic))
        url = f"{server.url}/simple/"
        scripts = home / "cold-scripts"
        scripts.mkdir(exist_ok=True)

        file_home = home / "cold-file"
        (file_home / ".rattler").mkdir(parents=True, exist_ok=True)
        entries = {key: {"BearerToken": TOKEN} for key in (REGISTRY_HOST, "127.0.0.1")}
        (file_home / ".rattler" / "credentials.json").write_text(json.dumps(entries))
        file_env = {**base_env, "HOME": str(file_home)}
        times = medians(goal_cases(file_env, url, scripts), rounds)
        rows += goal_rows(
            times, "credential in ~/.rattler/credentials.json, no Secret Service", True
        )
        rows += part_rows(file_env, rounds)

        service = stack.enter_context(secret_service(stack))
        where = "Secret Service running, credential in it"
        if isinstance(service, str):
            rows.append(Row(f"cold, {where}", f"not run: {service}", "", ""))
            return rows
        from authadapter import BearerToken

        for key in (REGISTRY_HOST, "127.0.0.1"):
            store_like_rattler(service, key, BearerToken(TOKEN))
        keyring_home = home / "cold-keyring"
        keyring_home.mkdir(exist_ok=True)
        keyring_env = {
            **base_env,
            "HOME": str(keyring_home),
            "DBUS_SESSION_BUS_ADDRESS": service.address,
        }
        times = medians(goal_cases(keyring_env, url, scripts), rounds)
        rows += goal_rows(times, where, False)
    return rows
