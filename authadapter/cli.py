"""The ``authadapter`` command: parse arguments, call the library, print one clear result.

Every expected failure prints a single ``authadapter: error: ...`` line on
stderr and exits 1 (2 for a usage error), never a traceback and never a
secret; the library's warnings come out as ``authadapter: warning: ...``
lines, and a reader that leaves early (``| head``) ends the command quietly
with 141, as a shell pipeline would. Secrets can be given on stdin
(``--token -``, prompted for without echo at a terminal) so they need not
appear in the process list or shell history.

Subcommands are registered by the functions in ``SUBCOMMANDS``; adding one is
one function and one list entry.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING, NoReturn, TextIO

from authadapter import __version__
from authadapter._credentials import BasicCredential, BearerToken, CondaToken, Credential
from authadapter._exceptions import AuthAdapterError
from authadapter._main import CARGO_ENTRIES, cargo_protocol_arguments
from authadapter._urls import mask_url

if TYPE_CHECKING:
    from authadapter._config import Settings

__all__ = ["main"]

PROGRAM = "authadapter"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _OutputError(AuthAdapterError):
    """stdout cannot be written; reported on stderr like any other error."""


class _Streams:
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr

    def print(self, line: str = "") -> None:
        try:
            print(line, file=self.stdout)
        except BrokenPipeError:
            raise
        except OSError as error:  # a full disk or a closed file behind `>`
            raise _OutputError(f"cannot write the output ({error.strerror})") from None

    def finish(self) -> None:
        """Flush stdout now, so a write error is reported here and not at interpreter exit."""
        try:
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise _OutputError(f"cannot write the output ({error.strerror})") from None

    def abandon_stdout(self) -> None:
        """Point file descriptor 1 at /dev/null: unwritable output must not fail again at exit."""
        import os

        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            if self.stdout.fileno() == 1:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.close(devnull)

    def error(self, message: str) -> None:
        print(f"{PROGRAM}: error: {message}", file=self.stderr)


Command = Callable[[argparse.Namespace, _Streams], int]


@contextmanager
def _warnings_to(streams: _Streams) -> Iterator[None]:
    """Library warnings (a skipped entry, a slow keyring) as ``authadapter: warning:`` lines.

    Without a handler Python would print the bare message; with this one a
    warning reads like the CLI's errors and goes to the command's stderr.
    """
    handler = logging.StreamHandler(streams.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(f"{PROGRAM}: warning: %(message)s"))
    logger = logging.getLogger("authadapter")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


# login / logout -------------------------------------------------------------


def _add_login(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "login",
        help="store a credential where pixi would",
        description="Store a credential for HOST where `pixi auth login` would: "
        "$RATTLER_AUTH_FILE if set, else the keyring, else ~/.rattler/credentials.json, "
        "skipping a store the configuration switches off (the first writable store of "
        "providers.order). As with pixi, a host with one dot (prefix.dev) is stored as "
        "*.prefix.dev, which covers its subdomains. Give '-' as a value to read it from stdin. "
        "Spaces and tabs around a token or user name are removed (no client can send them); "
        "a password is stored exactly as given.",
    )
    parser.add_argument("host", metavar="HOST", help="host name, *.domain, host:port or URL")
    kinds = parser.add_mutually_exclusive_group(required=True)
    kinds.add_argument("--token", metavar="T", help="bearer token (Authorization: Bearer T)")
    kinds.add_argument("--username", metavar="U", help="Basic auth user name (needs --password)")
    kinds.add_argument("--conda-token", metavar="T", help="conda token (/t/T/ in the path)")
    parser.add_argument("--password", metavar="P", help="Basic auth password")
    parser.set_defaults(run=_login)


def _host_argument(argument: str) -> str:
    """HOST as typed, refused as ``which`` refuses a URL: ``urlsplit`` would drop a line break.

    ``https://a<newline>b.example`` would otherwise be stored as ``ab.example``,
    a host the user never named.
    """
    from authadapter._origin import Origin

    text = argument.strip()
    if "://" in text:
        try:
            Origin.from_user_url(text)
        except ValueError as error:
            raise AuthAdapterError(f"cannot use {_shown(argument)}: {error}") from None
    elif not text.isprintable():
        raise AuthAdapterError(f"{argument!r} is not a host name or URL")
    return argument


def _read_secret(value: str, streams: _Streams, what: str) -> str:
    """``value``, or for ``-`` one line of stdin: typed without echo at a terminal."""
    if value != "-":
        return value
    if streams.stdin.isatty():
        import getpass

        try:
            return getpass.getpass(f"{what}: ")
        except EOFError:
            raise AuthAdapterError(f"no {what} typed") from None
    line = streams.stdin.readline()
    if not line:
        raise AuthAdapterError(f"no {what} on stdin")
    return line.rstrip("\r\n")


def _trimmed(value: str, what: str, trimmed: list[str]) -> str:
    """``value`` without surrounding whitespace; ``what`` is noted in ``trimmed`` if any went.

    A token pasted with a trailing space is a token no client can send, and
    nobody means a user name with one: login removes it and says so, rather
    than refuse and make the user look for an invisible character.
    """
    stripped = value.strip()
    if stripped != value and stripped:
        trimmed.append(what)
    return stripped


def _credential_from(args: argparse.Namespace, streams: _Streams, trimmed: list[str]) -> Credential:
    if [args.token, args.username, args.conda_token, args.password].count("-") > 1:
        raise AuthAdapterError("only one value can be read from stdin")
    if args.token is not None:
        token = _read_secret(args.token, streams, "token")
        return BearerToken(_trimmed(token, "token", trimmed))
    if args.conda_token is not None:
        token = _read_secret(args.conda_token, streams, "conda token")
        return CondaToken(_trimmed(token, "conda token", trimmed))
    if args.password is None:
        raise AuthAdapterError("--username needs --password (use '--password -' for stdin)")
    username = _trimmed(_read_secret(args.username, streams, "username"), "username", trimmed)
    return BasicCredential(username, _read_secret(args.password, streams, "password"))


def _login(args: argparse.Namespace, streams: _Streams) -> int:
    from authadapter._config import load_config
    from authadapter._store import key_for_host, save_to, writable_stores

    if args.password is not None and args.username is None:
        raise AuthAdapterError("--password needs --username")
    key = key_for_host(_host_argument(args.host))
    store = writable_stores(load_config())[0]  # refused before a secret is asked for
    trimmed: list[str] = []
    credential = _credential_from(args, streams, trimmed)
    where = save_to(store, key, credential)
    named = where if where.startswith(store.name) else f"{where} ({store.name})"
    streams.print(f"stored {credential} for {key} in {named}")
    if trimmed:
        streams.print(f"note: removed the spaces around the {' and '.join(trimmed)}")
    if key.rpartition(":")[2].isdigit():
        streams.print(
            "note: only authadapter uses a key with a port; pixi and rattler look up "
            "the host alone (log in to it without the port for them)"
        )
    return 0


def _add_logout(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "logout",
        help="remove a stored credential",
        description="Remove HOST's credential from every store `login` writes to that the "
        "configuration switches on. netrc and $AUTHADAPTER_CREDENTIALS are never edited.",
    )
    parser.add_argument("host", metavar="HOST", help="as given to login")
    parser.set_defaults(run=_logout)


def _logout(args: argparse.Namespace, streams: _Streams) -> int:
    from authadapter._config import load_config
    from authadapter._store import delete_credential, key_for_host

    key = key_for_host(_host_argument(args.host))
    settings = load_config()  # stops on a broken configuration, as every command does
    removed = delete_credential(key, settings=settings)
    if not removed:
        elsewhere = _stores_holding(key, settings)
        if elsewhere:
            raise AuthAdapterError(
                f"{key} is not in a store login writes to; it is in {', '.join(elsewhere)}, "
                "which authadapter does not edit"
            )
        raise AuthAdapterError(f"no stored credential for {key}")
    for where in removed:
        streams.print(f"removed {key} from {where}")
    return 0


def _stores_holding(key: str, settings: Settings) -> list[str]:
    """Where else ``key`` is stored (netrc, the environment): a logout that removed nothing."""
    from authadapter._defaults import default_providers
    from authadapter._matching import normalize_key
    from authadapter._report import list_entries

    try:
        entries, _ = list_entries(default_providers(settings), settings.timeout)
    except AuthAdapterError:
        return []
    sources = [entry.source for entry in entries if normalize_key(entry.key) == key]
    return list(dict.fromkeys(sources))


# list / which ---------------------------------------------------------------


def _add_list(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "list",
        help="show stored credentials (secrets masked)",
        description="List the credentials of every store that can enumerate them.",
    )
    parser.add_argument("--show-secrets", action="store_true", help="print secrets in clear")
    parser.set_defaults(run=_list)


def _list(args: argparse.Namespace, streams: _Streams) -> int:
    from authadapter._config import load_config
    from authadapter._defaults import default_providers
    from authadapter._report import entry_table, list_entries

    settings = load_config()
    entries, errors = list_entries(default_providers(settings), settings.timeout)
    if entries or not errors:  # "no stored credentials" is not known when a store failed
        for line in entry_table(entries, show_secrets=args.show_secrets):
            streams.print(line)
    for message in errors:
        streams.error(message)
    return 1 if errors else 0


def _add_which(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "which",
        help="show which store answers for a URL",
        description="Ask every store about URL (no cache), show which answer would be used, "
        "and whether it is really sent (not when the URL has its own credentials, nor over "
        "plain http to a host that is not loopback or in allow_http_hosts).",
    )
    parser.add_argument("url", metavar="URL", help="a URL, or a bare host for https://HOST/")
    parser.set_defaults(run=_which)


def _which(args: argparse.Namespace, streams: _Streams) -> int:
    from authadapter._authorizer import Authorizer
    from authadapter._config import load_config
    from authadapter._origin import Origin, is_ip_address
    from authadapter._report import explanation_lines

    url = args.url
    if is_ip_address(url) and ":" in url:
        url = f"[{url}]"  # a bare IPv6 address
    if "://" not in url and url.isprintable() and " " not in url:
        url = f"https://{url}"  # a bare host: what a registry URL for it would be
    try:
        Origin.from_user_url(url)
    except ValueError as error:
        raise AuthAdapterError(f"cannot use {_shown(args.url)}: {error}") from None
    explanation = Authorizer.from_settings(load_config()).explain(url)
    for line in explanation_lines(explanation):
        streams.print(line)
    return 0


def _shown(url: str) -> str:
    """``url`` fit for one line of an error: secrets masked; not shown if it is not one line."""
    from urllib.parse import urlsplit

    try:
        urlsplit(url)
    except ValueError:
        return "the URL"
    return mask_url(url) if url.isprintable() else "the URL"


# cargo ----------------------------------------------------------------------


def _add_cargo_credential(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    # for --help only: main() hands Cargo's runs over before argparse sees them
    subparsers.add_parser(
        "cargo-credential",
        help="be Cargo's credential provider (Cargo runs it, not you)",
        description="authadapter as a Cargo credential provider: with "
        'credential-provider = "authadapter cargo-credential" in Cargo\'s configuration, '
        "Cargo runs 'authadapter --cargo-plugin' and asks, on stdin and stdout, for the "
        "token of a registry; the answer is what authadapter would send to the registry's "
        "index URL, from any store it reads. 'cargo login' stores a 'Bearer <token>' token "
        "where 'authadapter login' would. There is nothing to type here: at a terminal this "
        "command only waits for Cargo's JSON.",
    )


def _serve_cargo(streams: _Streams, plugin_args: list[str]) -> int:
    if streams.stdin.isatty():  # a person, not Cargo (which always pipes): say what this is
        streams.stderr.write(
            f"{PROGRAM}: note: this is Cargo's credential protocol (JSON on stdin/stdout); "
            f"see '{PROGRAM} cargo-credential --help'\n"
        )
        streams.stderr.flush()
    # helper module owned by the Cargo integration; imported only when Cargo calls us
    from authadapter._serve_cargo import serve

    return int(serve(streams.stdin, streams.stdout, plugin_args))


# config / run ---------------------------------------------------------------


def _add_config(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show the effective configuration and provider chain",
        description="Show the configuration file read, the stores in lookup order (on/off, "
        "where each reads from), the cache lifetimes and the timeout. Never shows a secret.",
    )
    parser.set_defaults(run=_config)


def _config(args: argparse.Namespace, streams: _Streams) -> int:
    from authadapter._config import config_path, load_config
    from authadapter._config_report import describe_configuration

    path = config_path()
    for line in describe_configuration(load_config(), str(path), path.is_file()):
        streams.print(line)
    return 0


def _add_run(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a program with its HTTP clients patched to use RegistryAuth",
        description="Run COMMAND (and the Python processes it starts) with requests, httpx, "
        "aiohttp and niquests patched: sessions and clients that set no auth of their own "
        "use RegistryAuth.",
    )
    parser.add_argument(
        "--only",
        choices=["requests", "httpx", "aiohttp", "niquests"],
        help="patch only this library (default: all four)",
    )
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print the two variables that switch the patch on, and run nothing",
    )
    parser.add_argument("program", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace, streams: _Streams) -> int:
    import os

    from authadapter._run import ENV_VARIABLE, run, run_environment

    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    if args.print_env:
        env = run_environment(os.environ, args.only or "1")
        for name in ("PYTHONPATH", ENV_VARIABLE):
            streams.print(f"{name}={env[name]}")
        return 0
    if not program:
        streams.error("run: missing the command to run (authadapter run -- COMMAND ...)")
        return 2
    return run(program, args.only or "1")


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [
    _add_login,
    _add_logout,
    _add_list,
    _add_which,
    _add_cargo_credential,
    _add_config,
    _add_run,
]


def build_parser() -> _Parser:
    parser = _Parser(
        prog=PROGRAM,
        description="Registry credentials from the stores you already have (pixi, Cargo, netrc).",
        epilog="Run 'authadapter COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    streams = _Streams(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    # for leak checkers (our test suite's canary): what was asked, where the answer goes
    sys.audit("authadapter.cli", arguments, streams.stdout, streams.stderr)
    try:
        plugin_arguments = cargo_protocol_arguments(arguments)
        if plugin_arguments is not None:  # before argparse, which would eat their options
            return _serve_cargo(streams, plugin_arguments)
        if arguments[:1] and arguments[0] in CARGO_ENTRIES:  # a person asked for help
            arguments = ["cargo-credential", "--help"]
        with redirect_stdout(streams.stdout), redirect_stderr(streams.stderr):
            args = build_parser().parse_args(arguments)
        command: Command = args.run
        with _warnings_to(streams):
            status = command(args, streams)
        streams.finish()
        return status
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    except BrokenPipeError:  # the reader left (`| head`): as quiet as a killed pipeline
        streams.abandon_stdout()
        return 141
    except AuthAdapterError as error:
        if isinstance(error, _OutputError):
            streams.abandon_stdout()
        streams.error(str(error))
        return 1
    except KeyboardInterrupt:
        streams.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
