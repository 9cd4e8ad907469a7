"""Keep the conda tokens authadapter puts into URL paths out of the HTTP clients' own logs.

httpx, httpcore, urllib3 (and urllib3-future), aiohttp and niquests log the
URLs they send, DEBUG and INFO included, and a conda token rides in the
path (``/t/<token>/``). conda masks its own loggers with a filter for the
same reason. ``install_log_filter`` puts one ``logging.Filter`` on each of
those libraries' loggers; the adapters call it when they are imported.

Which tokens: those the live provider chains hold in their caches
(``ProviderChain.conda_tokens``), looked up when a record is filtered. The
filter keeps no copy of a secret: a token stops being masked when no chain
holds it any more, and until then it lives where it already lived. A
caller's own ``/t/<token>/`` and everything else in a record are left as
they were.

How: a record whose message holds a token gets the token replaced by
``***`` in its ``msg`` and in each argument that holds it (an argument that
is not a string becomes its masked ``str``), so handlers and formatters
that read ``args`` keep working; a formatted traceback or stack that holds
one is masked too. The filter never drops a record.

Filters on a logger apply only to the records logged to that very logger,
not to those of its children, so the filter goes on every logger of those
libraries: the ones they create (listed below, created now if they are not
yet) and any other whose name starts with one of theirs at the time of the
call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from . import _live
from ._chain import ProviderChain

__all__ = ["LOGGERS", "TokenFilter", "install_log_filter", "mask_tokens"]

PREFIXES = ("httpx", "httpcore", "urllib3", "urllib3_future", "aiohttp", "niquests")
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
    "niquests",
    "urllib3_future",
    "urllib3_future.connection",
    "urllib3_future.connectionpool",
    "urllib3_future.poolmanager",
    "urllib3_future.response",
    "urllib3_future.util.retry",
)
MASK = "***"
# what a client may percent-encode in a path segment; the token's other characters stay
_PATH_SAFE = "!$&'()*+,;=:@-._~"


def live_tokens() -> set[str]:
    """Every spelling of every conda token the live chains hold right now."""
    tokens: set[str] = set()
    for obj in _live.live():
        if isinstance(obj, ProviderChain):
            for token in obj.conda_tokens():
                tokens.add(token)
                tokens.add(quote(token, safe=_PATH_SAFE))
    return tokens


def mask_tokens(text: str, tokens: Iterable[str]) -> str:
    for token in sorted(tokens, key=len, reverse=True):  # an encoded spelling contains the raw
        text = text.replace(token, MASK)
    return text


class TokenFilter(logging.Filter):
    """Replaces live conda tokens in a record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        tokens = live_tokens()
        if tokens:
            _mask_record(record, tokens)
        return True


def _holds(text: str, tokens: Iterable[str]) -> bool:
    return any(token in text for token in tokens)


def _masked_arg(arg: Any, tokens: set[str]) -> Any:
    if isinstance(arg, bytes):
        text = arg.decode("latin-1")
        return mask_tokens(text, tokens).encode("latin-1") if _holds(text, tokens) else arg
    if isinstance(arg, int | float) or arg is None:
        return arg
    text = arg if isinstance(arg, str) else str(arg)
    return mask_tokens(text, tokens) if _holds(text, tokens) else arg


def _mask_record(record: logging.LogRecord, tokens: set[str]) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a record that cannot be formatted is the handler's to report
        message = str(record.msg)
    if _holds(message, tokens):
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg, tokens)
        args = record.args
        if isinstance(args, Mapping):
            record.args = {key: _masked_arg(value, tokens) for key, value in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(_masked_arg(arg, tokens) for arg in args)
        try:
            still = _holds(record.getMessage(), tokens)
        except Exception:
            still = True
        if still:  # a token split over arguments, or a format that re-spells it
            record.msg, record.args = mask_tokens(message, tokens), None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if _holds(text, tokens):
            record.exc_text = mask_tokens(text, tokens)
    elif record.exc_text and _holds(record.exc_text, tokens):
        record.exc_text = mask_tokens(record.exc_text, tokens)
    if record.stack_info and _holds(record.stack_info, tokens):
        record.stack_info = mask_tokens(record.stack_info, tokens)


_filter = TokenFilter()
_install_lock = threading.Lock()


def install_log_filter() -> None:
    """Put the token filter on every logger of the HTTP clients (idempotent)."""
    manager = logging.Logger.manager
    with _install_lock:
        names = set(LOGGERS)
        names.update(name for name in list(manager.loggerDict) if name.split(".", 1)[0] in PREFIXES)
        for name in names:
            logger = logging.getLogger(name)
            if _filter not in logger.filters:
                logger.addFilter(_filter)
