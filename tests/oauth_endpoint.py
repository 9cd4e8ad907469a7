"""A real OAuth token endpoint on loopback, and pixi OAuth entries to point at it.

The endpoint answers ``grant_type=refresh_token`` POSTs the way an
authorization server with rotating refresh tokens does: each refresh
consumes the refresh token it was given (a second use is ``invalid_grant``)
and hands out a new access and refresh token. Tests count the refreshes it
served and what the registry server received.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from tests.support import LoopbackServer, Received, Reply


class TokenEndpoint:
    """The state behind a loopback token endpoint: valid refresh tokens and a refresh count."""

    def __init__(
        self, refresh_token: str, *, expires_in: int | None = 3600, delay: float = 0.0
    ) -> None:
        self.valid = {refresh_token}
        self.expires_in = expires_in
        self.delay = delay
        self.refreshes = 0
        self.forms: list[dict[str, str]] = []
        self.issued: list[str] = []
        self.answer: Reply | None = None  # a fixed answer instead of a token, when set
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, server: LoopbackServer, request: Received) -> Reply:
        if request.method != "POST":
            return Reply(405, {}, b"")
        form = {k: v[0] for k, v in parse_qs(request.body.decode("ascii")).items()}
        time.sleep(self.delay)
        with self._lock:
            self.forms.append(form)
            if self.answer is not None:
                return self.answer
            token = form.get("refresh_token", "")
            if form.get("grant_type") != "refresh_token" or token not in self.valid:
                return _json(400, {"error": "invalid_grant"})
            self.valid.discard(token)
            self.refreshes += 1
            number = next(self._numbers)
            access, refresh = f"access-renewed-{number:04d}", f"refresh-renewed-{number:04d}"
            self.valid.add(refresh)
            self.issued.append(access)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
        body["refresh_token"] = refresh
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return _json(200, body)


def _json(status: int, body: object) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


ORIGINAL_ACCESS = "access-original-0001"
ORIGINAL_REFRESH = "refresh-original-0001"


def oauth_value(
    endpoint: str,
    *,
    access_token: str = ORIGINAL_ACCESS,
    refresh_token: str | None = ORIGINAL_REFRESH,
    expires_in: float | None = 60.0,
    **extra: object,
) -> dict[str, Any]:
    """A stored ``{"OAuth": ...}`` value as pixi writes it, expiring ``expires_in`` s from now."""
    expires_at = None if expires_in is None else int(time.time() + expires_in)
    return {
        "OAuth": {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_at": expires_at,
            "token_endpoint": endpoint,
            "revocation_endpoint": None,
            "client_id": "pixi-test-client",
            **extra,
        }
    }
