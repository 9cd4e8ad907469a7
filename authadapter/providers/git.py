"""git's credential helpers, through ``git credential fill`` (provider ``git``, off by default).

A user whose git already holds a token for the company's GitLab (through
``credential.helper``: the OS keychain, Git Credential Manager, ``store``,
``cache``) needs nothing more: git runs its configured helpers for the
request's protocol, host (with its port when the URL has one) and, when git's
configuration asks for it (``credential.useHttpPath``, also per URL), path.
``username``/``password`` become Basic; a git 2.46+ helper's
``authtype``/``credential`` become ``Authorization: <authtype> <credential>``.

Decisions a caller may rely on:

* Nothing can prompt. ``GIT_TERMINAL_PROMPT=0``; git's askpass is replaced
  by ``true`` (it answers nothing, so git neither prompts nor prints
  "could not read Username" for every host its helpers do not know, and
  ``core.askPass``/``SSH_ASKPASS`` are never run); Git Credential Manager
  is told ``GCM_INTERACTIVE=never`` and ``credential.interactive=false``;
  git runs in a session of its own, without a controlling terminal, so a
  helper that opens ``/dev/tty`` fails instead of prompting. An empty
  answer is a miss.
* It only reads: never ``git credential approve`` or ``reject``, so a
  credential the server refuses is not erased from the user's helpers.
* git runs from the filesystem root, so the repository the calling program
  happens to be in cannot choose the helper; the user's global and system
  configuration apply, as for any git command outside a repository.
* When a ``useHttpPath`` setting is present the answer may differ by path,
  so it is not cached (``ttl=0``); otherwise the chain caches it per origin,
  no longer than a helper's ``password_expiry_utc``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from authadapter._credentials import BasicCredential, BearerToken, Credential, RawToken
from authadapter._exceptions import InvalidCredentialError, ProviderError
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider
from authadapter._reentry import REENTRY_VARIABLE
from authadapter._subprocess import CommandProcess, process_timeout

__all__ = [
    "GIT_ENVIRONMENT",
    "GitAnswer",
    "GitProvider",
    "credential_request",
    "parse_credential_output",
]

GIT_ENVIRONMENT: Mapping[str, str] = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "",
    "GCM_INTERACTIVE": "never",
    REENTRY_VARIABLE: "1",
}
"""Added to the environment of every git command the provider runs: no prompt of any kind."""

_GIT_OPTIONS = ("-c", "credential.interactive=false")
"""Git Credential Manager's own setting, in case the environment variable is overridden."""

_AUTH_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_USE_HTTP_PATH = r"^credential\..*usehttppath$"


@dataclass(frozen=True, slots=True)
class GitAnswer:
    """What ``git credential fill`` printed, reduced to what we use."""

    credential: Credential | None
    expires_at: int | None = None


def credential_request(protocol: str, host: str, path: str | None) -> bytes:
    """The description ``git credential fill`` reads: one ``key=value`` line each, a blank line.

    ``capability[]=authtype`` lets a git 2.46+ helper answer with a token
    other than a password; older git ignores the line. Raises
    ``ProviderError`` for a value with a newline or NUL, which would forge
    another attribute.
    """
    lines = ["capability[]=authtype", f"protocol={protocol}", f"host={host}"]
    if path is not None:
        lines.append(f"path={path}")
    for line in lines:
        if "\n" in line or "\0" in line:
            raise ProviderError("the URL holds a newline or NUL: not passed to git")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def parse_credential_output(output: bytes, now: float) -> GitAnswer:
    """The credential in git's answer; ``GitAnswer(None)`` when there is none.

    ``authtype`` and ``credential`` (git 2.46+) win over ``username`` and
    ``password``; a ``Bearer`` authtype is a ``BearerToken``, another scheme
    is sent verbatim as ``<authtype> <credential>``. An answer whose
    ``password_expiry_utc`` has passed is no answer, as git itself discards
    it. Raises ``ProviderError`` for output that is not UTF-8 and
    ``InvalidCredentialError`` for values that cannot be sent in a header.
    """
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise ProviderError("git credential fill printed output that is not UTF-8") from None
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        if not line:
            break
        key, equals, value = line.partition("=")
        if equals:
            fields[key] = value
    expiry = fields.get("password_expiry_utc", "")
    expires_at = int(expiry) if expiry.isdigit() else None
    if expires_at is not None and expires_at <= now:
        return GitAnswer(None)
    authtype, token = fields.get("authtype", ""), fields.get("credential", "")
    if authtype and token:
        if not _AUTH_SCHEME.fullmatch(authtype):
            raise InvalidCredentialError("authtype is not an HTTP authentication scheme")
        if authtype.lower() == "bearer":
            return GitAnswer(BearerToken(token), expires_at)
        return GitAnswer(RawToken(f"{authtype} {token}"), expires_at)
    password = fields.get("password", "")
    if not password:
        return GitAnswer(None)
    return GitAnswer(BasicCredential(fields.get("username", ""), password), expires_at)


class GitProvider(Provider):
    """Credentials from git's credential helpers, read-only.

    ``timeout`` bounds all of one lookup's git commands together (they are
    killed a little before it); ``ttl`` caps how long an answer is cached
    (``None``: the chain's ``ttl``, or the helper's expiry if sooner).
    """

    name = "git"
    blocking = True

    def __init__(
        self, *, timeout: float = 10.0, ttl: float | None = None, git: str = "git"
    ) -> None:
        self.timeout = timeout
        self._limit = timeout
        self.ttl = ttl
        self.git = git

    @property
    def description(self) -> str:
        return "git credential fill (the helpers in git's credential.helper configuration)"

    def __repr__(self) -> str:
        return f"GitProvider(git={self.git!r})"

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        if origin.scheme not in ("http", "https"):
            return Miss()
        deadline = time.monotonic() + process_timeout(self._limit)
        by_path = False
        try:
            send_path, by_path = self._use_http_path(url, deadline)
            path = _git_path(url) if send_path else None
            host = _git_host(origin)
            request = credential_request(origin.scheme, host, path)
            output = self._git(["credential", "fill"], deadline, stdin=request)
            answer = parse_credential_output(output, time.time())
        except InvalidCredentialError as error:
            return Failure(f"git credential fill: {error}", ttl=0 if by_path else None)
        except ProviderError as error:
            return Failure(str(error))
        lifetime = self._lifetime(answer, by_path)
        if answer.credential is None:
            return Miss(ttl=lifetime)
        shown = f"{origin.scheme}://{host}" + (f"/{path}" if path else "")
        return Found(answer.credential, f"git credential fill for {shown}", lifetime)

    def _lifetime(self, answer: GitAnswer, by_path: bool) -> float | None:
        if by_path:
            return 0
        if answer.expires_at is None:
            return self.ttl
        left = answer.expires_at - time.time()
        return left if self.ttl is None else min(self.ttl, left)

    def _use_http_path(self, url: str, deadline: float) -> tuple[bool, bool]:
        """Whether git's configuration sends the path for ``url``, and whether any setting does.

        One ``git config`` call when no ``useHttpPath`` is set anywhere (the
        usual case); a second, git's own URL matching, when one is set for
        some URL.
        """
        listed = self._git(
            ["config", "--null", "--type=bool", "--get-regexp", _USE_HTTP_PATH],
            deadline,
            missing_ok=True,
        )
        records = [r.split("\n", 1) for r in listed.decode("utf-8", "replace").split("\0") if r]
        if not records:
            return False, False
        if all(key == "credential.usehttppath" for key, *_ in records):
            value = records[-1][1] if len(records[-1]) > 1 else ""
            return value.strip() == "true", value.strip() == "true"
        matched = self._git(
            ["config", "--type=bool", "--get-urlmatch", "credential.usehttppath", url],
            deadline,
            missing_ok=True,
        )
        return matched.strip() == b"true", True

    def _git(
        self,
        arguments: Sequence[str],
        deadline: float,
        *,
        stdin: bytes | None = None,
        missing_ok: bool = False,
    ) -> bytes:
        """Run ``git ARGUMENTS`` from the filesystem root; its stdout.

        ``missing_ok``: exit status 1 (``git config``'s "not set") is an
        empty answer. Any other failure raises ``ProviderError`` naming the
        git command, never its output.
        """
        what = f"git {arguments[0]}" + (f" {arguments[1]}" if arguments[0] == "credential" else "")
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProviderError(f"{what} did not run: no time left within {self._limit:g} s")
        with CommandProcess(
            [self.git, *_GIT_OPTIONS, *arguments],
            env=GIT_ENVIRONMENT,
            timeout=left,
            what=what,
            pipe_stdin=stdin is not None,
            cwd=os.path.abspath(os.sep),
            new_session=True,
        ) as child:
            if stdin is not None:
                child.send(stdin)
            output = child.read_rest()
            status = child.wait()
            if status == 1 and missing_ok:
                return b""
            if status != 0:  # raised inside: whatever the command left running is killed
                raise ProviderError(f"{what} failed with exit status {status}")
        return output


def _git_host(origin: Origin) -> str:
    """The host as git writes it: with its port unless that is the scheme's default."""
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return host if origin.has_default_port else f"{host}:{origin.port}"


def _git_path(url: str) -> str:
    """The path as git passes it to helpers: decoded, without the slashes around it."""
    return unquote(urlsplit(url).path).strip("/")
