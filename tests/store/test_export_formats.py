"""Exports as CSV, Parquet and GeoJSON, opened with the tools people use: a GeoJSON reader, DuckDB."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import geojson
from fastapi.testclient import TestClient
from pyproj import Transformer
from typer.testing import CliRunner

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings
from business_index.cli import app
from business_index.store.export import export_file
from business_index.store.submissions import SubmissionStore
from tests.api.test_api import SECRET, bearer


def _borough_box(index: Path) -> tuple[float, float, float, float]:
    """The gazetteer's extent in WGS84 (west, south, east, north)."""
    with duckdb.connect(str(index), read_only=True) as con:
        x0, x1, y0, y1 = con.execute("SELECT min(x_coordinate), max(x_coordinate), min(y_coordinate), "
                                     "max(y_coordinate) FROM addresses").fetchone()
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    corners = [to_wgs84.transform(x, y) for x in (x0, x1) for y in (y0, y1)]
    return (min(c[0] for c in corners), min(c[1] for c in corners), max(c[0] for c in corners),
            max(c[1] for c in corners))


def test_geojson_points_land_in_the_borough(small_index: Path, tmp_path: Path) -> None:
    rows = export_file(small_index, "establishments", tmp_path / "establishments.geojson", "geojson")
    with (tmp_path / "establishments.geojson").open(encoding="utf-8") as handle:
        collection = geojson.load(handle)
    assert collection.is_valid and len(collection["features"]) == rows > 100
    west, south, east, north = _borough_box(small_index)
    assert -1.0 < west < east < 1.0 and 50 < south < north < 56  # longitude and latitude, not metres
    placed = [f for f in collection["features"] if f["geometry"] is not None]
    assert len(placed) >= 0.9 * rows
    for feature in placed:
        lon, lat = feature["geometry"]["coordinates"]
        assert west - 1e-6 <= lon <= east + 1e-6 and south - 1e-6 <= lat <= north + 1e-6
    assert {"establishment_id", "name", "uprn", "first_seen"} <= set(placed[0]["properties"])


def test_parquet_opens_in_duckdb_with_the_csv_rows(small_index: Path, tmp_path: Path) -> None:
    export_file(small_index, "properties", tmp_path / "properties.parquet", "parquet")
    export_file(small_index, "properties", tmp_path / "properties.csv", "csv")
    with duckdb.connect() as con:
        parquet = con.execute(f"SELECT count(*), count(DISTINCT uprn) FROM '{tmp_path}/properties.parquet'").fetchone()
        kinds = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE '{tmp_path}/properties.parquet')"
                                 ).fetchall())
    with (tmp_path / "properties.csv").open(encoding="utf-8") as handle:
        assert parquet[0] == parquet[1] == sum(1 for _ in csv.DictReader(handle))
    assert kinds["uprn"] == "BIGINT"  # typed, not text


def test_the_command_line_and_the_api(small_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", "records", "--index", str(small_index), "--out",
                                 str(tmp_path / "records.geojson"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "geojson"
    refused = runner.invoke(app, ["export", "organisations", "--index", str(small_index), "--out",
                                  str(tmp_path / "organisations.geojson")])
    assert refused.exit_code == 2 and "no one place" in refused.output
    assert not (tmp_path / "organisations.geojson").exists()

    store = SubmissionStore(f"sqlite:///{tmp_path / 'submissions.sqlite3'}")
    client = TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))
    answer = client.get("/api/v1/exports/establishments", params={"format": "geojson"}, headers=bearer("read"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/geo+json"
    assert geojson.loads(answer.text).is_valid
    assert client.get("/api/v1/exports/unmatched", headers=bearer("read")).status_code == 403  # personal data
    assert client.get("/api/v1/exports/unmatched", headers=bearer("review")).status_code == 200
    assert client.get("/api/v1/exports/establishments").status_code == 401
