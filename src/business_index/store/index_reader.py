"""Read a published index, and switch to a newer one without downtime.

``bx build`` publishes by renaming a complete file over the index path, so a new build shows up
as a new inode at the same path. ``IndexReader`` checks the path on every request and, when it
changed, opens the new file; a request keeps the connection it started with, so one answer never
mixes two builds.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

DEFAULT_PRECEDENCE = ["approved", "gazetteer", "licensing", "rates"]


@dataclass(frozen=True)
class OpenIndex:
    connection: duckdb.DuckDBPyConnection
    inode: int
    build_id: str
    built_at: str
    # the [derive] name_precedence the build ranked names by, so answers can rank approved names alike
    name_precedence: list[str]


class IndexReader:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._current: OpenIndex | None = None

    def _open(self, inode: int) -> OpenIndex:
        connection = duckdb.connect(str(self.path), read_only=True)
        info = dict(connection.execute("SELECT key, value FROM build_info").fetchall())
        precedence = json.loads(info.get("derive.name_precedence", "null")) or DEFAULT_PRECEDENCE
        return OpenIndex(connection, inode, info.get("build_id", ""), info.get("built_at", ""), precedence)

    def current(self) -> OpenIndex:
        """The newest published index (opened once per build)."""
        inode = os.stat(self.path).st_ino
        with self._lock:
            if self._current is None or self._current.inode != inode:
                self._current = self._open(inode)
            return self._current

    def cursor(self) -> tuple[duckdb.DuckDBPyConnection, OpenIndex]:
        """A cursor of its own for one request, and the build it reads."""
        index = self.current()
        return index.connection.cursor(), index
