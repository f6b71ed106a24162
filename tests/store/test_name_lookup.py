"""The name index: its trigrams are the same in SQL and Python, the database and the in-memory index
choose the same candidates, a typed name with a slip finds what its records spell, and a name that
only begins like another is not offered for it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from business_index.derive.name_index import NAME_INDEX_STEPS, grams_of
from business_index.sql_steps import run_steps
from business_index.store import name_lookup
from business_index.store.name_lookup import NameIndex, gram_set, name_matches

NAMES = {  # key -> (establishment, organisation, personal)
    "RED LION": ("E1", "O1", False),
    "ACME TAVERNS": ("E1", "O1", False),
    "ROSE AND CROWN": ("E2", "O1", False),
    "FRESH TREE ARCHITECTS": ("E3", "O3", False),
    "FRESH KETTLE BARBERS": ("E4", "O4", False),
    "JOHN SMITH": ("E5", "O5", True),
    "SMITHS NEWS": ("E6", "O6", False),
    "AB": ("E7", "O7", False),
}


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE name_search (establishment_id VARCHAR, organisation_id VARCHAR, key VARCHAR, "
                "personal BOOLEAN)")
    con.executemany("INSERT INTO name_search VALUES (?, ?, ?, ?)",
                    [(e, o, key, personal) for key, (e, o, personal) in NAMES.items()])
    run_steps(con, NAME_INDEX_STEPS)
    return con


letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ÉÖ'", min_size=1, max_size=40)


@given(key=letters)
@settings(max_examples=200, deadline=None)
def test_a_keys_trigrams_are_the_same_in_sql_and_python(key: str) -> None:
    sql = {g for (g,) in duckdb.execute(f"SELECT gram FROM {grams_of('?')} AS t", [key]).fetchall()}
    assert sql == gram_set(key)


@pytest.mark.parametrize("personal", [False, True])
@pytest.mark.parametrize("unit", ["establishment_id", "organisation_id"])
@pytest.mark.parametrize("typed", ["RED LION", "RED LOIN", "ACME TAVRENS", "ROSE CROWN", "FRESH TREE ARCHITECS",
                                   "JON SMITH", "SMITH", "AB", "A", "ZZZZ", "FRESH"])
def test_the_database_and_the_memory_index_agree(con: duckdb.DuckDBPyConnection, typed: str, unit: str,
                                                 personal: bool) -> None:
    held = NameIndex.load(con)
    assert held.candidate_keys(typed) == name_lookup._candidate_keys(con, typed)
    assert (name_matches(con, unit, typed, None, personal, 0.8, held=held)  # type: ignore[arg-type]
            == name_matches(con, unit, typed, None, personal, 0.8))  # type: ignore[arg-type]


def test_a_slip_finds_the_name_and_prefix_only_likeness_does_not(con: duckdb.DuckDBPyConnection) -> None:
    assert set(name_matches(con, "organisation_id", "ACME TAVRENS", None, False, 0.85)) == {"O1"}
    assert set(name_matches(con, "establishment_id", "RED LOIN", None, False, 0.85)) == {"E1"}
    # Jaro-Winkler alone gives these two 0.89: they only begin alike, so the index leaves it out
    assert set(name_matches(con, "organisation_id", "FRESH TREE ARCHITECTS", None, False, 0.85)) == {"O3"}


def test_personal_names_only_for_those_who_may_see_them(con: duckdb.DuckDBPyConnection) -> None:
    assert name_matches(con, "organisation_id", "JOHN SMITH", None, False, 0.85) == {}
    assert name_matches(con, "organisation_id", "JOHN SMITH", None, True, 0.85) == {"O5": 1.0}


def test_an_index_from_the_build_searches_in_memory_and_in_duckdb_alike(small_index: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(name_lookup, "STREAM_ROWS", 7)  # the index is read in many batches
    with duckdb.connect(str(small_index), read_only=True) as con:
        held = NameIndex.load(con)
        spellings = [k for (k,) in con.execute("SELECT DISTINCT key FROM name_search ORDER BY key LIMIT 60")
                     .fetchall()]
        for key in spellings + [k[:-1] + "X" for k in spellings]:
            assert (name_matches(con, "organisation_id", key, None, True, 0.85, held=held)
                    == name_matches(con, "organisation_id", key, None, True, 0.85))
