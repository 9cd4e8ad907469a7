"""Pure functions on URL strings: conda token paths and masking.

Conda channels carry their token in the path (``/t/<token>/channel/...``).
Inserting, detecting and removing it is done here, once, so that the adapters
and the redirect checks agree on what "a URL that already holds a token" is.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

__all__ = [
    "conda_token_in_path",
    "has_userinfo",
    "insert_conda_token",
    "mask_url",
    "remove_token_everywhere",
    "strip_conda_token",
]

_TOKEN_PATH = re.compile(r"^/t/([^/]+)(?=/|$)")
_MASK = "***"
# Query parameters whose value is masked: signed URLs and token-in-query APIs.
_SECRET_PARAM = re.compile(r"token|pass|pwd|secret|key|sig|auth|credential", re.IGNORECASE)


def conda_token_in_path(url: str) -> str | None:
    """The token of a ``/t/<token>/`` path prefix, or ``None``."""
    match = _TOKEN_PATH.match(urlsplit(url).path)
    return match.group(1) if match else None


def insert_conda_token(url: str, token: str) -> str:
    """Prefix the path of ``url`` with ``/t/<token>``, unless it has one already."""
    parts = urlsplit(url)
    if _TOKEN_PATH.match(parts.path):
        return url
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    return urlunsplit(parts._replace(path=f"/t/{token}{path}"))


def strip_conda_token(url: str) -> str:
    """Remove a ``/t/<token>`` path prefix, leaving the rest of the URL intact."""
    parts = urlsplit(url)
    path = _TOKEN_PATH.sub("", parts.path, count=1)
    if path == parts.path:
        return url
    return urlunsplit(parts._replace(path=path or "/"))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, as the clients (and most servers) apply it before routing."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    suffix = "/" if path.endswith(("/.", "/..")) else ""
    return "/" + "/".join(output) + suffix if path.startswith("/") else path


def remove_token_everywhere(url: str, token: str) -> str:
    """``url`` with no trace of ``token``: every ``/t/<token>`` segment pair removed.

    For a URL about to leave the token's origin. The pair is removed wherever
    it sits in the (dot-normalised) path, not only at the start, because a
    server that redirects with ``http://mirror/prefix$request_uri`` puts it in
    the middle; any other occurrence of the token (a query, a fragment) is
    replaced by ``***``: a broken URL is better than a leaked secret.
    Segments are compared percent-decoded, as the next server will read them
    (httpx, unlike requests, sends ``%54OKEN`` as it was written).
    """
    token = unquote(token)
    parts = urlsplit(url)
    segments = _remove_dot_segments(parts.path).split("/")
    kept: list[str] = []
    index = 0
    while index < len(segments):
        pair = segments[index : index + 2]
        if len(pair) == 2 and unquote(pair[0]) == "t" and unquote(pair[1]) == token:
            index += 2
            continue
        kept.append(segments[index])
        index += 1
    path = "/".join(kept) or "/"
    path = path if path.startswith("/") else "/" + path
    userinfo, at, hostport = parts.netloc.rpartition("@")
    return urlunsplit(
        parts._replace(
            netloc=_mask_token(userinfo, token) + at + hostport,
            path=_mask_token(path, token),
            query=_mask_token(parts.query, token),
            fragment=_mask_token(parts.fragment, token),
        )
    )


def _mask_token(component: str, token: str) -> str:
    """``component`` with ``token`` masked, also where it is written percent-encoded."""
    component = component.replace(token, _MASK)
    if token in unquote(component):  # only for the rare encoded spelling: decoding alters it
        component = unquote(component).replace(token, _MASK)
    return component


def has_userinfo(url: str) -> bool:
    """Whether the URL carries ``user[:password]@`` credentials of its own."""
    parts = urlsplit(url)
    return parts.username is not None or parts.password is not None


def mask_url(url: str) -> str:
    """``url`` with its secrets replaced by ``***``.

    Masked: the password of ``user:password@``, a lone ``user@`` (often a
    token, as in ``https://<token>@host``), the conda token of a ``/t/<token>/``
    path, and the values of query parameters named like secrets (``token``,
    ``password``, ``X-Amz-Signature``...). Safe to log: use it for any URL
    that may have passed through authadapter.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:{_MASK}@{hostport}"
        else:
            netloc = f"{_MASK}@{hostport}"
    path = _TOKEN_PATH.sub(f"/t/{_MASK}", parts.path, count=1)
    query = "&".join(_mask_param(param) for param in parts.query.split("&"))
    return urlunsplit(SplitResult(parts.scheme, netloc, path, query, parts.fragment))


def _mask_param(param: str) -> str:
    name, equals, value = param.partition("=")
    if equals and value and _SECRET_PARAM.search(name):
        return f"{name}={_MASK}"
    return param
