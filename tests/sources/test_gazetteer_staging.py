"""The LLPG reader stages its rows in DuckDB and applies change-only updates in SQL: what it gives
must not depend on the batch size, and must be what applying the rows one by one to a dict per
record type gives (the reader's semantics before it streamed, kept here as the reference)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from business_index.sources.base import ReadResult, decode_lines, iter_delimited, read_bytes, stream_lines
from business_index.sources.gazetteer import read_gazetteer
from business_index.sources.gazetteer_layouts import DTF73, NATURAL_KEYS
from tests.conftest import fixture, source_config


def _read(paths: list[Path], batch_size: int, sink: object = None) -> ReadResult:
    return read_gazetteer(source_config("dtf73", *paths), paths, sink, batch_size=batch_size)  # type: ignore[arg-type]


def _everything(result: ReadResult) -> tuple:
    return (result.addresses, result.aliases, result.cross_references, result.other_rows,
            [(q.lineage, q.field, q.reason, q.raw) for q in result.quarantine], result.files)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
def test_the_result_does_not_depend_on_the_batch_size(batch_size: int) -> None:
    paths = [fixture("dtf73_full.csv"), fixture("dtf73_change.csv")]
    assert _everything(_read(paths, batch_size)) == _everything(_read(paths, 50_000))


@dataclass
class _Batches:
    """A sink that counts the batches it is given."""

    addresses: list = field(default_factory=list)
    aliases: list = field(default_factory=list)
    cross_references: list = field(default_factory=list)
    other_rows: list = field(default_factory=list)

    def put_addresses(self, rows: list) -> None:
        self.addresses.append(list(rows))

    def put_aliases(self, rows: list) -> None:
        self.aliases.append(list(rows))

    def put_cross_references(self, rows: list) -> None:
        self.cross_references.append(list(rows))

    def put_other_rows(self, rows: list) -> None:
        self.other_rows.append(list(rows))


def test_a_sink_gets_the_rows_in_batches_and_the_result_keeps_only_counts(tmp_path: Path) -> None:
    text = fixture("dtf73_full.csv").read_text().replace(
        "99,0,18,", '22,"I",19,100021000001,"X"\n22,"I",20,100021000002,"Y"\n22,"I",21,100021000003,"Z"\n99,0,21,')
    path = tmp_path / "with_provenance.csv"
    path.write_text(text)
    whole = _read([path], 1000)
    sink = _Batches()
    streamed = _read([path], 2, sink)
    assert not streamed.addresses and not streamed.aliases and not streamed.cross_references
    assert not streamed.other_rows
    assert streamed.files == whole.files and streamed.read == whole.read == 23
    assert max(len(b) for b in sink.addresses) == 2 and len(sink.addresses) == 3  # 5 properties
    assert [a for b in sink.addresses for a in b] == whole.addresses
    assert [a for b in sink.aliases for a in b] == whole.aliases
    assert [x for b in sink.cross_references for x in b] == whole.cross_references
    assert [len(b) for b in sink.other_rows] == [2, 1]
    assert [r for b in sink.other_rows for r in b] == whole.other_rows


# --- random change-only sequences against the reference -------------------------------------

_UPRNS = (100000000001, 100000000002, 100000000003, 100000000004)
_LPIS = ("L1", "L2", "L3", "L4", "L5")
_XREFS = ("X1", "X2", "X3")


def _line(record_type: int, change: str, order: int, values: dict[str, object]) -> str:
    cells = [str(record_type), f'"{change}"', str(order)]
    for name, _ in DTF73[record_type].fields[3:]:
        value = values.get(name)
        cells.append("" if value is None else f'"{value}"' if isinstance(value, str) else str(value))
    return ",".join(cells)


_STREETS = [
    _line(11, "I", 0, {"USRN": 20900001, "RECORD_TYPE": 1, "SWA_ORG_REF_NAMING": 5360, "STATE": 2,
                       "STREET_SURFACE": 1, "STREET_CLASSIFICATION": 8, "VERSION": 1}),
    _line(15, "I", 0, {"USRN": 20900001, "STREET_DESCRIPTOR": "MARE STREET", "TOWN_NAME": "LONDON",
                       "LANGUAGE": "ENG"}),
]

_row = st.one_of(
    st.tuples(st.just(21), st.sampled_from("IUD"), st.integers(0, 6), st.sampled_from(_UPRNS)),
    st.tuples(st.just(24), st.sampled_from("IUD"), st.integers(0, 6), st.sampled_from(_LPIS), st.sampled_from(_UPRNS)),
    st.tuples(st.just(23), st.sampled_from("IUD"), st.integers(0, 6), st.sampled_from(_XREFS), st.sampled_from(_UPRNS)),
)


def _values(row: tuple, marker: str) -> dict[str, object]:
    if row[0] == 21:
        return {"UPRN": row[3], "LOGICAL_STATUS": 1, "ORGANISATION": marker}
    if row[0] == 24:
        return {"UPRN": row[4], "LPI_KEY": row[3], "LANGUAGE": "ENG", "LOGICAL_STATUS": 1, "PAO_TEXT": marker,
                "USRN": 20900001, "POSTCODE": "E8 1AB"}
    return {"UPRN": row[4], "XREF_KEY": row[3], "CROSS_REFERENCE": marker, "SOURCE": "5360ND"}


class _Reference:
    """The reader's semantics as they were: a dict per record type, rows applied one by one."""

    def __init__(self) -> None:
        self.tables: dict[int, dict[object, tuple[str, int, dict]]] = {21: {}, 23: {}, 24: {}}
        self.deleted: set[int] = set()
        self.quarantine: list[tuple[str, int, str, str]] = []
        self.loaded: list[int] = []

    def apply_file(self, file: str, rows: list[tuple[int, int, tuple, dict]]) -> None:
        loaded = 0
        for line, _, row, values in sorted(rows, key=lambda r: r[2][2]):  # stable, by PRO_ORDER
            record_type, change = row[0], row[1]
            table = self.tables[record_type]
            key = values[NATURAL_KEYS[record_type][0]]
            if change == "D":
                if key not in table:
                    self.quarantine.append((file, line, NATURAL_KEYS[record_type][0],
                                            f"delete of record {record_type} {key} that the gazetteer does not hold"))
                    continue
                del table[key]
                if record_type == 21:
                    self.deleted.add(key)  # type: ignore[arg-type]
            else:
                table[key] = (file, line, values)
                if record_type == 21:
                    self.deleted.discard(key)  # type: ignore[arg-type]
            loaded += 1
        self.loaded.append(loaded)

    def cascade(self) -> int:
        removed = 0
        for record_type in (23, 24):
            doomed = [k for k, (_, _, v) in self.tables[record_type].items() if v["UPRN"] in self.deleted]
            for k in doomed:
                del self.tables[record_type][k]
            removed += len(doomed)
        return removed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.lists(_row, max_size=14), min_size=1, max_size=3),
       batch_size=st.sampled_from([1, 2, 5, 1000]))
def test_random_change_only_sequences_apply_as_row_by_row(tmp_path_factory: pytest.TempPathFactory,
                                                         files: list[list[tuple]], batch_size: int) -> None:
    folder = tmp_path_factory.mktemp("changes")
    reference = _Reference()
    paths = []
    for number, rows in enumerate(files):
        path = folder / f"file{number}.csv"
        lines = ['10,"TEST",5360,2026-11-01,1,2026-11-01,02:15:00,"7.3","C"', *(_STREETS if number == 0 else [])]
        staged = []
        for row in rows:
            line = len(lines) + 1
            values = _values(row, f"F{number}L{line}")
            lines.append(_line(row[0], row[1], row[2], values))
            staged.append((line, number, row, values))
        data_rows = len(lines) - 1
        lines.append(f"99,0,{data_rows},2026-11-01,02:15:00")
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
        reference.apply_file(str(path), staged)
    removed = reference.cascade()

    result = _read(paths, batch_size)

    assert [(q.lineage.file, q.lineage.line, q.field, q.reason) for q in result.quarantine] == reference.quarantine
    streets = 2  # the first file's street and descriptor, always loaded
    assert [f.loaded - 2 for f in result.files] == [n + (streets if i == 0 else 0)
                                                   for i, n in enumerate(reference.loaded)]
    blpus = reference.tables[21]
    assert [(a.uprn, a.organisation, a.lineage.file, a.lineage.line) for a in result.addresses] == [
        (uprn, values["ORGANISATION"], file, line) for uprn, (file, line, values) in blpus.items()]
    lpis = reference.tables[24]
    assert [(a.uprn, a.lpi_key, a.lineage.file, a.lineage.line) for a in result.aliases] == [
        (uprn, key, file, line) for uprn in blpus for key, (file, line, values) in lpis.items()
        if values["UPRN"] == uprn]
    for address in result.addresses:  # the display address is its LPI's, as held at the end
        keys = [k for k, (_, _, v) in lpis.items() if v["UPRN"] == address.uprn]
        if keys:
            assert address.lpi_key == max(keys)
            assert address.single_line_address.startswith(str(lpis[max(keys)][2]["PAO_TEXT"]))
    assert [(x.uprn, x.xref_key, x.reference, x.lineage.line) for x in result.cross_references] == [
        (v["UPRN"], key, v["CROSS_REFERENCE"], line) for key, (_, line, v) in reference.tables[23].items()]
    cascade = [w for w in result.warnings if "removed with their deleted BLPUs" in w]
    assert cascade == ([f"{removed} LPIs, cross references and other child records removed with their deleted BLPUs"]
                       if removed else [])


# --- the streamed lines are the lines ---------------------------------------------------------

_pieces = st.sampled_from([b"21,\"I\",1,2", b"caf\xc3\xa9", b"caf\xe9", b"\xff\xfe", b"", b"\r", b"a\"b", b"\"q\nr\""])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(_pieces, max_size=3).map(b"".join), max_size=8), bom=st.booleans(),
       final_newline=st.booleans(), compressed=st.booleans(), encoding=st.sampled_from([None, "latin-1"]))
def test_streamed_lines_are_the_lines_of_the_whole_file(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes],
                                                        bom: bool, final_newline: bool, compressed: bool,
                                                        encoding: str | None) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path = tmp_path_factory.mktemp("lines") / ("f.csv.gz" if compressed else "f.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    whole, chosen = decode_lines(read_bytes(path), encoding)
    streamed, stats, _ = stream_lines("s", path, ReadResult("s"), encoding)
    streamed_lines = list(streamed)
    assert stats.encoding == chosen
    assert streamed_lines == whole
    rows = [(r.line, r.fields, r.problem, r.raw) for r in iter_delimited(whole, encoding=chosen)]
    assert [(r.line, r.fields, r.problem, r.raw) for r in iter_delimited(iter(streamed_lines), encoding=chosen)] == rows
