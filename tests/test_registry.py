"""The provider registry: every store, built-in or plugin, gets its place, switch and listing."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from authadapter import ConfigError, Found, Origin, ProviderEntry, RegistryAuth
from authadapter._config import Settings, config_path, parse_config
from authadapter._defaults import default_providers
from authadapter._registry import BUILTINS, installed
from authadapter._store import WritableStore
from authadapter.cli import main
from tests.fixtures_plugins import InstallPlugin

CONFIG = Path("/etc/example/config.toml")


def entry_source(
    name: str, host: str = "127.0.0.9", sends: str = "plugin-tok-1", **place: str
) -> str:
    where = ", ".join(f"{key}={value!r}" for key, value in place.items())
    return (
        f"ENTRY = ProviderEntry({name!r}, lambda settings: [StaticProvider({name!r}, "
        f"{host!r}, {sends!r})], 'a static token'{', ' if where else ''}{where})\n"
    )


def names(settings: Settings | None = None) -> list[str]:
    return [provider.name for provider in default_providers(settings or Settings())]


def config_lines() -> list[str]:
    out = io.StringIO()
    assert main(["config"], stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue().splitlines()


def store_line(lines: list[str], name: str) -> str:
    [line] = [line for line in lines if line.split()[1:2] == [name]]
    return line


# built-ins ------------------------------------------------------------------


@pytest.mark.parametrize("entry", BUILTINS, ids=lambda entry: entry.name)
def test_every_builtin_store_has_a_switch_a_place_and_a_config_line(
    entry: ProviderEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))
    on = parse_config(f"[providers]\norder = [{entry.name!r}]\n", CONFIG)
    off = parse_config(f"[providers]\norder = [{entry.name!r}]\n{entry.name} = false\n", CONFIG)
    spec = "[[commands]]\nhosts = ['h.example']\ncommand = ['true']\n"
    if entry.name == "commands":
        on = parse_config(spec + f"[providers]\norder = ['{entry.name}']\n", CONFIG)
    if not entry.on_by_default:
        on = parse_config(f"[providers]\norder = [{entry.name!r}]\n{entry.name} = true\n", CONFIG)

    assert default_providers(on) != []
    assert default_providers(off) == []
    assert entry.name in [line.split()[1] for line in config_lines()[4:]]
    assert entry.name in installed().default_order


@pytest.mark.parametrize("entry", [e for e in BUILTINS if e.writable], ids=lambda e: e.name)
def test_the_writable_builtins_can_be_written(
    entry: ProviderEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))
    [provider] = entry.build(Settings())
    assert isinstance(provider, WritableStore)


def test_a_switch_group_switches_all_its_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATTLER_AUTH_FILE", str(tmp_path / "auth.json"))
    assert {"rattler-auth-file", "rattler-credentials-file"} <= set(names())

    remaining = names(parse_config("[providers]\nrattler = false\n", CONFIG))

    assert not {"rattler-auth-file", "rattler-credentials-file"} & set(remaining)
    assert "keyring" in remaining


def test_exclude_leaves_a_store_out_whatever_the_configuration_says() -> None:
    assert "cargo" in names()
    assert "cargo" not in [p.name for p in default_providers(Settings(), exclude=("cargo",))]
    on = parse_config("[providers]\norder = ['cargo', 'netrc']\ncargo = true\n", CONFIG)
    assert [p.name for p in default_providers(on, exclude={"cargo"})] == ["netrc"]


def test_an_entry_needs_a_plain_name_and_at_most_one_place() -> None:
    with pytest.raises(ValueError, match="words joined by '-'"):
        ProviderEntry("Acme Vault", lambda settings: [], "x")
    with pytest.raises(ValueError, match="before or after, not both"):
        ProviderEntry("acme", lambda settings: [], "x", before="netrc", after="env")


# plugins --------------------------------------------------------------------


def test_a_plugin_goes_where_it_asks_and_answers_requests(install_plugin: InstallPlugin) -> None:
    install_plugin("acme-vault", entry_source("acme-vault", after="env"))

    order = installed().default_order
    auth = RegistryAuth(config=False)
    resolution = auth.resolve("https://127.0.0.9/simple/")

    assert order.index("acme-vault") == order.index("env") + 1
    assert names().index("acme-vault") == names().index("env") + 1
    assert resolution.credential is not None
    assert resolution.credential.authorization() == "Bearer plugin-tok-1"


def test_plugins_without_a_place_go_last_and_neighbours_keep_name_order(
    install_plugin: InstallPlugin,
) -> None:
    install_plugin("zeta", entry_source("zeta", before="netrc"))
    install_plugin("alpha", entry_source("alpha", before="netrc"))
    install_plugin("omega", entry_source("omega"))
    install_plugin("beta", entry_source("beta", after="keyring"))
    install_plugin("gamma", entry_source("gamma", after="keyring"))

    order = list(installed().default_order)

    assert order[-2:] == [BUILTINS[-1].name, "omega"]
    netrc = order.index("netrc")
    assert order[netrc - 2 : netrc] == ["alpha", "zeta"]
    keyring = order.index("keyring")
    assert order[keyring + 1 : keyring + 3] == ["beta", "gamma"]


def test_a_plugin_has_a_switch_and_a_place_in_an_explicit_order(
    install_plugin: InstallPlugin,
) -> None:
    install_plugin("acme-vault", entry_source("acme-vault"))

    off = parse_config("[providers]\nacme-vault = false\n", CONFIG)
    first = parse_config("[providers]\norder = ['acme-vault', 'netrc']\n", CONFIG)
    unlisted = parse_config("[providers]\norder = ['netrc']\n", CONFIG)

    assert "acme-vault" in names()
    assert "acme-vault" not in names(off)
    assert names(first) == ["acme-vault", "netrc"]
    assert names(unlisted) == ["netrc"]


def test_a_switch_for_a_plugin_that_is_not_installed_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'providers.acme-vault'; expected one of"):
        parse_config("[providers]\nacme-vault = false\n", CONFIG)
    with pytest.raises(ConfigError, match=r"order: unknown provider 'acme-vault'"):
        parse_config("[providers]\norder = ['acme-vault']\n", CONFIG)


def test_authadapter_config_lists_a_plugin_with_its_package(
    install_plugin: InstallPlugin,
) -> None:
    module = install_plugin("acme-vault", entry_source("acme-vault", after="env"))

    lines = config_lines()
    line = store_line(lines, "acme-vault")

    assert line.split()[0] == "3."
    assert line.split()[2] == "on"
    assert "acme-vault's static token for 127.0.0.9" in line
    assert f"[plugin acme-vault-plugin: acme-vault = {module}:ENTRY]" in line


def test_a_plugin_cannot_take_a_builtin_name(
    install_plugin: InstallPlugin, caplog: pytest.LogCaptureFixture
) -> None:
    install_plugin("netrc", entry_source("netrc", host="127.0.0.9"))

    providers = default_providers(Settings())

    assert [p.name for p in providers].count("netrc") == 1
    [netrc] = [p for p in providers if p.name == "netrc"]
    assert not isinstance(netrc.lookup(Origin.from_url("https://127.0.0.9/"), ""), Found)
    [record] = [r for r in caplog.records if "plugin" in r.getMessage()]
    assert "netrc-plugin: netrc = " in record.getMessage()
    assert "a built-in store has that name" in record.getMessage()


def test_two_plugins_with_one_name_are_both_left_out(
    install_plugin: InstallPlugin, caplog: pytest.LogCaptureFixture
) -> None:
    install_plugin("acme", entry_source("acme", sends="one"), package="acme-one")
    install_plugin("acme", entry_source("acme", sends="two"), package="acme-two")

    assert "acme" not in names()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 2
    assert all("acme-one" in m and "acme-two" in m and "neither is used" in m for m in messages)


@pytest.mark.parametrize(
    ("source", "value", "problem"),
    [
        ("import no_such_module_for_authadapter\n", None, "cannot import it (ModuleNotFoundError"),
        ("raise RuntimeError('token=hunter2')\n", None, "loading it raised RuntimeError"),
        ("ENTRY = object()\n", None, "expected a ProviderEntry, got object"),
        ("ENTRY = ProviderEntry('other', lambda s: [], 'x')\n", None, "named 'other', not 'acme'"),
        ("ENTRY = ProviderEntry('acme', lambda s: [], 'x', group='g')\n", None, "switch groups"),
        ("", "{module}:MISSING", "loading it raised AttributeError"),
    ],
)
def test_a_broken_plugin_is_one_warning_naming_its_entry_point(
    install_plugin: InstallPlugin,
    caplog: pytest.LogCaptureFixture,
    source: str,
    value: str | None,
    problem: str,
) -> None:
    install_plugin("acme", source, value=value)

    providers = default_providers(Settings())
    lines = config_lines()

    assert "cargo" in [p.name for p in providers]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(set(warnings)) == 1
    assert warnings[0].startswith("plugin acme-plugin: acme = ")
    assert problem in warnings[0]
    assert "hunter2" not in warnings[0]
    assert store_line(lines, "acme").split()[2] == "off"


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        ("lambda settings: 1 / 0", "building it raised ZeroDivisionError"),
        ("lambda settings: [object()]", "built a object, not a provider"),
        ("lambda settings: StaticProvider('acme', 'h', 't')", "building it raised TypeError"),
    ],
)
def test_a_plugin_whose_build_fails_adds_nothing_and_warns(
    install_plugin: InstallPlugin, caplog: pytest.LogCaptureFixture, build: str, problem: str
) -> None:
    install_plugin("acme", f"ENTRY = ProviderEntry('acme', {build}, 'x')\n")

    providers = default_providers(Settings())

    assert "acme" not in [p.name for p in providers]
    assert "netrc" in [p.name for p in providers]
    assert problem in caplog.text


def test_a_plugin_next_to_an_unknown_store_goes_last_with_a_warning(
    install_plugin: InstallPlugin, caplog: pytest.LogCaptureFixture
) -> None:
    install_plugin("acme", entry_source("acme", after="pypirc"))

    assert installed().default_order[-1] == "acme"
    assert "'pypirc' is not a built-in store; placed last" in caplog.text


def test_the_configuration_file_may_switch_a_plugin(install_plugin: InstallPlugin) -> None:
    install_plugin("acme-vault", entry_source("acme-vault"))
    config_path().parent.mkdir(parents=True)
    config_path().write_text("[providers]\nacme-vault = false\n")

    assert store_line(config_lines(), "acme-vault").split()[2] == "off"
    assert RegistryAuth().resolve("https://127.0.0.9/").credential is None


def test_every_builtin_store_is_held_to_the_provider_contract() -> None:
    import tests.test_cargo_provider
    import tests.test_defaults
    import tests.test_env
    import tests.test_git
    import tests.test_keyring_store
    import tests.test_netrc
    import tests.test_pip_keyring
    import tests.test_rattler
    import tests.test_uv
    from tests.provider_contract import ProviderContract

    modules = (
        tests.test_cargo_provider,
        tests.test_defaults,
        tests.test_env,
        tests.test_git,
        tests.test_keyring_store,
        tests.test_netrc,
        tests.test_pip_keyring,
        tests.test_rattler,
        tests.test_uv,
    )
    served = {
        name
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ProviderContract)
        for name in value.serves
    }

    assert served == {entry.name for entry in BUILTINS}
