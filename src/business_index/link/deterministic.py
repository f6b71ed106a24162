"""Links that need no judgement: keys the council's own systems share.

1. Rates records -> UPRN through the LLPG cross references whose SOURCE code means NDR (configured
   per council), comparing references as text and, failing that, with leading zeros stripped.
2. Any record whose own UPRN column names a live property. A UPRN that names a parent shell with
   exactly one business unit inside is moved to that unit (systems often record the building).
Each link records the rule that made it.
"""

from __future__ import annotations

import duckdb

from business_index.link.address_matching import create_units_of_parents
from business_index.records import LIVE_STATUSES_SQL

RULE_NDR_XREF = "ndr_cross_reference"
RULE_NDR_XREF_UNPADDED = "ndr_cross_reference_unpadded"
RULE_SOURCE_UPRN = "source_uprn"
RULE_SOURCE_UPRN_TO_UNIT = "source_uprn_parent_to_unit"


def link_by_keys(con: duckdb.DuckDBPyConnection, ndr_source_codes: list[str]) -> None:
    """Create ``record_links`` (record_id, uprn, link_rule, match_probability) from shared keys."""
    con.execute("CREATE OR REPLACE TEMP TABLE ndr_codes (code VARCHAR)")
    create_units_of_parents(con)
    if ndr_source_codes:
        con.executemany("INSERT INTO ndr_codes VALUES (?)", [(c,) for c in ndr_source_codes])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE live_units AS
        SELECT a.uprn, a.parent_uprn, a.classification FROM addresses a WHERE a.logical_status IN {LIVE_STATUSES_SQL};

        CREATE OR REPLACE TEMP TABLE ndr_xrefs AS
        SELECT x.uprn, x.reference, ltrim(x.reference, '0') AS unpadded, x.start_date
        FROM cross_references x JOIN ndr_codes c ON x.source_code = c.code
        WHERE x.end_date IS NULL AND x.uprn IN (SELECT uprn FROM live_units);

        CREATE OR REPLACE TABLE record_links (
            record_id BIGINT PRIMARY KEY, uprn BIGINT, link_rule VARCHAR, match_probability DOUBLE);

        -- two equi-joins, not one join with OR: an OR in a join condition is a nested loop
        INSERT INTO record_links
        SELECT record_id, uprn, rule, 1.0 FROM (
            SELECT *, row_number() OVER (PARTITION BY record_id ORDER BY exact DESC, start_date DESC, uprn) AS rn
            FROM (
                SELECT r.record_id, x.uprn, '{RULE_NDR_XREF}' AS rule, true AS exact, x.start_date
                FROM business_records r JOIN ndr_xrefs x ON x.reference = r.property_ref
                WHERE r.source_kind = 'rates'
                UNION ALL
                SELECT r.record_id, x.uprn, '{RULE_NDR_XREF_UNPADDED}', false, x.start_date
                FROM business_records r JOIN ndr_xrefs x ON x.unpadded = ltrim(r.property_ref, '0')
                WHERE r.source_kind = 'rates' AND x.reference <> r.property_ref
            )
        ) WHERE rn = 1;

        INSERT INTO record_links
        SELECT r.record_id, coalesce(o.uprn, r.uprn),
               CASE WHEN o.uprn IS NOT NULL THEN '{RULE_SOURCE_UPRN_TO_UNIT}' ELSE '{RULE_SOURCE_UPRN}' END, 1.0
        FROM business_records r
        JOIN live_units u ON u.uprn = r.uprn
        LEFT JOIN only_unit_of_parent o ON o.parent_uprn = r.uprn AND starts_with(coalesce(u.classification, ''), 'P')
        WHERE r.uprn IS NOT NULL AND NOT EXISTS (SELECT 1 FROM record_links k WHERE k.record_id = r.record_id);
    """)
