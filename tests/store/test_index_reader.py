"""The reader under a running server: a newly published build is picked up without a restart, a
request keeps the build it started with, and postcode lookups from memory equal DuckDB's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.config import ServeConfig
from business_index.store.index_reader import IndexReader
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
