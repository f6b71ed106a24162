"""Features parsed in worker processes are the features parsed in the build's own process, row for
row and in the same order."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from business_index.link import features
from business_index.link.features import build_address_features, build_record_features, feature_pool


def _features(index: Path, copy: Path, pool: object) -> tuple[frozenset[str], list[tuple], list[tuple]]:
    shutil.copy(index, copy)
    with duckdb.connect(str(copy)) as con:
        streets = build_address_features(con, pool=pool)  # type: ignore[arg-type]
        build_record_features(con, streets, publishing_sources=frozenset({"licensing"}), pool=pool)  # type: ignore[arg-type]
        return (streets, con.execute("SELECT * FROM address_features").fetchall(),
                con.execute("SELECT * FROM record_features").fetchall())


def test_workers_parse_as_this_process_does(small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = _features(small_index, tmp_path / "here.duckdb", None)
    monkeypatch.setattr(features, "CHUNK_ROWS", 300)  # the small borough, in many batches, several in flight
    pool = feature_pool(2)
    assert pool is not None
    try:
        there = _features(small_index, tmp_path / "there.duckdb", pool)
    finally:
        pool.shutdown()
    assert len(here[1]) > 1000 and len(here[2]) > 500
    assert there[0] == here[0]
    assert there[1] == here[1]
    assert there[2] == here[2]


def test_many_small_batches_are_one_large_one(small_index: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows read, parsed and written batch by batch (``CHUNK_ROWS``) make the tables one batch makes,
    in the same order, ids included."""
    monkeypatch.setattr(features, "CHUNK_ROWS", 1_000_000)
    whole = _features(small_index, tmp_path / "whole.duckdb", None)
    monkeypatch.setattr(features, "CHUNK_ROWS", 97)
    batched = _features(small_index, tmp_path / "batched.duckdb", None)
    assert batched == whole


def test_the_tables_have_their_types_when_there_are_no_rows(tmp_path: Path) -> None:
    """A borough without a gazetteer still has ``address_features``, empty, of the same columns."""
    from business_index.store.index_writer import SCHEMA

    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        con.execute(SCHEMA)  # the index's tables, the gazetteer's empty
        assert features.build_address_features(con) == frozenset()
        columns = con.execute("DESCRIBE address_features").fetchall()
    assert [(c[0], c[1]) for c in columns][:6] == [("unique_id", "BIGINT"), ("uprn", "BIGINT"), ("parent_uprn", "BIGINT"),
                                                   ("lpi_key", "VARCHAR"), ("lpi_status", "INTEGER"), ("kind", "VARCHAR")]
    assert ("tokens", "VARCHAR[]") in [(c[0], c[1]) for c in columns]


def test_one_worker_means_no_processes() -> None:
    assert feature_pool(1) is None
