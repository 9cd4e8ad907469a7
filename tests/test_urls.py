"""Conda token paths and URL masking, as pure functions."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authadapter import mask_url
from authadapter._urls import (
    conda_token_in_path,
    has_userinfo,
    insert_conda_token,
    remove_token_everywhere,
    strip_conda_token,
)
from tests.fixtures_security import canary, count


def test_insert_and_strip() -> None:
    url = "https://conda.example.org/channel/noarch/repodata.json?x=1"
    with_token = insert_conda_token(url, "tok-123")
    assert with_token == "https://conda.example.org/t/tok-123/channel/noarch/repodata.json?x=1"
    assert conda_token_in_path(with_token) == "tok-123"
    assert strip_conda_token(with_token) == url


def test_insert_never_adds_a_second_token() -> None:
    url = "https://conda.example.org/t/theirs/channel/"
    assert insert_conda_token(url, "ours") == url


def test_a_t_segment_later_in_the_path_is_not_a_token() -> None:
    assert conda_token_in_path("https://h/channel/t/x/") is None
    assert conda_token_in_path("https://h/t/") is None
    assert conda_token_in_path("https://h/?q=/t/x/") is None


_segment = st.text(alphabet="abcT/._-~%;=:@!$&'()*+,", max_size=10)
_path = st.one_of(st.just(""), st.lists(_segment, max_size=5).map(lambda s: "/" + "/".join(s)))
_query = st.one_of(st.just(""), st.text(alphabet="ab=&/t?:%", max_size=12))
_token = st.text(alphabet="abcXYZ0123456789-_.~", min_size=1, max_size=20).filter(
    lambda t: t not in (".", "..")
)


@given(_path, _query, _token)
def test_a_token_is_inserted_exactly_once_and_removed_cleanly(
    path: str, query: str, token: str
) -> None:
    count("hypothesis: conda token URLs rewritten")
    url = f"https://conda.example.org{path}" + (f"?{query}" if query else "")
    already = conda_token_in_path(url)
    inserted = insert_conda_token(url, token)
    twice = insert_conda_token(inserted, token)
    assert twice == inserted
    parts, new = urlsplit(url), urlsplit(inserted)
    assert new.query == parts.query
    assert new.netloc == parts.netloc
    if already is not None:
        assert inserted == url
        return
    assert conda_token_in_path(inserted) == token
    assert new.path.count(f"/t/{token}") >= 1
    assert new.path.startswith(f"/t/{token}/") or new.path == f"/t/{token}"
    stripped = urlsplit(strip_conda_token(inserted))
    assert stripped.path == (parts.path or "/")
    assert stripped.query == parts.query
    assert conda_token_in_path(strip_conda_token(inserted)) is None


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://u:pw@h.example/x", "https://u:***@h.example/x"),
        ("https://tok@h.example/x", "https://***@h.example/x"),
        ("https://h.example/t/tok/chan/", "https://h.example/t/***/chan/"),
        ("https://h.example/f?a=1&access_token=zz&X-Amz-Signature=q", None),
        ("https://h.example/plain?page=2", "https://h.example/plain?page=2"),
        ("http://[::1", "<unparseable URL>"),
    ],
)
def test_mask_url(url: str, masked: str | None) -> None:
    if masked is None:
        masked = "https://h.example/f?a=1&access_token=***&X-Amz-Signature=***"
    assert mask_url(url) == masked


@given(
    st.sampled_from(["", "user:{s}@", "{s}@", "u:p{s}@"]),
    st.sampled_from(["/t/{s}/c/", "/c/?token={s}", "/c/?a=1&password={s}#f", "/x"]),
)
def test_mask_url_hides_every_secret_it_knows_about(userinfo: str, rest: str) -> None:
    secret = canary()
    count("hypothesis: URLs masked")
    url = f"https://h.example{rest}".replace("{s}", secret)
    url = url.replace("https://", "https://" + userinfo.replace("{s}", secret))
    assert secret not in mask_url(url)
    assert urlsplit(mask_url(url)).hostname == "h.example"


def test_has_userinfo() -> None:
    assert has_userinfo("https://u@h/")
    assert has_userinfo("https://u:p@h/")
    assert has_userinfo("https://:p@h/")
    assert not has_userinfo("https://h/?u@x")


@given(_path, _query, _token, st.integers(0, 3))
def test_no_trace_of_a_token_is_left_for_another_origin(
    path: str, query: str, token: str, where: int
) -> None:
    count("hypothesis: URLs cleaned of a token")
    pieces = [path, f"/t/{token}", f"/./t/{token}/x", f"?next=/t/{token}/"]
    url = "https://mirror.example.org" + "".join(pieces[: where + 1])
    if query:
        url += ("&" if "?" in url else "?") + query
    cleaned = urlsplit(remove_token_everywhere(url, token))
    assert cleaned.hostname == "mirror.example.org"
    for part in (cleaned.path, cleaned.query, cleaned.fragment):
        assert token not in part


@given(_token, st.data())
def test_no_trace_of_an_encoded_token_is_left(token: str, data: st.DataObject) -> None:
    """httpx sends ``%54OKEN`` as written; the next server decodes it to ``TOKEN``."""
    count("hypothesis: URLs cleaned of a token")
    encoded = "".join(f"%{ord(c):02X}" if data.draw(st.booleans()) else c for c in token)
    url = f"https://mirror.example.org/t/{encoded}/x?next=/t/{encoded}/#{encoded}"
    cleaned = urlsplit(remove_token_everywhere(url, token))
    assert cleaned.path == "/x"
    for part in (cleaned.path, cleaned.query, cleaned.fragment):
        assert token not in unquote(part)
