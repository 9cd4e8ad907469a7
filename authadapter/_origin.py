"""Origins: the unit a credential is bound to.

An origin is (scheme, host, port) after normalisation, so that two spellings
of one server compare equal and two servers never do: the host is lower-cased,
IDNA-encoded and stripped of a trailing dot, IPv6 literals lose their
brackets, and a missing port becomes the scheme's default. Everything that
decides whether a credential may go somewhere compares ``Origin`` values, never
raw strings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Origin", "is_ip_address", "normalize_host"]

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

_UNSENDABLE = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


# IDNA 2003 (Python's "idna" codec) and IDNA 2008 disagree on a few characters:
# "straße.de" is "strasse.de" in one and "xn--strae-oqa.de" in the other, two
# different domains. httpx and requests connect with IDNA 2008 (the ``idna``
# package, which both depend on), so origins must be computed the same way or
# a credential stored for one spelling would go to the other domain.
_IDNA_2003_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")


def _idna_encode(host: str) -> str:
    try:
        import idna
    except ImportError:  # neither httpx nor requests installed: no request is sent anyway
        if _IDNA_2003_DEVIATIONS.intersection(host):
            raise ValueError("host needs IDNA 2008; install the 'idna' package") from None
        return host.encode("idna").decode("ascii")
    return str(idna.encode(host, uts46=True).decode("ascii"))


def normalize_host(host: str) -> str:
    """Return the canonical spelling of ``host``.

    Lower case, no trailing dot, no IPv6 brackets, non-ASCII labels turned into
    their IDNA 2008 ("xn--") form, as httpx and requests encode them. Raises
    ``ValueError`` for a host that cannot be encoded.
    """
    host = host.strip().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host.isascii():
        host = _idna_encode(host)
    host = host.lower()
    if ":" in host:
        host = str(ipaddress.IPv6Address(host.split("%", 1)[0]))
    return host


def is_ip_address(host: str) -> bool:
    """Whether ``host`` (already normalised) is an IPv4 or IPv6 literal."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port of a URL, normalised for comparison.

    The unit every decision is made on: the cache key, and the boundary a
    credential never crosses. The host is lower-cased, IDNA 2008-encoded (as
    httpx and requests encode it when they connect), stripped of a trailing
    dot and of IPv6 brackets, and a missing port is the scheme's default, so
    two spellings of one server compare equal and different servers never do.
    """

    scheme: str
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Origin:
        """Parse the origin of ``url``; raises ``ValueError`` if it has no host.

        A ``sparse+`` prefix (Cargo's index URLs) is dropped, so a registry's
        index and the requests to it share one origin.
        """
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme.startswith("sparse+"):
            scheme = scheme[len("sparse+") :]
        if not parts.hostname:
            raise ValueError("URL has no host")
        host = normalize_host(parts.hostname)
        port = parts.port
        if port is None:
            port = DEFAULT_PORTS.get(scheme, 0)
        return cls(scheme, host, port)

    @classmethod
    def from_user_url(cls, url: str) -> Origin:
        """The origin of a URL a person typed, or ``ValueError`` saying why no client sends it.

        ``from_url`` is on the request path and trusts its client to have
        checked the URL; a URL typed after ``authadapter which`` has not been,
        and ``urlsplit`` quietly drops a newline or tab inside it, gives an
        unknown scheme port 0 and reports a bad port as a missing host. Here
        a URL is refused for what httpx and requests refuse: whitespace or a
        control character anywhere, a scheme other than http(s) (Cargo's
        ``sparse+`` prefix allowed), a port that is not 1-65535, no host, or
        a host that cannot be encoded. The message never quotes the URL,
        which may hold a secret.
        """
        for position, char in enumerate(url):
            if char.isspace() or not char.isprintable():
                what = _UNSENDABLE.get(char, "a control or whitespace character")
                raise ValueError(f"it contains {what} (position {position}), which no client sends")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            if "IPv6" in str(error):
                raise ValueError("its host is not a valid IPv6 address") from None
            port = 0
        scheme = parts.scheme.lower()
        if not scheme:
            raise ValueError("it has no scheme (http:// or https://)")
        if scheme.removeprefix("sparse+") not in ("http", "https"):
            raise ValueError(f"{scheme}:// is not http:// or https://, all a registry client uses")
        if port == 0:
            raise ValueError("its port is not a number from 1 to 65535")
        if not parts.hostname:
            raise ValueError("it has no host")
        try:
            return cls.from_url(url)
        except (ValueError, UnicodeError):
            raise ValueError("its host is not a valid host name or address") from None

    @property
    def is_loopback(self) -> bool:
        """Whether the host is ``localhost`` or a loopback address.

        Not ``*.localhost``: RFC 6761 asks resolvers to keep those on the
        machine, but glibc with the usual ``hosts: files dns`` sends them to
        the DNS server, which may answer with any address. httpx and requests
        resolve through it, so such a name is as remote as any other.
        """
        if self.host == "localhost":
            return True
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # as Python 3.13 does; 3.10-3.12 say "not loopback"
        return address.is_loopback

    @property
    def has_default_port(self) -> bool:
        return DEFAULT_PORTS.get(self.scheme) == self.port

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.has_default_port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"
