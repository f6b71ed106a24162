"""Write a build into a new DuckDB file, then publish it by an atomic rename.

A build never touches the published index until it is complete: it writes ``<index>.building-<id>``
and renames it over ``<index>`` at the end, so a reader sees the old index or the new one, never a
half-written one, and a failed build leaves the old index in place.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from business_index import __version__
from business_index.duckdb_utils import insert_columns, sql_literal
from business_index.records import (
    AddressAlias,
    AddressRecord,
    BusinessRecord,
    CrossReference,
    QuarantinedRow,
    business_record_table,
    lineage_columns,
    record_columns,
)
from business_index.store.index_schema import LOOKUPS

# 2: establishments and organisations replace business ids (record_establishments, establishments,
# organisations, premises_history, name_search, id_changes)
# 3: only the tables declared in index_schema.py are published (record_names; no working tables)
SCHEMA_VERSION = 5

SCHEMA = """
CREATE TABLE build_info (key VARCHAR PRIMARY KEY, value VARCHAR);
-- the business names the data team approved through the API, as the submissions store held them
CREATE TABLE approved_names (uprn BIGINT, business_name VARCHAR, submission_id VARCHAR, decided_at VARCHAR,
                             name_key VARCHAR);
CREATE TABLE sources (
    name VARCHAR PRIMARY KEY, kind VARCHAR, format VARCHAR, description VARCHAR, owner VARCHAR,
    lawful_basis VARCHAR, refreshed DATE, retention VARCHAR, paths VARCHAR[]);
CREATE TABLE source_files (
    source VARCHAR, file VARCHAR, encoding VARCHAR, read BIGINT, loaded BIGINT, quarantined BIGINT,
    warnings VARCHAR[]);
CREATE TABLE quarantine (source VARCHAR, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR, raw VARCHAR);
CREATE TABLE addresses (
    uprn BIGINT PRIMARY KEY, parent_uprn BIGINT, usrn BIGINT, lpi_key VARCHAR, logical_status INTEGER,
    blpu_state INTEGER, sao_start_number INTEGER, sao_start_suffix VARCHAR, sao_end_number INTEGER,
    sao_end_suffix VARCHAR, sao_text VARCHAR, pao_start_number INTEGER, pao_start_suffix VARCHAR,
    pao_end_number INTEGER, pao_end_suffix VARCHAR, pao_text VARCHAR, street_description VARCHAR,
    locality VARCHAR, town VARCHAR, postcode VARCHAR, single_line_address VARCHAR, classification VARCHAR,
    organisation VARCHAR, local_custodian_code INTEGER, x_coordinate DOUBLE, y_coordinate DOUBLE,
    latitude DOUBLE, longitude DOUBLE, start_date DATE, end_date DATE, descriptive_street BOOLEAN, source VARCHAR, file VARCHAR, line BIGINT);
CREATE TABLE address_aliases (
    uprn BIGINT, lpi_key VARCHAR, logical_status INTEGER, language VARCHAR, single_line_address VARCHAR,
    postcode VARCHAR, start_date DATE, end_date DATE, source VARCHAR, file VARCHAR, line BIGINT);
CREATE TABLE cross_references (
    uprn BIGINT, xref_key VARCHAR, source_code VARCHAR, reference VARCHAR, start_date DATE, end_date DATE,
    source VARCHAR, file VARCHAR, line BIGINT);
CREATE TABLE business_records (
    record_id BIGINT PRIMARY KEY, source VARCHAR, file VARCHAR, line BIGINT, source_kind VARCHAR,
    record_type VARCHAR, source_record_id VARCHAR, name VARCHAR, trading_name VARCHAR, holder_name VARCHAR,
    holder_is_individual BOOLEAN, name_withheld BOOLEAN, address_lines VARCHAR[], address_text VARCHAR,
    postcode VARCHAR, uprn BIGINT, property_ref VARCHAR, account_ref VARCHAR, licence_ref VARCHAR,
    licence_type VARCHAR, status VARCHAR, description VARCHAR, rateable_value BIGINT, start_date DATE,
    end_date DATE, last_seen_date DATE, extra JSON);
CREATE TABLE gazetteer_other_records (source VARCHAR, file VARCHAR, line BIGINT, record_type INTEGER,
    fields VARCHAR[]);
"""


# the tables whose rows carry the file they came from
FILE_TABLES = ("addresses", "address_aliases", "cross_references", "business_records", "quarantine", "source_files",
               "gazetteer_other_records")


@dataclass
class IndexWriter:
    """Holds the connection to the file being built; ``publish`` swaps it in."""

    target: Path
    build_id: str
    temp_path: Path
    connection: duckdb.DuckDBPyConnection

    @classmethod
    def create(cls, target: Path, memory_limit: str | None = None) -> IndexWriter:
        """A new build beside ``target``; ``memory_limit`` caps DuckDB's buffers (``[build]
        memory_limit``), its default otherwise."""
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(target)
        build_id = uuid.uuid4().hex[:12]
        temp_path = target.with_name(f"{target.name}.building-{build_id}")
        # whose build this is, so a later build can tell a dead one's leftovers from a live one's
        _owner_file(temp_path).write_text(str(os.getpid()), encoding="utf-8")
        connection = duckdb.connect(str(temp_path))
        connection.execute("SET enable_progress_bar = false")  # our own progress goes to stderr, not DuckDB's
        if memory_limit is not None:
            connection.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
        connection.execute(SCHEMA)
        return cls(target, build_id, temp_path, connection)

    def _insert(self, table: str, columns: dict[str, list[Any]]) -> None:
        insert_columns(self.connection, table, columns)

    def write_addresses(self, records: Sequence[AddressRecord]) -> None:
        self._insert("addresses", record_columns(records, AddressRecord))

    def write_address_columns(self, columns: dict[str, list[Any]]) -> None:
        """Addresses given as ``record_columns`` makes them (by the LLPG reader's worker processes)."""
        self._insert("addresses", columns)

    def write_alias_columns(self, columns: dict[str, list[Any]]) -> None:
        self._insert("address_aliases", columns)

    def write_aliases(self, records: Sequence[AddressAlias]) -> None:
        self._insert("address_aliases", record_columns(records, AddressAlias))

    def write_cross_references(self, records: Sequence[CrossReference]) -> None:
        self._insert("cross_references", record_columns(records, CrossReference))

    def write_quarantine(self, rows: Sequence[QuarantinedRow]) -> None:
        self._insert("quarantine", {
            **lineage_columns(rows),
            "field": [r.field for r in rows], "reason": [r.reason for r in rows], "raw": [r.raw for r in rows],
        })

    def write_business_records(self, records: Sequence[BusinessRecord] | pa.Table, first_id: int) -> int:
        """Write records (or ``business_record_table`` of them, as a source read in another process
        hands them over) with ids from ``first_id`` on, in order; returns the next id."""
        table = records if isinstance(records, pa.Table) else business_record_table(records)
        if table.num_rows == 0:
            return first_id
        rows = table.append_column("record_id", pa.array(range(first_id, first_id + table.num_rows), pa.int64()))  # noqa: F841
        names = ", ".join(rows.column_names)
        self.connection.execute(f"INSERT INTO business_records ({names}) SELECT {names} FROM rows")
        return first_id + table.num_rows

    def write_other_rows(self, rows: Iterable[tuple[Any, int, list[str]]]) -> None:
        rows = list(rows)
        self._insert("gazetteer_other_records", {
            "source": [r[0].source for r in rows], "file": [r[0].file for r in rows],
            "line": [r[0].line for r in rows], "record_type": [r[1] for r in rows], "fields": [r[2] for r in rows],
        })

    def write_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._insert(table, {key: [row[key] for row in rows] for key in rows[0]})

    def write_build_info(self, info: dict[str, object]) -> None:
        base = {"build_id": self.build_id, "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "software_version": __version__, "schema_version": str(SCHEMA_VERSION)}
        base.update({k: str(v) for k, v in info.items()})
        self.write_rows("build_info", [{"key": k, "value": v} for k, v in base.items()])

    def name_files_as_written(self, written: dict[str, str]) -> None:
        """Record each source file by the path its sources.toml gives (``resolved -> as written``),
        so that lineage reads as the council wrote it, wherever the build ran."""
        if not written:
            return
        self.connection.execute("CREATE OR REPLACE TEMP TABLE file_names (resolved VARCHAR, written VARCHAR)")
        self.connection.executemany("INSERT INTO file_names VALUES (?, ?)", list(written.items()))
        for table in FILE_TABLES:
            self.connection.execute(f"""
                UPDATE {table} SET file = n.written FROM file_names n WHERE {table}.file = n.resolved""")

    def index_lookups(self) -> None:
        """An index (ART) on each column set readers look rows up by (``index_schema.LOOKUPS``),
        so that serving reads the rows of one property or establishment, not a whole column;
        a primary key is one already."""
        for table, lookups in LOOKUPS.items():
            keys = {tuple(c) for (c,) in self.connection.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'", [table]).fetchall()}
            for columns in lookups:
                if columns not in keys:
                    self.connection.execute(
                        f'CREATE INDEX "lookup_{table}_{"_".join(columns)}" ON "{table}" ({", ".join(columns)})')

    def publish(self) -> Path:
        """Finish the file and rename it over the target in one step."""
        self.connection.execute("CHECKPOINT")
        self.connection.close()
        os.replace(self.temp_path, self.target)
        _owner_file(self.temp_path).unlink(missing_ok=True)
        return self.target

    def abandon(self) -> None:
        """Drop the half-built file; the published index is untouched."""
        try:
            self.connection.close()
        finally:
            for path in _build_files(self.temp_path):
                path.unlink(missing_ok=True)


def _owner_file(temp_path: Path) -> Path:
    return temp_path.with_name(temp_path.name + ".pid")


def _build_files(temp_path: Path) -> tuple[Path, ...]:
    return (temp_path, temp_path.with_name(temp_path.name + ".wal"), _owner_file(temp_path))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    try:  # a killed process its parent has not yet reaped (a zombie) is as dead as it gets
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def remove_stale_builds(target: Path) -> list[Path]:
    """Remove what builds of ``target`` killed before they could clean up left behind (a half-built
    file, its write-ahead log): those whose owning process is gone. A live build's files stay.
    Returns the files removed."""
    removed: list[Path] = []
    for temp_path in target.parent.glob(f"{target.name}.building-*"):
        if temp_path.suffix in (".wal", ".pid") or not temp_path.name.split(".building-")[-1].isalnum():
            continue
        try:
            owner = int(_owner_file(temp_path).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            owner = None  # from before owners were written, or the owner file is gone: not provably alive
        if owner is not None and _alive(owner):
            continue
        for path in _build_files(temp_path):
            if path.exists():
                path.unlink()
                removed.append(path)
    # a write-ahead log or owner file whose build file is gone
    for orphan in [*target.parent.glob(f"{target.name}.building-*.wal"),
                   *target.parent.glob(f"{target.name}.building-*.pid")]:
        base = orphan.with_name(orphan.name.rsplit(".", 1)[0])
        if not base.exists() and orphan.exists():
            try:
                owner = int(orphan.read_text(encoding="utf-8").strip()) if orphan.suffix == ".pid" else None
            except (OSError, ValueError):
                owner = None
            if owner is None or not _alive(owner):
                orphan.unlink()
                removed.append(orphan)
    return removed
