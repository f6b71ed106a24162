"""The index holds exactly the tables its schema declares, and its readers read nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from business_index.store.index_schema import LOOKUPS, PUBLISHED, PUBLISHED_NAMES

SRC = Path(__file__).parent.parent.parent / "src" / "business_index"


def test_a_published_index_is_what_the_schema_declares(small_index: Path) -> None:
    with duckdb.connect(str(small_index), read_only=True) as con:
        tables = {name: [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [name]).fetchall()]
            for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert set(tables) == PUBLISHED_NAMES
    for table in PUBLISHED:
        assert tuple(tables[table.name]) == table.columns, table.name


def test_every_look_up_has_an_index(small_index: Path) -> None:
    with duckdb.connect(str(small_index), read_only=True) as con:
        indexed = {(t, tuple(c)) for t, c in con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
            "UNION ALL SELECT table_name, regexp_extract_all(regexp_extract(sql, '\\((.*)\\)', 1), '[a-z_]+') "
            "FROM duckdb_indexes()").fetchall()}
    assert {(t, c) for t, lookups in LOOKUPS.items() for c in lookups} <= indexed


def test_the_api_exports_and_evaluators_read_only_published_tables() -> None:
    readers = [*(SRC / "api").glob("*.py"), SRC / "store" / "export.py", SRC / "store" / "index_reader.py",
               SRC / "store" / "index_queries.py", SRC / "store" / "name_lookup.py",
               SRC / "store" / "postgres_index.py", *(SRC / "evaluate").glob("*.py")]
    read = set()
    for path in readers:
        read |= set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b", path.read_text(encoding="utf-8")))
    # names of CTEs, of the evaluators' own temporary tables, of the rate limiter's file, of DuckDB's
    # catalogue and of a PostgreSQL build's column list are not index tables ("IS DISTINCT FROM
    # true_uprn" is SQL, not a table)
    own = {"keys", "records", "moves", "candidates", "truth", "scored", "stands_for", "truth_properties",
           "truth_table", "unit_records", "hits", "true_uprn", "members", "named", "counted", "rated", "spelled", "chosen",
           "duckdb_tables", "duckdb_columns", "bx_columns", "read_csv"}
    assert read - own <= PUBLISHED_NAMES, sorted(read - own - PUBLISHED_NAMES)
    assert {"establishments", "organisations", "property_names"} <= read


def test_each_table_declares_the_modules_that_write_and_read_it() -> None:
    modules = {str(p.relative_to(SRC).with_suffix("")): p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}
    for table in PUBLISHED:
        writes = re.compile(rf"(?:CREATE OR REPLACE (?:TEMP )?TABLE|CREATE TABLE|INSERT INTO|UPDATE)\s+{table.name}\b")
        reads = re.compile(rf"\b(?:FROM|JOIN)\s+{table.name}\b")
        writers = {m for m, text in modules.items() if writes.search(text)}
        readers = {m for m, text in modules.items() if reads.search(text)} - writers
        assert set(table.written_by) == writers, table.name
        assert set(table.read_by) == readers, table.name
