"""Short-lived processes import only what their answer needs.

Cargo starts ``authadapter cargo-credential`` once per registry operation and
a one-shot script imports authadapter next to its HTTP client: what they
import is most of what they cost (docs/performance.md, "Cold start"). These
tests pin the modules that must stay out of such processes when nothing
calls for them: no keyring where none can exist, no TOML parser without a
configuration file, no ``importlib.metadata`` to list entry points, no
subprocess toolkit when no process is to run, no HTTP client the caller did
not import. Timings live in ``benchmarks/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "httpx",
    "requests",
    "keyring",
    "secretstorage",
    "importlib.metadata",
    "importlib_metadata",
    "tomllib",
    "platformdirs",
    "tempfile",
    "subprocess",
)

REPORT = "import sys\nprint(json.dumps(sorted(m for m in HEAVY if m in sys.modules)))\n"


def imported_heavy(program: str, home: Path, stdin: str = "") -> list[str]:
    """The modules of ``HEAVY`` a fresh process running ``program`` has imported at its end."""
    script = f"import json\nHEAVY = {HEAVY!r}\n{program}\n{REPORT}"
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=stdin,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(result.stdout.splitlines()[-1]))


@pytest.fixture
def home_with_credential(tmp_path: Path) -> Path:
    (tmp_path / ".rattler").mkdir()
    (tmp_path / ".rattler" / "credentials.json").write_text(
        json.dumps({"repo.example.org": {"BearerToken": "file-token"}})
    )
    return tmp_path


def test_import_authadapter_imports_nothing_heavy(tmp_path: Path) -> None:
    assert imported_heavy("import authadapter", tmp_path) == []


def test_a_public_name_imports_only_its_own_needs(tmp_path: Path) -> None:
    program = "import authadapter\nauthadapter.Origin.from_url('https://repo.example.org/')"
    assert imported_heavy(program, tmp_path) == []


@pytest.mark.canary_exempt("cargo-credential hands the token to Cargo on stdout")
def test_cargo_credential_get_reads_the_file_and_nothing_else(home_with_credential: Path) -> None:
    request = {
        "v": 1,
        "kind": "get",
        "operation": "read",
        "registry": {"index-url": "sparse+https://repo.example.org/index/"},
    }
    program = (
        "import io, contextlib\n"
        "from authadapter.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    main(['cargo-credential'])\n"
        "assert 'Bearer file-token' in out.getvalue(), out.getvalue()\n"
    )

    assert imported_heavy(program, home_with_credential, json.dumps(request) + "\n") == []
