"""What looking for plugin stores costs a short-lived process, as ratios from one run.

Cargo starts ``authadapter cargo-credential`` once per registry operation, and
every one of those processes looks for plugins (entry points of the group
``authadapter.providers``) before it can build its chain. This starts whole
processes, interleaved, and prints the medians relative to ``python -c
pass``: the ``get`` with the scan, the same ``get`` with the scan replaced by
"no plugins", and ``import importlib.metadata`` alone (the way not taken).
The environment is bare (``PATH`` and a temporary ``HOME`` whose
``~/.rattler/credentials.json`` holds the credential), and the keyring is
switched off in the configuration file, so the figure is authadapter's own
work rather than a keyring backend's.

Run: ``python benchmarks/plugins.py [--samples N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GET = {
    "v": 1,
    "kind": "get",
    "operation": "read",
    "registry": {"index-url": "sparse+https://repo.example.org/index/", "name": "bench"},
}

DRIVER = """\
import sys
if sys.argv[1] == "off":
    import authadapter._entry_points as entry_points
    entry_points.find_entry_points = lambda *args, **kwargs: []
from authadapter.cli import main
sys.exit(main(["cargo-credential"]))
"""


def measure(argv: list[str], env: dict[str, str], stdin: bytes) -> float:
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        store = Path(home, ".rattler", "credentials.json")
        store.parent.mkdir()
        store.write_text(json.dumps({"repo.example.org": {"BearerToken": "bench-token"}}))
        config = Path(home, "config.toml")
        config.write_text("[providers]\nkeyring = false\n")
        env = {"PATH": os.environ["PATH"], "HOME": home, "AUTHADAPTER_CONFIG": str(config)}
        stdin = (json.dumps(GET) + "\n").encode()
        python = sys.executable
        cases = {
            "python -c pass": [python, "-c", "pass"],
            "cargo-credential get, plugin scan replaced by none": [python, "-c", DRIVER, "off"],
            "cargo-credential get, with the plugin scan": [python, "-c", DRIVER, "on"],
            "python -c 'import importlib.metadata'": [python, "-c", "import importlib.metadata"],
        }
        answer = subprocess.run(
            cases["cargo-credential get, with the plugin scan"],
            input=stdin,
            env=env,
            capture_output=True,
            check=True,
        )
        assert b"Bearer bench-token" in answer.stdout, answer
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.samples):
            for name, argv in cases.items():
                times[name].append(measure(argv, env, stdin))
    medians = {name: statistics.median(values) for name, values in times.items()}
    medians["the scan alone, in process (one call)"] = scan_time(env)
    reference = medians["python -c pass"]
    without = medians["cargo-credential get, plugin scan replaced by none"]
    installed = sum(1 for folder in sys.path if os.path.isdir(folder) for _ in _dists(folder))
    print(f"{installed} distributions on sys.path, {args.samples} interleaved samples each")
    print("| process | x `python -c pass` | x the get without the scan |")
    print("|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value / reference:.2f} | {value / without:.2f} |")


def scan_time(env: dict[str, str]) -> float:
    """The best of 21 rounds of 50 calls of the scan itself, per call, in a fresh process."""
    code = (
        "import time\n"
        "from authadapter._entry_points import find_entry_points\n"
        "rounds = []\n"
        "for _ in range(21):\n"
        "    start = time.perf_counter()\n"
        "    for _ in range(50):\n"
        "        find_entry_points('authadapter.providers')\n"
        "    rounds.append((time.perf_counter() - start) / 50)\n"
        "print(min(rounds))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    return float(result.stdout)


def _dists(folder: str) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith((".dist-info", ".egg-info"))]


if __name__ == "__main__":
    main()
