"""``bx export`` and the API's downloads: extracts of a published index as CSV, Parquet or GeoJSON
for people and other systems (a spreadsheet, DuckDB or pandas, QGIS).

GeoJSON places each row at its property: the gazetteer's easting and northing (British National
Grid, EPSG:27700) converted to longitude and latitude (WGS84, EPSG:4326) with pyproj, or the
gazetteer's own latitude and longitude when it has no easting. A row with no property, or a
property with no coordinates, is kept with a null geometry: nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb

from business_index.duckdb_utils import sql_literal
from business_index.records import LIVE_STATUSES_SQL
from business_index.store.csv_cells import SQL_MACRO

EXPORTS = {
    "records": """
        SELECT b.record_id, b.source, b.file, b.line, b.source_record_id, re.establishment_id, re.organisation_id,
               l.uprn,
               round(l.match_probability, 5) AS uprn_match_probability, l.link_rule,
               p.business_name AS derived_name
        FROM business_records b
        LEFT JOIN record_establishments re USING (record_id)
        LEFT JOIN record_links l USING (record_id)
        LEFT JOIN property_names p ON p.uprn = l.uprn
        ORDER BY b.record_id""",
    "establishments": """
        SELECT establishment_id, organisation_id, name, uprn, address, postcode, first_seen, last_seen,
               still_open, record_count, array_to_string(name_variants, ' | ') AS name_variants,
               array_to_string(sources, ' ') AS sources
        FROM establishments ORDER BY establishment_id""",
    "organisations": """
        SELECT organisation_id, name, establishment_count, record_count,
               array_to_string(name_variants, ' | ') AS name_variants, array_to_string(uprns, ' ') AS uprns,
               first_seen, last_seen
        FROM organisations ORDER BY organisation_id""",
    "quarantine": """
        SELECT source, file, line, field, reason, raw FROM quarantine ORDER BY source, file, line""",
    "unmatched": """
        WITH candidates AS (
            SELECT u.record_id, string_agg(c.uprn || ' (' || round(c.match_probability, 3) || ', '
                                           || coalesce(a.single_line_address, '?') || ')', ' | ' ORDER BY c.i) AS shown
            FROM (SELECT record_id, unnest(best_candidates) AS c0, generate_subscripts(best_candidates, 1) AS i
                  FROM unmatched_records) u,
                 LATERAL (SELECT u.c0.uprn AS uprn, u.c0.match_probability AS match_probability, u.i AS i) c
            LEFT JOIN addresses a ON a.uprn = c.uprn
            GROUP BY u.record_id)
        SELECT b.record_id, b.source, b.file, b.line, b.source_record_id, coalesce(b.trading_name, b.name) AS name,
               b.address_text, b.postcode, u.given_uprn, u.reason, coalesce(c.shown, '') AS best_candidates
        FROM unmatched_records u JOIN business_records b USING (record_id)
        LEFT JOIN candidates c USING (record_id)
        ORDER BY b.record_id""",
    "properties": f"""
        SELECT a.uprn, a.single_line_address, a.classification, p.business_name, p.name_source_kind,
               p.name_source, p.name_record_id, p.name_date, p.establishment_id, p.organisation_id,
               p.organisation_name,
               array_to_string([c.name || ' (' || c.sourceKind || coalesce(': ' || c.source, '') || ')'
                                FOR c IN coalesce(p.other_candidates, [])], ' | ') AS other_candidates
        FROM addresses a LEFT JOIN property_names p USING (uprn)
        WHERE a.logical_status IN {LIVE_STATUSES_SQL}
        ORDER BY a.uprn""",
}


ExportFormat = Literal["csv", "parquet", "geojson"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet", "geojson")
# exports whose rows sit at one property (the column holding its UPRN): these can be GeoJSON
PLACED = {"records": "uprn", "establishments": "uprn", "properties": "uprn"}
# exports that may hold personal data (names and rows as written): the review scope's only
PERSONAL = frozenset({"quarantine", "unmatched"})


def export_format(out: Path, given: str | None) -> ExportFormat:
    """The format asked for, or the one ``out``'s extension names (CSV when it names none)."""
    name = (given or out.suffix.lstrip(".") or "csv").lower()
    name = {"json": "geojson", "pq": "parquet"}.get(name, name)
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}: choose csv, parquet or geojson")
    return name  # type: ignore[return-value]


def export_file(index: Path, what: str, out: Path, fmt: ExportFormat = "csv") -> int:
    """Write one export in ``fmt``, through a temporary file renamed into place; returns the rows."""
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}: choose one of {', '.join(EXPORTS)}")
    if fmt == "geojson" and what not in PLACED:
        raise ValueError(f"{what} has no one place to put on a map; GeoJSON is for {', '.join(PLACED)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        if fmt == "csv":
            rows = export_csv(index, what, partial)
        elif fmt == "parquet":
            with duckdb.connect(str(index), read_only=True) as con:
                con.execute(f"COPY ({EXPORTS[what]}) TO {sql_literal(partial)} (FORMAT parquet)")
                rows = con.execute(f"SELECT count(*) FROM ({EXPORTS[what]})").fetchall()[0][0]
        else:
            rows = _write_geojson(index, what, partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return int(rows)


def _write_geojson(index: Path, what: str, out: Path) -> int:
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    with duckdb.connect(str(index), read_only=True) as con:
        cursor = con.execute(f"""
            SELECT e.*, a.x_coordinate AS __x, a.y_coordinate AS __y, a.longitude AS __lon, a.latitude AS __lat
            FROM ({EXPORTS[what]}) e LEFT JOIN addresses a ON a.uprn = e.{PLACED[what]}""")
        names = [d[0] for d in cursor.description]
        rows = 0
        with out.open("w", encoding="utf-8") as handle:
            handle.write('{"type": "FeatureCollection", "features": [\n')
            while batch := cursor.fetchmany(10_000):
                for values in batch:
                    row = dict(zip(names, values, strict=True))
                    x, y, lon, lat = row.pop("__x"), row.pop("__y"), row.pop("__lon"), row.pop("__lat")
                    if x is not None and y is not None:
                        lon, lat = to_wgs84.transform(float(x), float(y))
                    geometry = ({"type": "Point", "coordinates": [round(float(lon), 7), round(float(lat), 7)]}
                                if lon is not None and lat is not None else None)
                    feature = {"type": "Feature", "geometry": geometry,
                               "properties": {k: _jsonable(v) for k, v in row.items()}}
                    handle.write(("" if rows == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
                    rows += 1
            handle.write("\n]}\n")
    return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def export_csv(index: Path, what: str, out: Path) -> int:
    """Write one export as CSV; returns the number of rows written. Text cells that a spreadsheet
    would run as a formula are written as text (``store/csv_cells.py``)."""
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}: choose one of {', '.join(EXPORTS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(index), read_only=True) as con:
        con.execute(SQL_MACRO)
        query = EXPORTS[what]
        columns = con.execute(f"DESCRIBE ({query})").fetchall()
        cells = ", ".join(f'spreadsheet_safe("{name}") AS "{name}"' if kind == "VARCHAR" else f'"{name}"'
                          for name, kind, *_ in columns)
        safe = f"SELECT {cells} FROM ({query})"
        con.execute(f"COPY ({safe}) TO {sql_literal(out)} (HEADER, DELIMITER ',')")
        return con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
