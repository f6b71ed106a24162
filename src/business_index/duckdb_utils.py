"""Small helpers for DuckDB connections shared by several stages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The single value a query returns, with the result fully consumed.

    DuckDB 2 refuses new work on a connection whose last result was not read to the end, and a
    connection is shared with Splink here, so a bare ``fetchone()`` would break the next stage.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[Any]]) -> None:
    """Insert many rows, given column by column, at once (through Arrow: ``executemany`` goes row
    by row, about a millisecond each, which is minutes at a borough's scale)."""
    if not columns or not next(iter(columns.values()), None):
        return
    arrow = pa.table(columns)  # noqa: F841 - read by DuckDB by name
    names = ", ".join(columns)
    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM arrow")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows at once (see ``insert_columns``)."""
    insert_columns(con, table, {name: [row[i] for row in rows] for i, name in enumerate(columns)})


def create_table_from_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[Any]],
                              schema: pa.Schema) -> None:
    """Create (or replace) ``table`` from columns of the given Arrow ``schema``."""
    arrow = pa.table(columns, schema=schema)  # noqa: F841 - read by DuckDB by name
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM arrow")


def sql_literal(value: str | Path) -> str:
    """``value`` as an SQL string literal, quotes doubled: for what SQL cannot take as a parameter
    (paths in ``COPY``, ``read_parquet``, ``SET``)."""
    return "'" + str(value).replace("'", "''") + "'"
