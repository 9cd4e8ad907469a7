"""``[[commands]]``: a credential printed by a command the user configured for some hosts.

The command runs through ``authadapter._subprocess`` (stdin ``/dev/null``,
output capped, one deadline, its whole process tree killed on failure) and
its single line of output becomes the credential, by Cargo's
``token-from-stdout`` rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from authadapter._credentials import BearerToken, Credential
from authadapter._exceptions import InvalidCredentialError, ProviderError
from authadapter._matching import candidate_keys, normalize_key
from authadapter._origin import Origin
from authadapter._provider import Failure, Found, LookupResult, Miss, Provider
from authadapter._subprocess import describe_command, process_timeout, run_token_command

__all__ = ["CommandProvider"]


class CommandProvider(Provider):
    """A provider that runs a command for the hosts it is configured for.

    ``hosts`` are store keys as ``candidate_keys`` produces them
    (``host``, ``host:port``, ``*.domain``); the command runs only for an
    origin one of them matches, with ``AUTHADAPTER_URL`` (the request URL)
    and ``AUTHADAPTER_HOST`` added to its environment. Its single line of
    output becomes ``credential(line)`` (a ``BearerToken`` by default). A
    failing command is a non-fatal ``Failure``: the chain warns and asks the
    next provider. ``timeout`` is the chain's; the command gets slightly less
    (``process_timeout``), so a hung command is reported by name.
    """

    blocking = True

    def __init__(
        self,
        argv: Sequence[str],
        *,
        hosts: Iterable[str],
        credential: Callable[[str], Credential] = BearerToken,
        env: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        ttl: float | None = None,
        name: str = "command",
    ) -> None:
        if not argv:
            raise ValueError("a command provider needs a command")
        self.argv = tuple(argv)
        self.hosts = frozenset(normalize_key(host) for host in hosts)
        self.credential = credential
        self.env = dict(env or {})
        self.timeout: float = timeout
        self.ttl = ttl
        self.name = name

    def __repr__(self) -> str:
        return f"CommandProvider({describe_command(self.argv)}, hosts={sorted(self.hosts)!r})"

    @property
    def description(self) -> str:
        """The executable (never its arguments, which may hold a secret) and its hosts."""
        return f"{describe_command(self.argv)} for {', '.join(sorted(self.hosts))}"

    def applies_to(self, origin: Origin) -> bool:
        return any(key in self.hosts for key in candidate_keys(origin))

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        if not self.applies_to(origin):
            return Miss()
        what = describe_command(self.argv)
        env = {**self.env, "AUTHADAPTER_URL": url, "AUTHADAPTER_HOST": origin.host}
        try:
            timeout = process_timeout(self.timeout)
            line = run_token_command(self.argv, env=env, timeout=timeout, what=what)
            if not line:
                return Failure(f"{what} printed an empty token", ttl=self.ttl)
            return Found(self.credential(line), what, self.ttl)
        except InvalidCredentialError as error:
            return Failure(f"{what}: {error}", ttl=self.ttl)
        except ProviderError as error:
            return Failure(str(error), ttl=self.ttl)
