"""Store keys for an origin: rattler's order, plus port-specific keys, and never another host's."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from authadapter import Origin
from authadapter._matching import candidate_keys, normalize_key
from tests.fixtures_security import count


def test_rattler_order_exact_then_wildcards_upwards() -> None:
    keys = candidate_keys(Origin.from_url("https://a.b.example.org/x"))
    assert keys == [
        "a.b.example.org:443",
        "a.b.example.org",
        "*.a.b.example.org",
        "*.b.example.org",
        "*.example.org",
        "*.org",
    ]


def test_ip_addresses_get_no_wildcards() -> None:
    assert candidate_keys(Origin.from_url("http://127.0.0.1:8080/")) == [
        "127.0.0.1:8080",
        "127.0.0.1",
    ]
    assert candidate_keys(Origin.from_url("http://[::1]:8080/")) == ["[::1]:8080", "[::1]"]


def test_a_plain_key_does_not_match_subdomains() -> None:
    assert "example.org" not in candidate_keys(Origin.from_url("https://sub.example.org/"))


@pytest.mark.parametrize(
    ("key", "normalized"),
    [
        ("Repo.Example.ORG.", "repo.example.org"),
        ("  repo.example.org:8443 ", "repo.example.org:8443"),
        ("*.Example.org", "*.example.org"),
        ("::1", "[::1]"),
        ("[0:0::1]:8080", "[::1]:8080"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_normalize_key(key: str, normalized: str) -> None:
    assert normalize_key(key) == normalized


def test_a_key_that_cannot_be_normalized_never_matches() -> None:
    key = "a..b\u200d.example.org"
    assert normalize_key(key) == key


_label = st.text(alphabet="abcxyz0-", min_size=1, max_size=5)
_name = st.lists(_label, min_size=1, max_size=4).map(".".join)
_origin = st.builds(
    Origin,
    st.sampled_from(["http", "https"]),
    st.one_of(_name, st.ip_addresses().map(str)),
    st.integers(1, 65535),
)


def _covers(key: str, origin: Origin) -> bool:
    """What a key means, independently of how candidate_keys builds them."""
    host, port = origin.host, origin.port
    shown = f"[{host}]" if ":" in host else host
    if key.startswith("*."):
        suffix = key[2:]
        return host == suffix or host.endswith("." + suffix)
    return key in (shown, f"{shown}:{port}")


@given(_origin, _origin)
def test_no_key_of_an_origin_belongs_to_another_host(first: Origin, second: Origin) -> None:
    """A key reaches another origin only as a shared wildcard or as the bare host."""
    assume(first != second)
    count("hypothesis: origin pairs matched")
    for key in candidate_keys(first):
        assert _covers(key, first)
        assert normalize_key(key) == key
        if key in candidate_keys(second):
            assert _covers(key, second)
            if not key.startswith("*."):
                assert first.host == second.host
                assert ":" not in key.removeprefix("[").split("]")[-1] or first.port == second.port


@given(_origin)
def test_port_keys_come_first_and_wildcards_last(origin: Origin) -> None:
    keys = candidate_keys(origin)
    assert keys[0].endswith(f":{origin.port}")
    wild = [k.startswith("*.") for k in keys]
    assert wild == sorted(wild)
