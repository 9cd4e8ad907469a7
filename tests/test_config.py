"""The configuration file: parsing, errors that name file and key, and the chain it builds."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import requests

from authadapter import BasicCredential, ConfigError, Found, Miss, Origin, RegistryAuth, cli
from authadapter._config import (
    DEFAULT_ORDER,
    CommandSpec,
    Settings,
    config_path,
    load_config,
    parse_config,
    resolve_settings,
)
from authadapter._defaults import default_providers
from tests.support import LoopbackServer, require_authorization

ServerFactory = Callable[..., LoopbackServer]

CONFIG = Path("/etc/example/config.toml")


def test_every_key_is_optional() -> None:
    settings = parse_config("", CONFIG)
    assert settings == Settings(path=CONFIG)
    assert settings.order is None  # the installed stores' default order


def test_a_full_file() -> None:
    settings = parse_config(
        """
        ttl = 60
        negative_ttl = 0
        timeout = 2.5
        allow_http_hosts = ["mirror.internal"]

        [providers]
        order = ["env", "netrc", "commands"]
        keyring = false
        rattler = false

        [[commands]]
        hosts = ["pkgs.example.org", "*.example.net"]
        command = ["vault", "read", "-field=token", "secret/pkgs"]
        ttl = 3600

        [[commands]]
        hosts = "codeartifact.example.com"
        command = ["aws", "codeartifact", "get-authorization-token"]
        kind = "basic"
        username = "aws"
        timeout = 30
        """,
        CONFIG,
    )
    assert (settings.ttl, settings.negative_ttl, settings.timeout) == (60.0, 0.0, 2.5)
    assert settings.allow_http_hosts == ("mirror.internal",)
    assert settings.order == ("env", "netrc", "commands")
    assert not settings.is_enabled("keyring")
    assert not settings.is_enabled("rattler-credentials-file")
    assert settings.is_enabled("netrc")
    assert settings.commands == (
        CommandSpec(
            ("pkgs.example.org", "*.example.net"),
            ("vault", "read", "-field=token", "secret/pkgs"),
            ttl=3600.0,
        ),
        CommandSpec(
            ("codeartifact.example.com",),
            ("aws", "codeartifact", "get-authorization-token"),
            kind="basic",
            username="aws",
            timeout=30.0,
        ),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ttll = 3", "unknown key 'ttll'; expected one of allow_http_hosts, commands,"),
        ("ttl = '5'", "ttl: expected a number of seconds, got a string"),
        ("ttl = -1", "ttl: expected 0 or more seconds"),
        ("timeout = 0", "timeout: expected more than 0 seconds"),
        ("ttl = true", "ttl: expected a number of seconds, got a boolean"),
        ("ttl = nan", "ttl: expected a number of seconds, not a finite number"),
        ("negative_ttl = inf", "negative_ttl: expected a number of seconds, not a finite number"),
        (
            "allow_http_hosts = ['ok.example', 'http://mirror.internal']",
            "allow_http_hosts[1]: expected a host name (no scheme, path or spaces)",
        ),
        ("allow_http_hosts = ['*.internal']", "allow_http_hosts[0]: expected a host name ("),
        ("allow_http_hosts = ['mirror:8080']", "allow_http_hosts[0]: expected a host name ("),
        (
            "[[commands]]\nhosts = ['a', 'pkgs example.org']\ncommand = ['x']",
            "commands[0].hosts[1]: expected a host name, host:port or *.domain",
        ),
        (
            "[[commands]]\nhosts = 'https://pkgs.example.org/'\ncommand = ['x']",
            "commands[0].hosts[0]: expected a host name, host:port or *.domain",
        ),
        ("allow_http_hosts = 'a.example'", "allow_http_hosts: expected a list of non-empty"),
        ("providers = 1", "providers: expected a table, got an integer"),
        ("[providers]\norder = ['keyring', 'vault']", "providers.order: unknown provider 'vault'"),
        ("[providers]\norder = ['netrc', 'netrc']", "providers.order: a provider is listed twice"),
        ("[providers]\nkeyring = 'no'", "providers.keyring: expected true or false, got a string"),
        ("[providers]\nkeyrnig = false", "unknown key 'providers.keyrnig'"),
        ("[commands]\nhosts = ['a']", "commands: expected an array of tables ([[commands]])"),
        ("[[commands]]\nhosts = ['a']", "commands[0]: missing 'command'"),
        ("[[commands]]\nhosts = []\ncommand = ['x']", "commands[0].hosts: expected at least one"),
        ("[[commands]]\nhosts = ['a']\ncommand = 'x'", "commands[0].command: expected a list"),
        (
            "[[commands]]\nhosts = ['a']\ncommand = ['x']\nkind = 'oauth'",
            "commands[0].kind: expected one of bearer, raw, basic, conda",
        ),
        (
            "[[commands]]\nhosts = ['a']\ncommand = ['x']\nkind = 'basic'",
            "commands[0].username: kind 'basic' needs a non-empty user name",
        ),
        (
            "[[commands]]\nhosts = ['a']\ncommand = ['x']\nusername = 'u'",
            "commands[0].username: only used with kind 'basic'",
        ),
        ("[[commands]]\nhosts = ['a']\ncommand = ['x']\nttl = 'x'", "commands[0].ttl: expected"),
        ("[[commands]]\nhosts = ['a']\ncommand = ['x']\nenv = {}", "unknown key 'commands[0].env'"),
        ("ttl = ", "not valid TOML"),
    ],
)
def test_errors_name_the_file_the_key_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, CONFIG)
    error = str(raised.value)
    assert error.startswith(f"{CONFIG}: ")
    assert message in error
    assert "\n" not in error


@pytest.mark.parametrize(
    "hosts", ["a", "*.example.org", "pkgs.example.org:8443", "[::1]:8080", "Bücher.example", "::1"]
)
def test_command_hosts_take_every_store_key_form(hosts: str) -> None:
    text = f"[[commands]]\nhosts = [{hosts!r}]\ncommand = ['x']"
    assert parse_config(text, CONFIG).commands[0].hosts == (hosts,)


@pytest.mark.parametrize("host", ["mirror.internal", "10.0.0.7", "[fd00::7]", "Mirror.Internal."])
def test_allow_http_hosts_takes_host_names_and_addresses(host: str) -> None:
    assert parse_config(f"allow_http_hosts = [{host!r}]", CONFIG).allow_http_hosts == (host,)


def test_errors_never_repeat_a_value() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("[[commands]]\nhosts = ['a']\ncommand = ['x', 7, 'sekrit-arg']", CONFIG)
    assert "sekrit" not in str(raised.value)
    assert "sekrit" not in repr(CommandSpec(("a",), ("tool", "sekrit-arg")))


def test_the_file_lives_in_the_user_config_dir(tmp_path: Path) -> None:
    assert config_path() == Path(os.environ["XDG_CONFIG_HOME"], "authadapter", "config.toml")
    assert load_config() == Settings()  # no file: built-in defaults
    config_path().parent.mkdir(parents=True)
    config_path().write_text("ttl = 7\n")
    assert load_config().ttl == 7.0


def test_authadapter_config_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "team.toml"
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(named))
    with pytest.raises(ConfigError, match=r"team\.toml: configuration file not found"):
        load_config()
    named.write_text("[providers]\nnetrc = false\n")
    assert not load_config().is_enabled("netrc")
    assert load_config().path == named


def test_keyword_arguments_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "config.toml"
    named.write_text("ttl = 7\ntimeout = 3\n[providers]\nkeyring = false\nnetrc = false\n")
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(named))
    settings = resolve_settings(ttl=1, enabled={"netrc": True}, allow_http_hosts=["h.internal"])
    assert (settings.ttl, settings.timeout) == (1.0, 3.0)
    assert settings.is_enabled("netrc")
    assert not settings.is_enabled("keyring")
    assert settings.allow_http_hosts == ("h.internal",)
    assert resolve_settings(config=False) == Settings()
    with pytest.raises(ConfigError, match=r"^RegistryAuth: order: unknown provider 'pip'"):
        resolve_settings(order=["pip"])
    with pytest.raises(ConfigError, match=r"^RegistryAuth: timeout: expected more than 0"):
        resolve_settings(timeout=0)


def test_the_default_chain_follows_order_and_switches(tmp_path: Path) -> None:
    names = [p.name for p in default_providers(Settings())]
    assert names[:5] == ["env", "uv", "keyring", "rattler-credentials-file", "netrc"]
    settings = parse_config(
        "[providers]\norder = ['netrc', 'env', 'keyring']\nkeyring = false\n", CONFIG
    )
    assert [p.name for p in default_providers(settings)] == ["netrc", "env"]


def test_git_is_last_and_off_until_switched_on() -> None:
    assert DEFAULT_ORDER[-1] == "git"
    assert "git" not in [p.name for p in default_providers(Settings())]

    on = parse_config("[providers]\ngit = true\n", CONFIG)
    reordered = parse_config("[providers]\norder = ['git', 'netrc']\ngit = true\n", CONFIG)

    assert [p.name for p in default_providers(on)][-1] == "git"
    assert [p.name for p in default_providers(reordered)] == ["git", "netrc"]
    assert not parse_config("[providers]\norder = ['git']\n", CONFIG).is_enabled("git")


def test_default_providers_reads_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text("[providers]\norder = ['netrc']\n")
    assert [p.name for p in default_providers()] == ["netrc"]


def test_a_command_entry_becomes_a_provider_for_its_hosts(tmp_path: Path) -> None:
    script = tmp_path / "token.py"
    script.write_text("print('s3cr3t-from-command')\n")
    spec = CommandSpec(("pkgs.example.org",), (sys.executable, str(script)), kind="raw", ttl=60)
    settings = Settings(order=("commands",), commands=(spec,))
    [provider] = default_providers(settings)
    origin = Origin.from_url("https://pkgs.example.org/simple/")
    found = provider.lookup(origin, "https://pkgs.example.org/simple/")
    assert isinstance(found, Found)
    assert found.credential.authorization() == "s3cr3t-from-command"
    assert found.ttl == 60
    other = Origin.from_url("https://other.example.org/")
    assert isinstance(provider.lookup(other, "https://other.example.org/"), Miss)


def test_a_basic_command_sends_the_line_as_the_users_password(tmp_path: Path) -> None:
    script = tmp_path / "token.py"
    script.write_text("print('pw-from-command')\n")
    spec = CommandSpec(
        ("pkgs.example.org",), (sys.executable, str(script)), kind="basic", username="aws"
    )
    [provider] = default_providers(Settings(order=("commands",), commands=(spec,)))
    result = provider.lookup(
        Origin.from_url("https://pkgs.example.org/"), "https://pkgs.example.org/"
    )
    assert isinstance(result, Found)
    assert result.credential == BasicCredential("aws", "pw-from-command")


def test_authadapter_config_prints_the_effective_chain_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "config.toml"
    named.write_text(
        "ttl = 60\ntimeout = 4\nallow_http_hosts = ['mirror.internal']\n"
        "[providers]\norder = ['commands', 'netrc', 'env']\nnetrc = false\n"
        "[[commands]]\nhosts = ['pkgs.example.org']\n"
        "command = ['op', 'read', '--token=hunter2-secret']\nkind = 'basic'\nusername = 'ci'\n"
    )
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(named))
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", '{"x.example": {"BearerToken": "envsecret"}}')
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["config"], stdout=out, stderr=err) == 0
    text = out.getvalue()
    assert "hunter2" not in text
    assert "envsecret" not in text
    # the keyring backend's line is tested in tests/test_keyring_backend.py
    lines = [line for line in text.splitlines() if not line.startswith("keyring backend")]
    assert lines[0] == f"configuration file: {named}"
    assert lines[1] == "cache: credentials 60 s, no credential 300 s; provider timeout 4 s"
    assert lines[2] == "plain http allowed for: mirror.internal"
    assert lines[4].split()[:4] == ["1.", "commands", "on", "1"]
    assert "pkgs.example.org -> command `op`: basic (user ci)" in lines[5]
    assert "timeout 4 s" in lines[5]
    assert lines[6].split()[:3] == ["2.", "netrc", "off"]
    assert lines[7].split()[:3] == ["3.", "env", "on"]
    assert "environment variable AUTHADAPTER_CREDENTIALS" in lines[7]
    assert all(line.split()[0] == "-" for line in lines[8:])
    assert {line.split()[1] for line in lines[8:]} >= {"keyring", "rattler-credentials-file"}


def test_authadapter_config_says_where_cargo_credentials_come_from() -> None:
    out = io.StringIO()
    assert cli.main(["config"], stdout=out, stderr=io.StringIO()) == 0

    [line] = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["cargo"]]
    assert line.split(None, 3)[3] == (
        "Cargo's config.toml (working directory upwards, then $CARGO_HOME), "
        "its credentials.toml and credential providers"
    )


@pytest.mark.parametrize(
    ("backend", "shown"),
    [
        ("keyring.backends.null.Keyring", ": none, PYTHON_KEYRING_BACKEND=keyring.backends.null"),
        ("keyring.backends.SecretService.Keyring", ", PYTHON_KEYRING_BACKEND=keyring.backends.Se"),
        ("", ", backend chosen by python-keyring"),
    ],
)
def test_authadapter_config_says_which_keyring_backend_is_configured(
    monkeypatch: pytest.MonkeyPatch, backend: str, shown: str
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    out = io.StringIO()
    assert cli.main(["config"], stdout=out, stderr=io.StringIO()) == 0

    [line] = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["keyring"]]
    assert line.split(None, 3)[3].startswith(f"keyring (service rattler){shown}")


def test_authadapter_config_reports_a_broken_file_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "config.toml"
    named.write_text("[providers]\norder = 'netrc'\n")
    monkeypatch.setenv("AUTHADAPTER_CONFIG", str(named))
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["config"], stdout=out, stderr=err) == 1
    assert err.getvalue() == (
        f"authadapter: error: {named}: providers.order: expected a list of non-empty strings\n"
    )


def test_registry_auth_takes_the_same_settings_as_keywords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loopback_server: ServerFactory
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer from-env"))
    monkeypatch.setenv("AUTHADAPTER_CREDENTIALS", '{"127.0.0.1": {"BearerToken": "from-env"}}')
    named = tmp_path / "config.toml"
    named.write_text("ttl = 5\n[providers]\nenv = false\n")
    off = RegistryAuth(config=named)
    assert (off.chain.ttl, off.settings.path) == (5.0, named)
    assert off.resolve(server.url).credential is None
    on = RegistryAuth(config=named, enabled={"env": True}, ttl=9, allow_http_hosts=["h.internal"])
    assert (on.chain.ttl, on.authorizer.allow_http_hosts) == (9.0, frozenset({"h.internal"}))
    with httpx.Client(auth=on) as client:
        assert client.get(server.url + "/x").status_code == 200
    with pytest.raises(ConfigError, match=r"^RegistryAuth: order: unknown provider 'pypirc'"):
        RegistryAuth(order=["pypirc"])


def test_a_configured_command_feeds_requests_through_registry_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loopback_server: ServerFactory
) -> None:
    server = loopback_server("127.0.0.1", require_authorization("Bearer cmd-token"))
    script = tmp_path / "vault.py"
    script.write_text(
        "import os\nassert os.environ['AUTHADAPTER_HOST'] == '127.0.0.1'\nprint('cmd-token')\n"
    )
    config_path().parent.mkdir(parents=True)
    config_path().write_text(
        f"[[commands]]\nhosts = ['127.0.0.1']\ncommand = [{sys.executable!r}, {str(script)!r}]\n"
    )
    session = requests.Session()
    session.auth = RegistryAuth()
    assert session.get(server.url + "/x", timeout=10).status_code == 200
    assert session.auth.resolve(server.url).source == f"command `{sys.executable}`"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "oauth"}, "CommandSpec: kind: expected one of bearer, raw, basic, conda"),
        ({"kind": "basic"}, "CommandSpec: username: kind 'basic' needs a non-empty user name"),
        ({"username": "u"}, "CommandSpec: username: only used with kind 'basic'"),
    ],
)
def test_a_command_spec_built_in_python_names_its_own_field(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        CommandSpec(("pkgs.example.org",), ("tool",), **arguments)
    assert str(error.value) == message


@pytest.mark.parametrize("xdg", ["", "   ", "/somewhere/config"])
def test_config_path_is_where_platformdirs_puts_it(
    monkeypatch: pytest.MonkeyPatch, xdg: str
) -> None:
    # the path is computed without importing platformdirs on Linux; it must not drift from it
    import platformdirs

    from authadapter._config import config_path

    monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    expected = Path(platformdirs.user_config_dir("authadapter", appauthor=False)) / "config.toml"
    assert config_path() == expected
