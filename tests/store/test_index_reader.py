"""The reader under a running server: a newly published build is picked up without a restart, a
request keeps the build it started with, each thread keeps one cursor per build (never shared, let
go with the build), and postcode lookups from memory equal DuckDB's."""

from __future__ import annotations

import gc
import os
import shutil
import threading
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.config import ServeConfig
from business_index.store.index_reader import BuildCursors, IndexReader
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"


def publish_copy(source: Path, target: Path, build_id: str) -> None:
    """Publish a copy of ``source`` at ``target`` as a new build, the way ``bx build`` does (rename)."""
    building = target.with_name(target.name + ".building")
    shutil.copyfile(source, building)
    with duckdb.connect(str(building)) as con:
        con.execute("UPDATE build_info SET value = ? WHERE key = 'build_id'", [build_id])
    os.replace(building, target)


def test_a_new_build_is_picked_up_and_a_request_keeps_its_own(small_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.duckdb"
    publish_copy(small_index, index, "first-build")
    reader = IndexReader(index)
    cursor, first = reader.cursor()
    assert first.build_id == "first-build"
    publish_copy(small_index, index, "second-build")
    assert reader.current().build_id == "second-build"
    # the request that began on the first build still reads it, whole
    assert cursor.execute("SELECT value FROM build_info WHERE key = 'build_id'").fetchall() == [("first-build",)]

    client = TestClient(create_app(index, AuthSettings(secret=SECRET),
                                   SubmissionStore(f"sqlite:///{tmp_path / 's.sqlite3'}")))
    assert client.get("/health").json()["indexVersion"] == "second-build"
    publish_copy(small_index, index, "third-build")
    assert client.get("/health").json()["indexVersion"] == "third-build"


def build_of(cursor: duckdb.DuckDBPyConnection) -> str:
    return str(cursor.execute("SELECT value FROM build_info WHERE key = 'build_id'").fetchall()[0][0])


def open_replaced_files(index: Path) -> list[str]:
    """The files this process holds open that were at ``index`` and have been published over."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target == f"{index.resolve()} (deleted)":
            found.append(target)
    return found


def test_a_thread_keeps_its_cursor_and_threads_never_share_one(small_index: Path) -> None:
    reader = IndexReader(small_index)
    first, index = reader.cursor()
    again, _ = reader.cursor()
    assert again is first and build_of(first) == index.build_id
    # threads asking at once each get a cursor of their own
    count = 8
    started, got = threading.Barrier(count), [None] * count

    def ask(i: int) -> None:
        started.wait()
        got[i] = reader.cursor()[0]
        build_of(got[i])  # usable on its own thread

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in [first, *got]}) == count + 1


class Reading(threading.Thread):
    """A thread that asks a pool for its cursor twice, then waits until told to end."""

    def __init__(self, pool: BuildCursors):
        super().__init__()
        self.pool, self.asked, self.done = pool, threading.Event(), threading.Event()
        self.cursors: list[duckdb.DuckDBPyConnection] = []

    def run(self) -> None:
        self.cursors = [self.pool.for_this_thread(), self.pool.for_this_thread()]
        self.asked.set()
        self.done.wait()

    def kept_its_cursor(self) -> bool:
        return self.cursors[0] is self.cursors[1]


def test_a_full_pool_lends_for_one_request_and_makes_room_when_a_thread_ends(small_index: Path) -> None:
    connection = duckdb.connect()
    connection.execute(f"ATTACH '{small_index}' AS business_index (READ_ONLY)")
    connection.execute("USE business_index")
    pool = BuildCursors(connection, limit=2)
    first, second, third = Reading(pool), Reading(pool), Reading(pool)
    for t in (first, second, third):
        t.start()
        t.asked.wait()
    assert first.kept_its_cursor() and second.kept_its_cursor() and len(pool) == 2
    assert not third.kept_its_cursor()  # the pool was full: a cursor for each request
    first.done.set()
    first.join()
    fourth = Reading(pool)
    fourth.start()
    fourth.asked.wait()
    assert fourth.kept_its_cursor() and len(pool) == 2  # the ended thread's place
    for t in (second, third, fourth):
        t.done.set()
        t.join()
    connection.close()


def test_a_new_build_lets_the_old_builds_cursors_go(small_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.duckdb"
    publish_copy(small_index, index, "first-build")
    reader = IndexReader(index)
    in_flight, first = reader.cursor()  # a request on the first build, still running at the switch
    publish_copy(small_index, index, "second-build")
    now, current = reader.cursor()
    assert now is not in_flight and current.build_id == build_of(now) == "second-build"
    assert build_of(in_flight) == "first-build"  # the running request reads its build to the end
    assert open_replaced_files(index)  # ... so the first build's file is still open
    del in_flight, first
    gc.collect()
    # the request done, nothing holds the first build: its file is closed
    assert open_replaced_files(index) == []
    assert build_of(reader.cursor()[0]) == "second-build"


def test_postcode_answers_from_memory_equal_duckdb(small_index: Path, tmp_path: Path) -> None:
    store = SubmissionStore(f"sqlite:///{tmp_path / 's.sqlite3'}")
    in_memory = TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))
    from_duckdb = TestClient(create_app(small_index, AuthSettings(secret=SECRET), store,
                                        ServeConfig(postcode_lookup_max_rows=0)))
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 't', ['read'])}"}
    with duckdb.connect(str(small_index), read_only=True) as con:
        postcodes = [p for (p,) in con.execute("""SELECT postcode FROM addresses WHERE logical_status = 1
            GROUP BY postcode ORDER BY count(*) DESC, postcode LIMIT 5""").fetchall()]
    compared = 0
    for postcode in [*postcodes, "ZZ99 9ZZ"]:
        for params in ({"postcode": postcode}, {"postcode": postcode.lower(), "page": 2, "page_size": 3}):
            a = in_memory.get("/api/v1/addresses", params=params, headers=headers)
            b = from_duckdb.get("/api/v1/addresses", params=params, headers=headers)
            assert a.status_code == b.status_code == 200 and a.json() == b.json(), params
            compared += len(a.json()["addresses"])
    assert compared > 20
