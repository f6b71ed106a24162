"""The submissions store, on SQLite and on a real PostgreSQL server: submissions, idempotent
retries (also racing ones), decisions, approved names and the audit log, each write atomic."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from business_index.store.submissions import (
    AlreadyDecided,
    IdempotencyConflict,
    NotFound,
    PropertyContext,
    SubmissionStore,
    default_store_url,
)

CONTEXT = PropertyContext("12 MARE STREET, LONDON, E8 1AB", None, None, "abc123def456")


def submit(store: SubmissionStore, name: str = "Joe's Cafe", *, key: str | None = None, by: str = "officer-1",
           uprn: int = 100023336956):
    return store.submit(uprn=uprn, business_name=name, note="sign over the door", submitted_by=by,
                        context=CONTEXT, idempotency_key=key)


@pytest.fixture
def store(store_url: str) -> Iterator[SubmissionStore]:
    store = SubmissionStore(store_url)
    yield store
    store.close()


def test_a_submission_is_pending_and_audited(store: SubmissionStore) -> None:
    submission, replayed = submit(store)
    assert not replayed and submission.status == "pending" and submission.submitted_at.endswith("Z")
    assert store.get(submission.submission_id) == submission
    entries, total = store.audit_log(entity_id=submission.submission_id)
    assert total == 1 and entries[0].action == "submission.created" and entries[0].actor == "officer-1"
    assert entries[0].before is None and entries[0].after["business_name"] == "Joe's Cafe"


def test_the_same_idempotency_key_gives_the_same_submission(store: SubmissionStore) -> None:
    first, _ = submit(store, key="k-1")
    again, replayed = submit(store, key="k-1")
    assert replayed and again == first
    assert store.find()[1] == 1 and store.audit_log()[1] == 1  # a replay writes nothing
    with pytest.raises(IdempotencyConflict):
        submit(store, "Another Name", key="k-1")
    # keys belong to their submitter, and requests without a key are never merged
    other, replayed = submit(store, key="k-1", by="officer-2")
    assert not replayed and other.submission_id != first.submission_id
    assert submit(store)[0].submission_id != submit(store)[0].submission_id


def test_racing_retries_with_one_key_create_exactly_one(store: SubmissionStore) -> None:
    barrier = threading.Barrier(8)

    def attempt(_: int) -> str:
        barrier.wait()
        return submit(store, key="race")[0].submission_id

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(attempt, range(8)))
    assert len(ids) == 1
    assert store.find()[1] == 1 and store.audit_log()[1] == 1


def _submit_in_process(url: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = SubmissionStore(url)
    results.put(submit(store, key="across-workers")[0].submission_id)
    store.close()


def test_racing_worker_processes_create_exactly_one(store_url: str) -> None:
    SubmissionStore(store_url).close()  # the schema first
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_submit_in_process, args=(store_url, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    store = SubmissionStore(store_url)
    assert {results.get(timeout=5) for _ in workers} and store.find()[1] == 1
    store.close()


def test_decisions(store: SubmissionStore) -> None:
    submission, _ = submit(store)
    approved, changed = store.decide(submission.submission_id, "approve", "seen on site", "reviewer-1")
    assert changed and approved.status == "approved" and approved.decided_by == "reviewer-1"
    # a retry of the same decision changes nothing; a contradicting one is refused
    again, changed = store.decide(submission.submission_id, "approve", "seen on site", "reviewer-1")
    assert not changed and again == approved
    with pytest.raises(AlreadyDecided):
        store.decide(submission.submission_id, "reject", "changed my mind", "reviewer-2")
    with pytest.raises(NotFound):
        store.decide("no-such-id", "approve", "x", "reviewer-1")
    entries, total = store.audit_log(entity_id=submission.submission_id)
    assert total == 2 and entries[0].action == "submission.approved"
    assert entries[0].before["status"] == "pending" and entries[0].after["status"] == "approved"


def test_approved_names_keep_the_latest_approval_per_property(store: SubmissionStore) -> None:
    older, _ = submit(store, "Old Name", uprn=1)
    newer, _ = submit(store, "New Name", uprn=1)
    rejected, _ = submit(store, "Rejected Name", uprn=2)
    pending, _ = submit(store, "Pending Name", uprn=3)
    store.decide(older.submission_id, "approve", "ok", "r")
    store.decide(newer.submission_id, "approve", "ok", "r")
    store.decide(rejected.submission_id, "reject", "no such business", "r")
    assert [(a.uprn, a.business_name) for a in store.approved_names()] == [(1, "New Name")]
    everything = store.approved_since(None)
    assert [s.business_name for s in everything] == ["Old Name", "New Name"]
    assert [s.business_name for s in store.approved_since(everything[0].decided_at)] == ["New Name"]
    assert store.find(status="pending")[0][0].submission_id == pending.submission_id


def test_a_write_that_fails_leaves_nothing(store: SubmissionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_audit(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        submit(store, key="k")
    monkeypatch.undo()
    assert store.find()[1] == 0 and store.audit_log()[1] == 0
    assert not submit(store, key="k")[1]  # the retry is a first attempt, not a replay


def test_store_urls(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert default_store_url(tmp_path / "index.duckdb").endswith("/index.submissions.sqlite3")
    assert SubmissionStore(str(tmp_path / "plain-path.sqlite3")).dialect == "sqlite"
    described = SubmissionStore.__new__(SubmissionStore)  # describe() without connecting anywhere
    described.url, described.dialect = "postgresql://bx:secret@db/bx", "postgresql"
    assert described.describe() == "postgresql://bx@db/bx"
    described.url = "postgresql://db:5433/bi?user=bx&password=s3cret"
    assert described.describe() == "postgresql://bx@db:5433/bi"
    with pytest.raises(Exception, match="unknown store URL"):
        SubmissionStore("mysql://x")


def test_refusals_are_not_outages() -> None:
    """A missing or already-decided submission is the request's fault, never "the store is down"."""
    from business_index.store.submissions import AlreadyDecided, IdempotencyConflict, NotFound, StoreError

    for refusal in (NotFound, AlreadyDecided, IdempotencyConflict):
        assert not issubclass(refusal, StoreError)


def test_a_store_made_before_migrations_is_taken_up_as_it_is(tmp_path: Path) -> None:
    """The store as the previous version made it (its tables, no migration record): opening it with
    this version applies the migrations without losing a row, once however often it is opened."""
    import sqlite3

    from business_index.store.submissions import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as con:
        con.executescript((MIGRATIONS / "0001.submissions-and-audit-log.sql").read_text())
        con.execute("INSERT INTO name_submissions (submission_id, uprn, business_name, status, submitted_by, "
                    "submitted_at) VALUES ('s-1', 100, 'Old Name', 'pending', 'officer', '2026-01-01T00:00:00Z')")
    con.close()
    for _ in range(2):
        store = SubmissionStore(f"sqlite:///{path}")
        assert store.schema_versions() == ["0001.submissions-and-audit-log"]
        assert store.get("s-1") is not None and store.get("s-1").business_name == "Old Name"  # type: ignore[union-attr]
