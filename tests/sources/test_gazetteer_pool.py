"""The LLPG read with its files parsed and its addresses assembled in worker processes gives what
one process gives: the same rows in the same order, the same quarantine, the same counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from business_index.build import _IndexRows
from business_index.sources.base import ReadResult, SourceFileError
from business_index.sources.gazetteer import read_gazetteer
from business_index.store.index_writer import IndexWriter
from tests.conftest import fixture, source_config
from tests.sources.test_gazetteer_staging import _line

_HEADER = '10,"TEST BOROUGH",5360,2026-11-15,1,2026-11-15,02:15:00,"7.3","C"'


def _read(paths: list[Path], workers: int, batch_size: int = 2) -> ReadResult:
    return read_gazetteer(source_config("dtf73", *paths), paths, batch_size=batch_size, workers=workers,
                          pool_min_bytes=0)


def _everything(result: ReadResult) -> tuple:
    return (result.addresses, result.aliases, result.cross_references, result.other_rows,
            [(q.lineage, q.field, q.reason, q.raw) for q in result.quarantine], result.files)


def _file(folder: Path, name: str, rows: list[str], trailer: int | None = None) -> Path:
    """A DTF 7.3 file of ``rows`` between a header and a trailer (which counts them unless told)."""
    path = folder / name
    count = len(rows) if trailer is None else trailer
    path.write_bytes("\n".join([_HEADER, *rows, f"99,0,{count},2026-11-15,02:15:00"]).encode() + b"\n")
    return path


def _blpu(change: str, order: int, uprn: int, organisation: str = "") -> str:
    return _line(21, change, order, {"UPRN": uprn, "LOGICAL_STATUS": 1, "ORGANISATION": organisation or None})


def _lpi(change: str, order: int, key: str, uprn: int, pao_text: str) -> str:
    return _line(24, change, order, {"UPRN": uprn, "LPI_KEY": key, "LANGUAGE": "ENG", "LOGICAL_STATUS": 1,
                                     "PAO_TEXT": pao_text, "USRN": 20900001, "POSTCODE": "E8 1AB"})


def test_workers_give_what_one_process_gives_row_for_row(tmp_path: Path) -> None:
    # every kind of bad row, in several files, with deletes that cannot apply and rows kept raw
    bad = [
        '21,"I",90,1234567890123,1,2,2000-01-01,"CR07",,1.00,1.00,1,5360,2000-01-01,,2020-01-01,2000-01-01,,,,,,',
        '21,"X",93,100021000092,1,2,2000-01-01,"CR07",,1.00,1.00,1,5360,2000-01-01,,2020-01-01,2000-01-01,,,,,,',
        '21,"I",92,100021000091,1,2',
        "ABC,1,2",
        '77,"I",1,2,3',
        '22,"I",19,100021000001,"X"',
        '23,"D",9,100021000001,"5360XNOTHELD",2000-01-01,2020-01-01,2000-01-01,,"1","5360CT"',
    ]
    full = fixture("dtf73_full.csv").read_text().splitlines()
    first = _file(tmp_path, "full.csv", full[1:-1] + bad[:4] + bad[5:])
    change = fixture("dtf73_change.csv").read_text().splitlines()
    second = _file(tmp_path, "change.csv", change[1:-1] + bad, trailer=3)  # a wrong trailer count: a warning
    # a UTF-8 file (its first kept row says so) with a line in no accepted encoding
    undecodable = tmp_path / "undecodable.csv"
    text = _file(tmp_path, "plain.csv", ['22,"I",20,100021000001,"CAFÉ"', *bad[5:]]).read_bytes()
    undecodable.write_bytes(text.replace(b'"X"', b'"\xff\xfe"'))
    paths = [first, second, undecodable, fixture("dtf73_change.csv")]

    alone = _read(paths, workers=1)
    pooled = _read(paths, workers=2)

    assert _everything(pooled) == _everything(alone)
    # the supply is one the test means: bad rows in every file, refusals, warnings, several chunks
    assert {q.lineage.file for q in alone.quarantine} == {str(p) for p in paths}
    assert any("does not hold" in q.reason for q in alone.quarantine)
    assert any("not valid utf-8" in q.reason for q in alone.quarantine)
    assert any("trailer says" in w for w in alone.warnings) and len(alone.other_rows) == 3
    assert len(alone.addresses) > 2


def _indexed(paths: list[Path], workers: int, index: Path) -> dict[str, list[tuple]]:
    """The gazetteer's tables of an index written as ``bx build`` writes them (the workers hand
    the addresses back column by column to such a sink), in the order written."""
    writer = IndexWriter.create(index)
    try:
        read_gazetteer(source_config("dtf73", *paths), paths, _IndexRows(writer), batch_size=2, workers=workers,
                       pool_min_bytes=0)
        return {table: writer.connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
                for table in ("addresses", "address_aliases", "cross_references", "gazetteer_other_records")}
    finally:
        writer.abandon()


def test_an_index_written_by_workers_is_the_index_written_by_one_process(tmp_path: Path) -> None:
    paths = [fixture("dtf73_full.csv"), fixture("dtf73_change.csv")]
    alone = _indexed(paths, 1, tmp_path / "alone.duckdb")
    assert len(alone["addresses"]) > 2 and alone["address_aliases"]
    assert _indexed(paths, 2, tmp_path / "pooled.duckdb") == alone


def test_updates_across_files_apply_in_file_order_with_workers(tmp_path: Path) -> None:
    street = [_line(11, "I", 0, {"USRN": 20900001, "RECORD_TYPE": 1, "SWA_ORG_REF_NAMING": 5360, "STATE": 2,
                                 "STREET_SURFACE": 1, "STREET_CLASSIFICATION": 8, "VERSION": 1}),
              _line(15, "I", 0, {"USRN": 20900001, "STREET_DESCRIPTOR": "MARE STREET", "TOWN_NAME": "LONDON",
                                 "LANGUAGE": "ENG"})]
    uprn, other = 100000000001, 100000000002
    files = [
        _file(tmp_path, "0.csv", [*street, _blpu("I", 1, uprn, "FIRST"), _lpi("I", 2, "L1", uprn, "ONE HOUSE"),
                                  _blpu("I", 3, other), _lpi("I", 4, "L2", other, "OTHER HOUSE")]),
        # PRO_ORDER, not the line, orders a file: the delete (order 1) comes before the insert
        _file(tmp_path, "1.csv", [_blpu("I", 2, uprn, "SECOND"), _lpi("I", 3, "L1", uprn, "TWO HOUSE"),
                                  _blpu("D", 1, uprn)]),
        # deleted in the file before, and deleted again: refused
        _file(tmp_path, "2.csv", [_blpu("D", 1, other), _blpu("U", 2, uprn, "THIRD")]),
        _file(tmp_path, "3.csv", [_blpu("D", 1, other), _lpi("U", 2, "L1", uprn, "FOUR HOUSE")]),
    ]

    result = _read(files, workers=2, batch_size=1)

    assert [(a.uprn, a.organisation, a.lineage.file) for a in result.addresses] == [(uprn, "THIRD", str(files[2]))]
    assert result.addresses[0].single_line_address == "FOUR HOUSE, MARE STREET, LONDON, E8 1AB"
    assert [(q.lineage.file, q.lineage.line, q.field) for q in result.quarantine] == [(str(files[3]), 2, "UPRN")]
    assert "delete of record 21 100000000002" in result.quarantine[0].reason
    assert _everything(result) == _everything(_read(files, workers=1, batch_size=1))


def test_a_file_that_cannot_be_read_in_a_worker_fails_the_read_with_its_path(tmp_path: Path) -> None:
    not_llpg = tmp_path / "rates.csv"
    not_llpg.write_text("account,name\n1,JOE'S CAFE\n")
    with pytest.raises(SourceFileError, match="is this an LLPG file") as failure:
        _read([fixture("dtf73_full.csv"), not_llpg, fixture("dtf73_change.csv")], workers=2)
    assert failure.value.path == not_llpg
