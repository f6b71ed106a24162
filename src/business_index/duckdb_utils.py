"""Small helpers for DuckDB connections shared by several stages."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The single value a query returns, with the result fully consumed.

    DuckDB 2 refuses new work on a connection whose last result was not read to the end, and a
    connection is shared with Splink here, so a bare ``fetchone()`` would break the next stage.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
