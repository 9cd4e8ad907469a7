"""The canary: every test of the suite is also a test that no secret shows.

Registered in ``tests/conftest.py``'s ``pytest_plugins``, this plugin runs
around every test of the suite, whoever wrote it:

- every credential the test creates (``BearerToken``, ``RawToken``,
  ``CondaToken``, ``BasicCredential``'s password and its Basic header value)
  is registered as a secret to look for, as are every ``canary()`` value and
  the values given to the CLI's ``--token``/``--password``/``--conda-token``
  (in-process or as a subprocess);
- the ``authadapter`` logger runs at level 1 (everything, DEBUG included) and
  every record is kept for the scan; records are passed on to the usual
  handlers (caplog, "Captured log") only at the level the test would have
  seen without the plugin, so tests that count warnings are not disturbed;
- it keeps every ``AuthAdapterError`` and provider ``Failure`` created, the
  ``source`` of every ``Found`` and the ``repr``/``str`` of every credential;
- it learns all of that from the library's own ``sys.audit`` events
  (``authadapter.credential``, ``.error``, ``.answer``, ``.cli``), so the
  suite runs the very classes users get: nothing shipped is patched;
- captured stdout/stderr (the report sections, and whatever a test read with
  ``capsys``/``capfd.readouterr()``), what ``authadapter.cli.main`` wrote to
  the streams a test gave it, the output of ``authadapter`` CLI subprocesses
  (not of ``--cargo-plugin``, whose job is to hand Cargo the token) and
  recorded warnings are kept too.

At teardown every kept text is searched for every secret of the test (and
for the Basic header values' base64). A hit turns the teardown into an error
that says where the secret showed, without printing it. A test that must
show a secret on purpose says so with ``@pytest.mark.canary_exempt(reason)``;
the text a test reads from a server's received headers is not scanned, as
sending the secret is the point there.

Secrets shorter than 6 characters or made of letters only ("password") are
not searched for: they appear in ordinary words. Tests that want to be
covered use ``canary()`` or longer values.

The plugin also counts figures for ``docs/security.md`` (``count(name)``):
they are printed at the end of the run, merged across xdist workers, and
written as JSON to ``$AUTHADAPTER_FIGURES`` when that is set.
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import authadapter._credentials as credentials
from authadapter._provider import Found

__all__ = ["Static", "canary", "count"]

LOGGER = "authadapter"
OPT_IN_LEVEL = 1
_figures: collections.Counter[str] = collections.Counter()
_figures_lock = threading.Lock()


def count(name: str, amount: int = 1) -> None:
    """Add ``amount`` to the figure ``name`` (shown at the end of the run)."""
    with _figures_lock:
        _figures[name] += amount


def canary(label: str = "") -> str:
    """A secret that is searched for in everything the test shows."""
    value = f"CANARY{label}{secrets.token_hex(8)}"
    if _current is not None:
        _current.add_secret(value, "canary()")
    return value


KINDS = ("bearer", "basic", "conda", "raw")
"""The four credential kinds, as tests parametrise over them."""


def canary_credential(
    kind: str, label: str = "", username: str = "alice"
) -> credentials.Credential:
    """A credential of ``kind`` whose secret is a fresh ``canary(label)``."""
    secret = canary(label or kind)
    if kind == "bearer":
        return credentials.BearerToken(secret)
    if kind == "basic":
        return credentials.BasicCredential(username, secret)
    if kind == "conda":
        return credentials.CondaToken(secret)
    return credentials.RawToken(secret)


@dataclass
class _TestRecord:
    secrets: dict[str, str] = field(default_factory=dict)
    public: set[str] = field(default_factory=set)
    texts: list[tuple[str, str]] = field(default_factory=list)
    objects: list[tuple[str, Callable[[], str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_secret(self, value: str, what: str) -> None:
        if len(value) < 6 or value.isalpha():
            return
        with self.lock:
            self.secrets.setdefault(value, what)

    def add_public(self, value: str) -> None:
        """A value that may show (a username): a secret inside it is not a leak."""
        with self.lock:
            self.public.add(value)

    def add_text(self, where: str, text: str) -> None:
        if text:
            with self.lock:
                self.texts.append((where, text))

    def add_object(self, where: str, render: Callable[[], str]) -> None:
        with self.lock:
            self.objects.append((where, render))

    def leaks(self) -> list[str]:
        texts = list(self.texts)
        for where, render in self.objects:
            try:
                texts.append((where, render()))
            except Exception as error:  # a broken repr is not a leak
                texts.append((where, f"<render failed: {type(error).__name__}>"))
        blob = "\x00".join(text for _, text in texts)
        public = "\x00".join(self.public)
        found = []
        for value, what in self.secrets.items():
            if value not in blob or value in public:
                continue
            where = next(where for where, text in texts if value in text)
            found.append(f"a {what} secret ({len(value)} chars) showed in {where}")
        return found


_current: _TestRecord | None = None
_totals: collections.Counter[str] = collections.Counter()


# -- where secrets are created -------------------------------------------------


def _on_credential(credential: credentials.Credential) -> None:
    record = _current
    if record is None:
        return
    kind = type(credential).__name__
    for name in ("token", "password"):
        value = getattr(credential, name, None)
        if isinstance(value, str):
            record.add_secret(value, kind)
    if isinstance(credential, credentials.BasicCredential):
        record.add_public(credential.username)
        pair = f"{credential.username}:{credential.password}".encode()
        record.add_secret(base64.b64encode(pair).decode("ascii"), "Basic header")
    record.add_object(f"repr/str of a {kind}", lambda: f"{credential!r} {credential}")


def _on_cli(argv: Any, stdout: Any, stderr: Any) -> None:
    """The CLI run in-process: what it writes to the streams it was given is scanned."""
    _register_cli_secrets(argv)
    if _current is None or "--cargo-plugin" in list(argv):  # speaks tokens to Cargo
        return
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        if hasattr(stream, "getvalue"):
            _current.add_object(f"the {name} of the authadapter CLI", stream.getvalue)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """The library's own audit events: every secret, message and CLI run it makes."""
    if not event.startswith("authadapter."):
        return
    if event == "authadapter.credential":
        _on_credential(args[0])
    elif _current is None:
        return
    elif event == "authadapter.error":
        error = args[0]
        _current.add_object(f"a {type(error).__name__} or its causes", lambda: _chain(error))
    elif event == "authadapter.answer":
        answer = args[0]
        what = "a Found's source or repr" if isinstance(answer, Found) else "a Failure message"
        _current.add_object(what, lambda: repr(answer))
    elif event == "authadapter.cli":
        _on_cli(*args)


def _chain(error: BaseException) -> str:
    parts, seen = [], set()
    current: BaseException | None = error
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current} {current!r}")
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return "\n".join(parts)


# -- where secrets could show ----------------------------------------------------


class _ScanFilter(logging.Filter):
    """Scans every authadapter record, then lets through those the test would have seen.

    A logger filter, not a handler: it runs before any handler, so pytest's
    capture handlers (on the root logger, and on the logger itself in newer
    pytest) get exactly the records they would get without the canary.
    """

    def __init__(self) -> None:
        super().__init__()
        self.formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")

    def filter(self, record: logging.LogRecord) -> bool:
        if _current is not None:
            try:
                text = self.formatter.format(record)
            except Exception:
                text = repr(record.msg)
            _current.add_text(f"a log record ({record.levelname} {record.name})", text)
            _totals["log records scanned"] += 1
        return record.levelno >= self._threshold(record.name)

    def _threshold(self, name: str) -> int:
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            if logger.level not in (logging.NOTSET, OPT_IN_LEVEL):
                return logger.level
            logger = logger.parent
        return logging.WARNING


SECRET_OPTIONS = ("--token", "--password", "--conda-token")


def _register_cli_secrets(argv: Any) -> None:
    """Values given to the CLI's secret options are secrets, even if no credential is built here."""
    if _current is None or not isinstance(argv, (list, tuple)):
        return
    words = [str(word) for word in argv]
    for index, word in enumerate(words[:-1]):
        if word in SECRET_OPTIONS and words[index + 1] != "-":
            _current.add_secret(words[index + 1], f"CLI {word}")
    for word in words:
        option, equals, value = word.partition("=")
        if equals and option in SECRET_OPTIONS:
            _current.add_secret(value, f"CLI {option}")


def _patch_outputs() -> None:
    readouterr = pytest.CaptureFixture.readouterr

    def read(self: pytest.CaptureFixture[Any]) -> Any:
        result = readouterr(self)
        if _current is not None:
            for name, text in (("stdout", result.out), ("stderr", result.err)):
                if isinstance(text, bytes):
                    text = text.decode("utf-8", "replace")
                _current.add_text(f"captured {name} read by the test", text)
        return result

    pytest.CaptureFixture.readouterr = read  # type: ignore[method-assign]

    communicate = subprocess.Popen.communicate

    def talk(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        out, err = communicate(self, *args, **kwargs)
        argv = self.args if isinstance(self.args, (list, tuple)) else [self.args]
        words = " ".join(str(a) for a in argv)
        if "authadapter" in words and "cargo-plugin" not in words:
            _register_cli_secrets(argv)
        if _current is not None and ("authadapter" in words and "cargo-plugin" not in words):
            for name, text in (("stdout", out), ("stderr", err)):
                if isinstance(text, bytes):
                    text = text.decode("utf-8", "replace")
                if text:
                    _current.add_text(f"the {name} of an authadapter command", text)
        return out, err

    subprocess.Popen.communicate = talk  # type: ignore[method-assign]


# -- pytest hooks -------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "canary_exempt(reason): this test shows a secret on purpose; not scanned"
    )
    sys.addaudithook(_audit)
    _patch_outputs()


@pytest.fixture(autouse=True)
def _canary_logging() -> Iterator[None]:
    # A logger's filters see only records logged on that very logger, so every
    # authadapter logger that exists gets the filter (they are made at import).
    root = logging.getLogger(LOGGER)
    loggers = [root] + [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if name.startswith(LOGGER + ".") and isinstance(logger, logging.Logger)
    ]
    scan = _ScanFilter()
    saved = root.level
    root.setLevel(OPT_IN_LEVEL)
    for logger in loggers:
        logger.addFilter(scan)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(scan)
        root.setLevel(saved)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    global _current
    _current = _TestRecord()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    global _current
    record = _current
    if call.when != "teardown" or record is None:
        return
    _current = None
    if item.get_closest_marker("canary_exempt") is not None:
        _totals["tests exempted"] += 1
        return
    for title, text in report.sections:
        record.add_text(f"the report section {title!r}", text)
    leaks = record.leaks()
    _totals["tests scanned"] += 1
    _totals["secrets tracked"] += len(record.secrets)
    _totals["texts scanned"] += len(record.texts) + len(record.objects)
    if leaks:
        _totals["leaks"] += len(leaks)
        report.outcome = "failed"
        report.longrepr = "canary: a secret showed\n" + "\n".join(leaks)
        report.sections = [(title, _hide(record, text)) for title, text in report.sections]


def _hide(record: _TestRecord, text: str) -> str:
    """The report must not show the secret it complains about."""
    for value in record.secrets:
        text = text.replace(value, "<secret>")
    return text


def pytest_warning_recorded(warning_message: Any, when: str, nodeid: str, location: Any) -> None:
    if _current is not None:
        _current.add_text("a warning", str(warning_message.message))


def _summary() -> dict[str, int]:
    merged = collections.Counter(_figures)
    merged.update({f"canary: {k}": v for k, v in _totals.items()})
    return dict(merged)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["authadapter_figures"] = json.dumps(_summary())


_from_workers: collections.Counter[str] = collections.Counter()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}).get("authadapter_figures")
    if output:
        _from_workers.update(json.loads(output))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    figures = collections.Counter(_summary())
    figures.update(_from_workers)
    if not figures:
        return
    figures.setdefault("canary: leaks", 0)
    terminalreporter.section("authadapter security figures")
    for name in sorted(figures):
        terminalreporter.write_line(f"{name}: {figures[name]}")
    path = os.environ.get("AUTHADAPTER_FIGURES")
    if path:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(dict(sorted(figures.items())), file, indent=1)


class Static:
    """A provider with fixed credentials by store key (``host``, ``host:port``); counts lookups.

    Keys are matched with the library's own ``candidate_keys``, so the tests
    of origin binding exercise the same matching as the real stores.
    """

    name = "static"
    blocking = False

    def __init__(self, entries: dict[str, credentials.Credential]) -> None:
        self.entries = entries
        self.calls = 0

    def lookup(self, origin: Any, url: str) -> Any:
        from authadapter._matching import candidate_keys
        from authadapter._provider import Miss

        self.calls += 1
        for key in candidate_keys(origin):
            if key in self.entries:
                return Found(self.entries[key], f"static entry {key}")
        return Miss()
