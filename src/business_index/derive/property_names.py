"""One business name per property (UPRN), with its source, its date and every other candidate.

The rule, configurable in ``sources.toml`` (``[derive] name_precedence``), by default: a name the
data team approved through the API; the LLPG organisation name; if none, the licensing name with the latest last-seen date; if none, the
business-rates name (current liability first, then the latest start). Every answer carries where
it came from and the candidates it was chosen over. Only public names are candidates: a private
individual's name never becomes a property's business name.
"""

from __future__ import annotations

import duckdb

from business_index.records import NameSourceKind

CURRENT_LIABILITY_END = "DATE '2999-12-31'"


def derive_property_names(con: duckdb.DuckDBPyConnection, precedence: list[NameSourceKind]) -> None:
    """Create ``name_candidates`` and ``property_names`` (``approved_names``, the names the data
    team approved through the API, must exist; it may be empty)."""
    ranks = ", ".join(f"('{kind.value}', {i})" for i, kind in enumerate(precedence))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kind_rank (kind VARCHAR, rank INTEGER);
        INSERT INTO kind_rank VALUES {ranks};

        CREATE OR REPLACE TABLE name_candidates AS
        -- a name the data team approved for a property that is still live
        SELECT n.uprn, n.business_name AS name, 'approved' AS source_kind, 'submission ' || n.submission_id AS source,
               NULL::BIGINT AS record_id, left(n.decided_at, 10)::DATE AS name_date, left(n.decided_at, 10)::DATE AS sort_date,
               NULL::VARCHAR AS business_id
        FROM approved_names n WHERE n.uprn IN (SELECT uprn FROM addresses WHERE logical_status IN (1, 6))
        UNION ALL
        -- the gazetteer's own organisation name (DTF 21 ORGANISATION / ABP 31)
        SELECT a.uprn, a.organisation AS name, 'gazetteer' AS source_kind, a.source, NULL::BIGINT AS record_id,
               a.start_date AS name_date, NULL::DATE AS sort_date, NULL::VARCHAR AS business_id
        FROM addresses a WHERE a.organisation IS NOT NULL AND a.logical_status IN (1, 6)
        UNION ALL
        -- every other record linked to the property that carries a public business name
        SELECT l.uprn, f.public_name, b.source_kind, b.source, b.record_id,
               coalesce(b.last_seen_date, b.start_date) AS name_date,
               CASE
                   WHEN b.source_kind = 'rates' AND b.record_type = 'ndr_account' AND b.end_date IS NULL
                       THEN {CURRENT_LIABILITY_END}  -- the current ratepayer outranks past ones
                   ELSE coalesce(b.last_seen_date, b.start_date)
               END AS sort_date,
               rb.business_id
        FROM business_records b
        JOIN record_links l USING (record_id)
        JOIN record_features f ON f.unique_id = b.record_id
        LEFT JOIN record_businesses rb USING (record_id)
        WHERE f.public_name IS NOT NULL;

        CREATE OR REPLACE TABLE property_names AS
        WITH ranked AS (
            SELECT c.*, coalesce(k.rank, 1000) AS kind_rank,
                   row_number() OVER (PARTITION BY c.uprn
                                      ORDER BY coalesce(k.rank, 1000), c.sort_date DESC NULLS LAST,
                                               c.record_id NULLS FIRST, c.name) AS choice
            FROM name_candidates c LEFT JOIN kind_rank k ON k.kind = c.source_kind
            WHERE k.rank IS NOT NULL
        )
        SELECT chosen.uprn, chosen.name AS business_name, chosen.source_kind AS name_source_kind,
               chosen.source AS name_source, chosen.record_id AS name_record_id, chosen.name_date,
               coalesce(chosen.business_id, (
                   -- the gazetteer names no business: take the one a linked record of that name belongs to
                   SELECT any_value(o.business_id) FROM ranked o
                   WHERE o.uprn = chosen.uprn AND o.business_id IS NOT NULL
                         AND upper(o.name) = upper(chosen.name))) AS business_id,
               (SELECT list({{'name': o.name, 'sourceKind': o.source_kind, 'source': o.source,
                             'recordId': o.record_id, 'date': o.name_date, 'businessId': o.business_id}}
                            ORDER BY o.choice)
                FROM ranked o WHERE o.uprn = chosen.uprn AND o.choice > 1) AS other_candidates
        FROM ranked chosen WHERE chosen.choice = 1;
    """)


def summarise_businesses(con: duckdb.DuckDBPyConnection) -> None:
    """``businesses``: one row per business id with its display name, variants, premises and sources."""
    con.execute("""
        CREATE OR REPLACE TABLE businesses AS
        WITH records AS (
            SELECT rb.business_id, b.record_id, b.source, b.source_kind, b.record_type, b.name, b.trading_name,
                   f.public_name, f.individual, l.uprn, b.start_date, b.end_date, b.last_seen_date
            FROM record_businesses rb
            JOIN business_records b USING (record_id)
            JOIN record_features f ON f.unique_id = b.record_id
            LEFT JOIN record_links l USING (record_id)
            WHERE rb.business_id IS NOT NULL
        ),
        display AS (
            SELECT business_id, public_name AS name FROM (
                SELECT business_id, public_name,
                       row_number() OVER (PARTITION BY business_id ORDER BY count(*) DESC, public_name) AS r
                FROM records WHERE public_name IS NOT NULL GROUP BY business_id, public_name)
            WHERE r = 1
        )
        SELECT r.business_id, d.name,
               count(*) AS record_count,
               list(DISTINCT r.public_name ORDER BY r.public_name) FILTER (WHERE r.public_name IS NOT NULL)
                   AS name_variants,
               list(DISTINCT r.uprn ORDER BY r.uprn) FILTER (WHERE r.uprn IS NOT NULL) AS uprns,
               bool_or(r.individual) AS has_individual,
               min(coalesce(r.start_date, r.last_seen_date)) AS first_seen,
               max(coalesce(r.last_seen_date, r.end_date, r.start_date)) AS last_seen
        FROM records r LEFT JOIN display d USING (business_id)
        GROUP BY r.business_id, d.name;
        CREATE OR REPLACE TABLE business_source_counts AS
        SELECT rb.business_id, b.source, count(*) AS records
        FROM record_businesses rb JOIN business_records b USING (record_id)
        WHERE rb.business_id IS NOT NULL GROUP BY 1, 2;
    """)
