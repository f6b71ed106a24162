"""The LLPG reader's working store: parsed rows in DuckDB, change-only updates applied in SQL.

A national supply does not fit in a Python process as rows of dicts (about 2.2 GB a million rows),
so ``gazetteer.py`` parses each line in Python (every bad row is quarantined there with its file,
line, field and reason) and appends the parsed rows here in batches: one table per record type,
typed columns, with the row's file, line, PRO_ORDER and change type. DuckDB then does the row
work, in a database of its own under a memory limit, spilling to a temporary folder beyond it:

- applying the updates. Rows apply file after file, in PRO_ORDER within a file (file order among
  equal PRO_ORDERs). Per natural key: I and U put the row in (U of a record not held inserts it), D
  takes it out, and a D of a record not held is refused. So a D is refused when the key's previous
  row is a D or there is none (a refused D changes nothing); the key's last row is its state; and a
  record sits where it was last put in while absent (what a dict would do with the same sequence:
  an update keeps the record's place, a delete and insert moves it to the end).
- a deleted BLPU's children: the UPRNs whose last applied BLPU row is a D take their LPIs, cross
  references, delivery points, successors, organisations and classifications with them.
- each property's current organisation (record 31, else Royal Mail's 28) and classification
  (record 32 of the AddressBase Premium scheme), and the street and descriptors of each LPI.

What SQL cannot say clearly, the choice of the display LPI and the BS 7666 single line
(``gazetteer.py`` and ``bs7666.py``), stays in Python: the properties come back in bounded chunks,
in the order the gazetteer holds them, each with its LPIs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from business_index.duckdb_utils import sql_literal
from business_index.sources.gazetteer_layouts import ABP, DTF73, NATURAL_KEYS, FieldKind

ADDRESSBASE_SCHEME = "ADDRESSBASE PREMIUM CLASSIFICATION SCHEME"
CHILD_RECORD_TYPES = (23, 24, 28, 30, 31, 32)
# DuckDB's share of memory for the staging store: beyond it, its tables and sorts spill to disk
MEMORY_LIMIT = "256MB"

_SQL_TYPES: dict[FieldKind, tuple[str, pa.DataType]] = {
    "int": ("BIGINT", pa.int64()), "float": ("DOUBLE", pa.float64()), "date": ("DATE", pa.date32()),
    "text": ("VARCHAR", pa.string()), "time": ("VARCHAR", pa.string()),
}
# what every staged row carries besides its fields: where it came from and how it applies
_META: tuple[tuple[str, str, pa.DataType], ...] = (
    ("_file", "INTEGER", pa.int32()), ("_line", "BIGINT", pa.int64()), ("_pro", "BIGINT", pa.int64()),
    ("_change", "VARCHAR", pa.string()),
)
_ORDER = "_file, _pro, _line"  # the order rows apply in


def _fields(record_type: int) -> tuple[tuple[str, FieldKind], ...]:
    """Every field either format gives this record type, each once (the formats agree on types)."""
    seen: dict[str, FieldKind] = {}
    for layouts in (DTF73, ABP):
        layout = layouts.get(record_type)
        for name, kind in layout.fields if layout else ():
            if seen.setdefault(name, kind) != kind:
                raise AssertionError(f"record {record_type} {name}: {seen[name]} in one format, {kind} in the other")
    return tuple(seen.items())


FIELDS: dict[int, tuple[tuple[str, FieldKind], ...]] = {rt: _fields(rt) for rt in NATURAL_KEYS}
# classification rows of the AddressBase Premium scheme, decided as the row is staged
_EXTRA: dict[int, tuple[tuple[str, str, pa.DataType], ...]] = {32: (("_abp_scheme", "BOOLEAN", pa.bool_()),)}


# the fields the addresses are made of (``gazetteer._assemble``): only these come back to Python
_BLPU_FIELDS = ("UPRN", "LOGICAL_STATUS", "BLPU_STATE", "BLPU_CLASS", "PARENT_UPRN", "X_COORDINATE", "Y_COORDINATE",
                "LATITUDE", "LONGITUDE", "START_DATE", "END_DATE", "ORGANISATION", "POSTCODE_LOCATOR",
                "LOCAL_CUSTODIAN_CODE")
_LPI_FIELDS = ("UPRN", "LPI_KEY", "LANGUAGE", "LOGICAL_STATUS", "START_DATE", "END_DATE", "SAO_START_NUMBER",
               "SAO_START_SUFFIX", "SAO_END_NUMBER", "SAO_END_SUFFIX", "SAO_TEXT", "PAO_START_NUMBER",
               "PAO_START_SUFFIX", "PAO_END_NUMBER", "PAO_END_SUFFIX", "PAO_TEXT", "USRN", "POSTCODE", "POST_TOWN",
               "OFFICIAL_FLAG")


def is_abp_scheme(values: dict[str, object]) -> bool:
    return str(values.get("CLASS_SCHEME") or "").upper().startswith(ADDRESSBASE_SCHEME[:20])


def _q(name: str) -> str:
    return f'"{name}"'


def _key_exprs(record_type: int) -> list[str]:
    """The natural key as SQL expressions; a descriptor (15) without a language is the English one."""
    exprs = [_q(name) for name in NATURAL_KEYS[record_type]]
    if record_type == 15:
        exprs[1] = "coalesce(\"LANGUAGE\", 'ENG')"
    return exprs


def _keys(record_type: int, table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(f"{prefix}_k{i}" for i in range(len(NATURAL_KEYS[record_type])))


def _with_keys(record_type: int) -> str:
    return ", ".join(f"{expr} AS _k{i}" for i, expr in enumerate(_key_exprs(record_type)))


def _columns(record_type: int) -> list[tuple[str, str, pa.DataType]]:
    """A stage table's columns: name, SQL type and Arrow type."""
    return ([(n, t, a) for n, t, a in _META] + [(n, *_SQL_TYPES[k]) for n, k in FIELDS[record_type]]
            + list(_EXTRA.get(record_type, ())))


_ARROW_TYPES: dict[int, dict[str, pa.DataType]] = {rt: {n: a for n, _, a in _columns(rt)} for rt in FIELDS}


def batch_table(record_type: int, names: tuple[str, ...], rows: list[list[object]]) -> pa.Table:
    """Rows of one record type and layout (``names``, then the staging columns) as an Arrow table."""
    all_names = [*names, *(n for n, _, _ in _META), *(n for n, _, _ in _EXTRA.get(record_type, ()))]
    types = _ARROW_TYPES[record_type]
    columns = [pa.array(column, type=types[name]) for name, column in zip(all_names, zip(*rows, strict=True), strict=True)]
    return pa.Table.from_arrays(columns, names=all_names)


class PendingRows:
    """Parsed rows waiting to be staged, by record type and layout; every ``batch_size`` rows they
    go out as Arrow tables (``batch_table``) to ``write``: into the staging store, or into a spool
    file when a file is parsed in another process (``gazetteer_pool.py``)."""

    def __init__(self, batch_size: int, write: Callable[[int, pa.Table], None]):
        self.batch_size = batch_size
        self._write = write
        self._rows: dict[tuple[int, tuple[str, ...]], list[list[object]]] = {}
        self._count = 0

    def add(self, record_type: int, names: tuple[str, ...], file: int, line: int, order: int, change: str,
            values: dict[str, object]) -> None:
        row = [*values.values(), file, line, order, change]
        if record_type == 32:
            row.append(is_abp_scheme(values))
        self._rows.setdefault((record_type, names), []).append(row)
        self._count += 1
        if self._count >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for (rt, names), rows in self._rows.items():
            if rows:
                self._write(rt, batch_table(rt, names, rows))
                rows.clear()
        self._count = 0


class Staging:
    """The staged rows of one read of a gazetteer, and the state they apply to."""

    def __init__(self, batch_size: int, memory_limit: str = MEMORY_LIMIT):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self._folder = Path(tempfile.mkdtemp(prefix="bx-gazetteer-"))
        # in memory up to the limit, then spilled to the folder (faster than a database file, whose
        # every insert goes through its write-ahead log)
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
        self.con.execute(f"SET temp_directory = {sql_literal(self._folder / 'spill')}")
        self.con.execute("SET enable_progress_bar = false")
        self._pending = PendingRows(batch_size, self.insert)
        self._orphans = 0
        for rt in FIELDS:
            self.con.execute(f"CREATE TABLE stage_{rt} ({', '.join(f'{_q(n)} {t}' for n, t, _ in _columns(rt))})")

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    # -- staging ------------------------------------------------------------------------------

    def add(self, record_type: int, names: tuple[str, ...], file: int, line: int, order: int, change: str,
            values: dict[str, object]) -> None:
        """Stage one parsed row: ``values`` holds the fields ``names`` (its layout's), in that order."""
        self._pending.add(record_type, names, file, line, order, change, values)

    def flush(self) -> None:
        self._pending.flush()

    def insert(self, record_type: int, batch: pa.Table) -> None:
        """Stage a batch of rows of one record type, as ``batch_table`` makes them (a row parsed
        in another process comes this way)."""
        self.con.register("_batch", batch)
        try:
            self.con.execute(f"INSERT INTO stage_{record_type} BY NAME SELECT * FROM _batch")
        finally:
            self.con.unregister("_batch")

    def refusals(self, file: int) -> list[tuple[int, int, int, str]]:
        """The deletes of ``file`` that cannot apply (the record is not held when they come), in the
        order rows apply: (PRO_ORDER, line, record type, the key's first field)."""
        self.flush()
        refused: list[tuple[int, int, int, str]] = []
        for rt in NATURAL_KEYS:
            keys = _keys(rt)
            refused.extend(self.con.execute(f"""
                WITH s AS (SELECT _file, _line, _pro, _change, {_with_keys(rt)} FROM stage_{rt}),
                     d AS (SELECT DISTINCT {keys} FROM s WHERE _file = ? AND _change = 'D'),
                     e AS (SELECT s.*, lag(_change) OVER (PARTITION BY {keys} ORDER BY {_ORDER}) AS _prev
                           FROM s SEMI JOIN d USING ({keys}))
                SELECT _pro, _line, {rt}, CAST(_k0 AS VARCHAR) FROM e
                WHERE _file = ? AND _change = 'D' AND (_prev IS NULL OR _prev = 'D')""", [file, file]).fetchall())
        refused.sort(key=lambda r: (r[0], r[1]))
        return refused

    # -- applying -----------------------------------------------------------------------------

    def apply(self) -> int:
        """Apply every staged row; returns how many children went with their deleted BLPUs."""
        self.flush()
        for rt in NATURAL_KEYS:
            keys = _keys(rt)
            self.con.execute(f"""
                CREATE TEMP TABLE events AS
                SELECT rowid AS _rid, _change, {_with_keys(rt)}, row_number() OVER (ORDER BY {_ORDER}) AS _seq
                FROM stage_{rt}""")
            self.con.execute(f"""
                CREATE TEMP TABLE events_{rt} AS
                SELECT *, lag(_change) OVER (PARTITION BY {keys} ORDER BY _seq) AS _prev,
                       row_number() OVER (PARTITION BY {keys} ORDER BY _seq DESC) AS _from_last
                FROM events""")
            self.con.execute("DROP TABLE events")
            # where each held record sits: its last insert while absent
            self.con.execute(f"""
                CREATE TABLE final_{rt} AS
                WITH starts AS (
                    SELECT {keys}, max(_seq) AS _pos FROM events_{rt}
                    WHERE _change <> 'D' AND (_prev IS NULL OR _prev = 'D') GROUP BY ALL)
                SELECT s.* EXCLUDE (_pro, _change), starts._pos
                FROM events_{rt} e JOIN starts USING ({keys}) JOIN stage_{rt} s ON s.rowid = e._rid
                WHERE e._from_last = 1 AND e._change <> 'D'""")
            if rt != 21:
                self.con.execute(f"DROP TABLE events_{rt}")
            self.con.execute(f"DROP TABLE stage_{rt}")
        # a UPRN whose last applied BLPU row is a D: refused deletes (no record held) do not count
        self.con.execute("""
            CREATE TEMP TABLE deleted_uprns AS
            SELECT _k0 AS uprn FROM (
                SELECT _k0, _change, row_number() OVER (PARTITION BY _k0 ORDER BY _seq DESC) AS _r
                FROM events_21 WHERE NOT (_change = 'D' AND (_prev IS NULL OR _prev = 'D')))
            WHERE _r = 1 AND _change = 'D'""")
        self.con.execute("DROP TABLE events_21")
        removed = 0
        for rt in CHILD_RECORD_TYPES:
            (count,) = self.con.execute(
                f'DELETE FROM final_{rt} WHERE "UPRN" IN (SELECT uprn FROM deleted_uprns)').fetchone() or (0,)
            removed += int(count)
        self._assembly_tables()
        return removed

    def _assembly_tables(self) -> None:
        con = self.con
        # ABP record 31 with no end date, the latest update winning (the later record on a tie);
        # else Royal Mail's (28) with no end date, the first held
        con.execute(f"""
            CREATE TEMP TABLE property_organisation AS
            WITH o31 AS (
                SELECT uprn, name FROM (
                    SELECT "UPRN" AS uprn, coalesce("ORGANISATION", "LEGAL_NAME") AS name,
                           row_number() OVER (PARTITION BY "UPRN" ORDER BY
                               coalesce("LAST_UPDATE_DATE", DATE '{date.min.isoformat()}') DESC, _pos DESC) AS _r
                    FROM final_31 WHERE coalesce("ORGANISATION", "LEGAL_NAME") IS NOT NULL AND "END_DATE" IS NULL)
                WHERE _r = 1),
            o28 AS (
                SELECT uprn, name FROM (
                    SELECT "UPRN" AS uprn, "ORGANISATION_NAME" AS name,
                           row_number() OVER (PARTITION BY "UPRN" ORDER BY _pos) AS _r
                    FROM final_28 WHERE "ORGANISATION_NAME" IS NOT NULL AND "END_DATE" IS NULL)
                WHERE _r = 1)
            SELECT uprn, coalesce(o31.name, o28.name) AS name FROM o31 FULL JOIN o28 USING (uprn)""")
        # the AddressBase Premium classification with no end date, the last held winning; a row
        # without a code says nothing of the property's use
        con.execute("""
            CREATE TEMP TABLE property_classification AS
            SELECT uprn, code FROM (
                SELECT "UPRN" AS uprn, "CLASSIFICATION_CODE" AS code,
                       row_number() OVER (PARTITION BY "UPRN" ORDER BY _pos DESC) AS _r
                FROM final_32 WHERE "END_DATE" IS NULL AND _abp_scheme AND "CLASSIFICATION_CODE" IS NOT NULL)
            WHERE _r = 1""")
        con.execute(f"""
            CREATE TEMP TABLE blpu_out AS
            SELECT row_number() OVER (ORDER BY b._pos) AS _n, {", ".join(f"b.{_q(n)}" for n in _BLPU_FIELDS)},
                   b._file, b._line, o.name AS _organisation, c.code AS _classification
            FROM final_21 b LEFT JOIN property_organisation o ON o.uprn = b."UPRN"
                            LEFT JOIN property_classification c ON c.uprn = b."UPRN"
            ORDER BY _n""")
        # each property's LPIs, in the order held, with their descriptor in their language and the
        # English one, and their street's record type
        con.execute(f"""
            CREATE TEMP TABLE lpi_out AS
            SELECT b._n, l._pos, {", ".join(f"l.{_q(n)}" for n in _LPI_FIELDS)}, l._file, l._line,
                   d._file IS NOT NULL AS _own, d."STREET_DESCRIPTOR" AS _own_street,
                   d."LOCALITY_NAME" AS _own_locality, d."TOWN_NAME" AS _own_town,
                   e._file IS NOT NULL AS _eng, e."STREET_DESCRIPTOR" AS _eng_street,
                   e."LOCALITY_NAME" AS _eng_locality, e."TOWN_NAME" AS _eng_town,
                   s."RECORD_TYPE" AS _street_type
            FROM final_24 l JOIN blpu_out b ON b."UPRN" = l."UPRN"
            LEFT JOIN final_15 d ON d."USRN" = l."USRN" AND coalesce(d."LANGUAGE", 'ENG') = coalesce(l."LANGUAGE", 'ENG')
            LEFT JOIN final_15 e ON e."USRN" = l."USRN" AND coalesce(e."LANGUAGE", 'ENG') = 'ENG'
            LEFT JOIN final_11 s ON s."USRN" = l."USRN"
            ORDER BY b._n, l._pos""")
        (self._orphans,) = con.execute(
            'SELECT count(*) FROM final_23 WHERE "UPRN" NOT IN (SELECT "UPRN" FROM final_21)').fetchone() or (0,)
        # what the addresses are made of is in blpu_out and lpi_out now: the rest goes, so that the
        # store holds each row once
        for table in ("property_organisation", "property_classification", "deleted_uprns",
                      *(f"final_{rt}" for rt in NATURAL_KEYS if rt != 23)):
            con.execute(f"DROP TABLE {table}")

    # -- reading back -------------------------------------------------------------------------

    def properties(self) -> Iterator[list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
        """The properties (BLPUs) in the order held, ``batch_size`` at a time, each with its LPIs."""
        for first, last in self.property_ranges():
            yield properties_between(self.con, "blpu_out", "lpi_out", first, last)

    def property_ranges(self) -> list[tuple[int, int]]:
        """The numbers (in the order held) of the first and last property of each chunk."""
        (total,) = self.con.execute("SELECT count(*) FROM blpu_out").fetchone() or (0,)
        return [(first, first + self.batch_size - 1) for first in range(1, int(total) + 1, self.batch_size)]

    def export_properties(self, folder: Path) -> tuple[Path, Path]:
        """The properties and their LPIs as Parquet files in ``folder``, for ``properties_between``
        in other processes (``gazetteer_pool.py``); sorted, so that a chunk is a few row groups."""
        blpus, lpis = folder / "blpu_out.parquet", folder / "lpi_out.parquet"
        for table, order, path in (("blpu_out", "_n", blpus), ("lpi_out", "_n, _pos", lpis)):
            self.con.execute(f"COPY (SELECT * FROM {table} ORDER BY {order}) TO {sql_literal(path)} "
                             f"(FORMAT parquet, ROW_GROUP_SIZE {self.batch_size})")
        return blpus, lpis

    def cross_references(self) -> Iterator[list[dict[str, Any]]]:
        """The cross references (23) in the order held, ``batch_size`` at a time."""
        cursor = self.con.execute(
            'SELECT "UPRN", "XREF_KEY", "SOURCE", "CROSS_REFERENCE", "START_DATE", "END_DATE", _file, _line '
            "FROM final_23 ORDER BY _pos")
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(self.batch_size):
            yield [dict(zip(names, row, strict=True)) for row in rows]

    def orphan_cross_references(self) -> int:
        """Cross references that name a UPRN with no BLPU."""
        return int(self._orphans)


def properties_between(con: duckdb.DuckDBPyConnection, blpus: str, lpis: str, first: int,
                       last: int) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The properties numbered ``first`` to ``last`` of ``blpus`` (a table or a Parquet file, as
    ``Staging`` makes them), each with its LPIs of ``lpis`` in the order held."""
    blpu_rows = _dicts(con.execute(f"SELECT * FROM {blpus} WHERE _n BETWEEN ? AND ? ORDER BY _n", [first, last]))
    lpi_rows = _dicts(con.execute(f"SELECT * FROM {lpis} WHERE _n BETWEEN ? AND ? ORDER BY _n, _pos", [first, last]))
    by_property: dict[int, list[dict[str, Any]]] = {}
    for lpi in lpi_rows:
        by_property.setdefault(lpi["_n"], []).append(lpi)
    return [(blpu, by_property.get(blpu["_n"], [])) for blpu in blpu_rows]


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
