"""The requests adapter: apply on the way out, check on the way back.

requests calls its ``auth`` once per ``Session.send`` and never for the hops
of a redirect, which it builds from a copy of the first request. So the
adapter works in two places: ``prepare`` applies the credential to the first
request and registers a response hook; the hook, called for every response,
removes the first origin's conda token from a redirect that leaves the origin
and, on a rejection, re-sends once with a fresh credential (the approach
pip's ``MultiDomainBasicAuth`` takes). requests itself drops
``Authorization`` when a redirect changes host, port or scheme.

A request that brings its own credentials is left alone, but still gets the
redirect hook: a conda token the caller put in the path stays on its origin
too. URL credentials (``user:pass@``) are sent as Basic auth, as requests
itself would send them if no ``auth`` were set.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import requests
from requests.utils import requote_uri

from ._logfilter import install_log_filter
from ._policy import location_without_foreign_token, requests_style_redirect_target

if TYPE_CHECKING:
    from ._authorizer import Authorizer, Decision
    from ._origin import Origin

__all__ = ["prepare"]

install_log_filter()  # the client's own logs must not show a conda token


def prepare(authorizer: Authorizer, request: requests.PreparedRequest) -> requests.PreparedRequest:
    headers = request.headers
    # CaseInsensitiveDict's own `in` goes through a KeyError when the header
    # is absent (the usual case), which costs more than the rest of this call
    store = getattr(headers, "_store", None)
    has_authorization = (
        "authorization" in store if store is not None else "Authorization" in headers
    )
    decision = authorizer.decide(request.url or "", has_authorization)
    if decision.url is not None:
        request.url = decision.url
    value = decision.authorization
    if value is not None:
        if store is not None:  # what CaseInsensitiveDict.__setitem__ does, without the call
            store["authorization"] = ("Authorization", value)
        else:
            headers["Authorization"] = value
    # one partial, no object of our own: it is made for every request, and every
    # container made here costs the garbage collector too
    request.hooks["response"].append(partial(on_response, authorizer, request, decision))
    return request


def on_response(
    authorizer: Authorizer,
    request: requests.PreparedRequest,
    decision: Decision,
    response: requests.Response,
    **options: Any,
) -> requests.Response:
    """The response hook of one ``Session.send``, called for every response of it.

    ``request`` is the first request of the send and ``decision`` what it
    went out with; after a re-send, the state of the send (the decision now
    carried, the origins re-sent to) is kept on ``request``. requests builds every redirect
    hop from a copy of the first request, so after a re-send with a fresh
    credential the first request is changed too: otherwise each hop would
    go out with the credential just found stale, be rejected, and cost
    another lookup and another request. One re-send per origin for the
    whole send, hops included, as in httpx, whose auth flow wraps its
    redirects: a server that answers every re-send with a redirect back to
    a 401 gets one, not one per hop.
    """
    if response.is_redirect:
        return guard_redirect(response)
    status = response.status_code
    if status != 401 and status != 403:
        return response
    last = response.request
    last_url = last.url or ""
    origin = authorizer.chain.origin_of(last_url)
    send: _Send | None = getattr(request, _STATE, None)
    if send is not None and origin in send.retried:
        return response
    retry = authorizer.reconsider(
        decision if send is None else send.decision,
        status,
        response.headers.get("WWW-Authenticate"),
        last_url,
        last.headers.get("Authorization"),
        replayable(last),
    )
    if retry is None:
        return response
    resent = last.copy()
    resent.headers.pop("Authorization", None)
    if retry.url is not None:
        resent.url = retry.url
    if retry.authorization is not None:
        resent.headers["Authorization"] = retry.authorization
    if send is None:
        send = _Send(decision)
        setattr(request, _STATE, send)
    send.retried.add(origin)
    if origin == authorizer.chain.origin_of(request.url or ""):  # so later hops carry it
        send.decision = retry
        request.headers.pop("Authorization", None)
        if retry.authorization is not None:
            request.headers["Authorization"] = retry.authorization
    response.content  # noqa: B018  (free the connection before re-using it)
    response.raw.release_conn()
    new_response: requests.Response = response.connection.send(resent, **options)
    new_response.history.append(response)
    new_response.request = resent
    return guard_redirect(new_response)  # the adapter runs no hooks: guard it here


_STATE = "_authadapter_send"


class _Send:
    """What one send has done so far, made only when it re-sends (rarely)."""

    __slots__ = ("decision", "retried")

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.retried: set[Origin] = set()


def replayable(request: requests.PreparedRequest) -> bool:
    if request.body is None:
        return True
    return isinstance(request.body, (bytes, str))


def redirect_target(request_url: str, location: str) -> str:
    """Where requests will go for ``location``."""
    return requests_style_redirect_target(request_url, location, requote_uri)


def guard_redirect(response: requests.Response, **kwargs: Any) -> requests.Response:
    """Take the first origin's conda token out of a cross-origin ``Location``."""
    if response.is_redirect:
        last_url = response.request.url or ""
        target = redirect_target(last_url, response.headers["Location"])
        cleaned = location_without_foreign_token(last_url, target)
        if cleaned is not None:
            response.headers["Location"] = cleaned
    return response
