"""Business-name submissions, their review, and the audit log: the only data Business Index writes
while serving.

The index is read-only; what people submit lives in a store of its own that survives rebuilds:
SQLite by default (a file beside the index, WAL mode, safe with several uvicorn workers) or
PostgreSQL given a ``postgresql://`` URL. Both speak the same SQL here; only placeholders and the
way a write transaction starts differ.

Every write is one transaction that also appends to the audit log (who, when, what, the row before
and after), so a submission never exists without its audit entry. Retries are safe: a submission
carrying an ``Idempotency-Key`` is created at most once per submitter and key, however many
requests race (a unique constraint decides, not a read-then-write), and repeating a decision that
was already made returns it unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Status = Literal["pending", "approved", "rejected"]
Decision = Literal["approve", "reject"]
DECIDED: dict[str, Status] = {"approve": "approved", "reject": "rejected"}
SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 10  # PostgreSQL connections a server process keeps at most
POOL_WAIT_SECONDS = 10  # a request waits this long for a connection before the store counts as down

MIGRATIONS = Path(__file__).parent / "migrations"
COLUMNS = ("submission_id", "uprn", "business_name", "note", "status", "submitted_by", "submitted_at",
           "single_line_address", "name_at_submission", "gazetteer_name_at_submission", "index_version",
           "decided_by", "decided_at", "decision_reason", "idempotency_key", "request_hash")


class StoreError(Exception):
    """A store that cannot be opened or cannot answer: the service is unavailable (503)."""


class StoreRefusal(Exception):
    """A request the store refuses on its merits (the store itself is fine): never a 503."""


class IdempotencyConflict(StoreRefusal):
    """The Idempotency-Key was used before by this submitter for a different request."""


class NotFound(StoreRefusal):
    pass


class AlreadyDecided(StoreRefusal):
    def __init__(self, submission: Submission):
        super().__init__(f"submission {submission.submission_id} was already {submission.status}")
        self.submission = submission


@dataclass(frozen=True)
class Submission:
    submission_id: str
    uprn: int
    business_name: str
    note: str | None
    status: Status
    submitted_by: str
    submitted_at: str
    single_line_address: str | None
    name_at_submission: str | None
    gazetteer_name_at_submission: str | None
    index_version: str | None
    decided_by: str | None
    decided_at: str | None
    decision_reason: str | None
    idempotency_key: str | None
    request_hash: str | None


@dataclass(frozen=True)
class PropertyContext:
    """What the index said about the property when the name was submitted (kept for the reviewer
    and for the gazetteer custodian's export)."""

    single_line_address: str | None
    derived_name: str | None
    gazetteer_name: str | None
    index_version: str | None


@dataclass(frozen=True)
class ApprovedName:
    uprn: int
    business_name: str
    submission_id: str
    decided_at: str


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and Z, the one form stored, so stored times compare as strings."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def now_rfc3339() -> str:
    return rfc3339(datetime.now(UTC))


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A hash of what was asked, to tell a retry from a different request under the same key."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def default_store_path(index: Path) -> Path:
    """The store used when none is given: a SQLite file beside the index."""
    return index.with_suffix(".submissions.sqlite3").resolve()


def default_store_url(index: Path) -> str:
    return f"sqlite:///{default_store_path(index)}"


class SubmissionStore:
    """Submissions and the audit log in SQLite or PostgreSQL; one short connection per operation,
    so the store is safe across threads and worker processes."""

    def __init__(self, url: str):
        self.url = url
        self._connections: Any = None
        self._pool_lock = threading.Lock()
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
        elif url.startswith("sqlite:///"):
            # sqlite:///relative/path or sqlite:////absolute/path, as SQLAlchemy writes them
            self.dialect = "sqlite"
            self.path = Path(url.removeprefix("sqlite:///"))
        elif "://" not in url:
            self.dialect = "sqlite"
            self.path = Path(url)
        else:
            raise StoreError(f"unknown store URL {url!r}: use sqlite:///PATH, a file path, or postgresql://...")
        if self.dialect == "sqlite" and self.path.is_dir():
            raise StoreError(f"--store {self.path}: is a folder; give the path of an SQLite file")
        try:
            self.create_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"--store {self.describe()}: not a usable SQLite database ({exc})") from None

    def describe(self) -> str:
        """The URL without any password, for logs and /health."""
        if self.dialect == "sqlite":
            return self.url
        from psycopg.conninfo import conninfo_to_dict

        try:  # whichever way the password was given: in the authority, or as ?password=
            parts = {k: v for k, v in conninfo_to_dict(self.url).items() if k != "password" and v is not None}
        except Exception:  # noqa: BLE001 - a URL libpq cannot parse: say nothing of it
            return "postgresql://(unreadable URL)"
        where = f"{parts.get('host', '')}{':' + str(parts['port']) if 'port' in parts else ''}"
        return f"postgresql://{parts.get('user', '')}@{where}/{parts.get('dbname', '')}"

    # -- connections -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Any]:
        if self.dialect == "sqlite":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                # IMMEDIATE takes the write lock up front, so two workers never both read-then-write
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            finally:
                connection.close()
        else:
            import psycopg
            from psycopg_pool import PoolTimeout

            from business_index.store.postgres_index import connection_lost

            with ExitStack() as leases:
                try:
                    server = leases.enter_context(self._pool().connection(timeout=POOL_WAIT_SECONDS))
                except PoolTimeout as exc:
                    raise StoreError(f"cannot connect to the submissions store {self.describe()}: {exc}") from None
                try:
                    with server.transaction():
                        yield server
                except psycopg.OperationalError as exc:
                    if not connection_lost(exc):
                        raise
                    # the server went away (a restart, a failover): the transaction was rolled back,
                    # or, lost during COMMIT, may have gone through (a submission with an
                    # Idempotency-Key is safe to send again); the pool's other connections went
                    # too and are tested now, so the next requests get working ones
                    self._pool().check()
                    raise StoreError(f"the submissions store {self.describe()} was lost: "
                                     f"{type(exc).__name__}") from None

    def _pool(self) -> Any:
        """The PostgreSQL connections of this process, opened on first use and kept."""
        with self._pool_lock:  # threads of one worker asking at once make one pool
            if self._connections is None:
                from psycopg_pool import ConnectionPool

                from business_index.store.postgres_index import RECONNECT_SECONDS

                # each connection is tested as it is lent (one round trip): after a restart of the
                # server the first request gets a working connection, not a 503
                self._connections = ConnectionPool(self.url, min_size=1, max_size=POOL_SIZE, open=True,
                                                   timeout=POOL_WAIT_SECONDS, name="submissions",
                                                   reconnect_timeout=RECONNECT_SECONDS,
                                                   check=ConnectionPool.check_connection)
            return self._connections

    def close(self) -> None:
        if self._connections is not None:
            self._connections.close()
            self._connections = None

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgresql" else statement

    def _rows(self, connection: Any, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cursor = connection.execute(self._sql(statement), tuple(params))
        return list(cursor.fetchall()) if cursor.description else []

    def create_schema(self) -> None:
        """Bring the store's schema up to date: every migration in ``migrations/`` not yet applied,
        in order, each in a transaction, under yoyo's lock so that workers starting together do not
        apply one twice. A store made before migrations existed is taken up as it is."""
        from yoyo import get_backend, read_migrations

        if self.dialect == "sqlite":
            # WAL lets readers go on while a worker writes; the mode is kept in the file, so once
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000) as connection:
                connection.execute("PRAGMA journal_mode = WAL")
            connection.close()
            backend_url = f"sqlite:///{self.path.resolve()}"
        else:
            backend_url = "postgresql+psycopg://" + self.url.split("://", 1)[1]
        try:
            backend = get_backend(backend_url)
        except Exception as exc:  # noqa: BLE001 - the driver's own error, whichever it is: the store is down
            raise StoreError(f"cannot connect to the submissions store {self.describe()}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        try:
            with backend.lock():
                backend.apply_migrations(backend.to_apply(read_migrations(str(MIGRATIONS))))
        finally:
            backend.connection.close()

    def schema_versions(self) -> list[str]:
        """The migrations applied to this store, oldest first."""
        with self._transaction(write=False) as connection:
            return [r[0] for r in self._rows(connection, "SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc")]

    def ping(self) -> None:
        with self._transaction(write=False) as connection:
            self._rows(connection, "SELECT count(*) FROM name_submissions WHERE 1 = 0")

    # -- writes ----------------------------------------------------------------------------------

    def _audit(self, connection: Any, actor: str, action: str, entity_id: str,
               before: Submission | None, after: Submission | None) -> None:
        connection.execute(self._sql(
            "INSERT INTO audit_log (entry_id, at, actor, action, entity, entity_id, before_json, after_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
            (str(uuid.uuid4()), now_rfc3339(), actor, action, "name_submission", entity_id,
             json.dumps(asdict(before)) if before else None, json.dumps(asdict(after)) if after else None))

    def _get(self, connection: Any, submission_id: str) -> Submission | None:
        rows = self._rows(connection, f"SELECT {', '.join(COLUMNS)} FROM name_submissions WHERE submission_id = ?",
                          [submission_id])
        return Submission(*rows[0]) if rows else None

    def submit(self, *, uprn: int, business_name: str, note: str | None, submitted_by: str,
               context: PropertyContext, idempotency_key: str | None = None) -> tuple[Submission, bool]:
        """Record a pending submission; returns it and whether it is a replay of an earlier request
        with the same Idempotency-Key (nothing new is written then)."""
        fingerprint = request_fingerprint({"uprn": uprn, "businessName": business_name, "note": note})
        submission = Submission(
            submission_id=str(uuid.uuid4()), uprn=uprn, business_name=business_name, note=note, status="pending",
            submitted_by=submitted_by, submitted_at=now_rfc3339(), single_line_address=context.single_line_address,
            name_at_submission=context.derived_name, gazetteer_name_at_submission=context.gazetteer_name,
            index_version=context.index_version, decided_by=None, decided_at=None, decision_reason=None,
            idempotency_key=idempotency_key, request_hash=fingerprint)
        with self._transaction(write=True) as connection:
            values = asdict(submission)
            inserted = connection.execute(self._sql(
                f"INSERT INTO name_submissions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
                "ON CONFLICT (submitted_by, idempotency_key) DO NOTHING"), tuple(values[c] for c in COLUMNS)).rowcount
            if inserted == 1:
                self._audit(connection, submitted_by, "submission.created", submission.submission_id, None, submission)
                return submission, False
            rows = self._rows(connection, f"SELECT {', '.join(COLUMNS)} FROM name_submissions "
                                          "WHERE submitted_by = ? AND idempotency_key = ?", [submitted_by, idempotency_key])
        earlier = Submission(*rows[0])
        if earlier.request_hash != fingerprint:
            raise IdempotencyConflict(
                f"the Idempotency-Key {idempotency_key!r} was used for a different submission ({earlier.submission_id})")
        return earlier, True

    def decide(self, submission_id: str, decision: Decision, reason: str, decided_by: str) -> tuple[Submission, bool]:
        """Approve or reject a pending submission; returns it and whether this call changed it.
        Repeating the decision already made is a no-op; contradicting it raises AlreadyDecided."""
        status = DECIDED[decision]
        with self._transaction(write=True) as connection:
            before = self._get(connection, submission_id)
            if before is None:
                raise NotFound(f"no submission {submission_id}")
            if before.status != "pending":
                if before.status == status and before.decision_reason == reason:
                    return before, False
                raise AlreadyDecided(before)
            connection.execute(self._sql(
                "UPDATE name_submissions SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? "
                "WHERE submission_id = ? AND status = 'pending'"),
                (status, decided_by, now_rfc3339(), reason, submission_id))
            after = self._get(connection, submission_id)
            assert after is not None
            self._audit(connection, decided_by, f"submission.{status}", submission_id, before, after)
        return after, True

    # -- reads -----------------------------------------------------------------------------------

    def by_idempotency_key(self, submitted_by: str, idempotency_key: str) -> Submission | None:
        """The submission this submitter made with this key, if any."""
        with self._transaction(write=False) as connection:
            rows = self._rows(connection, f"SELECT {', '.join(COLUMNS)} FROM name_submissions "
                                          "WHERE submitted_by = ? AND idempotency_key = ?", [submitted_by, idempotency_key])
        return Submission(*rows[0]) if rows else None

    def get(self, submission_id: str) -> Submission | None:
        with self._transaction(write=False) as connection:
            return self._get(connection, submission_id)

    def find(self, *, status: Status | None = None, uprn: int | None = None, submitted_by: str | None = None,
             page: int = 1, page_size: int = 25) -> tuple[list[Submission], int]:
        """Newest first, with the total that matched."""
        conditions, params = ["1 = 1"], []
        for column, value in (("status", status), ("uprn", uprn), ("submitted_by", submitted_by)):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        where = " AND ".join(conditions)
        with self._transaction(write=False) as connection:
            total = self._rows(connection, f"SELECT count(*) FROM name_submissions WHERE {where}", params)[0][0]
            rows = self._rows(connection, f"SELECT {', '.join(COLUMNS)} FROM name_submissions WHERE {where} "
                                          "ORDER BY submitted_at DESC, submission_id LIMIT ? OFFSET ?",
                              [*params, page_size, (page - 1) * page_size])
        return [Submission(*row) for row in rows], int(total)

    def approved_names(self) -> list[ApprovedName]:
        """Per UPRN, the most recently approved name."""
        with self._transaction(write=False) as connection:
            rows = self._rows(connection, """
                SELECT uprn, business_name, submission_id, decided_at FROM (
                    SELECT uprn, business_name, submission_id, decided_at,
                           row_number() OVER (PARTITION BY uprn ORDER BY decided_at DESC, submission_id) AS r
                    FROM name_submissions WHERE status = 'approved') latest
                WHERE r = 1 ORDER BY uprn""")
        return [ApprovedName(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def approved_since(self, since: str | None) -> list[Submission]:
        """Approved submissions, oldest decision first, optionally only those decided after ``since``."""
        with self._transaction(write=False) as connection:
            rows = self._rows(connection, f"SELECT {', '.join(COLUMNS)} FROM name_submissions "
                                          "WHERE status = 'approved' AND (CAST(? AS TEXT) IS NULL OR decided_at > ?) "
                                          "ORDER BY decided_at, submission_id", [since, since])
        return [Submission(*row) for row in rows]

    def audit_log(self, *, entity_id: str | None = None, page: int = 1,
                  page_size: int = 25) -> tuple[list[AuditEntry], int]:
        where, params = ("entity_id = ?", [entity_id]) if entity_id else ("1 = 1", [])
        with self._transaction(write=False) as connection:
            total = self._rows(connection, f"SELECT count(*) FROM audit_log WHERE {where}", params)[0][0]
            rows = self._rows(connection, "SELECT entry_id, at, actor, action, entity, entity_id, before_json, "
                                          f"after_json FROM audit_log WHERE {where} ORDER BY at DESC, entry_id "
                                          "LIMIT ? OFFSET ?", [*params, page_size, (page - 1) * page_size])
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]) if r[6] else None,
                           json.loads(r[7]) if r[7] else None) for r in rows], int(total)
