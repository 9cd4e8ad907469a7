"""What ``authadapter list`` and ``which`` show: stores' contents and answers, secrets masked.

Kept out of ``cli.py`` so the command line only parses and prints, and so the
same explanations are available to a program (``explain(url)`` is what a user
wants in a bug report: every store's answer for one URL, no secret).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from authadapter._chain import ProviderChain
from authadapter._credentials import BasicCredential, CondaToken, Credential
from authadapter._exceptions import StoreError
from authadapter._origin import Origin, normalize_host
from authadapter._policy import caller_brought_credentials, plain_http_allowed
from authadapter._provider import CredentialProvider, Failure, Found, LookupResult
from authadapter.providers._entry import ListableProvider, StoredEntry

__all__ = [
    "Answer",
    "Explanation",
    "describe_credential",
    "entry_table",
    "explain",
    "explanation_lines",
    "list_entries",
]

MASK = "***"


def describe_credential(credential: Credential, *, show_secret: bool = False) -> str:
    """How ``credential`` is applied to a request, with the secret masked unless asked."""
    if isinstance(credential, CondaToken):
        return f"path /t/{credential.token if show_secret else MASK}/"
    if isinstance(credential, BasicCredential):
        password = credential.password if show_secret else MASK
        return f"Authorization: Basic (user {credential.username!r}, password {password})"
    value = credential.authorization() or ""
    if not show_secret:
        scheme, _, _ = value.partition(" ")
        value = f"{scheme} {MASK}" if credential.kind == "bearer" else MASK
    return f"Authorization: {value}"


@dataclass(frozen=True, slots=True)
class Answer:
    """One provider's uncached answer for an origin; ``used`` marks the one the chain takes."""

    provider: str
    result: LookupResult
    used: bool = False


@dataclass(frozen=True, slots=True)
class Explanation:
    origin: Origin
    answers: tuple[Answer, ...]
    url_has_credentials: bool
    """The URL carries ``user:pass@`` or a ``/t/<token>/`` path: it is sent as it is."""
    plain_http: str | None = None
    """``"refused"`` or ``"allowed"`` for plain http to a host that is not loopback."""

    @property
    def sends(self) -> Answer | None:
        """The answer whose credential the request really carries, if any.

        The chain's pick is not sent when the URL brings its own credentials
        or when plain http to the host is refused: ``which`` must not claim it is.
        """
        if self.url_has_credentials or self.plain_http == "refused":
            return None
        return next((answer for answer in self.answers if answer.used), None)


def explain(
    url: str,
    providers: Sequence[CredentialProvider],
    timeout: float = 10.0,
    allow_http_hosts: Collection[str] = (),
) -> Explanation:
    """Ask every provider about ``url``, bypassing any cache, and mark the one that wins.

    The winner is the first ``Found``; a fatal failure before it means the
    chain would stop there, so nothing is marked after it. ``allow_http_hosts``
    is ``RegistryAuth``'s: plain http to any other host that is not loopback
    gets no credential.
    """
    origin = Origin.from_url(url)
    plain_http = None
    if origin.scheme == "http" and not origin.is_loopback:
        allowed = {normalize_host(host) for host in allow_http_hosts}
        plain_http = "allowed" if plain_http_allowed(origin, allowed) else "refused"
    chain = ProviderChain(providers, timeout=timeout)
    answers: list[Answer] = []
    decided = False
    for provider in providers:
        result = chain.ask(provider, origin, url)
        used = not decided and isinstance(result, Found)
        if used or (isinstance(result, Failure) and result.fatal):
            decided = True
        answers.append(Answer(provider.name, result, used))
    carries = caller_brought_credentials(url, has_authorization=False)
    return Explanation(origin, tuple(answers), carries, plain_http)


def list_entries(
    providers: Sequence[CredentialProvider], timeout: float = 10.0
) -> tuple[list[StoredEntry], list[str]]:
    """Entries of every provider that can list them, and one message per store that failed.

    A blocking store (the keyring) gets ``timeout`` seconds, like a lookup: a
    Secret Service that never answers must not hang ``authadapter list``.
    """
    entries: list[StoredEntry] = []
    errors: list[str] = []
    for provider in providers:
        if not isinstance(provider, ListableProvider):
            continue
        try:
            if getattr(provider, "blocking", False):
                entries.extend(_within(timeout, provider))
            else:
                entries.extend(provider.entries())
        except StoreError as error:
            errors.append(str(error))
    return entries, errors


def _within(timeout: float, provider: ListableProvider) -> list[StoredEntry]:
    outcome: list[list[StoredEntry] | StoreError] = []

    def run() -> None:
        try:
            outcome.append(provider.entries())
        except StoreError as error:
            outcome.append(error)

    worker = threading.Thread(target=run, name=f"authadapter-list-{provider.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise StoreError(f"{provider.name}: did not answer within {timeout:g} s; not listed")
    if isinstance(outcome[0], StoreError):
        raise outcome[0]
    return outcome[0]


def explanation_lines(explanation: Explanation) -> list[str]:
    """What ``authadapter which`` prints: the origin, every store's answer, the verdict."""
    sent = explanation.sends
    lines = [str(explanation.origin)]
    width = max([len(answer.provider) for answer in explanation.answers] or [0])
    for answer in explanation.answers:
        result = answer.result
        if isinstance(result, Found):
            mark = "   <- used" if answer is sent else ""
            if answer.used and answer is not sent:
                mark = "   <- found, not sent"
            text = f"{result.source}: {describe_credential(result.credential)}{mark}"
        elif isinstance(result, Failure):
            text = ("fatal error: " if result.fatal else "error: ") + result.message
        else:
            text = "nothing"
        lines.append(f"  {answer.provider.ljust(width)}  {text}")
    lines.extend(f"  {line}" for line in _verdict(explanation, sent is not None))
    return lines


def _verdict(explanation: Explanation, sent: bool) -> list[str]:
    """Whether a credential goes out, and what would stop it."""
    host = explanation.origin.host
    if explanation.url_has_credentials:
        return ["the URL carries its own credentials: it is sent unchanged, no store is used"]
    if explanation.plain_http == "refused" and any(a.used for a in explanation.answers):
        return [
            f"plain http to {host}, which is not loopback: the credential is not sent",
            f"(allow_http_hosts = [{host!r}] in the configuration allows it)",
        ]
    lines = [] if sent else ["no credential: the request is sent without one"]
    if explanation.plain_http == "allowed":
        lines.append(f"note: {host} is in allow_http_hosts: a credential goes over plain http")
    if sent:
        lines.append("(a request that brings its own Authorization or user:password@ keeps it)")
    return lines


def entry_table(entries: Sequence[StoredEntry], *, show_secrets: bool = False) -> list[str]:
    """What ``authadapter list`` prints: one aligned row per entry, secrets masked unless asked."""
    if not entries:
        return ["no stored credentials"]
    header = ("KEY", "KIND", "STORE", "APPLIED AS")
    rows = [header] + [
        (
            entry.key,
            entry.credential.kind,
            entry.source,
            describe_credential(entry.credential, show_secret=show_secrets),
        )
        for entry in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return ["  ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]) for row in rows]
