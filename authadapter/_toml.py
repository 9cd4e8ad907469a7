"""``tomllib``, or ``tomli`` on Python 3.10.

Imported by the functions that parse TOML, when they parse: most processes
find no configuration file, and a short-lived one (``authadapter
cargo-credential``) should not pay for a parser it does not use.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["tomllib"]
