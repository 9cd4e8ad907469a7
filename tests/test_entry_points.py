"""Entry points read from installed distributions without importlib.metadata, as it reads them."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from authadapter._entry_points import find_entry_points, parse_entry_points

GROUP = "authadapter.providers"


def distribution(site: Path, directory: str, entry_points: str | None) -> None:
    info = site / directory
    info.mkdir(parents=True)
    name = directory.split("-")[0].split(".")[0]
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_only_the_group_is_read_and_extras_are_dropped() -> None:
    text = (
        "[console_scripts]\nacme = acme.cli:main\n\n"
        f"[{GROUP}]\n# a comment\nacme-vault = acme.store:ENTRY [fast]\n ; another\n"
        "other=acme.other:ENTRY\n\n[authadapter.providers.extra]\nno = x:y\n"
    )

    assert parse_entry_points(text, GROUP) == [
        ("acme-vault", "acme.store:ENTRY"),
        ("other", "acme.other:ENTRY"),
    ]
    assert parse_entry_points("garbage without sections\n= x\n", GROUP) == []


def test_the_first_distribution_of_a_name_wins_as_python_imports_it(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    distribution(first, "acme_store-2.0.dist-info", f"[{GROUP}]\nacme = new:ENTRY\n")
    distribution(second, "Acme.Store-1.0.dist-info", f"[{GROUP}]\nacme = old:ENTRY\n")
    distribution(second, "other-1.0.dist-info", f"[{GROUP}]\nother = other:ENTRY\n")
    distribution(second, "legacy-0.1-py3.11.egg-info", f"[{GROUP}]\nlegacy = legacy:ENTRY\n")
    distribution(second, "quiet-1.0.dist-info", "[console_scripts]\nq = q:main\n")
    distribution(second, "bare-1.0.dist-info", None)

    found = find_entry_points(GROUP, [str(first), str(second), str(tmp_path / "missing")])

    assert [(p.name, p.value, p.package) for p in found] == [
        ("acme", "new:ENTRY", "acme-store"),
        ("legacy", "legacy:ENTRY", "legacy"),
        ("other", "other:ENTRY", "other"),
    ]


def test_it_finds_what_importlib_metadata_finds(tmp_path: Path) -> None:
    site = tmp_path / "site"
    distribution(site, "acme_store-2.0.dist-info", f"[{GROUP}]\na = a:E\nb = b.c:E.F\n")
    distribution(site, "zeta-1.0.dist-info", f"[{GROUP}]\nz = z:E\n")
    path = [str(site)]

    ours = {(p.name, p.value) for p in find_entry_points(GROUP, path)}
    theirs = {
        (point.name, point.value)
        for dist in importlib.metadata.distributions(path=path)
        for point in dist.entry_points
        if point.group == GROUP
    }

    assert ours == theirs == {("a", "a:E"), ("b", "b.c:E.F"), ("z", "z:E")}
