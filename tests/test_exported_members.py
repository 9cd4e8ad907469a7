"""The public surface is ``__all__``: every name exists, it is sorted, nothing public hides."""

from __future__ import annotations

import authadapter


def test_all_names_exist() -> None:
    missing = [name for name in authadapter.__all__ if not hasattr(authadapter, name)]
    assert missing == []


def test_all_is_sorted_and_unique() -> None:
    assert list(authadapter.__all__) == sorted(set(authadapter.__all__))


def test_public_names_are_exported() -> None:
    public = {
        name
        for name, value in vars(authadapter).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("authadapter")
        and not isinstance(value, type(authadapter))
    }
    assert public - set(authadapter.__all__) == set()
