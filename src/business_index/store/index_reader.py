"""Read a published index, and switch to a newer one without downtime.

``bx build`` publishes by renaming a complete file over the index path, so a new build shows up
as a new inode at the same path. ``IndexReader`` checks the path on every request and, when it
changed, opens the new file; a request keeps the build it started with, so one answer never mixes
two builds.

Postcode lookups are the busiest question by far (the shop-front licence journey), so when an
index has no more than ``postcode_lookup_max_rows`` live addresses the reader holds them in
memory, grouped by postcode and already in display order, built once per build; larger indexes
answer from DuckDB. The name index (``store/name_lookup``) is held alike up to
``name_index_max_rows`` trigram rows. ``describe_build`` is shared with the PostgreSQL reader.

Each thread that reads a build gets one cursor of that build and keeps it (``BuildCursors``): a
DuckDB cursor is a connection of its own, so making one per request cost every request a new
connection and a ``USE``. A cursor is never shared by two threads (DuckDB connections may not be
used from two threads at once), and the route functions that read run whole on one thread. When
a newer build is opened, the pool of the old one lets its cursors go: a request still reading
the old build keeps its cursor until it is done, then that cursor is closed with it, and once no
request holds the old build its database closes and the replaced file is let go.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb

from business_index.config import DeriveConfig
from business_index.duckdb_utils import sql_literal
from business_index.records import LIVE_STATUSES_SQL
from business_index.store.index_writer import SCHEMA_VERSION
from business_index.store.name_lookup import NameIndex, streamed_rows

# an index from before the precedence was recorded was built with the default
DEFAULT_PRECEDENCE = [str(kind) for kind in DeriveConfig().name_precedence]
LIVE = f"a.logical_status IN {LIVE_STATUSES_SQL}"
INDEX_CATALOG = "business_index"
# the columns of an address answer, and the order addresses are listed in (street, then number)
ADDRESS_ROW_COLUMNS = """a.uprn, a.single_line_address, a.postcode, a.classification, p.business_name, p.establishment_id,
                         p.name_source_kind"""
ADDRESS_ORDER = "a.street_description, a.pao_start_number, a.pao_text, a.sao_start_number, a.sao_text, a.uprn"
# cursors a build keeps for threads at most: uvicorn's worker threads (anyio's pool, 40) and its
# event loop; a thread beyond these gets a cursor for the one request, as every request once did
MOST_POOLED_CURSORS = 64


class IndexUnavailable(RuntimeError):
    """The index cannot be read: missing, not an index, or written by a version whose tables this
    one does not read. The message says what is wrong, never where the file lives."""


@dataclass(frozen=True)
class OpenIndex:
    # the back-end's own: the DuckDB connection this build is attached to, or its PostgreSQL schema
    handle: Any
    # what tells this build from the next at its source: the index file's inode, or the schema's name
    version: object
    build_id: str
    built_at: str
    # the [derive] name_precedence the build ranked names by, so answers can rank approved names alike
    name_precedence: list[str]
    # postcode -> its live addresses (ADDRESS_ROW_COLUMNS) in ADDRESS_ORDER; None: ask DuckDB
    addresses_by_postcode: dict[str, list[tuple[Any, ...]]] | None
    # the name index held in memory; None: ask the database
    names: NameIndex | None
    council: str = ""  # the council the index was built for ([council] name)


def describe_build(cursor: Any, handle: Any, version: object, postcode_lookup_max_rows: int,
                   name_index_max_rows: int) -> OpenIndex:
    """What a reader keeps of one build, read through ``cursor`` (DuckDB's, or the PostgreSQL
    reader's, which speaks the same SQL): its facts, and the postcode lookups and name index held
    in memory when the build is small enough; ``IndexUnavailable`` when it is not an index this
    software reads."""
    info = dict(cursor.execute("SELECT key, value FROM build_info").fetchall())
    if info.get("schema_version") != str(SCHEMA_VERSION):
        raise IndexUnavailable(f"index schema {info.get('schema_version')}, this software reads schema "
                               f"{SCHEMA_VERSION}: rebuild it with `bx build`")
    precedence = json.loads(info.get("derive.name_precedence", "null")) or DEFAULT_PRECEDENCE
    grams = cursor.execute("SELECT count(*) FROM name_grams").fetchall()[0][0]
    names = NameIndex.load(cursor) if grams <= name_index_max_rows else None
    return OpenIndex(handle, version, info.get("build_id", ""), info.get("built_at", ""), precedence,
                     _postcode_lookups(cursor, postcode_lookup_max_rows), names, info.get("council", ""))


def _postcode_lookups(cursor: Any, max_rows: int) -> dict[str, list[tuple[Any, ...]]] | None:
    live = cursor.execute(f"SELECT count(*) FROM addresses a WHERE {LIVE}").fetchall()[0][0]
    if live > max_rows:
        return None
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in streamed_rows(cursor, f"""
            SELECT {ADDRESS_ROW_COLUMNS} FROM addresses a LEFT JOIN property_names p USING (uprn)
            WHERE {LIVE} AND a.postcode IS NOT NULL ORDER BY a.postcode, {ADDRESS_ORDER}"""):
        grouped.setdefault(row[2], []).append(tuple(row))
    return grouped


class Reader(Protocol):
    """What the API reads an index through: a file (``IndexReader``) or PostgreSQL
    (``store.postgres_index.PostgresIndexReader``)."""

    def current(self) -> OpenIndex: ...

    def cursor(self) -> tuple[Any, OpenIndex]: ...

    def local_index(self) -> Path:
        """The current build as a DuckDB file, for what runs in DuckDB itself (the address
        matcher, exports)."""
        ...


class BuildCursors:
    """The cursors of one build's connection, one per thread that reads it, kept for the thread's
    next request; at most ``limit`` (threads that have ended give theirs up first)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, limit: int = MOST_POOLED_CURSORS):
        self.connection = connection
        self.limit = limit
        self._lock = threading.Lock()
        self._by_thread: dict[int, duckdb.DuckDBPyConnection] = {}
        self._released = False

    def for_this_thread(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor of the build (made on its first request)."""
        thread = threading.get_ident()
        cursor = self._by_thread.get(thread)
        if cursor is not None:
            return cursor
        cursor = self.connection.cursor()
        cursor.execute(f"USE {INDEX_CATALOG}")
        with self._lock:
            if not self._released:
                if len(self._by_thread) >= self.limit:
                    self._forget_ended_threads()
                if len(self._by_thread) < self.limit:
                    self._by_thread[thread] = cursor
        return cursor

    def _forget_ended_threads(self) -> None:
        # a thread that has ended uses its cursor no more, so closing it here is safe
        running = {t.ident for t in threading.enumerate()}
        for thread in [t for t in self._by_thread if t not in running]:
            self._by_thread.pop(thread).close()

    def release(self) -> None:
        """The build is no longer current: let its cursors go. Each closes when the last request
        holding it is done (a thread's cursor may be in use this moment, so it is not closed from
        here); new requests read the newer build."""
        with self._lock:
            self._released = True
            self._by_thread.clear()

    def __len__(self) -> int:
        return len(self._by_thread)


class IndexReader:
    def __init__(self, path: Path, postcode_lookup_max_rows: int = 0, name_index_max_rows: int = 0):
        self.path = path
        self.postcode_lookup_max_rows = postcode_lookup_max_rows
        self.name_index_max_rows = name_index_max_rows
        self._lock = threading.Lock()
        self._current: OpenIndex | None = None
        self._cursors: BuildCursors | None = None  # the current build's

    def _open(self, inode: int) -> OpenIndex:
        # ATTACH in an in-memory database of its own, not duckdb.connect(path): connect() hands back
        # the database already open at that path (the previous build) while anything holds it
        connection = duckdb.connect()
        try:
            connection.execute(f"ATTACH {sql_literal(self.path.resolve())} AS {INDEX_CATALOG} (READ_ONLY)")
            connection.execute(f"USE {INDEX_CATALOG}")
            return describe_build(connection, connection, inode, self.postcode_lookup_max_rows,
                                  self.name_index_max_rows)
        except duckdb.Error:
            connection.close()
            raise IndexUnavailable("not a Business Index index (build one with `bx build`)") from None
        except IndexUnavailable:
            connection.close()
            raise

    def current(self) -> OpenIndex:
        """The newest published index (opened once per build); ``IndexUnavailable`` when there is
        none to read."""
        try:
            inode = os.stat(self.path).st_ino
        except OSError:
            raise IndexUnavailable("the index file is missing") from None
        with self._lock:
            if self._current is None or self._current.version != inode:
                opened = self._open(inode)
                if self._cursors is not None:
                    self._cursors.release()
                self._current, self._cursors = opened, BuildCursors(opened.handle)
            return self._current

    def cursor(self) -> tuple[duckdb.DuckDBPyConnection, OpenIndex]:
        """This thread's cursor of the current build, and the build it reads. Use it on this
        thread only."""
        while True:
            index = self.current()
            cursors = self._cursors
            # a newer build opened between the two lines: ask again, so cursor and build agree
            if cursors is not None and cursors.connection is index.handle:
                return cursors.for_this_thread(), index

    def local_index(self) -> Path:
        return self.path
