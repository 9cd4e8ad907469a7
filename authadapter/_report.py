"""What ``authadapter list`` and ``which`` show: stores' contents and answers, secrets masked.

Kept out of ``cli.py`` so the command line only parses and prints, and so the
same explanations are available to a program (``explain(url)`` is what a user
wants in a bug report: every store's answer for one URL, no secret).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from authadapter._chain import ProviderChain
from authadapter._credentials import BasicCredential, CondaToken, Credential
from authadapter._exceptions import StoreError
from authadapter._origin import Origin, normalize_host
from authadapter._provider import CredentialProvider, Failure, Found, LookupResult
from authadapter._urls import conda_token_in_path, has_userinfo
from authadapter.providers._entry import ListableProvider, StoredEntry

__all__ = ["Answer", "Explanation", "describe_credential", "explain", "list_entries"]

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
        plain_http = "allowed" if origin.host in allowed else "refused"
    chain = ProviderChain(providers, timeout=timeout)
    answers: list[Answer] = []
    decided = False
    for provider in providers:
        result = chain.ask(provider, origin, url)
        used = not decided and isinstance(result, Found)
        if used or (isinstance(result, Failure) and result.fatal):
            decided = True
        answers.append(Answer(provider.name, result, used))
    carries = has_userinfo(url) or conda_token_in_path(url) is not None
    return Explanation(origin, tuple(answers), carries, plain_http)


def list_entries(
    providers: Sequence[CredentialProvider],
) -> tuple[list[StoredEntry], list[str]]:
    """Entries of every provider that can list them, and one message per store that failed."""
    entries: list[StoredEntry] = []
    errors: list[str] = []
    for provider in providers:
        if not isinstance(provider, ListableProvider):
            continue
        try:
            entries.extend(provider.entries())
        except StoreError as error:
            errors.append(str(error))
    return entries, errors
