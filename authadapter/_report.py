"""What ``authadapter list`` and ``which`` show: stores' contents and answers, secrets masked.

Kept out of ``cli.py`` so the command line only parses and prints, and so the
same explanations are available to a program (``explain(url)`` is what a user
wants in a bug report: every store's answer for one URL, no secret).
"""

from __future__ import annotations

from collections.abc import Sequence

from authadapter._authorizer import Explanation
from authadapter._concurrency import call_with_timeout
from authadapter._credentials import BasicCredential, CondaToken, Credential
from authadapter._exceptions import ProviderTimeoutError, StoreError
from authadapter._provider import CredentialProvider, Failure, Found, Provider, as_provider
from authadapter.providers._entry import ListableProvider, StoredEntry

__all__ = [
    "describe_credential",
    "entry_table",
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


def list_entries(
    providers: Sequence[CredentialProvider | Provider], timeout: float = 10.0
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
            if as_provider(provider).blocking:
                name = f"authadapter-list-{provider.name}"
                entries.extend(call_with_timeout(provider.entries, timeout, name))
            else:
                entries.extend(provider.entries())
        except ProviderTimeoutError:
            errors.append(f"{provider.name}: did not answer within {timeout:g} s; not listed")
        except StoreError as error:
            errors.append(str(error))
    return entries, errors


def explanation_lines(explanation: Explanation) -> list[str]:
    """What ``authadapter which`` prints: the origin, every store's answer, the verdict."""
    sent = explanation.sends
    used = explanation.used
    lines = [str(explanation.origin)]
    width = max([len(answer.provider) for answer in explanation.answers] or [0])
    for answer in explanation.answers:
        result = answer.result
        if isinstance(result, Found):
            mark = "   <- used" if answer is sent else ""
            if answer is used and answer is not sent:
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
    if explanation.plain_http == "refused" and explanation.used is not None:
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
