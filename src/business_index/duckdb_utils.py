"""Small helpers for DuckDB connections shared by several stages."""

from __future__ import annotations

from collections.abc import Sequence
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


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows at once (through Arrow: ``executemany`` goes row by row, about a
    millisecond each, which is minutes at a borough's scale)."""
    if not rows:
        return
    arrow = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})  # noqa: F841 - read by name
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM arrow")
