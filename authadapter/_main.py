"""The ``authadapter`` command's entry point: Cargo's calls skip the rest of the CLI.

Cargo starts ``authadapter --cargo-plugin`` (or ``authadapter
cargo-credential``) for every registry operation and waits for it, so the
parser, the ``logging`` setup and every subcommand's imports are time Cargo
pays for nothing: such a call goes straight to the protocol. Everything else,
and a person asking for ``--help``, goes to ``authadapter.cli``.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_CARGO_ENTRIES = ("--cargo-plugin", "cargo-credential")


def main() -> int:
    arguments = sys.argv[1:]
    if (
        arguments[:1]
        and arguments[0] in _CARGO_ENTRIES
        and not any(argument in ("-h", "--help") for argument in arguments)
        and not sys.stdin.isatty()  # a person at a terminal gets the CLI's note
    ):
        sys.audit("authadapter.cli", arguments, sys.stdout, sys.stderr)
        from authadapter._serve_cargo import serve

        try:
            return serve(sys.stdin, sys.stdout, [a for a in arguments[1:] if a != "--cargo-plugin"])
        except BrokenPipeError:  # Cargo went away: as quiet as a killed pipeline
            return 141
        except KeyboardInterrupt:
            return 130
    from authadapter.cli import main as cli_main

    return cli_main(arguments)
