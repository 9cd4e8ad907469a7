"""uv's credentials.toml and index tables, parsed and matched without a disk.

The matching cases are the ones checked against uv 0.13.9 itself
(tests/integration/test_uv_real.py runs the real binary on several of them).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authadapter import BasicCredential, BearerToken, InvalidCredentialError
from authadapter._exceptions import StoreError, StoreFormatError
from authadapter.providers.uv_format import (
    NamedIndex,
    UvEntry,
    first_by_name,
    index_root,
    index_variable,
    is_index_name,
    is_path_prefix,
    parse_credentials,
    parse_index_setting,
    parse_location,
    parse_pyproject_indexes,
    parse_uv_toml_indexes,
    select_entry,
)

WHERE = "/home/me/.local/share/uv/credentials/credentials.toml"
SECRET = "s3cr3t-uv-format"

# what `uv auth login` wrote for three logins (copied from its output)
WRITTEN_BY_UV = """\
[[credential]]
service = "http://127.0.0.1:8765/org/a"
username = "bob"
scheme = "basic"
password = "pw2"

[[credential]]
service = "https://pkgs.example.com/"
username = "alice"
scheme = "basic"
password = "s3cret"

[[credential]]
service = "https://pkgs.example.com/org"
username = "__token__"
scheme = "basic"
password = "tok1"
"""


def basic(service: str, username: str, password: str = SECRET) -> str:
    return (
        f'[[credential]]\nservice = "{service}"\nusername = "{username}"\n'
        f'password = "{password}"\n\n'
    )


def bearer(service: str, token: str = SECRET) -> str:
    return f'[[credential]]\nservice = "{service}"\nscheme = "bearer"\ntoken = "{token}"\n\n'


def pick(text: str, url: str, username: str | None = None) -> UvEntry | None:
    return select_entry(parse_credentials(text, WHERE), parse_location(url), username, WHERE)


def user_for(text: str, url: str) -> str | None:
    entry = pick(text, url)
    return None if entry is None else entry.username


def test_a_file_written_by_uv_parses_into_its_entries() -> None:
    entries = parse_credentials(WRITTEN_BY_UV, WHERE)

    assert [(e.service.shown, e.username) for e in entries] == [
        ("http://127.0.0.1:8765/org/a", "bob"),
        ("https://pkgs.example.com/", "alice"),
        ("https://pkgs.example.com/org", "__token__"),
    ]
    assert entries[1].credential() == BasicCredential("alice", "s3cret")


def test_a_bearer_entry_is_sent_as_a_bearer_token() -> None:
    [entry] = parse_credentials(bearer("https://pkgs.example.com/"), WHERE)

    assert entry.username is None
    assert entry.credential() == BearerToken(SECRET)


def test_a_basic_entry_without_password_sends_an_empty_one_as_uv_does() -> None:
    [entry] = parse_credentials('[[credential]]\nservice = "https://h/"\nusername = "u"\n', WHERE)

    assert entry.credential() == BasicCredential("u", "")


@pytest.mark.parametrize(
    ("url", "user"),
    [
        ("https://pkgs.example.com/org/simple/x/", "__token__"),
        ("https://pkgs.example.com/org", "__token__"),
        ("https://pkgs.example.com/orgX/simple/x/", "alice"),  # /org does not cover /orgX
        ("https://pkgs.example.com/other/", "alice"),
        ("https://PKGS.example.com:443/org/x", "__token__"),
        ("http://127.0.0.1:8765/org/a/simple/", "bob"),
        ("http://127.0.0.1:8765/org/ab/", None),
        ("http://127.0.0.1:8766/org/a/", None),  # another port is another realm
        ("https://127.0.0.1:8765/org/a/", None),  # another scheme too
        ("http://pkgs.example.com/org/", None),
    ],
)
def test_the_longest_segment_prefix_in_the_same_realm_wins(url: str, user: str | None) -> None:
    assert user_for(WRITTEN_BY_UV, url) == user


def test_a_service_ending_in_a_slash_covers_what_is_below_it() -> None:
    text = basic("https://h/team/", "slash") + basic("https://h/", "root")

    assert user_for(text, "https://h/team/simple/") == "slash"
    assert user_for(text, "https://h/team") == "root"
    assert user_for(text, "https://h/teamX/") == "root"


def test_two_prefixes_of_one_host_each_get_their_own_user() -> None:
    text = basic("https://h/a", "ua") + basic("https://h/b", "ub")

    assert user_for(text, "https://h/a/simple/pkg/") == "ua"
    assert user_for(text, "https://h/b/simple/pkg/") == "ub"
    assert user_for(text, "https://h/c/simple/pkg/") is None


def test_equal_matches_are_an_error_naming_both_services() -> None:
    text = basic("https://h/org", "first") + basic("https://h/org", "second")

    with pytest.raises(StoreError) as caught:
        pick(text, "https://h/org/simple/")

    message = str(caught.value)
    assert WHERE in message
    assert "'https://h/org' (user 'first')" in message
    assert "'https://h/org' (user 'second')" in message
    assert SECRET not in message


def test_a_longer_match_settles_what_shorter_ties_leave_open() -> None:
    text = basic("https://h/", "one") + basic("https://h/", "two") + basic("https://h/api", "api")

    assert user_for(text, "https://h/api/project") == "api"
    with pytest.raises(StoreError):
        pick(text, "https://h/other")


def test_basic_and_bearer_for_one_prefix_are_equal_matches() -> None:
    text = basic("https://h/idx", "u") + bearer("https://h/idx")

    with pytest.raises(StoreError, match="bearer token"):
        pick(text, "https://h/idx/simple/")


def test_an_exact_match_beats_a_prefix_of_the_same_length() -> None:
    text = basic("https://h/idx/simple/", "u") + bearer("https://h/idx/simple/")

    entry = pick(text, "https://h/idx/simple/")

    assert entry is not None
    assert entry.username is None  # the bearer entry: same URL and (no) user


def test_a_user_named_in_the_request_only_matches_that_users_entry() -> None:
    text = basic("https://h/org", "first") + basic("https://h/org", "second")

    entry = pick(text, "https://h/org/simple/", "second")

    assert entry is not None
    assert entry.username == "second"


def test_the_same_service_and_user_twice_the_later_counts() -> None:
    text = basic("https://h/idx", "u", "old") + basic("https://h/idx", "u", "new")

    entry = pick(text, "https://h/idx/simple/")

    assert entry is not None
    assert entry.credential() == BasicCredential("u", "new")


def test_dot_segments_query_and_userinfo_do_not_change_the_path() -> None:
    text = basic("https://me:pw@h/idx/x/../simple?sig=1#frag", "u")

    [entry] = parse_credentials(text, WHERE)

    assert entry.service.shown == "https://h/idx/simple"
    assert user_for(text, "https://h/idx/simple/pkg/") == "u"
    assert user_for(text, "https://h/idx/simple/../../other/") is None


def test_a_service_of_another_scheme_parses_and_never_matches() -> None:
    assert user_for(basic("ftp://h/", "u"), "https://h/x") is None


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("credential = 1\n", "array of tables"),
        ("[[credential]]\nusername = 'u'\n", "'service' must be a URL string"),
        ("[[credential]]\nservice = 'h.example/x'\nusername = 'u'\n", "not an absolute URL"),
        ("[[credential]]\nservice = 'https://h/'\npassword = 'p'\n", "'username' is required"),
        ("[[credential]]\nservice = 'https://h/'\nusername = 'u'\ntoken = 't'\n", "'token'"),
        ("[[credential]]\nservice = 'https://h/'\nscheme = 'bearer'\n", "'token' is required"),
        (
            "[[credential]]\nservice = 'https://h/'\nscheme = 'bearer'\ntoken = 't'\n"
            "username = 'u'\n",
            "'username' cannot be given",
        ),
        ("[[credential]]\nservice = 'https://h/'\nscheme = 'digest'\nusername = 'u'\n", "basic or"),
        ("[[credential]]\nservice = 'https://h/'\nusername = 5\n", "'username' must be a string"),
    ],
)
def test_a_file_uv_would_refuse_is_refused_naming_the_file(text: str, complaint: str) -> None:
    with pytest.raises(StoreFormatError) as caught:
        parse_credentials(text, WHERE)

    assert str(caught.value).startswith(WHERE)
    assert complaint in str(caught.value)


def test_invalid_toml_is_reported_by_position_without_quoting_the_line() -> None:
    with pytest.raises(StoreFormatError) as caught:
        parse_credentials(f'[[credential]]\npassword = "{SECRET}\n', WHERE)

    assert "line 2" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_an_empty_file_holds_nothing() -> None:
    assert parse_credentials("", WHERE) == ()


def test_an_entry_that_cannot_be_sent_says_so_when_used() -> None:
    [entry] = parse_credentials(bearer("https://h/", token=""), WHERE)

    with pytest.raises(InvalidCredentialError):
        entry.credential()
    assert SECRET not in repr(entry)


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("my-private.idx", "UV_INDEX_MY_PRIVATE_IDX_USERNAME"),
        ("Corp_Idx", "UV_INDEX_CORP_IDX_USERNAME"),
        ("pytorch", "UV_INDEX_PYTORCH_USERNAME"),
    ],
)
def test_index_names_map_to_variables_as_uv_maps_them(name: str, variable: str) -> None:
    assert index_variable(name, "USERNAME") == variable


def test_index_names_are_ascii_letters_digits_and_dash_dot_underscore() -> None:
    assert is_index_name("a-b.c_9")
    assert not is_index_name("a b")
    assert not is_index_name("ä")
    assert not is_index_name("")


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://h/priv/simple/", "/priv"),
        ("https://h/priv/SIMPLE", "/priv"),
        ("https://h/simple/", "/"),
        ("https://h/repo/", "/repo/"),
        ("https://h/", "/"),
        ("https://h", "/"),
    ],
)
def test_an_index_root_drops_a_final_simple_segment(url: str, root: str) -> None:
    assert index_root(url).path == root


def test_uv_index_holds_named_and_unnamed_indexes() -> None:
    value = (
        "corp=https://h/corp/simple/ https://unnamed.example/simple https://x=y.example/ bad name"
    )

    assert parse_index_setting(value, "UV_INDEX") == [
        NamedIndex("corp", "https://h/corp/simple/", "UV_INDEX")
    ]


def test_pyproject_indexes_come_from_tool_uv_index() -> None:
    text = """
[project]
name = "x"

[[tool.uv.index]]
name = "corp"
url = "https://h/corp/simple"

[[tool.uv.index]]
url = "https://unnamed.example/simple"
"""
    assert parse_pyproject_indexes(text, "pyproject.toml") == [
        NamedIndex("corp", "https://h/corp/simple", "pyproject.toml")
    ]


def test_a_pyproject_without_tool_uv_is_not_a_uv_configuration() -> None:
    assert parse_pyproject_indexes("[project]\nname = 'x'\n", "pyproject.toml") is None
    assert parse_pyproject_indexes("[tool.uv]\n", "pyproject.toml") == []


def test_uv_toml_indexes_are_top_level_index_tables() -> None:
    text = "[[index]]\nname = 'corp'\nurl = 'https://h/'\n"

    assert parse_uv_toml_indexes(text, "uv.toml") == [NamedIndex("corp", "https://h/", "uv.toml")]
    with pytest.raises(StoreFormatError, match=r"^uv\.toml: not valid TOML"):
        parse_uv_toml_indexes("[[index]\n", "uv.toml")


def test_the_first_index_of_a_name_counts() -> None:
    first = NamedIndex("corp", "https://a/", "UV_INDEX")
    second = NamedIndex("corp", "https://b/", "uv.toml")

    assert first_by_name([first, second]) == [first]


# hostile input --------------------------------------------------------------------------------

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(["basic", "bearer", "https://h/x", "h/x", "ftp://h/", SECRET]),
    st.lists(st.text(max_size=4), max_size=2),
)


def _as_toml_value(value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return str(value)


@EXAMPLES
@given(st.text(max_size=300))
def test_any_text_is_entries_or_a_one_line_format_error(text: str) -> None:
    message = ""
    try:
        parse_credentials(text, WHERE)
    except StoreFormatError as error:
        message = str(error)
    assert "\n" not in message


@EXAMPLES
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["service", "username", "password", "token", "scheme", "other"]),
            VALUES,
            max_size=6,
        ),
        max_size=4,
    )
)
def test_any_tables_are_entries_or_a_format_error_without_the_secret(
    tables: list[dict[str, object]],
) -> None:
    text = "".join(
        "[[credential]]\n"
        + "".join(
            f"{key} = {_as_toml_value(value)}\n"
            for key, value in table.items()
            if value is not None
        )
        for table in tables
    )
    try:
        entries = parse_credentials(text, WHERE)
    except StoreFormatError as error:
        message = str(error)
        assert "\n" not in message
        assert SECRET not in message.replace(f"'{SECRET}'", "")  # a service may be shown
        return
    for entry in entries:
        assert SECRET not in repr(entry)


SEGMENTS = st.lists(st.sampled_from(["a", "ab", "b", "simple", ""]), max_size=4)


@EXAMPLES
@given(st.lists(SEGMENTS, max_size=5), SEGMENTS)
def test_the_chosen_entry_is_the_longest_whole_segment_prefix(
    services: list[list[str]], request: list[str]
) -> None:
    text = "".join(
        basic("https://h/" + "/".join(path), f"user{n}") for n, path in enumerate(services)
    )
    url = "https://h/" + "/".join(request)
    entries = parse_credentials(text, WHERE)
    location = parse_location(url)
    covering = [e for e in entries if is_path_prefix(e.service.path, location.path)]
    try:
        chosen = select_entry(entries, location, None, WHERE)
    except StoreError:
        longest = max(len(e.service.path) for e in covering)
        assert sum(len(e.service.path) == longest for e in covering) > 1
        return
    if chosen is None:
        assert covering == []
        return
    assert chosen in covering
    assert all(len(e.service.path) <= len(chosen.service.path) for e in covering)
    rest = location.path[len(chosen.service.path) :]
    assert rest == "" or chosen.service.path.endswith("/") or rest.startswith("/")
