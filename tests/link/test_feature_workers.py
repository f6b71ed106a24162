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


def test_one_worker_means_no_processes() -> None:
    assert feature_pool(1) is None
