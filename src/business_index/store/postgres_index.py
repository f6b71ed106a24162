"""A published index in PostgreSQL, so that several servers share one index.

``publish`` loads a built DuckDB index into a schema of its own (``bx_<build id>``), in one
transaction that also makes it the current build and drops the builds older than the newest
``keep``: a reader sees the old build or the new one, never part of one, and a publish that fails
leaves nothing behind. Publishing a build that is already there only makes it current again, so a
retry is safe. ``business_index.builds`` lists the builds held, the newest published first.

Columns keep their meaning across: text is compared byte by byte (``COLLATE "C"``, as DuckDB
does), lists of values are arrays, and a nested column (lists of structs, JSON) is ``json`` holding
DuckDB's own ``to_json`` text, so ``to_json`` reads back the same text from either back-end. The
original DuckDB type of each column is kept in ``bx_columns``, so a local DuckDB copy of a build
(``PostgresIndexReader.local_index``, for the address matcher and exports) gets its types back.

``PostgresIndexReader`` serves a build from PostgreSQL as ``IndexReader`` serves a file: it looks
at ``business_index.builds`` at most once a second and switches when a newer build is published;
each request keeps the build it started with. Its cursor speaks the SQL the DuckDB cursor speaks
(``?`` parameters); a server that cannot be reached is ``IndexUnavailable`` (503 with Retry-After),
and the pool reconnects by itself when the server is back.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from business_index.store.index_reader import IndexUnavailable, OpenIndex, describe_build
from business_index.store.index_schema import LOOKUPS, PUBLISHED

CATALOG = "business_index"  # the schema of the builds list
SCHEMA_PREFIX = "bx_"
POOL_SIZE = 10  # connections a server process keeps per build at most
POOL_WAIT_SECONDS = 5  # a request waits this long for a connection before the index counts as down
# A pool retries a lost connection with doubling delays; left alone (5 minutes) the next try can
# come as long after the server is back as it was away. Giving up soon instead means the next
# request starts a new try at once, so the API is back within one request of the database.
RECONNECT_SECONDS = 2.0
CHECK_SECONDS = 1.0  # how often a reader looks for a newer build
COPY_ROWS = 10_000  # rows read from DuckDB at a time while publishing
PUBLISH_LOCK = 7_311_204  # the advisory lock publishers take, so two never interleave
LOCAL_COPY_PREFIX = "bx-local-index-"

_log = logging.getLogger(__name__)

_SCALAR = {"VARCHAR": "text COLLATE {collation}", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
           "BOOLEAN": "boolean", "DATE": "date", "DOUBLE": "double precision", "FLOAT": "real",
           "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", '"NULL"': "text"}


def is_database_url(index: object) -> bool:
    """Whether an index given to serve is a PostgreSQL database rather than a file."""
    return isinstance(index, str) and index.startswith(("postgresql://", "postgres://"))


class PublishError(RuntimeError):
    """An index that cannot be published: not an index, or the database refused it."""


@dataclass(frozen=True)
class PublishReport:
    build_id: str
    schema: str
    tables: int
    rows: int
    seconds: float
    already_there: bool
    dropped: list[str]
    granted: list[str]


SCHEMA_NAME = re.compile(r"^bx_[a-z0-9_]{1,50}$")
# byte-order comparison, as DuckDB's; PostgreSQL 17's pg_c_utf8 also lowers every letter as DuckDB
# does ("C" lowers only ASCII: É stays É), so it is used where the server has it
UNICODE_C_COLLATION, C_COLLATION = "pg_c_utf8", '"C"'


def postgres_type(duckdb_type: str, collation: str = C_COLLATION) -> str:
    """The PostgreSQL column type a DuckDB column type is published as."""
    if duckdb_type in _SCALAR:
        return _SCALAR[duckdb_type].format(collation=collation)
    if duckdb_type.endswith("[]") and duckdb_type[:-2] in _SCALAR and duckdb_type[:-2] != '"NULL"':
        return _SCALAR[duckdb_type[:-2]].replace(" COLLATE {collation}", "") + "[]"
    if duckdb_type == "JSON" or duckdb_type.startswith(("STRUCT", "MAP", "UNION")) or duckdb_type.endswith("[]"):
        return "json"
    raise PublishError(f"a column of type {duckdb_type} cannot be published to PostgreSQL")


def _nested(duckdb_type: str) -> bool:
    return postgres_type(duckdb_type) == "json"


def schema_for(build_id: str) -> str:
    """The schema a build is published in: its id, made safe as an identifier."""
    safe = re.sub(r"[^a-z0-9_]", "_", build_id.lower())[:50]
    if not safe:
        raise PublishError("the index has no build id")
    return SCHEMA_PREFIX + safe


def checked_schema(name: object) -> str:
    """A schema name read back from the database, refused unless it is one of our builds' (it goes
    into DROP SCHEMA and search_path: a planted row naming "public" must not reach them)."""
    if not isinstance(name, str) or not SCHEMA_NAME.match(name):
        raise IndexUnavailable("the list of published builds names a schema that is not a build's")
    return name


def _connect(url: str, **options: Any) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, **options)
    except psycopg.OperationalError as exc:
        raise PublishError(f"cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}") from None


def _ensure_catalog(server: Any) -> None:
    server.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}")
    server.execute(f"""CREATE TABLE IF NOT EXISTS {CATALOG}.builds (
        schema_name text PRIMARY KEY, build_id text NOT NULL, built_at text, published_at timestamptz NOT NULL,
        publish_order bigserial)""")


def publish(index: Path, url: str, keep: int = 3, readers: Sequence[str] = ()) -> PublishReport:
    """Load the index at ``index`` into PostgreSQL at ``url`` and make it the current build,
    keeping the newest ``keep`` builds (this one among them). The roles in ``readers`` (the
    servers' own, which need not own or write anything) may read the builds list and this build."""
    if keep < 2:
        # a server still answering from the build before for up to a second must find it there
        raise PublishError("keep at least two builds (this one and the one servers are leaving)")
    started = time.perf_counter()
    try:
        source = duckdb.connect(str(index), read_only=True)
    except duckdb.Error as exc:
        raise PublishError(f"{index}: cannot open the index: {exc}") from None
    try:
        try:
            info = dict(source.execute("SELECT key, value FROM build_info").fetchall())
        except duckdb.Error:
            raise PublishError(f"{index}: not a Business Index index (build one with `bx build`)") from None
        build_id, schema = info.get("build_id", ""), schema_for(info.get("build_id", ""))
        held = {name for (name,) in source.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        tables = [t.name for t in PUBLISHED if t.name in held]
        with _connect(url) as server, server.transaction():
            server.execute("SELECT pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])
            _ensure_catalog(server)
            utf8 = server.execute("SHOW server_encoding").fetchall()[0][0] == "UTF8"
            collation = UNICODE_C_COLLATION if utf8 and server.info.server_version >= 170000 else C_COLLATION
            found = server.execute(f"SELECT build_id FROM {CATALOG}.builds WHERE schema_name = %s",
                                   [schema]).fetchall()
            there = bool(found)
            if there and found[0][0] != build_id:
                raise PublishError(f"build {build_id} would be published as {schema}, which holds build "
                                   f"{found[0][0]}")
            rows = 0
            if not there:
                # a schema of that name not in the list is not a build of ours that finished
                server.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                server.execute(f"CREATE SCHEMA {schema}")
                server.execute(f"""CREATE TABLE {schema}.bx_columns (
                    table_name text, column_name text, position integer, duckdb_type text)""")
                for table in tables:
                    rows += _copy_table(source, server, schema, table, collation)
                    server.execute(f"ANALYZE {schema}.{table}")
            server.execute(f"""INSERT INTO {CATALOG}.builds (schema_name, build_id, built_at, published_at)
                               VALUES (%s, %s, %s, now())
                               ON CONFLICT (schema_name) DO UPDATE SET published_at = now(),
                               publish_order = nextval(pg_get_serial_sequence('{CATALOG}.builds', 'publish_order'))""",
                           [schema, build_id, info.get("built_at")])
            dropped = [s for (s,) in server.execute(f"""
                SELECT schema_name FROM {CATALOG}.builds ORDER BY publish_order DESC OFFSET %s""",
                [keep]).fetchall()]
            for old in dropped:
                server.execute(f"DROP SCHEMA IF EXISTS {checked_schema(old)} CASCADE")
                server.execute(f"DELETE FROM {CATALOG}.builds WHERE schema_name = %s", [old])
            for role in readers:
                _grant_reading(server, role, schema)
    finally:
        source.close()
    return PublishReport(build_id, schema, len(tables), rows, round(time.perf_counter() - started, 2),
                         bool(there), dropped, list(readers))


def _grant_reading(server: Any, role: str, schema: str) -> None:
    """Let ``role`` read the builds list and ``schema``'s tables, and nothing more."""
    import psycopg
    from psycopg import sql

    who = sql.Identifier(role)
    try:
        for statement in ("GRANT USAGE ON SCHEMA {schema} TO {who}",
                          "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {who}"):
            for granted in (CATALOG, schema):
                server.execute(sql.SQL(statement).format(schema=sql.Identifier(granted), who=who))
    except psycopg.errors.UndefinedObject:
        raise PublishError(f"there is no role {role!r} in the database to grant reading to "
                           "(CREATE ROLE it first); nothing was published") from None


def _copy_table(source: duckdb.DuckDBPyConnection, server: Any, schema: str, table: str,
                collation: str = C_COLLATION) -> int:
    columns = source.execute("""SELECT column_name, data_type FROM duckdb_columns()
                                 WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index""",
                             [table]).fetchall()
    server.execute(f"CREATE TABLE {schema}.{table} ("
                   + ", ".join(f'"{name}" {postgres_type(kind, collation)}' for name, kind in columns) + ")")
    with server.cursor().copy(f"COPY {schema}.bx_columns FROM STDIN") as copy:
        for position, (name, kind) in enumerate(columns):
            copy.write_row((table, name, position, kind))
    # a nested value goes across as DuckDB's JSON text, so both back-ends give the same to_json
    selected = ", ".join(f'to_json("{name}")::VARCHAR' if _nested(kind) else f'"{name}"' for name, kind in columns)
    rows = 0
    result = source.execute(f"SELECT {selected} FROM {table}")
    with server.cursor().copy(f"COPY {schema}.{table} FROM STDIN") as copy:
        while chunk := result.fetchmany(COPY_ROWS):
            for row in chunk:
                copy.write_row(row)
            rows += len(chunk)
    for columns_looked_up in LOOKUPS.get(table, ()):
        server.execute(f"CREATE INDEX ON {schema}.{table} ({', '.join(columns_looked_up)})")
    return rows


def published_builds(url: str) -> list[tuple[str, str, Any]]:
    """(schema, build id, published at) of the builds held, the current one first."""
    with _connect(url) as server:
        exists = server.execute("SELECT to_regclass(%s)", [f"{CATALOG}.builds"]).fetchall()[0][0]
        if exists is None:
            return []
        return [tuple(r) for r in server.execute(  # type: ignore[misc]
            f"SELECT schema_name, build_id, published_at FROM {CATALOG}.builds ORDER BY publish_order DESC").fetchall()]


def _placeholders(sql: str) -> str:
    # the index's SQL holds no literal % or ?; a DuckDB parameter is a PostgreSQL one
    return sql.replace("%", "%%").replace("?", "%s")


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]):
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def connection_lost(error: BaseException) -> bool:
    """Whether a PostgreSQL error means the connection itself is gone (the server restarted or
    shut down, the network dropped it): the one failure worth repeating a read for. A pool with
    no connection free, a cancelled statement or a deadlock is not."""
    import psycopg
    from psycopg_pool import PoolClosed, PoolTimeout

    if isinstance(error, (PoolTimeout, PoolClosed)) or not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


class PostgresCursor:
    """Runs the index's SQL against one build's schema; each statement borrows a pooled
    connection for as long as it runs."""

    def __init__(self, pool: Any, schema: str, gone: Callable[[], None] = lambda: None):
        self._pool = pool
        self.schema = schema
        self._gone = gone  # told when the build's tables are no longer there

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> _Rows:
        import psycopg

        with _available():
            for attempt in (1, 2):
                try:
                    with self._pool.connection(timeout=POOL_WAIT_SECONDS) as server:
                        found = server.execute(_placeholders(sql), list(parameters))
                        return _Rows(list(found.fetchall()) if found.description else [])
                except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
                    # the build was dropped under this request (published over, beyond --keep)
                    self._gone()
                    raise IndexUnavailable("the build this request began on is no longer published") from None
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not connection_lost(exc):
                        raise
                    # the server dropped this connection (a restart) and so the pool's others:
                    # test them all now rather than fail one request for each, and read again
                    # once (a read is safe to repeat)
                    self._pool.check()
        raise AssertionError("unreachable")


    def stream(self, sql: str, rows_at_a_time: int) -> Iterator[tuple[Any, ...]]:
        """Every row of ``sql`` through a server-side cursor, ``rows_at_a_time`` a round trip,
        holding one pooled connection until the last row is read."""
        with (_available(), self._pool.connection(timeout=POOL_WAIT_SECONDS) as server, server.transaction(),
              server.cursor(name="bx_stream") as rows):
            rows.execute(_placeholders(sql))
            while chunk := rows.fetchmany(rows_at_a_time):
                yield from chunk


@contextmanager
def _available() -> Iterator[None]:
    """A server that cannot be reached, or a pool with no connection free in time, is an index
    that is unavailable for now: 503 with Retry-After, never a 500."""
    import psycopg

    try:
        yield
    except psycopg.OperationalError as exc:  # PoolTimeout and PoolClosed among them
        raise IndexUnavailable(f"the index database cannot be reached ({type(exc).__name__})") from None
    except psycopg.errors.InsufficientPrivilege:
        raise IndexUnavailable("this server's database role may not read the published builds "
                               "(publish with `bx publish --grant ROLE`)") from None


def _configure_for(schema: str) -> Callable[[Any], None]:
    def configure(server: Any) -> None:
        from psycopg.types.string import TextLoader

        # json comes back as the text stored (DuckDB's to_json), as DuckDB's cursor gives it
        for name in ("json", "jsonb"):
            server.adapters.register_loader(name, TextLoader)
        # the build's tables by their own names; the schema was checked to be one of ours
        server.execute(f"SET search_path TO {checked_schema(schema)}")
    return configure


class PostgresIndexReader:
    """The current build published in PostgreSQL at ``url``, as ``IndexReader`` gives a file's."""

    def __init__(self, url: str, postcode_lookup_max_rows: int = 0, name_index_max_rows: int = 0,
                 check_seconds: float = CHECK_SECONDS):
        self.url = url
        self.postcode_lookup_max_rows = postcode_lookup_max_rows
        self.name_index_max_rows = name_index_max_rows
        self.check_seconds = check_seconds
        self._lock = threading.Lock()  # one thread at a time looks for a newer build
        self._current: OpenIndex | None = None
        self._checked = 0.0
        # the pools of the current build and of the build before it (requests that began there),
        # in the order they became current
        self._pools: dict[str, Any] = {}
        self._pools_lock = threading.Lock()
        self._local: dict[str, Path] = {}
        self._local_lock = threading.Lock()
        remove_stale_local_copies()

    def _new_pool(self, schema: str) -> Any:
        from psycopg_pool import ConnectionPool

        return ConnectionPool(self.url, min_size=1, max_size=POOL_SIZE, open=True, timeout=POOL_WAIT_SECONDS,
                              reconnect_timeout=RECONNECT_SECONDS, name=f"index-{schema}",
                              configure=_configure_for(schema),
                              kwargs={"autocommit": True})

    def _became_current(self, schema: str, pool: Any) -> None:
        with self._pools_lock:
            self._pools.pop(schema, None)
            self._pools[schema] = pool
            retired = list(self._pools)[:-2]
            for old in retired:
                self._pools.pop(old).close(timeout=0)

    def _pool_of(self, schema: str) -> Any:
        with self._pools_lock:
            pool = self._pools.get(schema)
        if pool is None:  # two builds were published while this request began: it starts again
            raise IndexUnavailable("the build this request began on is no longer served")
        return pool

    def _current_schema(self) -> str:
        query = f"SELECT schema_name FROM {CATALOG}.builds ORDER BY publish_order DESC LIMIT 1"
        current = self._current
        if current is not None:  # through the pool of the build served now: no new connection
            rows = PostgresCursor(self._pool_of(str(current.handle)), str(current.handle)).execute(query).fetchall()
        else:
            with _available(), _connect_quietly(self.url) as server:
                rows = server.execute(query).fetchall()
        if not rows:
            raise IndexUnavailable("no build is published in this database (publish one with `bx publish`)")
        return checked_schema(rows[0][0])

    def _stale(self) -> None:
        self._checked = 0.0

    def current(self) -> OpenIndex:
        """The newest published build; ``IndexUnavailable`` when none can be read. One thread at a
        time looks for a newer build (and loads it), while the others go on answering from the
        build they have. While the database cannot be reached, or a newer build cannot be read
        (a schema from a newer version during a rolling upgrade), the build already open stays
        current: answers held in memory go on, and the rest are 503 only if the database is down."""
        current = self._current
        if current is not None and time.monotonic() - self._checked < self.check_seconds:
            return current
        if current is not None and not self._lock.acquire(blocking=False):
            return current  # another thread is looking for a newer build
        if current is None:
            self._lock.acquire()
        try:
            if self._current is not None and time.monotonic() - self._checked < self.check_seconds:
                return self._current  # looked at while this thread waited
            try:
                schema = self._current_schema()
                if self._current is None or self._current.version != schema:
                    pool = self._new_pool(schema)
                    try:
                        opened = describe_build(PostgresCursor(pool, schema), schema, schema,
                                                self.postcode_lookup_max_rows, self.name_index_max_rows)
                    except BaseException:
                        pool.close(timeout=0)
                        raise
                    self._became_current(schema, pool)
                    self._current = opened
            except Exception as exc:  # noqa: BLE001 - whatever stops a switch, the open build serves on
                if self._current is None:
                    raise
                _log.warning("staying on build %s: %s", self._current.build_id, exc)
            self._checked = time.monotonic()
            return self._current
        finally:
            self._lock.release()

    def cursor(self) -> tuple[PostgresCursor, OpenIndex]:
        index = self.current()
        schema = str(index.handle)
        return PostgresCursor(self._pool_of(schema), schema, self._stale), index

    def local_index(self) -> Path:
        """The current build as a DuckDB file of this process (made once per build, types as
        built), for what runs in DuckDB itself: the address matcher and exports. The copy of the
        build before is kept until the next switch, for requests still reading it."""
        index = self.current()
        schema = str(index.handle)
        with self._local_lock:
            if schema not in self._local:
                folder = Path(tempfile.mkdtemp(prefix=f"{LOCAL_COPY_PREFIX}{os.getpid()}-"))
                try:
                    with _available():
                        made = _local_copy(self._pool_of(schema), folder / "index.duckdb")
                except BaseException:
                    shutil.rmtree(folder, ignore_errors=True)
                    raise
                for old in list(self._local)[:-1]:
                    shutil.rmtree(self._local.pop(old).parent, ignore_errors=True)
                self._local[schema] = made
            return self._local[schema]

    def close(self) -> None:
        with self._pools_lock:
            for pool in self._pools.values():
                pool.close(timeout=2)  # at shutdown: let the pool's threads stop rather than abandon them
            self._pools.clear()
        with self._local_lock:
            for path in self._local.values():
                shutil.rmtree(path.parent, ignore_errors=True)
            self._local.clear()


def remove_stale_local_copies(folder: Path | None = None) -> None:
    """Local copies left by workers that were killed (their process is gone)."""
    for path in (folder or Path(tempfile.gettempdir())).glob(LOCAL_COPY_PREFIX + "*"):
        try:
            pid = int(path.name.removeprefix(LOCAL_COPY_PREFIX).split("-")[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass


@contextmanager
def _connect_quietly(url: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(url, connect_timeout=POOL_WAIT_SECONDS, autocommit=True) as server:
        yield server


def _local_copy(pool: Any, target: Path) -> Path:
    """Every published table of one build, from PostgreSQL into a DuckDB file, with the types it
    was built with (through CSV: PostgreSQL's COPY out, DuckDB's reader in)."""
    with pool.connection(timeout=POOL_WAIT_SECONDS) as server:
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, name, kind in server.execute(
                "SELECT table_name, column_name, duckdb_type FROM bx_columns ORDER BY table_name, position").fetchall():
            columns.setdefault(table, []).append((name, kind))
        building = target.with_name(target.name + ".building")
        with duckdb.connect(str(building)) as local:
            for table, described in columns.items():
                # arrays and json go across as JSON text, and are cast back to their DuckDB types
                selected = ", ".join(f'to_json("{n}")' if _nested(k) or k.endswith("[]") else f'"{n}"'
                                     for n, k in described)
                csv = target.with_name(f"{table}.csv")
                with csv.open("wb") as out, server.cursor().copy(
                        f"COPY (SELECT {selected} FROM {table}) TO STDOUT WITH (FORMAT csv)") as copy:
                    for block in copy:
                        out.write(block)
                local.execute(f"CREATE TABLE {table} (" + ", ".join(f'"{n}" {k}' for n, k in described) + ")")
                as_text = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(described)))
                cast = ", ".join(f"c{i}::JSON::{k}" if _nested(k) or k.endswith("[]") else f"c{i}::{k}"
                                 for i, (_, k) in enumerate(described))
                local.execute(f"""INSERT INTO {table} SELECT {cast} FROM read_csv(?, header = false,
                                  columns = {{{as_text}}}, auto_detect = false, delim = ',', quote = '"', escape = '"',
                                  allow_quoted_nulls = false, max_line_size = 100000000)""",
                              [str(csv)])
                csv.unlink()
            local.execute("CHECKPOINT")
    building.replace(target)
    return target
