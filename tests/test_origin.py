"""Origins: two spellings of one server are one origin, two servers never are.

The property tests compare ``Origin`` with the host and port each HTTP client
actually connects to, because a credential is looked up by ``Origin`` but sent
wherever the client goes: any disagreement would be a cross-origin leak.
"""

from __future__ import annotations

import re

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from authadapter import Origin
from authadapter._origin import normalize_host
from tests.fixtures_security import count


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Repo.Example.ORG/x", ("https", "repo.example.org", 443)),
        ("https://repo.example.org./x", ("https", "repo.example.org", 443)),
        ("https://repo.example.org:443/x", ("https", "repo.example.org", 443)),
        ("http://repo.example.org:080/x", ("http", "repo.example.org", 80)),
        ("HTTP://user:pw@repo.example.org/x", ("http", "repo.example.org", 80)),
        ("http://[::1]:8080/x", ("http", "::1", 8080)),
        ("http://[0:0:0:0:0:0:0:1]/x", ("http", "::1", 80)),
        ("https://bücher.de/x", ("https", "xn--bcher-kva.de", 443)),
        ("https://xn--bcher-kva.de/x", ("https", "xn--bcher-kva.de", 443)),
        ("sparse+https://index.example.org/", ("https", "index.example.org", 443)),
    ],
)
def test_spellings_of_one_server_are_one_origin(url: str, expected: tuple[str, str, int]) -> None:
    origin = Origin.from_url(url)
    assert (origin.scheme, origin.host, origin.port) == expected


def test_idna_2008_as_the_clients_connect_not_idna_2003() -> None:
    # IDNA 2003 maps "ß" to "ss": "straße.de" would share credentials with the
    # unrelated domain strasse.de
    origin = Origin.from_url("https://Straße.de/x")
    assert origin.host == "xn--strae-oqa.de"
    assert origin != Origin.from_url("https://strasse.de/x")
    assert str(httpx.URL("https://straße.de/")) == "https://xn--strae-oqa.de/"
    assert requests.Request("GET", "https://straße.de/").prepare().url == (
        "https://xn--strae-oqa.de/"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://a.example.org/", "http://a.example.org/"),
        ("https://a.example.org/", "https://a.example.org:8443/"),
        ("https://a.example.org/", "https://b.example.org/"),
        ("https://a.example.org/", "https://a.example.org.evil.com/"),
        ("http://127.0.0.1:8000/", "http://127.0.0.2:8000/"),
        ("http://[::1]:80/", "http://127.0.0.1:80/"),
        ("http://a.example.org:80/", "https://a.example.org:80/"),
    ],
)
def test_different_servers_are_different_origins(first: str, second: str) -> None:
    assert Origin.from_url(first) != Origin.from_url(second)


def test_userinfo_tricks_name_the_host_after_the_last_at() -> None:
    # what the clients connect to is the part after the last "@"
    assert Origin.from_url("http://repo.example.org@evil.com/").host == "evil.com"
    assert Origin.from_url("http://u@repo.example.org@evil.com/").host == "evil.com"


def test_loopback_detection() -> None:
    assert Origin.from_url("http://127.0.0.5:1/").is_loopback
    assert Origin.from_url("http://[::1]/").is_loopback
    assert Origin.from_url("http://LocalHost./").is_loopback
    # the resolver may send a subdomain of localhost to DNS, which can answer anything
    assert not Origin.from_url("http://api.localhost/").is_loopback
    assert not Origin.from_url("http://localhost.evil.com/").is_loopback
    assert not Origin.from_url("http://128.0.0.1/").is_loopback
    # the same on every Python: only 3.13 looks inside IPv4-mapped addresses itself
    assert Origin.from_url("http://[::ffff:127.0.0.1]/").is_loopback
    assert not Origin.from_url("http://[::ffff:8.8.8.8]/").is_loopback


def test_str_round_trips() -> None:
    for url in ("https://a.example.org", "http://a.example.org:8080", "http://[::1]:9"):
        assert str(Origin.from_url(url)) == url
        assert Origin.from_url(str(Origin.from_url(url))) == Origin.from_url(url)


def test_url_without_host_is_refused() -> None:
    with pytest.raises(ValueError, match="no host"):
        Origin.from_url("file:///etc/passwd")


_label = st.text(
    alphabet=st.sampled_from("abcXYZ019-_%.éßüΣ\u200d@:[]\\ "), min_size=1, max_size=12
)
_host = st.one_of(
    st.lists(_label, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.sampled_from(["localhost", "LOCALHOST.", "127.0.0.1", "example.org."]),
)
_url = st.builds(
    "{}://{}{}{}/{}".format,
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["", "u@", "u:p@", "a.example.org@", "x%40y@"]),
    _host,
    st.sampled_from(["", ":", ":80", ":443", ":0443", ":8080"]),
    st.text(alphabet="abc/@?#:.", max_size=8),
)


def _connect_target(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    host = host.strip("[]").rstrip(".").lower()
    if ":" in host:
        host = str(__import__("ipaddress").IPv6Address(host))
    return scheme, host, port if port is not None else {"http": 80, "https": 443}[scheme]


@settings(max_examples=400, deadline=None)
@given(_url)
def test_origin_agrees_with_httpx_on_where_it_connects(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return
    if not parsed.host:
        return
    count("hypothesis: URLs compared with httpx's parser")
    origin = Origin.from_url(str(parsed))
    host = parsed.raw_host.decode("ascii")
    assert (origin.scheme, origin.host, origin.port) == _connect_target(
        parsed.scheme, host, parsed.port
    )


@settings(max_examples=400, deadline=None)
@given(_url)
def test_origin_agrees_with_requests_on_where_it_connects(url: str) -> None:
    try:
        prepared = requests.Request("GET", url).prepare().url or ""
        parsed = parse_url(prepared)
    except (requests.exceptions.RequestException, ValueError):
        return
    if not parsed.host or not parsed.scheme:
        return
    try:
        origin = Origin.from_url(prepared)
    except ValueError:
        return  # the client sends it, but no credential can be found for it either
    count("hypothesis: URLs compared with requests' parser")
    assert (origin.scheme, origin.host, origin.port) == _connect_target(
        parsed.scheme, parsed.host, parsed.port
    )


@given(st.text(max_size=30))
def test_normalize_host_only_raises_value_error(host: str) -> None:
    count("hypothesis: hosts normalised")
    try:
        normalized = normalize_host(host)
    except ValueError:
        return
    assert normalized == normalized.lower()
    assert normalize_host(normalized) == normalized


@pytest.mark.parametrize(
    "url",
    [
        "https://Repo.Example.org./simple/",
        "http://127.0.0.1:8080/x",
        "https://[::1]:8443/",
        "sparse+https://index.example.org/",
        "https://h.example:/x",
        "https://me:pw@h.example/",
    ],
)
def test_a_url_a_client_sends_has_the_same_origin_typed_or_requested(url: str) -> None:
    assert Origin.from_user_url(url) == Origin.from_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://a\nb.example/", "it contains a line break (position 9), which no client sends"),
        ("https://a.example/\r", "it contains a carriage return (position 18)"),
        ("https://a.example/\x00", "it contains a control or whitespace character (position 18)"),
        ("https://a.example/\u2028", "it contains a control or whitespace character (position 18)"),
        ("ftp://a.example/", "ftp:// is not http:// or https://"),
        ("wss://a.example/", "wss:// is not http:// or https://"),
        ("a.example/x", "it has no scheme"),
        ("https://a.example:65536/", "its port is not a number from 1 to 65535"),
        ("https://a.example:0/", "its port is not a number from 1 to 65535"),
        ("https://a.example:-1/", "its port is not a number from 1 to 65535"),
        ("https:///x", "it has no host"),
        ("https://[::1/", "its host is not a valid IPv6 address"),
        ("https://stra\u00dfe..de/", "its host is not a valid host name or address"),
    ],
)
def test_a_typed_url_no_client_sends_is_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as caught:
        Origin.from_user_url(url)
    assert "a.example" not in str(caught.value)
