"""Client-independent decisions: what counts as brought credentials, rejections, redirects."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import CondaToken, Origin
from authadapter._policy import (
    carries,
    credential_rejected,
    location_without_foreign_token,
    userinfo_authorization,
)
from tests.fixtures_security import count


def test_userinfo_authorization() -> None:
    assert userinfo_authorization("https://h/") is None
    assert userinfo_authorization("https://@h/") is None
    encoded = base64.b64encode("ü:p\r\nX".encode()).decode()
    assert userinfo_authorization("https://%C3%BC:p%0D%0AX@h/") == f"Basic {encoded}"


@pytest.mark.parametrize(
    ("status", "header", "rejected"),
    [
        (401, None, True),
        (403, None, False),
        (403, 'Bearer error="insufficient_scope"', False),
        (403, 'Bearer error="invalid_token"', True),
        (404, 'Bearer error="invalid_token"', False),
        (200, None, False),
    ],
)
def test_credential_rejected(status: int, header: str | None, rejected: bool) -> None:
    assert credential_rejected(status, header) is rejected


BASE = "https://conda.example.org/t/tok-1/chan/noarch/x.json"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/t/tok-1/chan/other.json", None),
        ("https://conda.example.org/t/tok-1/y", None),
        ("https://CONDA.example.org:443/t/tok-1/y", None),
        (
            "https://mirror.example.org/t/tok-1/chan/x.json",
            "https://mirror.example.org/chan/x.json",
        ),
        ("http://conda.example.org/t/tok-1/y", "http://conda.example.org/y"),
        ("https://conda.example.org:8443/t/tok-1/y", "https://conda.example.org:8443/y"),
        ("//mirror.example.org/t/tok-1/y?q=1", "https://mirror.example.org/y?q=1"),
        ("https://mirror.example.org/t/other/y", None),
        ("file:///t/tok-1/etc/passwd", "file:///etc/passwd"),
        ("https://mirror.example.org/conda/t/tok-1/y", "https://mirror.example.org/conda/y"),
        ("https://mirror.example.org/./t/tok-1/y", "https://mirror.example.org/y"),
        (
            "https://mirror.example.org/y?next=/t/tok-1/",
            "https://mirror.example.org/y?next=/t/***/",
        ),
        ("https://mirror.example.org/y", None),
    ],
)
def test_location_without_foreign_token(location: str, expected: str | None) -> None:
    assert location_without_foreign_token(BASE, location) == expected


def test_no_token_in_the_request_means_nothing_to_strip() -> None:
    assert location_without_foreign_token("https://a/x", "https://b/t/tok/x") is None


_hosts = st.sampled_from(
    ["conda.example.org", "CONDA.example.org", "mirror.example.org", "conda.example.org."]
)
_location = st.builds(
    "{}://{}{}{}{}".format,
    st.sampled_from(["http", "https"]),
    _hosts,
    st.sampled_from(["", ":443", ":80", ":8443"]),
    st.sampled_from(["/t/tok-1", "/t/tok-2", ""]),
    st.text(alphabet="abc/?=&#", max_size=10).map(lambda s: "/" + s),
)


@given(st.one_of(_location, st.text(alphabet="/t:ok-1abc.?", max_size=20)))
def test_a_followed_location_never_carries_the_token_to_another_origin(location: str) -> None:
    count("hypothesis: redirect decisions")
    from urllib.parse import urljoin

    cleaned = location_without_foreign_token(BASE, location)
    target = urljoin(BASE, location if cleaned is None else cleaned)
    try:
        same = Origin.from_url(target) == Origin.from_url(BASE)
    except ValueError:
        return
    if not same:
        assert "tok-1" not in target
    elif cleaned is None:
        assert target == urljoin(BASE, location)


def test_a_request_carries_a_conda_token_only_if_it_is_ours() -> None:
    ours = CondaToken("tok-ours")
    assert carries(None, "https://conda.example.org/t/tok-ours/ch/x", ours)
    assert carries(None, "https://conda.example.org/t/tok%2Dours/ch/x", ours)  # as decoded
    assert not carries(None, "https://conda.example.org/t/tok-other/ch/x", ours)
    assert not carries(None, "https://conda.example.org/ch/x", ours)
    assert not carries("Bearer tok-ours", "https://conda.example.org/ch/x", ours)
