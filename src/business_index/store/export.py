"""``bx export``: CSV extracts of a published index for people and other systems."""

from __future__ import annotations

from pathlib import Path

import duckdb

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
        con.execute(f"COPY ({safe}) TO '{_quoted(out)}' (HEADER, DELIMITER ',')")
        return con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]


def _quoted(path: Path) -> str:
    """A path as an SQL string literal's body: COPY takes no bound parameter for its target."""
    return str(path).replace("'", "''")
