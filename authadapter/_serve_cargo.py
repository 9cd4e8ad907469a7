"""``authadapter cargo-credential``: authadapter answering Cargo as its credential provider.

This is the serving side (Cargo asks us, protocol v1); ``providers/cargo/``
is the other side, authadapter reading Cargo's stores and calling Cargo's
credential plugins.

Configured as ``credential-provider = "authadapter cargo-credential"``, Cargo
runs ``authadapter --cargo-plugin``. We say hello, read one request, answer
it and exit 0 (an error is an answer too; only a missing request exits 1).

* ``get`` answers the exact ``Authorization`` value ``RegistryAuth`` would send
  to the index URL (``sparse+`` stripped), so a stored Bearer token comes out
  as ``Bearer xyz``, which is what Cargo then sends verbatim. Cache
  ``session`` and operation-independent: the value does not depend on the
  operation. Nothing found, or a credential that is not a header (a conda
  token), is ``not-found``, and Cargo moves on to its next provider.
* The chain used is the default one without the ``cargo`` store: asking Cargo's
  configuration would ask us again. ``AUTHADAPTER_IN_CARGO_PLUGIN`` is set too,
  so a command run from here that runs cargo cannot loop back either.
* ``login`` stores the token so that it is sent back verbatim, as Cargo sends
  it: ``Bearer xyz`` as a bearer token. Any other token is refused with a
  message saying where it can go: pixi's formats have no raw kind, storing it
  as a bearer token would add ``Bearer ``, and writing Cargo's own
  ``credentials.toml`` is not ours to do unasked. The key is the index URL's
  host, with its port when that is not the default (``host`` or
  ``host:port``, never a wildcard: a Cargo token
  belongs to one registry), written by ``authadapter._store.save_credential``.
  ``logout`` deletes that key everywhere login writes.
* Anything else is ``operation-not-supported``. Error messages come from
  authadapter's own exceptions, which never carry a secret.
"""

from __future__ import annotations

import json
import os
from typing import Any, TextIO

from authadapter._credentials import BearerToken, Credential, RawToken
from authadapter._exceptions import AuthAdapterError, InvalidCredentialError
from authadapter._origin import Origin
from authadapter._reentry import IN_PLUGIN_VARIABLE

__all__ = ["answer", "serve", "store_key", "stored_credential"]

PROTOCOL_VERSION = 1

RAW_LOGIN_REFUSED = (
    "authadapter stores only `Bearer <token>` tokens (pixi's formats have no raw token); "
    "log in with `Bearer <token>` if the registry expects that, otherwise keep the token "
    'with Cargo: credential-provider = "cargo:token", then `cargo login` again'
)


def store_key(index_url: str) -> str:
    """The authadapter store key for a registry: ``host``, or ``host:port`` off the default."""
    origin = Origin.from_url(index_url)
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return host if origin.has_default_port else f"{host}:{origin.port}"


def _error(kind: str, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind}
    if message is not None:
        body["message"] = message
    return {"Err": body}


def _plain_url(index_url: str) -> str:
    return index_url[len("sparse+") :] if index_url.startswith("sparse+") else index_url


def _get(index_url: str) -> dict[str, Any]:
    """What ``RegistryAuth`` would send to the index URL, from the same core.

    The ``Authorizer`` imports no HTTP client: importing httpx would be a
    third of the start-up time Cargo pays for every registry it touches.
    """
    from authadapter._authorizer import Authorizer

    url = _plain_url(index_url)
    decision = Authorizer(exclude=("cargo",)).decide(url)
    if decision.authorization is None:  # nothing, plain http refused, or a conda token
        return _error("not-found")
    answer = {
        "kind": "get",
        "token": decision.authorization,
        "cache": "session",
        "operation_independent": True,
    }
    return {"Ok": answer}


def stored_credential(token: str) -> Credential:
    """The credential that makes ``RegistryAuth`` send ``token`` verbatim.

    ``Bearer xyz`` becomes a ``BearerToken``, which pixi's stores can hold and
    which is sent as exactly ``Bearer xyz``; any other token stays raw.
    """
    scheme, _, rest = token.partition(" ")
    if scheme == "Bearer" and rest and rest == rest.strip():
        return BearerToken(rest)
    return RawToken(token)


def _login(index_url: str, token: object) -> dict[str, Any]:
    from authadapter._store import save_credential

    if not isinstance(token, str) or not token:
        return _error("other", "cargo gave no token; pass it to `cargo login`")
    try:
        credential = stored_credential(token)
    except InvalidCredentialError as error:
        return _error("other", f"refusing the token: {error}")
    if isinstance(credential, RawToken):
        # Stored as a bearer token it would come back as `Bearer <token>`, not what Cargo sends.
        return _error("other", RAW_LOGIN_REFUSED)
    save_credential(store_key(index_url), credential)
    return {"Ok": {"kind": "login"}}


def _logout(index_url: str) -> dict[str, Any]:
    from authadapter._store import delete_credential

    if not delete_credential(store_key(index_url)):
        return _error("not-found")
    return {"Ok": {"kind": "logout"}}


def answer(request: Any) -> dict[str, Any]:
    """The response to one decoded request."""
    if not isinstance(request, dict) or request.get("v") != PROTOCOL_VERSION:
        return _error("other", "authadapter speaks credential-provider protocol version 1 only")
    registry = request.get("registry")
    index_url = registry.get("index-url") if isinstance(registry, dict) else None
    if not isinstance(index_url, str):
        return _error("other", "the request names no registry index URL")
    kind = request.get("kind")
    try:
        Origin.from_url(index_url)
    except ValueError:
        return _error("url-not-supported")
    try:
        if kind == "get":
            return _get(index_url)
        if kind == "login":
            return _login(index_url, request.get("token"))
        if kind == "logout":
            return _logout(index_url)
    except AuthAdapterError as error:
        return _error("other", str(error))
    return _error("operation-not-supported")


def serve(stdin: TextIO, stdout: TextIO, args: list[str]) -> int:
    """Speak one exchange of the protocol on ``stdin``/``stdout``; the exit status.

    ``args`` are the command-line arguments after ``--cargo-plugin`` (Cargo
    passes none; the configured ones arrive in the request and are ignored
    beyond ``cargo-credential``).
    """
    os.environ[IN_PLUGIN_VARIABLE] = "1"  # Cargo's store, asked from here, would ask us again
    stdout.write(json.dumps({"v": [PROTOCOL_VERSION]}) + "\n")
    stdout.flush()
    line = stdin.readline()
    if not line.strip():
        return 1
    try:
        request = json.loads(line)
    except ValueError:
        response = _error("other", "the request is not valid JSON")
    else:
        response = answer(request)
    stdout.write(json.dumps(response) + "\n")
    stdout.flush()
    return 0
