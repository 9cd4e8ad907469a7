"""The ``authadapter`` command's entry point: Cargo's calls skip the rest of the CLI.

Cargo starts ``authadapter --cargo-plugin`` (or ``authadapter
cargo-credential``) for every registry operation and waits for it, so the
parser, the ``logging`` setup and every subcommand's imports are time Cargo
pays for nothing: such a call goes straight to the protocol. Everything else,
and a person asking for ``--help``, goes to ``authadapter.cli``.
"""

from __future__ import annotations

import sys

__all__ = ["CARGO_ENTRIES", "cargo_protocol_arguments", "main"]

CARGO_ENTRIES = ("--cargo-plugin", "cargo-credential")
"""How Cargo runs a credential provider: ``--cargo-plugin``, or the configured command."""


def cargo_protocol_arguments(arguments: list[str]) -> list[str] | None:
    """The plugin's arguments when ``arguments`` are a Cargo protocol call, else ``None``.

    Cargo never passes ``-h``/``--help``: with one, a person asked for help.
    """
    if not arguments or arguments[0] not in CARGO_ENTRIES:
        return None
    if any(argument in ("-h", "--help") for argument in arguments):
        return None
    return [argument for argument in arguments[1:] if argument != "--cargo-plugin"]


def main() -> int:
    arguments = sys.argv[1:]
    plugin_arguments = cargo_protocol_arguments(arguments)
    if plugin_arguments is not None and not sys.stdin.isatty():  # a person gets the CLI's note
        sys.audit("authadapter.cli", arguments, sys.stdout, sys.stderr)
        from authadapter._serve_cargo import serve

        try:
            return serve(sys.stdin, sys.stdout, plugin_arguments)
        except BrokenPipeError:  # Cargo went away: as quiet as a killed pipeline
            return 141
        except KeyboardInterrupt:
            return 130
    from authadapter.cli import main as cli_main

    return cli_main(arguments)
