"""Reading every source of a council: the sources read whole may be read in a process of their own
while the LLPG streams, and what comes out is the same as reading them one after another here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

import business_index.sources as sources
from business_index.config import Settings, load_settings
from business_index.records import business_record_table
from business_index.sources import ReadResult, SourceFileError, read_sources


def _with_workers(settings: Settings, workers: int) -> Settings:
    return settings.model_copy(update={"build": settings.build.model_copy(update={"workers": workers})})


def _read(settings: Settings) -> tuple[list[ReadResult], list[str]]:
    sink = ReadResult("sink")
    told: list[str] = []
    return read_sources(settings, sink, lambda source: told.append(source.name)), told


def test_sources_read_apart_give_what_reading_them_here_gives(small_borough: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(small_borough / "sources.toml")
    here, told_here = _read(_with_workers(settings, 1))
    monkeypatch.setattr(sources, "APART_MIN_BYTES", 0)
    apart, told_apart = _read(_with_workers(settings, 2))
    assert told_here == told_apart == [s.name for s in settings.sources]
    assert [r.source for r in apart] == [r.source for r in here]
    read_apart = 0
    for one, other in zip(here, apart, strict=True):
        assert one.files == other.files and one.quarantine == other.quarantine
        if other.business_record_table is None:  # the LLPG: streamed here, both times
            assert other.business_records == one.business_records
            continue
        read_apart += 1
        assert other.business_records == [] and other.business_record_table.num_rows == len(one.business_records) > 0
        assert other.business_record_table.equals(business_record_table(one.business_records))
    assert read_apart == len(settings.sources) - 1


def test_a_source_that_fails_apart_fails_the_read_naming_its_file(small_borough: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    borough = tmp_path / "borough"
    shutil.copytree(small_borough, borough)
    rates = next((borough / "rates").glob("ndr_accounts_*.csv"))
    rates.write_text(rates.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")  # its header only
    monkeypatch.setattr(sources, "APART_MIN_BYTES", 0)
    with pytest.raises(SourceFileError, match=rates.name):
        _read(_with_workers(load_settings(borough / "sources.toml"), 2))


def test_a_record_table_is_written_as_the_records_would_be(tmp_path: Path, small_borough: Path) -> None:
    from business_index.store.index_writer import IndexWriter

    settings = load_settings(small_borough / "sources.toml")
    records = next(r for r in _read(_with_workers(settings, 1))[0] if r.business_records).business_records
    rows = {}
    for name, given in (("records", records), ("table", business_record_table(records))):
        writer = IndexWriter.create(tmp_path / f"{name}.duckdb")
        try:
            assert writer.write_business_records(given, 7) == 7 + len(records)
            assert writer.write_business_records(pa.table({}), 99) == 99  # nothing to write
            rows[name] = writer.connection.execute("SELECT * FROM business_records ORDER BY record_id").fetchall()
        finally:
            writer.abandon()
    assert rows["records"] == rows["table"] and rows["records"][0][0] is not None
