"""Named SQL files load into unique, non-empty queries; doctests of store helpers pass."""

from __future__ import annotations

import doctest
from importlib import resources

import pytest

from store import queries, scope
from store.pems import sim_store


def test_parse_refuses_duplicate_names():
    with pytest.raises(ValueError, match="defined twice"):
        queries.parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")


def test_every_sql_file_parses_into_non_empty_named_queries():
    files = [f.name.removesuffix(".sql") for f in (resources.files("store") / "sql").iterdir()
             if f.name.endswith(".sql") and f.name != "harden.sql"]
    assert files
    for name in files:
        loaded = queries.load(name)
        assert loaded and all(text.strip() for text in loaded.values()), name


@pytest.mark.parametrize("module", [queries, scope, sim_store])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0
