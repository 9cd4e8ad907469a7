"""``[[commands]]`` entries as providers: real commands (small Python scripts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authadapter import BearerToken, Failure, Found, Miss, Origin, ProviderChain, RawToken
from authadapter.providers.command import CommandProvider
from tests.fixtures_cargo import hanging_script
from tests.test_subprocess import printing, script


class TestCommandProvider:
    def test_runs_only_for_its_hosts(self, tmp_path: Path) -> None:
        calls = tmp_path / "calls"
        argv = script(
            tmp_path,
            f"""
            import os
            with open({str(calls)!r}, "a") as f:
                env = os.environ
                f.write(env["AUTHADAPTER_HOST"] + " " + env["AUTHADAPTER_URL"] + "\\n")
            print("cmd-token")
            """,
        )
        provider = CommandProvider(argv, hosts=["*.example.org", "127.0.0.1:8443"])

        found = provider.lookup(
            Origin.from_url("https://a.example.org/x"), "https://a.example.org/x"
        )
        other = provider.lookup(Origin.from_url("https://example.com/"), "https://example.com/")
        wrong_port = provider.lookup(Origin.from_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/")

        assert isinstance(found, Found)
        assert found.credential == BearerToken("cmd-token")
        assert isinstance(other, Miss)
        assert isinstance(wrong_port, Miss)
        assert calls.read_text() == "a.example.org https://a.example.org/x\n"

    def test_credential_factory_and_ttl(self, tmp_path: Path) -> None:
        provider = CommandProvider(
            printing(tmp_path, b"raw-value\n"), hosts=["h.example"], credential=RawToken, ttl=7
        )

        result = provider.lookup(Origin.from_url("https://h.example/"), "https://h.example/")

        assert isinstance(result, Found)
        assert result.credential == RawToken("raw-value")
        assert result.ttl == 7
        assert "raw-value" not in result.source + repr(provider)

    @pytest.mark.parametrize(
        ("output", "status", "message"),
        [
            (b"\n", 0, "printed an empty token"),
            (b"s3cret\nb\n", 0, "more than one line"),
            (b"s3cret\x01\n", 0, "control character"),
            (b"s3cret\n", 2, "failed with exit status 2"),
        ],
    )
    def test_failures_are_non_fatal_and_secret_free(
        self, tmp_path: Path, output: bytes, status: int, message: str
    ) -> None:
        provider = CommandProvider(printing(tmp_path, output, status), hosts=["h.example"])

        result = provider.lookup(Origin.from_url("https://h.example/"), "https://h.example/")

        assert isinstance(result, Failure)
        assert not result.fatal
        assert message in result.message
        assert "s3cret" not in result.message


def test_a_hung_command_is_named_in_the_chains_warning(tmp_path: Path) -> None:
    """The command's own deadline comes before the chain's, so the warning says which one hung."""
    hanging = hanging_script(tmp_path)
    provider = CommandProvider([str(hanging.path)], hosts=["h.example"], timeout=1.0)
    chain = ProviderChain([provider], timeout=1.0)

    result = chain.ask(provider, Origin.from_url("https://h.example/"), "https://h.example/")

    assert isinstance(result, Failure)
    assert result.message.startswith(f"command `{hanging.path}` did not finish within")
    hanging.assert_reaped()
