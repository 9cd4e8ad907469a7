"""Reading and merging Cargo's configuration as Cargo does (files on disk, real env mapping)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authadapter import ConfigError, Origin
from authadapter.providers.cargo.config import (
    CRATES_IO,
    CRATES_IO_INDEX,
    CargoConfig,
    ProviderSpec,
    config_paths,
    load_cargo_config,
    merge_tables,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A CARGO_HOME and a project directory two levels below a workspace."""
    home = tmp_path / "cargo-home"
    project = tmp_path / "ws" / "crates" / "app"
    project.mkdir(parents=True)
    return home, project


def load(project: Path, home: Path, **env: str) -> CargoConfig:
    return load_cargo_config(project, {"CARGO_HOME": str(home), **env})


def words(specs: list[ProviderSpec]) -> list[tuple[str, ...]]:
    return [spec.words for spec in specs]


def test_paths_nearest_first_home_last_legacy_name_preferred(layout: tuple[Path, Path]) -> None:
    home, project = layout
    near = write(project / ".cargo" / "config.toml", "")
    write(project.parent.parent / ".cargo" / "config.toml", "")
    legacy = write(project.parent.parent / ".cargo" / "config", "")
    at_home = write(home / "config.toml", "")

    assert config_paths(project, home) == [near, legacy, at_home]


def test_home_config_is_read_once_when_it_is_also_an_ancestor(tmp_path: Path) -> None:
    home = tmp_path / ".cargo"
    only = write(home / "config.toml", "")

    assert config_paths(tmp_path / "project", home) == [only]


def test_merge_joins_lists_replaces_scalars_merges_tables() -> None:
    low = {"a": [1], "b": "low", "t": {"x": 1, "y": 1}}
    high = {"a": [2], "b": "high", "t": {"y": 2}}

    assert merge_tables(low, high) == {"a": [1, 2], "b": "high", "t": {"x": 1, "y": 2}}


def test_registries_from_every_file_nearest_index_wins(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(home / "config.toml", '[registries.a]\nindex = "sparse+https://home.example/a/"\n')
    write(
        project.parent.parent / ".cargo" / "config.toml",
        '[registries.a]\nindex = "sparse+https://ws.example/a/"\n'
        '[registries.b]\nindex = "sparse+https://ws.example/b/"\n',
    )

    config = load(project, home)

    indexes = {r.name: r.index_url for r in config.registries}
    assert indexes == {
        "a": "sparse+https://ws.example/a/",
        "b": "sparse+https://ws.example/b/",
        CRATES_IO: CRATES_IO_INDEX,
    }


def test_git_registries_are_ignored(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(home / "config.toml", '[registries.g]\nindex = "https://github.com/org/index.git"\n')

    config = load(project, home)

    assert config.registries_for(Origin.from_url("https://github.com/"), "/org") == []


def test_env_index_overrides_and_adds_registries(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(home / "config.toml", '[registries.my-reg]\nindex = "sparse+https://old.example/"\n')

    config = load(
        project,
        home,
        CARGO_REGISTRIES_MY_REG_INDEX="sparse+https://new.example/",
        CARGO_REGISTRIES_ONLY_ENV_INDEX="sparse+https://env.example/i/",
    )

    indexes = {r.name: r.index_url for r in config.registries}
    assert indexes["my-reg"] == "sparse+https://new.example/"
    assert indexes["only-env"] == "sparse+https://env.example/i/"


def test_global_providers_join_across_files_and_env_and_are_tried_last_first(
    layout: tuple[Path, Path],
) -> None:
    home, project = layout
    write(home / "config.toml", '[registry]\nglobal-credential-providers = ["cargo:token"]\n')
    write(
        project / ".cargo" / "config.toml",
        '[registry]\nglobal-credential-providers = ["my-plugin --flag x"]\n'
        '[registries.r]\nindex = "sparse+https://r.example/"\n',
    )

    config = load(project, home, CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS="cargo:libsecret x")
    [registry] = [r for r in config.registries if r.name == "r"]

    assert words(config.providers_for(registry)) == [
        ("x",),
        ("cargo:libsecret",),
        ("my-plugin", "--flag", "x"),
        ("cargo:token",),
    ]


def test_default_provider_is_cargo_token(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(home / "config.toml", '[registries.r]\nindex = "sparse+https://r.example/"\n')

    config = load(project, home)

    assert words(config.providers_for(config.registries[0])) == [("cargo:token",)]


def test_registry_provider_is_the_only_one_and_is_not_merged(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(
        home / "config.toml",
        '[registry]\nglobal-credential-providers = ["cargo:token"]\n'
        '[registries.r]\nindex = "sparse+https://r.example/"\n'
        'credential-provider = ["home-plugin", "--a"]\n',
    )
    write(
        project / ".cargo" / "config.toml",
        '[registries.r]\ncredential-provider = ["near-plugin", "--b c"]\n',
    )

    config = load(project, home)

    assert words(config.providers_for(config.registries[0])) == [("near-plugin", "--b c")]


def test_env_credential_provider_wins(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(
        home / "config.toml",
        '[registries.my-reg]\nindex = "sparse+https://r.example/"\ncredential-provider = "a"\n',
    )

    config = load(
        project,
        home,
        CARGO_REGISTRIES_MY_REG_CREDENTIAL_PROVIDER="cargo:token-from-stdout tool --x",
        CARGO_REGISTRY_CREDENTIAL_PROVIDER="cargo:libsecret",
    )
    by_name = {r.name: r for r in config.registries}

    assert words(config.providers_for(by_name["my-reg"])) == [
        ("cargo:token-from-stdout", "tool", "--x")
    ]
    assert words(config.providers_for(by_name[CRATES_IO])) == [("cargo:libsecret",)]


def test_aliases_apply_to_bare_names_only_and_never_shadow_builtins(
    layout: tuple[Path, Path],
) -> None:
    home, project = layout
    write(
        home / "config.toml",
        '[credential-alias]\nmine = ["/opt/tool", "--mode", "x"]\n"cargo:token" = "evil"\n'
        '[registry]\nglobal-credential-providers = ["cargo:token", "mine --other", "mine"]\n'
        '[registries.r]\nindex = "sparse+https://r.example/"\n',
    )

    config = load(project, home, CARGO_CREDENTIAL_ALIAS_FROM_ENV="env-tool --y")
    [registry] = [r for r in config.registries if r.name == "r"]

    assert words(config.providers_for(registry)) == [
        ("/opt/tool", "--mode", "x"),
        ("mine", "--other"),
        ("cargo:token",),
    ]
    from_env = config.resolve_alias(ProviderSpec(("from-env",), project, "test"))
    assert from_env.words == ("env-tool", "--y")


@pytest.mark.parametrize("reference", ["my-al", "my_al"])
def test_an_alias_variable_serves_every_spelling_of_the_name(
    layout: tuple[Path, Path], reference: str
) -> None:
    """Seen with cargo 1.95: CARGO_CREDENTIAL_ALIAS_MY_AL answers `my_al` as well as `my-al`."""
    home, project = layout
    registry = '[registries.r]\nindex = "sparse+https://r.example/"\n'
    write(home / "config.toml", registry + f'credential-provider = "{reference}"\n')

    config = load(project, home, CARGO_CREDENTIAL_ALIAS_MY_AL="/opt/from-env --y")
    [registry] = [r for r in config.registries if r.name == "r"]

    assert words(config.providers_for(registry)) == [("/opt/from-env", "--y")]


def test_relative_program_paths_resolve_against_the_defining_project(
    layout: tuple[Path, Path],
) -> None:
    home, project = layout
    write(
        project / ".cargo" / "config.toml",
        '[registries.r]\nindex = "sparse+https://r.example/"\n'
        'credential-provider = "tools/cred --x"\n',
    )

    config = load(project, home)
    [spec] = config.providers_for(config.registries[0])

    assert spec.resolved_program() == str(project / "tools" / "cred")
    assert ProviderSpec(("on-path",), project, "x").resolved_program() == "on-path"


def test_registry_choice_by_origin_then_by_path(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(
        home / "config.toml",
        '[registries.one]\nindex = "sparse+https://host.example/one/index/"\n'
        '[registries.two]\nindex = "sparse+https://host.example/two/index/"\n'
        '[registries.port]\nindex = "sparse+https://host.example:8443/index/"\n',
    )
    config = load(project, home)
    origin = Origin.from_url("https://host.example/")

    first = config.registries_for(origin, "/two/index/ab/cd/abcd")
    other = config.registries_for(Origin.from_url("https://host.example:8443/"), "/x")

    assert [r.name for r in first] == ["two", "one"]
    assert [r.name for r in other] == ["port"]
    assert config.registries_for(Origin.from_url("http://host.example/"), "/one/index/") == []


def test_crates_io_is_known_without_configuration(layout: tuple[Path, Path]) -> None:
    home, project = layout

    config = load(project, home)

    [registry] = config.registries_for(Origin.from_url("https://index.crates.io/"), "/se/rd/serde")
    assert registry.name == CRATES_IO
    assert config.registries_for(Origin.from_url("https://static.crates.io/"), "/crates/") == []


def test_two_registries_with_one_index_are_an_error(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(
        home / "config.toml",
        '[registries.a]\nindex = "sparse+https://h.example/i/"\n'
        '[registries.b]\nindex = "sparse+https://h.example/i/"\n',
    )
    config = load(project, home)

    with pytest.raises(ConfigError, match="`a` and `b` have the same index URL"):
        config.registries_for(Origin.from_url("https://h.example/"), "/i/")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[registries\n", "not valid TOML"),
        ("registry = 3\n", "`registry` must be a table"),
        ("[registry]\ncredential-provider = 3\n", "must be a string or an array"),
        ("[registry]\nglobal-credential-providers = 3\n", "must be an array of strings"),
        # cargo 1.95: "expected a list, but found a string"
        ('[registry]\nglobal-credential-providers = "a b"\n', "must be an array of strings"),
        ('[registries.r]\nindex = "sparse+https://r/"\ncredential-provider = ""\n', "is empty"),
    ],
)
def test_bad_files_are_named_in_one_line(
    layout: tuple[Path, Path], text: str, message: str
) -> None:
    home, project = layout
    path = write(home / "config.toml", text)

    with pytest.raises(ConfigError) as caught:
        load(project, home)

    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_index_url_without_host_names_the_registry(layout: tuple[Path, Path]) -> None:
    home, project = layout
    write(home / "config.toml", '[registries.broken]\nindex = "sparse+file:///srv/index/"\n')

    with pytest.raises(ConfigError, match="registry `broken` has an invalid index URL"):
        load(project, home)
