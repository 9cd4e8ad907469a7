"""One session per concern; each runs alone on a fresh machine.

``nox -s tests`` is what CI and README run. ``bench`` and ``docs`` are kept
out of the default sessions because they are slow or need extra tools.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, in parallel, with real services started by the fixtures."""
    session.install("-e", ".[test]")
    install_niquests(session)
    workers = os.environ.get("AUTHADAPTER_TEST_WORKERS", "auto")
    session.run("pytest", "-n", workers, *session.posargs)


def install_niquests(session: nox.Session) -> None:
    """niquests beside the real urllib3, which requests keeps (docs/niquests.md).

    urllib3-future's wheel replaces the ``urllib3`` package; built from its
    sdist with ``URLLIB3_NO_OVERRIDE=1`` it installs as ``urllib3_future``
    only. No cache: a wheel built earlier without the variable would be reused.
    """
    session.install(
        "--no-cache-dir",
        "--no-binary",
        "urllib3-future",
        "niquests>=3.14",
        env={"URLLIB3_NO_OVERRIDE": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test]", "mypy>=1.10", "types-requests")
    install_niquests(session)
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Prints the table that docs/performance.md quotes.

    ``nox -s bench -- --only cold`` runs the cold-start group alone: whole
    processes (``authadapter cargo-credential``, a one-shot httpx script) from
    this session's venv, with and without a private Secret Service (dbus-daemon
    and gnome-keyring-daemon, when installed).
    """
    session.install("-e", ".[test]", "pip")
    install_niquests(session)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Builds the site strictly; the tests session also does (tests/test_docs_examples.py)."""
    session.install("-e", ".", "mkdocs>=1.6", "mkdocstrings[python]>=0.26")
    session.run("mkdocs", "build", "--strict", *session.posargs)
