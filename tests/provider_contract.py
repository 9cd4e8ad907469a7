"""The behaviour every credential provider owes its users, as one reusable test class.

A provider's test module subclasses ``ProviderContract`` and says only how to
build a provider that holds given entries (``build``, which may write files
under ``self.workspace``) and what it supports (credential kinds, ``host:port``
keys, ``*.`` wildcards). Every provider is then held to the same promises: it
derives from ``Provider``, finds what it holds, misses what it does not, never
hands one host's credential to a look-alike host, and never lets a secret
reach ``source``, ``description`` or ``repr``. Every built-in store has a
subclass (tests/test_registry.py checks that none is missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from authadapter import (
    BasicCredential,
    BearerToken,
    CondaToken,
    Credential,
    CredentialProvider,
    Found,
    LookupResult,
    Miss,
    Origin,
    Provider,
    RawToken,
)
from authadapter.providers.rattler_format import dump_credential_value

SECRET = "s3cr3t-Contract-Value"


def as_rattler_json(entries: dict[str, Credential]) -> dict[str, object]:
    """``entries`` as the JSON object of a rattler credentials file (or the env variable)."""
    return {key: dump_credential_value(credential) for key, credential in entries.items()}


def _credential(kind: str, secret: str = SECRET) -> Credential:
    if kind == "bearer":
        return BearerToken(secret)
    if kind == "conda":
        return CondaToken(secret)
    if kind == "raw":
        return RawToken(secret)
    return BasicCredential("contract-user", secret)


class ProviderContract:
    kinds: ClassVar[tuple[str, ...]] = ("bearer", "basic", "conda")
    supports_wildcards: ClassVar[bool] = True
    supports_ports: ClassVar[bool] = True
    normalises_stored_keys: ClassVar[bool] = True
    bare_host_matches_every_port: ClassVar[bool] = True
    """False for stores keyed by origin (a Cargo registry is at one URL)."""
    holds_several_credentials: ClassVar[bool] = True
    """False for a provider with one answer for all its hosts (a command)."""
    source_names_the_key: ClassVar[bool] = True
    """False where the source is the command that answered, not a stored key."""
    serves: ClassVar[tuple[str, ...]] = ()
    """The registry names of the built-in stores this provider class serves."""

    workspace: Path

    @pytest.fixture(autouse=True)
    def _workspace(self, tmp_path: Path) -> None:
        self.workspace = tmp_path

    def build(self, entries: dict[str, Credential]) -> CredentialProvider:
        """A provider holding exactly ``entries`` (key -> credential)."""
        raise NotImplementedError

    def lookup(self, provider: CredentialProvider, url: str) -> LookupResult:
        return provider.lookup(Origin.from_url(url), url)

    @property
    def kind(self) -> str:
        return self.kinds[0]

    def test_is_a_provider(self) -> None:
        provider = self.build({})
        assert isinstance(provider, CredentialProvider)
        assert provider.name
        assert isinstance(provider.blocking, bool)

    def test_derives_from_provider_and_describes_itself(self) -> None:
        provider = self.build({"repo.example.org": _credential(self.kind)})
        assert isinstance(provider, Provider)
        assert provider.description
        assert SECRET not in provider.description
        assert provider.timeout is None or provider.timeout > 0

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "stored_kind" in metafunc.fixturenames:
            metafunc.parametrize("stored_kind", self.kinds)

    def test_finds_each_kind_for_its_host(self, stored_kind: str) -> None:
        credential = _credential(stored_kind)
        provider = self.build({"repo.example.org": credential})

        result = self.lookup(provider, "https://repo.example.org/channel/noarch/repodata.json")

        assert isinstance(result, Found)
        assert result.credential == credential

    def test_url_spelling_of_the_host_does_not_matter(self) -> None:
        credential = _credential(self.kind)
        provider = self.build({"repo.example.org": credential})

        result = self.lookup(provider, "https://REPO.Example.org./x")

        assert isinstance(result, Found)
        assert result.credential == credential

    def test_stored_key_spelling_is_normalised(self) -> None:
        credential = _credential(self.kind)
        provider = self.build({"Repo.Example.ORG.": credential})

        result = self.lookup(provider, "https://repo.example.org/x")

        if not self.normalises_stored_keys:  # looked up verbatim, as rattler does
            assert isinstance(result, Miss)
            return
        assert isinstance(result, Found)
        assert result.credential == credential

    def test_unknown_host_misses(self) -> None:
        provider = self.build({"repo.example.org": _credential(self.kind)})

        assert isinstance(self.lookup(provider, "https://other.example.org/"), Miss)

    def test_empty_store_misses(self) -> None:
        assert isinstance(self.lookup(self.build({}), "https://repo.example.org/"), Miss)

    @pytest.mark.parametrize(
        "url",
        [
            "https://example.org.evil.test/",
            "https://notexample.org/",
            "https://sub.example.org/",
        ],
    )
    def test_look_alike_hosts_get_nothing(self, url: str) -> None:
        provider = self.build({"example.org": _credential(self.kind)})

        assert isinstance(self.lookup(provider, url), Miss)

    def test_source_and_repr_never_show_the_secret(self) -> None:
        provider = self.build({"repo.example.org": _credential(self.kind)})

        result = self.lookup(provider, "https://repo.example.org/")

        assert isinstance(result, Found)
        if self.source_names_the_key:
            assert "repo.example.org" in result.source
        for text in (result.source, repr(result), str(result.credential), repr(provider)):
            assert SECRET not in text

    def test_port_key_beats_bare_host_and_only_matches_its_port(self) -> None:
        if not self.supports_ports:
            pytest.skip("this store has no host:port keys")
        if not self.holds_several_credentials:
            pytest.skip("one answer for every host of the provider")
        on_port = _credential(self.kind, "for-port-8443")
        bare = _credential(self.kind, "for-bare-host")
        provider = self.build({"repo.example.org": bare, "repo.example.org:8443": on_port})

        with_port = self.lookup(provider, "https://repo.example.org:8443/x")
        without_port = self.lookup(provider, "https://repo.example.org/x")
        other_port = self.lookup(provider, "https://repo.example.org:9443/x")

        assert isinstance(with_port, Found)
        assert with_port.credential == on_port
        assert isinstance(without_port, Found)
        assert without_port.credential == bare
        if not self.bare_host_matches_every_port:
            assert isinstance(other_port, Miss)
            return
        assert isinstance(other_port, Found)
        assert other_port.credential == bare

    def test_port_key_alone_does_not_match_other_ports(self) -> None:
        if not self.supports_ports:
            pytest.skip("this store has no host:port keys")
        provider = self.build({"127.0.0.1:8443": _credential(self.kind)})

        assert isinstance(self.lookup(provider, "https://127.0.0.1:8443/"), Found)
        assert isinstance(self.lookup(provider, "https://127.0.0.1:9443/"), Miss)
        assert isinstance(self.lookup(provider, "https://127.0.0.1/"), Miss)

    def test_wildcard_matches_subdomains_and_the_bare_domain(self) -> None:
        credential = _credential(self.kind)
        provider = self.build({"*.example.org": credential})

        for url in ("https://a.b.example.org/", "https://example.org/"):
            result = self.lookup(provider, url)
            if not self.supports_wildcards:  # the key is then just a name no host has
                assert isinstance(result, Miss), url
                continue
            assert isinstance(result, Found), url
            assert result.credential == credential

    def test_exact_host_beats_wildcard(self) -> None:
        if not self.holds_several_credentials:
            pytest.skip("one answer for every host of the provider")
        exact = _credential(self.kind, "exact-one")
        wildcard = _credential(self.kind, "wildcard-one")
        provider = self.build({"*.example.org": wildcard, "repo.example.org": exact})

        result = self.lookup(provider, "https://repo.example.org/")

        assert isinstance(result, Found)
        assert result.credential == exact
