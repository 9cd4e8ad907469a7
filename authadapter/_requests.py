"""The requests adapter: apply on the way out, check on the way back.

requests calls its ``auth`` once per ``Session.send`` and never for the hops
of a redirect, which it builds from a copy of the first request. So the
adapter works in two places: ``prepare`` applies the credential to the first
request and registers a response hook; the hook, called for every response,
removes the first origin's conda token from a redirect that leaves the origin
and, on a rejection, re-sends once with a fresh credential (the approach
pip's ``MultiDomainBasicAuth`` takes). requests itself drops
``Authorization`` when a redirect changes host, port or scheme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from ._chain import Resolution
from ._credentials import Credential
from ._origin import Origin
from ._policy import (
    caller_brought_credentials,
    credential_rejected,
    location_without_foreign_token,
)
from ._urls import conda_token_in_path, strip_conda_token

if TYPE_CHECKING:
    from ._registry_auth import RegistryAuth

__all__ = ["prepare"]


def prepare(auth: RegistryAuth, request: requests.PreparedRequest) -> requests.PreparedRequest:
    url = request.url or ""
    if caller_brought_credentials(url, "Authorization" in request.headers):
        return request
    resolution = auth.chain.resolve(url)
    sent = apply(auth, request, resolution)

    def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
        return handle_response(auth, response, sent, kwargs)

    request.register_hook("response", on_response)  # type: ignore[no-untyped-call]
    return request


def apply(
    auth: RegistryAuth, request: requests.PreparedRequest, resolution: Resolution
) -> Credential | None:
    url = strip_conda_token(request.url or "")
    applied = auth.plan(url, resolution)
    if applied is None:
        return None
    request.url = applied.url
    if applied.authorization is not None:
        request.headers["Authorization"] = applied.authorization
    return resolution.credential


def carries(request: requests.PreparedRequest, credential: Credential) -> bool:
    header = credential.authorization()
    if header is not None:
        return request.headers.get("Authorization") == header
    return conda_token_in_path(request.url or "") is not None


def replayable(request: requests.PreparedRequest) -> bool:
    if request.body is None:
        return True
    return isinstance(request.body, (bytes, str))


def handle_response(
    auth: RegistryAuth,
    response: requests.Response,
    sent: Credential | None,
    send_options: dict[str, Any],
) -> requests.Response:
    last = response.request
    last_url = last.url or ""
    if response.is_redirect:
        cleaned = location_without_foreign_token(last_url, response.headers["Location"])
        if cleaned is not None:
            response.headers["Location"] = cleaned
        return response
    if getattr(last, "_authadapter_retry", False) or not credential_rejected(
        response.status_code, response.headers.get("WWW-Authenticate")
    ):
        return response
    origin = Origin.from_url(last_url)
    used = sent if sent is not None and carries(last, sent) else None
    if used is not None:
        auth.invalidate(last_url)
    fresh = auth.chain.resolve_origin(origin, last_url)
    if fresh.credential is None or fresh.credential == used or not replayable(last):
        return response
    retry = last.copy()
    retry.headers.pop("Authorization", None)
    if apply(auth, retry, fresh) is None:
        return response
    retry._authadapter_retry = True  # type: ignore[attr-defined]
    response.content  # noqa: B018  (free the connection before re-using it)
    response.raw.release_conn()
    adapter = response.connection
    new_response: requests.Response = adapter.send(retry, **send_options)
    new_response.history.append(response)
    new_response.request = retry
    return new_response
