"""Shared fixtures: the hand-made files in tests/fixtures and small generated boroughs."""

from __future__ import annotations

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
