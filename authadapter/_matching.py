"""Which store keys apply to an origin, in the order they are tried.

rattler/pixi key their stores by host name: the exact host first, then
wildcards from the most specific upwards (``*.a.example.org`` before
``*.example.org``), and IP addresses get no wildcards. authadapter adds one
thing rattler lacks: a key with a port (``host:8443``) applies only to that
port and is tried before the bare host, so two registries on one machine can
hold different credentials.
"""

from __future__ import annotations

from ._origin import Origin, is_ip_address, normalize_host

__all__ = ["candidate_keys", "normalize_key"]


def candidate_keys(origin: Origin) -> list[str]:
    """Store keys that apply to ``origin``, most specific first."""
    host = origin.host
    if ":" in host:
        bracketed = f"[{host}]"
        return [f"{bracketed}:{origin.port}", bracketed]
    keys = [f"{host}:{origin.port}", host]
    if not is_ip_address(host):
        labels = host.split(".")
        keys.extend("*." + ".".join(labels[i:]) for i in range(len(labels)))
    return keys


def normalize_key(key: str) -> str:
    """Canonical form of a store key, as ``candidate_keys`` would produce it.

    Keys are compared after normalisation so that ``Repo.Example.org.`` in a
    hand-edited file still matches. A key that cannot be normalised is
    returned unchanged (it will simply never match).
    """
    key = key.strip()
    wildcard = key.startswith("*.")
    body = key[2:] if wildcard else key
    port = ""
    if body.startswith("["):
        end = body.find("]")
        host, port = body[: end + 1], body[end + 1 :]
    elif body.count(":") == 1:
        host, _, rest = body.partition(":")
        port = ":" + rest
    else:
        host = body
    try:
        host = normalize_host(host)
    except (ValueError, UnicodeError):
        return key
    if ":" in host:
        host = f"[{host}]"
    return ("*." if wildcard else "") + host + port
