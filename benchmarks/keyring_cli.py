"""What the ``keyring`` command costs with authadapter's backend installed, as ratios.

uv and pip's subprocess mode run ``keyring get`` once per index (uv up to
three times: URL, ``host:port``, ``scheme://host:port``), so its start-up is
what authadapter adds to them. Run alone: ``python benchmarks/keyring_cli.py``
(``--runs N``, default 30). It builds two environments with uv (PyPI through
uv's cache), both with keyrings.alt as "the user's own keyring":

- **without**: keyring and keyrings.alt;
- **with**: the same plus authadapter from this checkout.

and times, interleaved, the wall time of (best of N runs: process start-up on a
busy machine only ever gets slower, so the fastest run is the least disturbed):

1. ``keyring get`` of an entry in the user's own keyring, without authadapter
   (the reference);
2. the same with authadapter installed (keyring then chains the user's keyring
   first, authadapter's backend second);
3. ``keyring get`` of an index URL that only authadapter can answer (a Basic
   login in ``~/.rattler/credentials.json``), the default chain behind it.

HOME is a temporary directory: no store of the user's is read. Prints a
Markdown table; docs/performance.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uv"


def uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def build(target: Path, requirements: list[str]) -> Path:
    env = {**os.environ, "UV_CACHE_DIR": str(CACHE)}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [uv(), "venv", "-q", "--python", sys.executable, str(target)], check=True, env=env
    )
    python = target / "bin" / "python"
    subprocess.run(
        [uv(), "pip", "install", "-q", "--python", str(python), *requirements], check=True, env=env
    )
    return target / "bin" / "keyring"


def environment(home: Path) -> dict[str, str]:
    dropped = ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS", "AUTHADAPTER_CONFIG")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return env


def timed(argv: list[str], env: dict[str, str], expected: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.stdout != expected:
        raise SystemExit(f"{' '.join(argv[1:])}: unexpected answer (exit {result.returncode})")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        without = build(root / "without", ["keyring", "keyrings.alt"])
        with_authadapter = build(root / "with", ["keyring", "keyrings.alt", str(ROOT)])
        home = root / "home"
        (home / ".rattler").mkdir(parents=True)
        login = {"BasicHTTP": {"username": "alice", "password": "served-pw-1"}}
        (home / ".rattler" / "credentials.json").write_text(json.dumps({"127.0.0.1:8765": login}))
        env = environment(home)
        subprocess.run(
            [str(without), "set", "my-service", "me"],
            input="own-pw-1",
            text=True,
            env=env,
            check=True,
        )
        cases = {
            "own entry, keyring alone": ([str(without), "get", "my-service", "me"], "own-pw-1\n"),
            "own entry, authadapter installed": (
                [str(with_authadapter), "get", "my-service", "me"],
                "own-pw-1\n",
            ),
            "index URL served by authadapter": (
                [str(with_authadapter), "get", "http://127.0.0.1:8765/simple/", "alice"],
                "served-pw-1\n",
            ),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for argv, expected in cases.values():  # warm the file cache once
            timed(argv, env, expected)
        for _ in range(runs):
            for name, (argv, expected) in cases.items():
                samples[name].append(timed(argv, env, expected))
    reference = min(samples["own entry, keyring alone"])
    print(f"`keyring get`, best of {runs} interleaved runs; reference: own entry, keyring alone\n")
    print("| command | ratio to the reference |")
    print("|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {min(values) / reference:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
