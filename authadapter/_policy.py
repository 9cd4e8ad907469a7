"""The rules the core applies to one request, as pure functions.

``Authorizer`` combines them with the provider chain; the adapters use only
``location_without_foreign_token`` themselves (a redirect hop is theirs to
see) and ``REPLAYABLE_WITHOUT_BODY``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection
from urllib.parse import unquote, urljoin, urlsplit

from ._chain import Resolution
from ._credentials import Credential
from ._origin import Origin
from ._urls import conda_token_in_path, remove_token_everywhere

__all__ = [
    "REPLAYABLE_WITHOUT_BODY",
    "carries",
    "credential_rejected",
    "location_without_foreign_token",
    "plain_http_allowed",
    "requests_style_redirect_target",
    "userinfo_authorization",
]


REPLAYABLE_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


class Applied:
    """What to do to a request: its new URL and the ``Authorization`` value to set."""

    url: str
    authorization: str | None
    resolution: Resolution


def carries(authorization: str | None, url: str, credential: Credential) -> bool:
    """Whether a request with this ``Authorization`` and ``url`` went out with ``credential``."""
    header = credential.authorization()
    if header is not None:
        return authorization == header
    # a conda token: this token, not just any /t/<token>/ (a server may redirect
    # to a path holding another); compared decoded, as the server reads it
    token = conda_token_in_path(url)
    return token is not None and unquote(token) == getattr(credential, "token", None)


def userinfo_authorization(url: str) -> str | None:
    """The Basic ``Authorization`` value for the ``user:pass@`` of ``url``, if it has one.

    Both clients turn URL credentials into Basic auth only when no ``auth`` is
    set, so with ``RegistryAuth`` installed they would silently go nowhere.
    "Left alone" must mean "sent as the caller wrote them": the adapters set
    this header themselves, encoded as httpx encodes it (UTF-8, base64, which
    also makes a CR or LF in the URL harmless).
    """
    parts = urlsplit(url)
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not user and not password:
        return None
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def credential_rejected(status: int, www_authenticate: str | None) -> bool:
    """Whether a response says the credential we sent is wrong or expired.

    Always for 401. For 403 only when the server says the token is invalid
    (RFC 6750 ``error="invalid_token"``): a plain 403 means "not allowed",
    and a fresh lookup would return the same credential.
    """
    if status == 401:
        return True
    return status == 403 and www_authenticate is not None and "invalid_token" in www_authenticate


def location_without_foreign_token(request_url: str, location: str) -> str | None:
    """The redirect target with the first origin's conda token removed, if it needs removing.

    Returns ``None`` when ``location`` can be followed as it is: it stays on
    the origin, or the request's conda token appears nowhere in it. Otherwise
    the token is removed wherever it appears (see ``remove_token_everywhere``). The adapters
    pass ``location`` already resolved the way their client resolves it, so
    the origin compared here is the one the client will connect to. A token
    is bound to its origin whoever put it in the URL (authadapter or the
    caller): servers such as nginx with ``return 302 http://mirror$request_uri``
    copy it into the Location of a cross-origin redirect.
    """
    token = conda_token_in_path(request_url)
    if token is None:
        return None
    target = urljoin(request_url, location)
    try:
        same_origin = Origin.from_url(target) == Origin.from_url(request_url)
    except ValueError:  # no host (file:, data:...): not this origin either
        same_origin = False
    if same_origin or unquote(token) not in unquote(target):
        return None
    return remove_token_everywhere(target, token)


def plain_http_allowed(origin: Origin, allow_http_hosts: Collection[str]) -> bool:
    """The plain-http rule: may a credential go to ``origin`` without TLS?

    Yes for https, loopback hosts and the normalised hosts the user allowed;
    no otherwise, as a credential sent in clear text is given away. One
    function, so that RegistryAuth, Cargo's ``get`` and ``authadapter which``
    cannot disagree.
    """
    return origin.scheme != "http" or origin.is_loopback or origin.host in allow_http_hosts


def requests_style_redirect_target(
    request_url: str, location: str, requote_uri: Callable[[str], str]
) -> str:
    """Where requests (and niquests, its fork) go for ``location``, as ``resolve_redirects`` does.

    ``requote_uri`` is the client's own, so the URL compared is the one the
    client will really connect to.
    """
    if location.startswith("//"):
        location = f"{urlsplit(request_url).scheme}:{location}"
    if not urlsplit(location).netloc:
        return urljoin(request_url, requote_uri(location))
    return str(requote_uri(location))
