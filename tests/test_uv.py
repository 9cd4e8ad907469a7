"""The ``uv`` provider: uv's credentials.toml and UV_INDEX_<NAME>_* on a real disk.

The environment and working directory are handed to the provider, as
``default_providers`` hands it the process's, so no test touches the
developer's uv files.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from authadapter import (
    BasicCredential,
    BearerToken,
    Credential,
    CredentialProvider,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    ProviderChain,
)
from authadapter.cli import main
from authadapter.providers.uv import UvProvider
from tests.provider_contract import SECRET, ProviderContract

HOST = "https://pkgs.example.com"


def toml_for(entries: dict[str, Credential]) -> str:
    """``entries`` (host key -> credential) as uv's credentials.toml, one root service each."""
    text = ""
    for key, credential in entries.items():
        text += f'[[credential]]\nservice = "https://{key}/"\n'
        if isinstance(credential, BearerToken):
            text += f'scheme = "bearer"\ntoken = "{credential.token}"\n\n'
        else:
            assert isinstance(credential, BasicCredential)
            text += f'username = "{credential.username}"\npassword = "{credential.password}"\n\n'
    return text


def entry(service: str, username: str, password: str = SECRET) -> str:
    return (
        f'[[credential]]\nservice = "{service}"\n'
        f'username = "{username}"\npassword = "{password}"\n\n'
    )


class Uv:
    """A uv home: a credentials directory, a user config, a project, and the provider over them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.credentials = root / "creds" / "credentials.toml"
        self.project = root / "project" / "src"
        self.project.mkdir(parents=True)
        self.env: dict[str, str] = {
            "HOME": str(root / "home"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_CONFIG_DIRS": str(root / "etc"),
            "UV_CREDENTIALS_DIR": str(self.credentials.parent),
        }

    def store(self, text: str) -> None:
        self.credentials.parent.mkdir(parents=True, exist_ok=True)
        self.credentials.write_text(text)

    def provider(self, **env: str) -> UvProvider:
        return UvProvider(env={**self.env, **env}, cwd=self.project)


@pytest.fixture
def uv(tmp_path: Path) -> Uv:
    return Uv(tmp_path)


def lookup(provider: CredentialProvider, url: str) -> LookupResult:
    return provider.lookup(Origin.from_url(url), url)


def sent(provider: CredentialProvider, url: str) -> Credential | None:
    result = lookup(provider, url)
    return result.credential if isinstance(result, Found) else None


class TestUvContract(ProviderContract):
    serves = ("uv",)
    kinds = ("bearer", "basic")
    supports_wildcards = False
    supports_ports = False  # a port is part of uv's realm: a bare host means its default port

    @pytest.fixture(autouse=True)
    def _home(self, tmp_path: Path) -> None:
        self.home = Uv(tmp_path)

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        self.home.store(toml_for(entries))
        return self.home.provider()


def test_the_credentials_file_is_where_uv_auth_login_writes(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}

    assert UvProvider(env=home).path == tmp_path / ".local/share/uv/credentials/credentials.toml"
    xdg = {**home, "XDG_DATA_HOME": str(tmp_path / "data")}
    assert UvProvider(env=xdg).path == tmp_path / "data/uv/credentials/credentials.toml"
    relative = {**home, "XDG_DATA_HOME": "data"}  # uv ignores a relative XDG_DATA_HOME
    assert (
        UvProvider(env=relative).path == tmp_path / ".local/share/uv/credentials/credentials.toml"
    )
    named = {**home, "UV_CREDENTIALS_DIR": str(tmp_path / "c")}
    assert UvProvider(env=named).path == tmp_path / "c" / "credentials.toml"


def test_two_prefixes_of_one_host_each_get_their_own_user_uncached(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/a", "ua") + entry(f"{HOST}/b", "ub"))
    provider = uv.provider()

    first = lookup(provider, f"{HOST}/a/simple/pkg/")
    second = lookup(provider, f"{HOST}/b/simple/pkg/")
    neither = lookup(provider, f"{HOST}/c/simple/pkg/")

    assert isinstance(first, Found)
    assert first.credential == BasicCredential("ua", SECRET)
    assert isinstance(second, Found)
    assert second.credential == BasicCredential("ub", SECRET)
    assert isinstance(neither, Miss)
    # the chain caches per origin: answers that depend on the path must not be cached
    assert (first.ttl, second.ttl, neither.ttl) == (0, 0, 0)


def test_through_the_chain_each_path_keeps_its_own_credential(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/a", "ua") + entry(f"{HOST}/b", "ub"))
    chain = ProviderChain([uv.provider()])

    users = [
        chain.resolve(f"{HOST}/{path}/simple/").credential for path in ("a", "b", "a", "c", "b")
    ]

    assert [getattr(c, "username", None) for c in users] == ["ua", "ub", "ua", None, "ub"]


def test_an_origin_whose_entries_are_all_host_wide_is_cached_as_usual(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/", "root") + entry("https://other.example.com/deep", "deep"))

    result = lookup(uv.provider(), f"{HOST}/simple/")

    assert isinstance(result, Found)
    assert result.ttl is None
    assert lookup(uv.provider(), "https://third.example.com/").ttl is None


def test_equal_matches_are_a_failure_naming_both_services(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/org", "first") + entry(f"{HOST}/org", "second"))

    result = lookup(uv.provider(), f"{HOST}/org/simple/")

    assert isinstance(result, Failure)
    assert not result.fatal
    assert str(uv.credentials) in result.message
    assert "'first'" in result.message
    assert "'second'" in result.message
    assert SECRET not in result.message


def test_a_file_uv_would_refuse_is_a_failure_and_is_left_alone(uv: Uv) -> None:
    text = f'[[credential]]\nservice = "{HOST}/"\npassword = "{SECRET}"\n'
    uv.store(text)

    result = lookup(uv.provider(), f"{HOST}/simple/")

    assert isinstance(result, Failure)
    assert str(uv.credentials) in result.message
    assert SECRET not in result.message
    assert uv.credentials.read_text() == text


def test_a_missing_file_is_a_miss(uv: Uv) -> None:
    assert isinstance(lookup(uv.provider(), f"{HOST}/simple/"), Miss)


def test_a_rewritten_file_is_read_again(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/", "before"))
    provider = uv.provider()
    assert sent(provider, f"{HOST}/x") == BasicCredential("before", SECRET)

    uv.store(entry(f"{HOST}/", "after-a-longer-name"))

    assert sent(provider, f"{HOST}/x") == BasicCredential("after-a-longer-name", SECRET)


def test_an_entry_that_cannot_be_sent_is_a_failure_naming_its_service(uv: Uv) -> None:
    uv.store(f'[[credential]]\nservice = "{HOST}/"\nscheme = "bearer"\ntoken = "a\\nb"\n')

    result = lookup(uv.provider(), f"{HOST}/x")

    assert isinstance(result, Failure)
    assert f"'{HOST}/'" in result.message


# UV_INDEX_<NAME>_USERNAME / _PASSWORD -------------------------------------------------------


def index_env(name: str, username: str = "envuser", password: str = SECRET) -> dict[str, str]:
    return {f"UV_INDEX_{name}_USERNAME": username, f"UV_INDEX_{name}_PASSWORD": password}


def test_uv_index_names_an_index_whose_variables_carry_credentials(uv: Uv) -> None:
    provider = uv.provider(
        UV_INDEX=f"my-private.idx={HOST}/priv/simple/", **index_env("MY_PRIVATE_IDX")
    )

    result = lookup(provider, f"{HOST}/priv/simple/pkg/")

    assert isinstance(result, Found)
    assert result.credential == BasicCredential("envuser", SECRET)
    assert "UV_INDEX_MY_PRIVATE_IDX_USERNAME" in result.source
    assert result.ttl == 0
    # the root (without /simple) carries them, so files beside the API get them too
    assert sent(provider, f"{HOST}/priv/files/pkg-1.0.whl") == BasicCredential("envuser", SECRET)
    assert sent(provider, f"{HOST}/privX/simple/") is None
    assert sent(provider, f"{HOST}/other/simple/") is None


def test_uv_default_index_names_an_index_too(uv: Uv) -> None:
    provider = uv.provider(UV_DEFAULT_INDEX=f"corp={HOST}/simple", **index_env("CORP"))

    assert sent(provider, f"{HOST}/anything/") == BasicCredential("envuser", SECRET)


def test_the_project_pyproject_is_found_from_the_working_directory_upwards(uv: Uv) -> None:
    (uv.project.parent / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n'
        f'[[tool.uv.index]]\nname = "Corp_Idx"\nurl = "{HOST}/corp/simple"\n'
    )

    provider = uv.provider(**index_env("CORP_IDX"))

    assert sent(provider, f"{HOST}/corp/simple/pkg/") == BasicCredential("envuser", SECRET)


def test_a_pyproject_without_tool_uv_is_passed_over(uv: Uv) -> None:
    (uv.project / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    (uv.project.parent / "uv.toml").write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/c/"\n')

    assert sent(uv.provider(**index_env("CORP")), f"{HOST}/c/x") is not None


def test_uv_toml_beats_pyproject_in_the_same_directory(uv: Uv) -> None:
    (uv.project / "uv.toml").write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/from-uv-toml/"\n')
    (uv.project / "pyproject.toml").write_text(
        f'[[tool.uv.index]]\nname = "corp"\nurl = "{HOST}/from-pyproject/"\n'
    )
    provider = uv.provider(**index_env("CORP"))

    assert sent(provider, f"{HOST}/from-uv-toml/x") is not None
    assert sent(provider, f"{HOST}/from-pyproject/x") is None


def test_the_user_uv_toml_names_indexes_too(uv: Uv) -> None:
    user = uv.root / "config" / "uv" / "uv.toml"
    user.parent.mkdir(parents=True)
    user.write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/user/simple/"\n')

    assert sent(uv.provider(**index_env("CORP")), f"{HOST}/user/simple/p/") is not None
    assert sent(uv.provider(UV_NO_CONFIG="1", **index_env("CORP")), f"{HOST}/user/p/") is None


def test_uv_config_file_replaces_the_discovered_files(uv: Uv) -> None:
    (uv.project / "uv.toml").write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/project/"\n')
    named = uv.root / "named.toml"
    named.write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/named/"\n')
    provider = uv.provider(UV_CONFIG_FILE=str(named), **index_env("CORP"))

    assert sent(provider, f"{HOST}/named/x") is not None
    assert sent(provider, f"{HOST}/project/x") is None


def test_uv_index_wins_over_a_file_defining_the_same_name(uv: Uv) -> None:
    (uv.project / "uv.toml").write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/file/"\n')
    provider = uv.provider(UV_INDEX=f"corp={HOST}/env/", **index_env("CORP"))

    assert sent(provider, f"{HOST}/env/x") is not None
    assert sent(provider, f"{HOST}/file/x") is None


def test_index_variables_win_over_credentials_toml(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/corp", "stored"))
    provider = uv.provider(UV_INDEX=f"corp={HOST}/corp/simple/", **index_env("CORP"))

    assert sent(provider, f"{HOST}/corp/simple/") == BasicCredential("envuser", SECRET)


def test_a_username_alone_takes_that_users_password_from_credentials_toml(uv: Uv) -> None:
    uv.store(entry(f"{HOST}/corp", "other", "not-this") + entry(f"{HOST}/corp", "envuser"))
    provider = uv.provider(UV_INDEX=f"corp={HOST}/corp/simple/", UV_INDEX_CORP_USERNAME="envuser")

    result = lookup(provider, f"{HOST}/corp/simple/")

    assert isinstance(result, Found)
    assert result.credential == BasicCredential("envuser", SECRET)
    assert str(uv.credentials) in result.source


def test_a_username_alone_without_a_stored_password_is_sent_as_uv_sends_it(uv: Uv) -> None:
    provider = uv.provider(UV_INDEX=f"corp={HOST}/corp/", UV_INDEX_CORP_USERNAME="only")

    assert sent(provider, f"{HOST}/corp/x") == BasicCredential("only", "")


def test_an_invalid_project_uv_toml_is_a_failure_naming_it(uv: Uv) -> None:
    (uv.project / "uv.toml").write_text(f'[[index]\nname = "{SECRET}"\n')

    result = lookup(uv.provider(**index_env("CORP")), f"{HOST}/x")

    assert isinstance(result, Failure)
    assert str(uv.project / "uv.toml") in result.message
    assert SECRET not in result.message


def test_an_invalid_pyproject_is_skipped_with_a_warning(
    uv: Uv, caplog: pytest.LogCaptureFixture
) -> None:
    (uv.project / "pyproject.toml").write_text("[tool.uv\n")
    (uv.project.parent / "uv.toml").write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/c/"\n')

    assert sent(uv.provider(**index_env("CORP")), f"{HOST}/c/x") is not None
    assert "pyproject.toml" in caplog.text


# which / config / list ---------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=io.StringIO())
    return status, out.getvalue()


@pytest.fixture
def default_uv_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("UV_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("UV_CREDENTIALS_DIR", str(tmp_path / "uv-creds"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "uv-creds" / "credentials.toml"
    path.parent.mkdir()
    path.write_text(entry("https://repo.example.org/pypi", "me"))
    return path


def test_which_shows_the_uv_entry_for_its_path_only(default_uv_store: Path) -> None:
    status, out = run("which", "https://repo.example.org/pypi/simple/")
    [line] = [line for line in out.splitlines() if line.split()[:1] == ["uv"]]

    assert status == 0
    assert str(default_uv_store) in line
    assert "Basic (user 'me', password ***)" in line
    assert line.endswith("<- used")
    assert SECRET not in out

    _, other = run("which", "https://repo.example.org/conda/")
    assert [line.split() for line in other.splitlines() if "uv" in line.split()[:1]] == [
        ["uv", "nothing"]
    ]


def test_config_and_list_show_the_uv_store(default_uv_store: Path) -> None:
    _, config = run("config")
    [line] = [line for line in config.splitlines() if line.split()[1:2] == ["uv"]]
    assert str(default_uv_store) in line
    assert " on " in line

    _, listed = run("list")
    [row] = [row for row in listed.splitlines() if str(default_uv_store) in row]
    assert row.startswith("https://repo.example.org/pypi")
    assert SECRET not in listed


def test_a_rewritten_settings_file_moves_the_index(uv: Uv) -> None:
    settings = uv.project / "uv.toml"
    settings.write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/old/"\n')
    provider = uv.provider(**index_env("CORP"))
    assert sent(provider, f"{HOST}/old/x") is not None

    settings.write_text(f'[[index]]\nname = "corp"\nurl = "{HOST}/new-place/"\n')

    assert sent(provider, f"{HOST}/old/x") is None
    assert sent(provider, f"{HOST}/new-place/x") is not None
    settings.unlink()
    assert sent(provider, f"{HOST}/new-place/x") is None
