"""authadapter calling a Cargo credential plugin: the client side of protocol version 1.

(The other side, authadapter answering Cargo as a plugin, is ``_cargo_plugin``.)

Cargo runs ``<program> --cargo-plugin``; the configured arguments travel in
the request's ``args``. The plugin says hello (``{"v":[1]}``), reads one
request line, answers one line and exits; Cargo closes the plugin's stdin
after the request and treats a non-zero exit as an error, even after an
``Ok``. Every deviation raises ``PluginProtocolError`` with a one-line
message naming the program, never a token.

Lifetimes, as ``Found.ttl`` wants them: ``never`` is 0 (ask again every
time); ``session`` is ``None``, the chain's default, because a Python
program's session can last weeks and a token revoked meanwhile should be
picked up; ``expires`` lives until one minute before ``expiration``, as Cargo
counts it. A token whose expiration has already passed is refused with an
error instead of being sent to fail. ``operation_independent`` matters to
Cargo only for operations other than ``read``; authadapter only reads, so
every answer is cacheable.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from authadapter._exceptions import PluginProtocolError, ProviderError
from authadapter._subprocess import CommandProcess

__all__ = [
    "EXPIRY_MARGIN",
    "PluginToken",
    "interpret_response",
    "plugin_get",
    "plugin_request",
]

EXPIRY_MARGIN = 60.0
"""Seconds before ``expiration`` at which Cargo stops using a token."""

NOT_FOUND_KINDS = frozenset({"not-found", "url-not-supported"})


@dataclass(frozen=True, slots=True)
class PluginToken:
    token: str = field(repr=False)
    ttl: float | None


def plugin_request(
    index_url: str, name: str | None, args: Sequence[str], headers: Sequence[str] = ()
) -> dict[str, Any]:
    """The ``get`` request for a read of ``index_url``, as Cargo writes it (no empty ``args``)."""
    registry: dict[str, Any] = {"index-url": index_url}
    if name is not None:
        registry["name"] = name
    if headers:
        registry["headers"] = list(headers)
    request: dict[str, Any] = {"v": 1, "registry": registry, "kind": "get", "operation": "read"}
    if args:
        request["args"] = list(args)
    return request


def _one_line(text: object, limit: int = 200) -> str:
    """A plugin's own message made safe to show: one line, printable, bounded."""
    line = " ".join(str(text).split())
    line = "".join(char if char.isprintable() else "?" for char in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _decode(line: bytes, what: str, part: str) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PluginProtocolError(f"{what} sent malformed JSON as its {part}") from None


def _check_hello(hello: Any, what: str) -> None:
    versions = hello.get("v") if isinstance(hello, dict) else None
    if not isinstance(versions, list):
        raise PluginProtocolError(f"{what} sent a hello without a list of versions")
    if 1 not in versions:
        shown = ", ".join(str(v) for v in versions[:5]) or "none"
        raise PluginProtocolError(
            f"{what} speaks protocol versions [{shown}]; authadapter speaks version 1"
        )


def interpret_response(
    response: Any, what: str, now: Callable[[], float] = time.time
) -> PluginToken | None:
    """The token of an answer to ``get``, ``None`` for not-found; raises for the rest."""
    if not isinstance(response, dict) or len(response) != 1:
        raise PluginProtocolError(f"{what} answered neither Ok nor Err")
    if "Err" in response:
        error = response["Err"]
        kind = error.get("kind") if isinstance(error, dict) else None
        if kind in NOT_FOUND_KINDS:
            return None
        if kind == "other":
            message = _one_line(error.get("message") or "no message")
            causes = error.get("caused-by")
            if isinstance(causes, list) and causes:
                message += ": " + _one_line("; ".join(str(c) for c in causes))
            raise ProviderError(f"{what} failed: {message}")
        if kind == "operation-not-supported":
            raise ProviderError(f"{what} does not support reading a token")
        raise PluginProtocolError(f"{what} answered with an unknown error kind")
    answer = response.get("Ok")
    if not isinstance(answer, dict):
        raise PluginProtocolError(f"{what} answered neither Ok nor Err")
    if answer.get("kind") != "get":
        raise PluginProtocolError(f"{what} answered a get with a different kind")
    token = answer.get("token")
    if not isinstance(token, str):
        raise PluginProtocolError(f"{what} answered without a token")
    cache = answer.get("cache")
    if cache == "never":
        return PluginToken(token, 0)
    if cache == "session":
        return PluginToken(token, None)
    if cache == "expires":
        expiration = answer.get("expiration")
        if not isinstance(expiration, (int, float)) or isinstance(expiration, bool):
            raise PluginProtocolError(f"{what} answered cache=expires without an expiration")
        left = expiration - now()
        if left <= 0:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expiration))
            raise ProviderError(f"{what} returned a token that expired at {stamp}")
        return PluginToken(token, max(0.0, left - EXPIRY_MARGIN))
    raise PluginProtocolError(f"{what} answered with an unknown cache value")


def plugin_get(
    program: str,
    args: Sequence[str],
    index_url: str,
    name: str | None,
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    now: Callable[[], float] = time.time,
    cwd: str | os.PathLike[str] | None = None,
) -> PluginToken | None:
    """Ask a credential plugin for the token of ``index_url``; ``None`` when it has none.

    Raises ``ProviderError`` (or its subclasses ``PluginProtocolError`` and
    ``ProviderTimeoutError``) for every failure Cargo treats as fatal; a
    plugin still running at ``timeout`` is killed, and on any error so is
    every process it started.
    """
    what = f"credential plugin `{program}`"
    argv = [program, "--cargo-plugin"]
    with CommandProcess(
        argv, env=env, timeout=timeout, what=what, pipe_stdin=True, cwd=cwd
    ) as child:
        hello = child.read_line()
        if hello is None:
            status = child.wait()
            raise PluginProtocolError(f"{what} exited (status {status}) without saying hello")
        _check_hello(_decode(hello, what, "hello"), what)
        request = plugin_request(index_url, name, args)
        child.send(json.dumps(request).encode() + b"\n")
        line = child.read_line()
        if line is None:
            status = child.wait()
            raise PluginProtocolError(f"{what} exited (status {status}) without answering")
        response = _decode(line, what, "answer")
        # wait for the exit, not for EOF: a helper the plugin left running may hold stdout
        status = child.wait()
        # decided inside the block: on an error, what the plugin left running is killed
        if status != 0:
            raise ProviderError(f"{what} exited with status {status}")
        return interpret_response(response, what, now)
