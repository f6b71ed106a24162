"""One business name per property (UPRN), with its source, its date, every other candidate, the
establishment trading there and its operating organisation.

The rule, configurable in ``sources.toml`` (``[derive] name_precedence``), by default: a name the
data team approved through the API; the LLPG organisation name; if none, the licensing name with
the latest last-seen date; if none, the business-rates name (current liability first, then the
latest start). Every answer carries where it came from and the candidates it was chosen over. Only
public names are candidates: a private individual's name never becomes a property's business name.

The establishment named is the one whose record gave the name; a name with no record of its own
(approved, or the gazetteer's) belongs to the establishment one of whose records carries that name
there; else the gazetteer's name belongs to the establishment trading there now (the LLPG names the
occupier), and an approved name to none (it is a newcomer's, not whoever traded there before).
"""

from __future__ import annotations

import duckdb

from business_index.records import LIVE_STATUSES_SQL, NameSourceKind

CURRENT_LIABILITY_END = "DATE '2999-12-31'"
# two names are one when, letters and digits only ('&' read as AND), one holds the other (5 or more)
_FOLD = "regexp_replace(replace(upper({x}), '&', 'AND'), '[^A-Z0-9]', '', 'g')"
_SAME_NAME = ("(length(" + _FOLD.format(x="{a}") + ") >= 5 AND length(" + _FOLD.format(x="{b}") + ") >= 5 "
              "AND (contains(" + _FOLD.format(x="{a}") + ", " + _FOLD.format(x="{b}") + ") "
              "OR contains(" + _FOLD.format(x="{b}") + ", " + _FOLD.format(x="{a}") + ")))")


def derive_property_names(con: duckdb.DuckDBPyConnection, precedence: list[NameSourceKind]) -> None:
    """Create ``name_candidates`` and ``property_names`` (``approved_names``, the names the data
    team approved through the API, must exist, as must ``establishments``, ``organisations`` and
    ``premises_history``)."""
    ranks = ", ".join(f"('{kind.value}', {i})" for i, kind in enumerate(precedence))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kind_rank (kind VARCHAR, rank INTEGER);
        INSERT INTO kind_rank VALUES {ranks};

        CREATE OR REPLACE TABLE name_candidates AS
        -- a name the data team approved for a property that is still live
        SELECT n.uprn, n.business_name AS name, 'approved' AS source_kind, 'submission ' || n.submission_id AS source,
               NULL::BIGINT AS record_id, left(n.decided_at, 10)::DATE AS name_date, left(n.decided_at, 10)::DATE AS sort_date,
               NULL::VARCHAR AS establishment_id
        FROM approved_names n WHERE n.uprn IN (SELECT uprn FROM addresses WHERE logical_status IN {LIVE_STATUSES_SQL})
        UNION ALL
        -- the gazetteer's own organisation name (DTF 21 ORGANISATION / ABP 31)
        SELECT a.uprn, a.organisation AS name, 'gazetteer' AS source_kind, a.source, NULL::BIGINT AS record_id,
               a.start_date AS name_date, NULL::DATE AS sort_date, NULL::VARCHAR AS establishment_id
        FROM addresses a WHERE a.organisation IS NOT NULL AND a.logical_status IN {LIVE_STATUSES_SQL}
        UNION ALL
        -- every other record linked to the property that carries a public business name
        SELECT l.uprn, f.public_name, b.source_kind, b.source, b.record_id,
               coalesce(b.last_seen_date, b.start_date) AS name_date,
               CASE
                   WHEN b.source_kind = 'rates' AND b.record_type = 'ndr_account' AND b.end_date IS NULL
                       THEN {CURRENT_LIABILITY_END}  -- the current ratepayer outranks past ones
                   ELSE coalesce(b.last_seen_date, b.start_date)
               END AS sort_date,
               re.establishment_id
        FROM business_records b
        JOIN record_links l USING (record_id)
        JOIN record_features f ON f.unique_id = b.record_id
        LEFT JOIN record_establishments re USING (record_id)
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
        , named AS (
            SELECT chosen.uprn, chosen.name AS business_name, chosen.source_kind AS name_source_kind,
                   chosen.source AS name_source, chosen.record_id AS name_record_id, chosen.name_date,
                   coalesce(chosen.establishment_id, (
                       -- a name with no record of its own (approved, the gazetteer's): the
                       -- establishment a linked record of that name belongs to ("ROSIES BAKERY" and
                       -- "Rosie's Bakery Ltd"); else, for the gazetteer's name, the establishment
                       -- trading there now (the LLPG names the occupier); an approved name no record
                       -- carries is a newcomer's, and is not given to whoever traded there before
                       SELECT min(o.establishment_id) FROM ranked o
                       WHERE o.uprn = chosen.uprn AND o.establishment_id IS NOT NULL
                             AND {_SAME_NAME.format(a="o.name", b="chosen.name")}),
                       CASE WHEN chosen.source_kind = 'gazetteer' THEN (
                           SELECT min(h.establishment_id) FROM premises_history h
                           WHERE h.uprn = chosen.uprn AND h.current) END) AS establishment_id,
                   (SELECT list({{'name': o.name, 'sourceKind': o.source_kind, 'source': o.source,
                                 'recordId': o.record_id, 'date': o.name_date,
                                 'establishmentId': o.establishment_id}} ORDER BY o.choice)
                    FROM ranked o WHERE o.uprn = chosen.uprn AND o.choice > 1) AS other_candidates
            FROM ranked chosen WHERE chosen.choice = 1)
        SELECT n.uprn, n.business_name, n.name_source_kind, n.name_source, n.name_record_id, n.name_date,
               n.establishment_id, e.organisation_id, o.name AS organisation_name, n.other_candidates
        FROM named n
        LEFT JOIN establishments e USING (establishment_id)
        LEFT JOIN organisations o USING (organisation_id);
    """)
