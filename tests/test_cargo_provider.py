"""CargoProvider: which registry a request belongs to and which token Cargo would send.

Configuration and credentials are real files in the per-test ``$CARGO_HOME``;
commands and plugins are real processes; libsecret is the private Secret
Service of ``tests/fixtures_secret_service.py``.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import ClassVar

import pytest

from authadapter import (
    Credential,
    CredentialProvider,
    Failure,
    Found,
    Miss,
    Origin,
    ProviderChain,
    ProviderError,
    RawToken,
)
from authadapter._reentry import IN_PLUGIN_VARIABLE
from authadapter.providers.cargo import CargoProvider
from authadapter.providers.cargo.config import CRATES_IO, CRATES_IO_INDEX, Registry
from authadapter.providers.cargo.keychain import keychain_service, wincred_target
from authadapter.providers.cargo.libsecret import SCHEMA, libsecret_attributes
from authadapter.providers.cargo.token import registry_token
from tests.fixtures_cargo import CargoHome, hanging_script
from tests.provider_contract import ProviderContract
from tests.support import SecretService

INDEX = "sparse+https://cargo.example.org/index/"
URL = "https://cargo.example.org/index/de/mo/demo"
REGISTRY = f'[registries.my-reg]\nindex = "{INDEX}"\n'


def lookup(provider: CargoProvider, url: str = URL) -> Found | Miss | Failure:
    return provider.lookup(Origin.from_url(url), url)


def provider(tmp_path: Path, **env: str) -> CargoProvider:
    return CargoProvider(cwd=tmp_path, environ={**os.environ, **env})


def token_script(tmp_path: Path, body: str, name: str = "tool.py") -> str:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


def found_token(result: object) -> str:
    assert isinstance(result, Found), result
    assert isinstance(result.credential, RawToken)
    return result.credential.token


class TestCargoToken:
    def test_credentials_toml_token_is_sent_verbatim(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config(REGISTRY)
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "Bearer tok T"\n')

        result = lookup(provider(tmp_path))

        assert found_token(result) == "Bearer tok T"
        assert isinstance(result, Found)
        assert result.credential.authorization() == "Bearer tok T"
        assert "credentials.toml [registries.my-reg] token" in result.source
        assert "tok T" not in result.source

    def test_env_beats_credentials_toml(self, cargo_home: CargoHome, tmp_path: Path) -> None:
        cargo_home.write_config(REGISTRY)
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "from-file"\n')

        result = lookup(provider(tmp_path, CARGO_REGISTRIES_MY_REG_TOKEN="from-env"))

        assert found_token(result) == "from-env"
        assert isinstance(result, Found)
        assert "CARGO_REGISTRIES_MY_REG_TOKEN" in result.source

    def test_crates_io_token_lives_under_registry(self, cargo_home: CargoHome) -> None:
        crates_io = Registry(CRATES_IO, CRATES_IO_INDEX)
        cargo_home.write_credentials('[registry]\ntoken = "crates-tok"\n')

        found = registry_token(crates_io, cargo_home.path, {})
        from_env = registry_token(crates_io, cargo_home.path, {"CARGO_REGISTRY_TOKEN": "env"})

        assert [entry.token if entry else None for entry in (found, from_env)] == [
            "crates-tok",
            "env",
        ]

    def test_the_crates_io_publish_token_is_never_sent_to_its_index(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        """Seen with cargo 1.95: a registry that is not auth-required gets no token on reads."""
        cargo_home.write_config('[registry]\nglobal-credential-providers = ["cargo:token"]\n')
        cargo_home.write_credentials('[registry]\ntoken = "crates-publish-tok"\n')

        for url in ("https://index.crates.io/se/rd/serde", "https://static.crates.io/x"):
            assert isinstance(lookup(provider(tmp_path, CARGO_REGISTRY_TOKEN="env"), url), Miss)
            assert isinstance(lookup(provider(tmp_path), url), Miss)

    def test_credentials_toml_is_reread_after_a_login(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config(REGISTRY)
        cargo = provider(tmp_path)
        assert isinstance(lookup(cargo), Miss)

        cargo_home.write_credentials('[registries.my-reg]\ntoken = "after-login"\n')

        assert found_token(lookup(cargo)) == "after-login"

    def test_token_is_ignored_when_cargo_token_is_not_a_provider(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config("[registry]\nglobal-credential-providers = []\n" + REGISTRY)
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "unused"\n')

        assert isinstance(lookup(provider(tmp_path)), Miss)

    def test_other_origins_never_get_the_token(self, cargo_home: CargoHome, tmp_path: Path) -> None:
        cargo_home.write_config(REGISTRY)
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "t"\n')
        cargo = provider(tmp_path)

        for url in (
            "http://cargo.example.org/index/",
            "https://cargo.example.org:8443/index/",
            "https://evil.cargo.example.org/index/",
            "https://cargo.example.org.evil.test/index/",
        ):
            assert isinstance(lookup(cargo, url), Miss), url

    @pytest.mark.parametrize("token", ["", "bad\ntoken", "caf\u00e9"])
    def test_invalid_tokens_are_fatal_and_secret_free(
        self, cargo_home: CargoHome, tmp_path: Path, token: str
    ) -> None:
        cargo_home.write_config(REGISTRY)
        cargo_home.write_credentials(f"[registries.my-reg]\ntoken = {json.dumps(token)}\n")

        result = lookup(provider(tmp_path))

        assert isinstance(result, Failure)
        assert result.fatal
        assert result.message.startswith("cargo:token for Cargo registry `my-reg`: token ")
        assert token not in result.message or not token

    def test_broken_credentials_file_is_fatal_and_named(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config(REGISTRY)
        path = cargo_home.write_credentials('[registries.my-reg]\ntoken = "unterminated\n')

        result = lookup(provider(tmp_path))

        assert isinstance(result, Failure)
        assert result.fatal
        assert f"{path}: not valid TOML" in result.message
        assert "unterminated" not in result.message


class TestTokenFromStdout:
    def test_runs_with_cargos_env_and_index_url_substitution(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        tool = token_script(
            tmp_path,
            """
            import os, sys
            print("|".join([sys.argv[1], os.environ["CARGO_REGISTRY_INDEX_URL"],
                            os.environ["CARGO_REGISTRY_NAME_OPT"]]))
            """,
        )
        cargo_home.write_config(
            REGISTRY + f'credential-provider = "cargo:token-from-stdout {tool} {{index_url}}"\n'
        )

        result = lookup(provider(tmp_path))

        assert found_token(result) == f"{INDEX}|{INDEX}|my-reg"
        assert isinstance(result, Found)
        assert result.ttl is None

    def test_failure_is_fatal_and_names_the_command(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        tool = token_script(tmp_path, "print('leaked-s3cret')\nraise SystemExit(5)\n")
        cargo_home.write_config(
            REGISTRY + f'credential-provider = ["cargo:token-from-stdout", "{tool}"]\n'
        )

        result = lookup(provider(tmp_path))

        assert isinstance(result, Failure)
        assert result.fatal
        assert result.message == (
            f"cargo:token-from-stdout for Cargo registry `my-reg`: "
            f"command `{tool}` failed with exit status 5"
        )

    def test_the_command_runs_where_cargo_would(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        """Seen with cargo 1.95: `./tool` is looked up in the directory cargo runs in."""
        project = tmp_path / "project"
        project.mkdir()
        token_script(project, "import os\nprint('ran-in-' + os.path.basename(os.getcwd()))\n")
        cargo_home.write_config(
            REGISTRY + 'credential-provider = "cargo:token-from-stdout ./tool.py"\n'
        )

        assert found_token(lookup(provider(project))) == "ran-in-project"


class TestPluginsAndOrder:
    def test_later_global_providers_are_asked_first_not_found_moves_on(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        calls = tmp_path / "calls"
        body = f"""
            import json, sys
            open({str(calls)!r}, "a").write(sys.argv[0] + "\\n")
            print(json.dumps({{"v": [1]}}), flush=True)
            request = json.loads(sys.stdin.readline())
            print(json.dumps({{"Err": {{"kind": "not-found"}}}}), flush=True)
            """
        nothing = token_script(tmp_path, body, "nothing.py")
        cargo_home.write_config(
            f'[registry]\nglobal-credential-providers = ["cargo:token", "{nothing}"]\n' + REGISTRY
        )
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "from-token"\n')

        result = lookup(provider(tmp_path))

        assert found_token(result) == "from-token"
        assert calls.read_text() == f"{nothing}\n"

    def test_a_plugin_error_stops_the_walk(self, cargo_home: CargoHome, tmp_path: Path) -> None:
        failing = token_script(
            tmp_path,
            """
            import json, sys
            print(json.dumps({"v": [1]}), flush=True)
            sys.stdin.readline()
            print(json.dumps({"Err": {"kind": "other", "message": "vault sealed"}}), flush=True)
            """,
        )
        cargo_home.write_config(
            f'[registry]\nglobal-credential-providers = ["cargo:token", "{failing}"]\n' + REGISTRY
        )
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "never-reached"\n')

        result = lookup(provider(tmp_path))

        assert isinstance(result, Failure)
        assert result.fatal
        assert result.message.endswith("failed: vault sealed")

    def test_plugin_token_and_lifetime(self, cargo_home: CargoHome, tmp_path: Path) -> None:
        plugin = token_script(
            tmp_path,
            """
            import json, sys
            print(json.dumps({"v": [1]}), flush=True)
            request = json.loads(sys.stdin.readline())
            answer = {"kind": "get", "token": "plug:" + " ".join(request["args"]),
                      "cache": "expires", "expiration": 1_000_000_000 + 600,
                      "operation_independent": False}
            print(json.dumps({"Ok": answer}), flush=True)
            """,
        )
        cargo_home.write_config(
            f'[credential-alias]\nmine = ["{plugin}", "--vault", "dev"]\n'
            + REGISTRY
            + 'credential-provider = "mine"\n'
        )
        cargo = CargoProvider(cwd=tmp_path, clock=lambda: 1_000_000_000.0)

        result = lookup(cargo)

        assert found_token(result) == "plug:--vault dev"
        assert isinstance(result, Found)
        assert result.ttl == 540

    @pytest.mark.parametrize(
        ("reference", "message"),
        [
            ('"cargo:nonsense"', "unknown Cargo credential provider `cargo:nonsense` in {file}"),
            ('["cargo:token-from-stdout"]', "no command given in {file}"),
        ],
    )
    def test_a_bad_builtin_is_fatal_and_names_its_file(
        self, cargo_home: CargoHome, tmp_path: Path, reference: str, message: str
    ) -> None:
        path = cargo_home.write_config(REGISTRY + f"credential-provider = {reference}\n")

        result = lookup(provider(tmp_path))

        assert isinstance(result, Failure)
        assert result.fatal
        assert result.message.endswith(message.format(file=path))

    def test_paseto_is_skipped_with_a_warning(
        self, cargo_home: CargoHome, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        cargo_home.write_config(
            '[registry]\nglobal-credential-providers = ["cargo:token", "cargo:paseto"]\n' + REGISTRY
        )
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "fallback"\n')

        assert found_token(lookup(provider(tmp_path))) == "fallback"
        assert "cargo:paseto" in caplog.text

    def test_macos_keychain_and_wincred_hold_nothing_on_linux(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        if sys.platform in ("darwin", "win32"):
            pytest.skip("this checks the behaviour where those stores do not exist")
        cargo_home.write_config(
            '[registry]\nglobal-credential-providers = ["cargo:token", '
            '"cargo:macos-keychain", "cargo:wincred"]\n' + REGISTRY
        )
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "fallback"\n')

        assert found_token(lookup(provider(tmp_path))) == "fallback"


def test_keychain_and_wincred_names_are_cargos() -> None:
    assert keychain_service(INDEX) == f"cargo-registry:{INDEX}"
    assert wincred_target(INDEX) == f"cargo-registry:{INDEX}"
    assert libsecret_attributes(INDEX) == {"xdg:schema": SCHEMA, "url": INDEX}
    assert SCHEMA == "org.rust-lang.cargo.registry"


@pytest.mark.parametrize("token", ["good-plugin-tok", "bad\\u0001plugin-tok"])
def test_a_plugins_answer_names_the_plugin_never_the_token(
    cargo_home: CargoHome, tmp_path: Path, token: str
) -> None:
    plugin = token_script(
        tmp_path,
        f"""
        import json, sys
        print(json.dumps({{"v": [1]}}), flush=True)
        sys.stdin.readline()
        answer = {{"kind": "get", "token": "{token}", "cache": "session",
                  "operation_independent": True}}
        print(json.dumps({{"Ok": answer}}), flush=True)
        """,
    )
    cargo_home.write_config(REGISTRY + f'credential-provider = "{plugin}"\n')

    result = lookup(provider(tmp_path))

    said = result.source if isinstance(result, Found) else getattr(result, "message", "")
    assert said.startswith(f"{plugin} for Cargo registry `my-reg`")
    assert "plugin-tok" not in said
    assert isinstance(result, Found) == token.startswith("good")


class TestCheapAndSafe:
    def test_config_is_read_once(
        self, cargo_home: CargoHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from authadapter.providers.cargo.config import CargoConfig, load_cargo_config

        reads: list[Path | None] = []

        def counting(cwd: Path | None, environ: Mapping[str, str]) -> CargoConfig:
            reads.append(cwd)
            return load_cargo_config(cwd, environ)

        monkeypatch.setattr("authadapter.providers.cargo.provider.load_cargo_config", counting)
        cargo_home.write_config(REGISTRY)
        cargo = provider(tmp_path)

        for url in (URL, "https://pypi.org/simple/", URL):
            lookup(cargo, url)

        assert reads == [tmp_path]

    def test_no_process_runs_for_other_hosts(self, cargo_home: CargoHome, tmp_path: Path) -> None:
        marker = tmp_path / "ran"
        tool = token_script(tmp_path, f"open({str(marker)!r}, 'w')\nprint('t')\n")
        cargo_home.write_config(
            f'[registry]\nglobal-credential-providers = ["cargo:token-from-stdout {tool}"]\n'
            + REGISTRY
        )

        assert isinstance(lookup(provider(tmp_path), "https://pypi.org/simple/"), Miss)
        assert not marker.exists()

    def test_inside_the_cargo_plugin_nothing_is_asked(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config(REGISTRY)
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "t"\n')

        assert isinstance(lookup(provider(tmp_path, **{IN_PLUGIN_VARIABLE: "1"})), Miss)

    def test_broken_config_is_a_non_fatal_failure_naming_the_file(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        path = cargo_home.write_config("[registries\n")

        result = lookup(provider(tmp_path), "https://pypi.org/simple/")

        assert isinstance(result, Failure)
        assert not result.fatal
        assert result.message.startswith(f"{path}: not valid TOML")


def test_libsecret_item_is_read(
    secret_service: SecretService, cargo_home: CargoHome, tmp_path: Path
) -> None:
    import secretstorage

    with closing(secret_service.connection()) as connection:
        collection = secretstorage.get_default_collection(connection)
        collection.create_item("cargo-registry:my-reg", libsecret_attributes(INDEX), b"from-ss")
        other = libsecret_attributes("sparse+https://other.example/index/")
        collection.create_item("cargo-registry:other", other, b"not-this")
    cargo_home.write_config(
        '[registry]\nglobal-credential-providers = ["cargo:libsecret"]\n' + REGISTRY
    )

    result = lookup(provider(tmp_path))

    assert found_token(result) == "from-ss"
    assert isinstance(result, Found)
    assert "Secret Service" in result.source


def test_libsecret_without_an_item_moves_on(
    secret_service: SecretService, cargo_home: CargoHome, tmp_path: Path
) -> None:
    cargo_home.write_config(
        '[registry]\nglobal-credential-providers = ["cargo:token", "cargo:libsecret"]\n' + REGISTRY
    )
    cargo_home.write_credentials('[registries.my-reg]\ntoken = "fallback"\n')

    assert found_token(lookup(provider(tmp_path))) == "fallback"


def test_libsecret_without_a_secret_service_is_fatal(
    cargo_home: CargoHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cargo_home.write_config(
        '[registry]\nglobal-credential-providers = ["cargo:libsecret"]\n' + REGISTRY
    )
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")

    result = lookup(provider(tmp_path))

    assert isinstance(result, Failure)
    assert result.fatal
    assert "cannot reach the Secret Service" in result.message


class TestTokenFiles:
    def test_cargo_home_defaults_to_dot_cargo_in_home(self, tmp_path: Path) -> None:
        home = tmp_path / "user"
        (home / ".cargo").mkdir(parents=True)
        (home / ".cargo" / "config.toml").write_text(REGISTRY)
        (home / ".cargo" / "credentials.toml").write_text(
            '[registries.my-reg]\ntoken = "default-home"\n'
        )
        environ = {k: v for k, v in os.environ.items() if k != "CARGO_HOME"}
        environ["HOME"] = str(home)

        assert found_token(lookup(CargoProvider(cwd=tmp_path, environ=environ))) == "default-home"

    def test_legacy_credentials_file_is_preferred(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config(REGISTRY)
        cargo_home.write_credentials('[registries.my-reg]\ntoken = "new-name"\n')
        (cargo_home.path / "credentials").write_text('[registries.my-reg]\ntoken = "legacy"\n')

        assert found_token(lookup(provider(tmp_path))) == "legacy"

    def test_token_in_a_config_file_is_the_last_resort(
        self, cargo_home: CargoHome, tmp_path: Path
    ) -> None:
        cargo_home.write_config(REGISTRY + 'token = "in-config"\n')

        result = lookup(provider(tmp_path))
        assert found_token(result) == "in-config"
        assert isinstance(result, Found)
        assert "Cargo config [registries.my-reg] token" in result.source

        cargo_home.write_credentials('[registries.my-reg]\ntoken = "in-credentials"\n')
        assert found_token(lookup(provider(tmp_path))) == "in-credentials"


def test_two_registries_on_one_origin_each_get_their_token_through_the_cache(
    cargo_home: CargoHome, tmp_path: Path
) -> None:
    """The chain caches per origin; two indexes on one host must not share an answer."""
    cargo_home.write_config(
        '[registries.one]\nindex = "sparse+https://cargo.example.org/one/"\n'
        '[registries.two]\nindex = "sparse+https://cargo.example.org/two/"\n'
    )
    cargo_home.write_credentials(
        '[registries.one]\ntoken = "tok-one"\n[registries.two]\ntoken = "tok-two"\n'
    )
    chain = ProviderChain([provider(tmp_path)])
    sent = [
        chain.resolve(f"https://cargo.example.org/{name}/de/mo/demo").credential
        for name in ("one", "two", "one")
    ]
    assert sent == [RawToken("tok-one"), RawToken("tok-two"), RawToken("tok-one")]


def test_a_hung_plugin_is_a_fatal_error_naming_it_and_is_killed(
    cargo_home: CargoHome, tmp_path: Path
) -> None:
    """Cargo fails on a plugin that never answers; the chain must not turn it into a warning."""
    hanging = hanging_script(tmp_path)
    hung = str(hanging.path)
    cargo_home.write_config(REGISTRY + f'credential-provider = "{hung}"\n')
    chain = ProviderChain([CargoProvider(cwd=tmp_path, timeout=1.0)], timeout=1.0)

    with pytest.raises(ProviderError) as caught:
        chain.resolve(URL)

    message = str(caught.value)
    assert f"credential plugin `{hung}` did not finish" in message
    assert "Cargo registry `my-reg`" in message
    assert message.count(hung) == 1
    hanging.assert_reaped()


class TestCargoContract(ProviderContract):
    """Each key becomes a Cargo registry whose sparse index is at ``https://<key>/``."""

    kinds: ClassVar[tuple[str, ...]] = ("raw",)
    supports_wildcards = False  # a registry is one URL: no key names a domain's hosts
    bare_host_matches_every_port = False  # ... on one port
    source_names_the_key = False  # it names the Cargo registry, as Cargo's messages do
    serves = ("cargo",)

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        home = self.workspace / "cargo-home"
        config, credentials = [], []
        for number, (key, credential) in enumerate(entries.items()):
            assert isinstance(credential, RawToken)
            if key.startswith("*."):
                continue
            config.append(f'[registries.r{number}]\nindex = "sparse+https://{key}/"\n')
            credentials.append(f'[registries.r{number}]\ntoken = "{credential.token}"\n')
        CargoHome(home).write_config("".join(config))
        CargoHome(home).write_credentials("".join(credentials))
        return CargoProvider(cwd=self.workspace, environ={**os.environ, "CARGO_HOME": str(home)})
