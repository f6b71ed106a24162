"""The published views of establishments and organisations, and each premises' history.

* ``establishments``: one row per establishment: its display name (the trading name its records
  use most, else its operator's public name), its premises (UPRN, else the address as written), its
  period, whether it is still open, its operating organisation, every public name, its sources.
* ``organisations``: one row per organisation: its display name (the operator's public name its
  records use most, else the trading name), how many establishments, every public name, premises.
* ``premises_history``: every establishment seen at a property, with its period, the current one
  flagged (still open first, then the latest seen or started).
* ``establishment_source_counts``, ``organisation_source_counts``: records per source.
* ``record_names``: every record with the name it may show the public.
* ``name_search``: every name key a record carries, with its establishment and organisation, and
  whether it is a private individual's (searched only for callers who may see personal data).

Each is a named SQL step (``sql_steps``): ``SUMMARY_STEPS`` after linking,
``APPROVED_NAME_SEARCH_STEPS`` after ``property_names``.

Only public names are shown (``record_features.public_name``): a private individual's name never
names an establishment or an organisation here.
"""

from __future__ import annotations

from business_index.sql_steps import SqlStep

STILL_OPEN = "DATE '2999-12-31'"  # business_inputs.active_to of a liability or licence with no end


SUMMARY_STEPS = (
    SqlStep("unit_records",
            reads=("record_establishments", "business_records", "record_features", "business_inputs", "record_links"),
            writes=("unit_records",), sql=f"""
        CREATE OR REPLACE TEMP TABLE unit_records AS
        SELECT re.establishment_id, re.organisation_id, b.record_id, b.source, b.source_kind, f.public_name,
               f.individual, i.operator, l.uprn, b.address_text, b.postcode,
               coalesce(b.start_date, b.last_seen_date) AS seen_from,
               -- a licence's end date is its expiry, often years ahead: seen no later than today
               coalesce(b.last_seen_date, CASE WHEN b.end_date IS NOT NULL THEN least(b.end_date, current_date) END,
                        b.start_date) AS seen_to,
               i.active_to >= {STILL_OPEN} AS still_open
        FROM record_establishments re
        JOIN business_records b USING (record_id)
        JOIN record_features f ON f.unique_id = b.record_id
        JOIN business_inputs i ON i.unique_id = b.record_id
        LEFT JOIN record_links l USING (record_id)"""),
    SqlStep("establishments",
            reads=("unit_records", "addresses"),
            writes=("establishments",), sql="""
        CREATE OR REPLACE TABLE establishments AS
        WITH names AS (
            SELECT establishment_id, public_name AS name,
                   row_number() OVER (PARTITION BY establishment_id
                                      ORDER BY bool_or(NOT operator) DESC, count(*) DESC, public_name) AS r
            FROM unit_records WHERE public_name IS NOT NULL GROUP BY establishment_id, public_name),
        places AS (
            SELECT establishment_id, uprn,
                   row_number() OVER (PARTITION BY establishment_id ORDER BY count(*) DESC, uprn) AS r
            FROM unit_records WHERE uprn IS NOT NULL GROUP BY establishment_id, uprn)
        SELECT u.establishment_id, any_value(u.organisation_id) AS organisation_id, n.name, p.uprn,
               coalesce(a.single_line_address, min(u.address_text)) AS address,
               coalesce(a.postcode, min(u.postcode)) AS postcode,
               min(u.seen_from) AS first_seen, max(u.seen_to) AS last_seen,
               bool_or(u.still_open) AS still_open,
               count(*) AS record_count,
               coalesce(list(DISTINCT u.public_name ORDER BY u.public_name)
                        FILTER (WHERE u.public_name IS NOT NULL), []) AS name_variants,
               list(DISTINCT u.source ORDER BY u.source) AS sources,
               bool_or(u.individual) AS has_individual
        FROM unit_records u
        LEFT JOIN names n ON n.establishment_id = u.establishment_id AND n.r = 1
        LEFT JOIN places p ON p.establishment_id = u.establishment_id AND p.r = 1
        LEFT JOIN addresses a ON a.uprn = p.uprn
        GROUP BY u.establishment_id, n.name, p.uprn, a.single_line_address, a.postcode"""),
    SqlStep("record_names",
            reads=("record_features",),
            writes=("record_names",), sql="""
        CREATE OR REPLACE TABLE record_names AS
        SELECT f.unique_id AS record_id, f.public_name FROM record_features f"""),
    SqlStep("establishment_source_counts",
            reads=("unit_records",),
            writes=("establishment_source_counts",), sql="""
        CREATE OR REPLACE TABLE establishment_source_counts AS
        SELECT establishment_id, source, count(*) AS records FROM unit_records GROUP BY 1, 2"""),
    SqlStep("name_search",
            reads=("record_establishments", "record_features"),
            writes=("name_search",), sql="""
        CREATE OR REPLACE TABLE name_search AS
        -- public: the key of the record's public name, or of a registered company (on the public
        -- register); any other name a record carries (a proprietor, partners, a licence holder, a
        -- ratepayer who may be a person) is personal
        SELECT DISTINCT re.establishment_id, re.organisation_id, k.key,
               (k.key IS DISTINCT FROM f.public_key AND NOT list_contains(f.company_keys, k.key)) AS personal
        FROM record_establishments re
        JOIN record_features f ON f.unique_id = re.record_id,
        -- every name, the proprietor's, and each partner's of a partnership
        unnest(list_distinct(list_concat(f.name_keys, [f.proprietor_key],
                                         string_split(coalesce(f.proprietor_key, ''), ' AND ')))) AS k(key)
        WHERE k.key IS NOT NULL AND k.key <> ''"""),
    SqlStep("premises_history",
            reads=("unit_records", "establishments"),
            writes=("premises_history",), sql="""
        CREATE OR REPLACE TABLE premises_history AS
        WITH seen AS (
            SELECT u.uprn, u.establishment_id, min(u.seen_from) AS first_seen, max(u.seen_to) AS last_seen,
                   bool_or(u.still_open) AS still_open
            FROM unit_records u WHERE u.uprn IS NOT NULL GROUP BY 1, 2),
        ranked AS (
            SELECT s.*, row_number() OVER (PARTITION BY s.uprn ORDER BY s.still_open DESC,
                                           greatest(s.first_seen, s.last_seen) DESC NULLS LAST,
                                           s.establishment_id) AS r
            FROM seen s)
        SELECT r.uprn, r.establishment_id, e.organisation_id, e.name, r.first_seen, r.last_seen, r.still_open,
               r.r = 1 AS current
        FROM ranked r JOIN establishments e USING (establishment_id)"""),
    SqlStep("organisations",
            reads=("unit_records",),
            writes=("organisations",), sql="""
        CREATE OR REPLACE TABLE organisations AS
        WITH names AS (
            SELECT organisation_id, public_name AS name,
                   row_number() OVER (PARTITION BY organisation_id
                                      ORDER BY bool_or(operator) DESC, count(*) DESC, public_name) AS r
            FROM unit_records WHERE public_name IS NOT NULL AND organisation_id IS NOT NULL
            GROUP BY organisation_id, public_name)
        SELECT u.organisation_id, n.name,
               count(DISTINCT u.establishment_id) AS establishment_count,
               count(*) AS record_count,
               coalesce(list(DISTINCT u.public_name ORDER BY u.public_name)
                        FILTER (WHERE u.public_name IS NOT NULL), []) AS name_variants,
               coalesce(list(DISTINCT u.uprn ORDER BY u.uprn) FILTER (WHERE u.uprn IS NOT NULL), []) AS uprns,
               bool_or(u.individual) AS has_individual,
               min(u.seen_from) AS first_seen, max(u.seen_to) AS last_seen
        FROM unit_records u LEFT JOIN names n ON n.organisation_id = u.organisation_id AND n.r = 1
        WHERE u.organisation_id IS NOT NULL
        GROUP BY u.organisation_id, n.name"""),
    SqlStep("organisation_source_counts",
            reads=("unit_records",),
            writes=("organisation_source_counts",), sql="""
        CREATE OR REPLACE TABLE organisation_source_counts AS
        SELECT organisation_id, source, count(*) AS records FROM unit_records
        WHERE organisation_id IS NOT NULL GROUP BY 1, 2"""),
)


APPROVED_NAME_SEARCH_STEPS = (
    # a name the data team approved for a property is found by search like any recorded name: it
    # names the establishment the property's answer gives
    SqlStep("approved_names_searchable",
            reads=("approved_names", "property_names", "name_search"),
            writes=("name_search",), sql="""
        INSERT INTO name_search
        SELECT DISTINCT p.establishment_id, p.organisation_id, a.name_key, false
        FROM approved_names a JOIN property_names p USING (uprn)
        WHERE a.name_key IS NOT NULL AND p.establishment_id IS NOT NULL"""),
)
