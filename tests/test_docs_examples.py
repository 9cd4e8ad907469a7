"""Every example in docs/*.md runs, page by page, against local stand-ins for the hosts it names.

How a page is run (docs/index.md explains the same to readers):

- Blocks run in page order, in one temporary home (``~``, ``CARGO_HOME``,
  ``XDG_CONFIG_HOME``), sharing one Python namespace per page.
- ``python`` blocks run, unless preceded by ``<!-- skip: why -->``.
- ``sh``/``console`` blocks run (with bash) only when preceded by ``<!-- run -->``;
  in a ``console`` block only the ``$ `` lines are commands, the rest is output.
- A block preceded by ``<!-- file: PATH -->`` is written to PATH (``~`` is the
  temporary home) instead of being run; a ``toml`` block written to the
  authadapter configuration file is also checked by ``parse_config``.
- ``https://repo.example.org``, ``https://mirror.example.com`` and
  ``https://cargo.example.org`` are replaced by loopback registries
  (127.0.0.1, .2, .3) that answer 401 to a request without credentials; their
  bare host names become the loopback addresses.
- Stand-ins for ``aws``, ``vault`` and ``op`` on ``PATH`` print a token, so
  command-provider recipes run as written.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from authadapter._config import config_path, parse_config
from tests.conftest import service_unavailable
from tests.support import LoopbackServer, Received, Reply

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(
    r"(?P<marker><!--\s*(?P<directive>[^>]*?)\s*-->\s*\n)?"
    r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ ]*$",
    re.MULTILINE | re.DOTALL,
)
HOSTS = {
    "repo.example.org": "127.0.0.1",
    "mirror.example.com": "127.0.0.2",
    "cargo.example.org": "127.0.0.3",
}
STAND_INS = {
    "aws": "codeartifact-token",
    "vault": "vault-token",
    "op": "onepassword-token",
}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    directive: str
    body: str

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        indent = len(match["indent"])
        body = "".join(line[indent:] + "\n" for line in match["body"].splitlines())
        line = text.count("\n", 0, match.start("lang")) + 1
        found.append(Block(page.name, line, match["lang"], match["directive"] or "", body))
    return found


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def registry(server: LoopbackServer, request: Received) -> Reply:
    """A registry that wants credentials: a header, or a conda token in the path."""
    if request.authorization or request.path.startswith("/t/"):
        return Reply(200, {"Content-Type": "application/json"}, b'{"packages": {}}')
    return Reply(401, {"WWW-Authenticate": 'Bearer realm="registry"'}, b"")


@pytest.fixture
def stand_ins(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, token in STAND_INS.items():
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\nprint({token!r})\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


@pytest.fixture
def hosts(loopback_server: Callable[..., LoopbackServer]) -> dict[str, LoopbackServer]:
    return {name: loopback_server(address, registry) for name, address in HOSTS.items()}


def substitute(text: str, hosts: dict[str, LoopbackServer]) -> str:
    for name, server in hosts.items():
        text = text.replace(f"https://{name}", server.url)
        text = text.replace(name, server.host)
    return text


def target_path(spec: str, home: Path) -> Path:
    if spec.startswith("~/"):
        return home / spec[2:]
    if spec == "$AUTHADAPTER_CONFIG_FILE":
        return config_path()
    return Path(spec)


@pytest.fixture
def page_environment(
    stand_ins: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:
    monkeypatch.setenv("PATH", f"{stand_ins}{os.pathsep}{os.environ['PATH']}")
    httpie = tmp_path / "httpie"
    httpie.mkdir()
    (httpie / "config.json").write_text('{"disable_update_warnings": true}')
    monkeypatch.setenv("HTTPIE_CONFIG_DIR", str(httpie))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    saved = dict(os.environ)
    sys.path.insert(0, str(work))  # a page's own modules (mirror.py) import as in a shell
    yield Path(os.environ["HOME"])
    sys.path.remove(str(work))
    for name, module in list(sys.modules.items()):
        if str(work) in str(getattr(module, "__file__", None) or ""):
            del sys.modules[name]
    os.environ.clear()
    os.environ.update(saved)
    import authadapter

    authadapter.unpatch_requests()
    authadapter.unpatch_httpx()


def run_block(block: Block, code: str, namespace: dict[str, object], home: Path) -> None:
    directive = block.directive
    if directive.startswith("file:"):
        path = target_path(directive[len("file:") :].strip(), home)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
        if block.lang == "toml" and path == config_path():
            parse_config(code, path)
        return
    if directive.startswith("skip"):
        return
    if block.lang == "python":
        exec(compile(code, block.where, "exec"), namespace)  # noqa: S102
    elif block.lang in ("sh", "console", "bash") and directive == "run":
        lines = code.splitlines()
        if block.lang == "console":  # "$ command" lines; the others show output
            lines = [line[2:] for line in lines if line.startswith("$ ")]
        script = "\n".join(lines)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{block.where} failed:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_every_example_on_the_page_runs(
    page: Path, hosts: dict[str, LoopbackServer], page_environment: Path
) -> None:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in blocks(page):
        run_block(block, substitute(block.body, hosts), namespace, page_environment)


def test_the_pages_have_examples() -> None:
    runnable = [
        block
        for page in pages()
        for block in blocks(page)
        if block.lang == "python" or block.directive == "run"
    ]
    assert len(runnable) >= 10


def test_a_failing_example_fails_the_page(
    tmp_path: Path, hosts: dict[str, LoopbackServer], page_environment: Path
) -> None:
    page = tmp_path / "broken.md"
    page.write_text(
        "```python\nimport httpx\nhttpx.get('https://repo.example.org/x').raise_for_status()\n```\n"
    )
    [block] = blocks(page)
    with pytest.raises(Exception, match="401"):
        run_block(block, substitute(block.body, hosts), {}, page_environment)


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """What ``nox -s docs`` runs: broken links, missing pages or docstrings fail the suite."""
    try:
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError:
        service_unavailable("mkdocs and mkdocstrings[python] are not installed (test extra)")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("RegistryAuth") > 5
