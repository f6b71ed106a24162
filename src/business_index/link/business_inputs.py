"""What the business model compares: ``business_inputs``, every business record's comparable
fields (name keys, registered-company keys, distinctive, site and local words, premises key,
period), and ``named_inputs``, the records with a name. Named SQL steps (``sql_steps``) over the
record features, run before scoring.

A name written without its legal form still names a company when the same name is written with one
elsewhere in the data, as a look-up on the company register would show (``known_companies``). A
word is common by how many records use it (more than 1 in 500), so the lists scale with the data.
"""

from __future__ import annotations

from business_index.config import LinkConfig
from business_index.link.business_model import AREA, AREA_BLOCK_SIZE, BLOCKING_KEYS, COUNCIL
from business_index.sql_steps import SqlStep

DEFAULT_MAX_BLOCK_SIZE: int = LinkConfig.model_fields["max_block_size"].default


def blocking_key_steps(max_block_size: int, area_block_size: int = AREA_BLOCK_SIZE) -> tuple[SqlStep, ...]:
    """Steps writing ``blocking_keys`` (unique_id and one column per key of ``BLOCKING_KEYS``) of the
    named records: a key's value stands for its columns' values (NULL when one is missing), within
    the record's council (``COUNCIL``: records of two councils share no block); when more than
    ``max_block_size`` records (or the key's own smaller size, ``BlockingKey.most``) share them, for
    the values and the first of the key's splits that brings the record's block within that size;
    NULL (no pairs on this key) when none does. A block of more than ``area_block_size`` records in
    several postcode areas is split by area before anything else, and the first record of each area
    keeps the whole value in the keys that pair across areas (``BlockingKey.across_areas``).

    A value is a 64-bit hash of what it stands for (the council, the columns, the split): short to
    group and join by. Two blocks whose hashes collide (under one chance in a million in a
    national build's few million values) are sized as one: their records are compared, or the
    pair is split or left out as a block of their joint size would be. Worked out on one long table
    (record, key, value), so that only the records of too large blocks are counted by split, then
    turned back into a column per key. The long tables are temp tables, not a query's materialised
    parts, so that they can leave memory for disk (a national build has more than ten million
    (record, key) rows); only the records of too large blocks are held by the last step."""
    most = max(len(key.splits) for key in BLOCKING_KEYS.values())
    each = []
    for name, key in BLOCKING_KEYS.items():
        splits = [f"({split})::VARCHAR" for split in key.splits] + ["NULL"] * (most - len(key.splits))
        each.append(f"""
            SELECT unique_id, '{name}' AS key, {key.only_split} AS only_split, {key.block_size(max_block_size)} AS block_size,
                   ({key.unit})::VARCHAR AS unit, {key.across_areas} AS across_areas, {AREA} AS area,
                   hash({COUNCIL}, {", ".join(key.columns)}) AS whole,
                   {", ".join(f"{split} AS split_{i}" for i, split in enumerate(splits))}
            FROM business_inputs WHERE named AND {" AND ".join(f"{c} IS NOT NULL" for c in key.columns)}""")
    values = SqlStep("blocking_key_values", reads=("business_inputs",), writes=("blocking_key_values",), sql=f"""
        CREATE OR REPLACE TEMP TABLE blocking_key_values AS {" UNION ALL ".join(each)}""")
    areas = SqlStep("blocking_key_areas", reads=("blocking_key_values",), writes=("blocking_key_areas",), sql=f"""
        CREATE OR REPLACE TEMP TABLE blocking_key_areas AS
        WITH keyed AS (FROM blocking_key_values),
        spread AS (SELECT key, whole FROM keyed GROUP BY key, whole
                   HAVING count(*) > {area_block_size} AND count(DISTINCT area) > 1)
        -- a block in several areas: the key's records in each area, and one of each area in a key
        -- that pairs only those (the first record of the area, so that rebuilds pick the same)
        SELECT k.* REPLACE (hash(k.whole, 'area', k.area) AS whole)
        FROM keyed k SEMI JOIN spread USING (key, whole) WHERE NOT k.across_areas
        UNION ALL
        SELECT * FROM keyed ANTI JOIN spread USING (key, whole) WHERE NOT across_areas
        UNION ALL
        SELECT k.* FROM keyed k SEMI JOIN spread USING (key, whole) WHERE k.across_areas
        QUALIFY row_number() OVER (PARTITION BY k.key, k.whole, k.area ORDER BY k.unique_id) = 1;
        DROP TABLE blocking_key_values""")
    # each split's block sizes by a grouping joined back, not a window over the records: a window's
    # DISTINCT count over one large block is held in memory whole
    sizes = ",\n        ".join(
        f"sizes_{i} AS (SELECT key, whole, split_{i}, count(*) AS n_{i}, count(DISTINCT unit) AS units_{i} "
        f"FROM too_large_records WHERE split_{i} IS NOT NULL GROUP BY ALL)" for i in range(most))
    joins = " ".join(f"LEFT JOIN sizes_{i} USING (key, whole, split_{i})" for i in range(most))
    split = " ".join(f"WHEN split_{i} IS NOT NULL AND n_{i} <= {max_block_size} AND units_{i} <= block_size "
                     f"THEN hash(whole, {i}, split_{i})" for i in range(most))
    columns = ",\n".join(f"(any_value(value) FILTER (WHERE key = '{name}') >> 1)::BIGINT AS {name}"
                        for name in BLOCKING_KEYS)
    keys = SqlStep("blocking_keys", reads=("blocking_key_areas",), writes=("blocking_keys",), sql=f"""
        CREATE OR REPLACE TEMP TABLE blocking_keys AS
        WITH long AS (FROM blocking_key_areas),
        too_large AS (SELECT key, whole FROM long GROUP BY key, whole HAVING count(*) > {max_block_size} OR count(DISTINCT unit) > any_value(block_size)),
        too_large_records AS MATERIALIZED (SELECT l.* FROM long l SEMI JOIN too_large USING (key, whole)),
        {sizes},
        split AS (SELECT * FROM too_large_records {joins}),
        valued AS (SELECT unique_id, key, CASE WHEN NOT only_split THEN whole END AS value
                   FROM long ANTI JOIN too_large USING (key, whole)
                   UNION ALL
                   SELECT unique_id, key, CASE {split} END FROM split)
        SELECT unique_id, {columns} FROM valued GROUP BY unique_id;
        DROP TABLE blocking_key_areas""")
    return values, areas, keys


def business_input_steps(max_block_size: int = DEFAULT_MAX_BLOCK_SIZE) -> tuple[SqlStep, ...]:
    """The steps, with blocks of the business model's keys (``BLOCKING_KEYS``) of at most
    ``max_block_size`` records."""
    named = SqlStep("named_inputs",
                    reads=("business_inputs", "blocking_keys"),
                    writes=("named_inputs",), sql="""
        CREATE OR REPLACE TABLE named_inputs AS
        SELECT b.* EXCLUDE (named), k.* EXCLUDE (unique_id)
        FROM business_inputs b LEFT JOIN blocking_keys k USING (unique_id)
        WHERE b.named
        ORDER BY b.rowid  -- the order of business_inputs, as before the keys""")
    return (*_INPUT_STEPS, *blocking_key_steps(max_block_size), named)


# a record's council (``business_model.COUNCIL``): records of two councils are never paired
RECORD_COUNCILS = SqlStep(
    "record_councils",
    reads=("record_features", "record_links", "addresses"),
    writes=("record_councils",), sql="""
    -- a record's council: the custodian of its property in the gazetteer, else the council
    -- keeping most of its postcode's (then its postcode sector's) addresses, else the only
    -- council in the data; '' where unknown (a gazetteer without custodians is one area). In a
    -- build of several councils a record with no UPRN and a postcode in no council's sector is
    -- in that unknown area: paired with others so placed, not with its own council's records
    CREATE OR REPLACE TEMP TABLE record_councils AS
    WITH kept AS (  -- how many of each postcode's addresses each council keeps
        SELECT postcode, local_custodian_code AS council, count(*) AS n FROM addresses
        WHERE postcode IS NOT NULL AND local_custodian_code IS NOT NULL GROUP BY 1, 2),
    -- the council keeping most (the lower code on a tie, so that rebuilds agree)
    postcode_councils AS (SELECT postcode, arg_max(council, (n, -council)) AS council FROM kept GROUP BY 1),
    sector_councils AS (
        SELECT sector, arg_max(council, (n, -council)) AS council
        FROM (SELECT left(postcode, -2) AS sector, council, sum(n) AS n FROM kept GROUP BY 1, 2) GROUP BY 1),
    only_council AS (
        SELECT any_value(local_custodian_code) AS council FROM addresses
        WHERE local_custodian_code IS NOT NULL HAVING count(DISTINCT local_custodian_code) = 1),
    placed AS (
        SELECT f.unique_id, a.local_custodian_code, coalesce(a.postcode, f.postcode) AS postcode
        FROM record_features f
        LEFT JOIN record_links l ON l.record_id = f.unique_id
        LEFT JOIN addresses a ON a.uprn = l.uprn)
    SELECT r.unique_id AS record_id,
           coalesce(coalesce(r.local_custodian_code, p.council, s.council,
                             (SELECT council FROM only_council))::VARCHAR, '') AS council
    FROM placed r
    LEFT JOIN postcode_councils p ON p.postcode = r.postcode
    LEFT JOIN sector_councils s ON s.sector = left(r.postcode, -2)""")


_INPUT_STEPS = (
    SqlStep("known_companies",
            reads=("record_features",),
            writes=("known_companies",), sql="""
        CREATE OR REPLACE TEMP TABLE known_companies AS
        SELECT DISTINCT unnest(company_keys) AS key FROM record_features"""),
    SqlStep("record_company_keys",
            reads=("record_features", "known_companies"),
            writes=("record_company_keys",), sql="""
        CREATE OR REPLACE TEMP TABLE record_company_keys AS
        SELECT n.unique_id, list(DISTINCT n.key ORDER BY n.key) AS keys
        FROM (SELECT unique_id, unnest(name_keys) AS key FROM record_features) n
        JOIN known_companies k USING (key)
        GROUP BY n.unique_id"""),
    SqlStep("common_name_words",
            reads=("record_features",),
            writes=("common_name_words",), sql="""
        -- words in more than 1 in 500 names ('FOOD', 'STORES', 'CAFE') say little on their own
        CREATE OR REPLACE TEMP TABLE common_name_words AS
        SELECT word FROM (
            SELECT DISTINCT unique_id, unnest(string_split(primary_name, ' ')) AS word
            FROM record_features WHERE primary_name IS NOT NULL)
        GROUP BY word
        HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features WHERE primary_name IS NOT NULL) / 500)"""),
    SqlStep("record_uncommon_words",
            reads=("record_features", "common_name_words"),
            writes=("record_uncommon_words",), sql="""
        CREATE OR REPLACE TEMP TABLE record_uncommon_words AS
        SELECT n.unique_id, list(n.word) AS words
        FROM (SELECT unique_id, unnest(string_split(primary_name, ' ')) AS word
              FROM record_features WHERE primary_name IS NOT NULL) n
        ANTI JOIN common_name_words c USING (word)
        WHERE n.word <> ''
        GROUP BY n.unique_id"""),
    SqlStep("generic_words",
            reads=("record_features",),
            writes=("generic_words",), sql="""
        -- for joining across sources, a word is distinctive by how many DIFFERENT names use it (a
        -- chain's brand on many records stays distinctive) and when it is not frequent in addresses
        CREATE OR REPLACE TEMP TABLE generic_words AS
        SELECT word FROM (
            SELECT DISTINCT primary_name, unnest(string_split(primary_name, ' ')) AS word
            FROM record_features WHERE primary_name IS NOT NULL)
        GROUP BY word
        HAVING count(*) > greatest(5, (SELECT count(DISTINCT primary_name) FROM record_features) / 500)
        UNION
        SELECT word FROM (SELECT DISTINCT unique_id, unnest(tokens) AS word FROM record_features)
        GROUP BY word HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features) / 500)"""),
    SqlStep("record_distinctive_words",
            reads=("record_features", "generic_words"),
            writes=("record_distinctive_words",), sql="""
        -- by a join, not a list look-up per word (thousands of generic words at a borough's scale)
        CREATE OR REPLACE TEMP TABLE record_distinctive_words AS
        SELECT n.unique_id, list(n.word) AS words,
               -- "MARTINS" and "MARTIN" are one word to compare
               list(CASE WHEN len(n.word) > 3 AND suffix(n.word, 'S') THEN left(n.word, -1) ELSE n.word END) AS stems
        FROM (SELECT unique_id, unnest(string_split(primary_name, ' ')) AS word
              FROM record_features WHERE primary_name IS NOT NULL) n
        ANTI JOIN generic_words g USING (word)
        WHERE len(n.word) > 1
        GROUP BY n.unique_id"""),
    SqlStep("common_address_words",
            reads=("record_features",),
            writes=("common_address_words",), sql="""
        -- the words that name a site ("SUMMERHILL GARAGE", "ARNOLD CENTRE"): an address's words
        -- that are neither numbers nor common in addresses (streets, towns, counties)
        CREATE OR REPLACE TEMP TABLE common_address_words AS
        SELECT word FROM (SELECT DISTINCT unique_id, unnest(tokens) AS word FROM record_features)
        GROUP BY word HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features) / 500)"""),
    SqlStep("record_site_words",
            reads=("record_features", "common_address_words"),
            writes=("record_site_words",), sql="""
        CREATE OR REPLACE TEMP TABLE record_site_words AS
        SELECT n.unique_id, list(DISTINCT n.word) AS words
        FROM (SELECT unique_id, unnest(tokens) AS word FROM record_features) n
        ANTI JOIN common_address_words c USING (word)
        WHERE len(n.word) > 1 AND NOT regexp_matches(n.word, '[0-9]')
        GROUP BY n.unique_id"""),
    SqlStep("record_local_words",
            reads=("record_features",),
            writes=("record_local_words",), sql="""
        -- words that place an address within a sector (a street, a site, a village), not the town
        -- or county most addresses carry: used by at most 1 in 50 records
        CREATE OR REPLACE TEMP TABLE record_local_words AS
        SELECT n.unique_id, list(DISTINCT n.word) AS words
        FROM (SELECT unique_id, unnest(tokens) AS word FROM record_features) n
        ANTI JOIN (SELECT word FROM (SELECT DISTINCT unique_id, unnest(tokens) AS word FROM record_features)
                   GROUP BY word HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features) / 50)) c
             USING (word)
        WHERE len(n.word) > 1 AND NOT regexp_matches(n.word, '[0-9]')
        GROUP BY n.unique_id"""),
    SqlStep("record_premises_names",
            reads=("record_features", "generic_words"),
            writes=("record_premises_names",), sql="""
        -- the name an address gives its premises, before the building number ("Flatbridge Cafe,
        -- 7 Hurricane Close"): its uncommon words
        CREATE OR REPLACE TEMP TABLE record_premises_names AS
        SELECT n.unique_id, list(DISTINCT n.word) AS words
        FROM (SELECT unique_id,
                     unnest(list_slice(tokens, 1, coalesce(list_position(tokens, number), 1) - 1)) AS word
              FROM record_features WHERE number IS NOT NULL) n
        ANTI JOIN generic_words g USING (word)
        WHERE len(n.word) > 1 AND NOT regexp_matches(n.word, '[0-9]')
        GROUP BY n.unique_id"""),
    RECORD_COUNCILS,
    SqlStep("business_inputs",
            reads=("record_features", "business_records", "record_uncommon_words", "record_distinctive_words", "record_site_words", "record_local_words", "record_premises_names", "record_company_keys", "record_councils", "record_links", "addresses"),
            writes=("business_inputs",), sql="""
        CREATE OR REPLACE TABLE business_inputs AS
        -- counts and next dates over narrow rows, joined back: a window over the wide rows holds
        -- every record without a company (or a rates reference) in one partition, in memory
        WITH company_key_records AS (
            SELECT keys[1] AS company_key, count(*) AS records FROM record_company_keys GROUP BY 1),
        -- a ratepayer's liability with no end date ends when the next one's for the same property starts
        next_liabilities AS (
            SELECT record_id, lead(start_date) OVER (PARTITION BY source, property_ref
                                                     ORDER BY start_date, record_id) AS next_start
            FROM business_records WHERE property_ref IS NOT NULL AND start_date IS NOT NULL)
        SELECT f.unique_id, f.name_keys, coalesce(c.keys, []::VARCHAR[]) AS company_keys,
               c.keys[1] AS company_key,
               -- how many records write that registered name: a slip of it is written by few
               ck.records AS company_key_records,
               -- keys that survive one slip in any single word of a registered name, for blocking:
               -- its first word with its word count and last initial, or its first letter and the rest
               split_part(c.keys[1], ' ', 1) || '|' || len(string_split(c.keys[1], ' ')) || '|'
                   || left(split_part(c.keys[1], ' ', -1), 1) AS company_head,
               CASE WHEN contains(c.keys[1], ' ')
                    THEN left(c.keys[1], 1) || '|' || substr(c.keys[1], strpos(c.keys[1], ' ') + 1) END AS company_tail,
               f.primary_name, f.name_sorted, f.name_first2,
               string_split(coalesce(f.primary_name, ''), ' ') AS name_tokens,
               -- words written joined or apart ("TREE HOUSE" and "TREEHOUSE", "PUSSY CAT" and "PUSSYCAT")
               list_transform(range(1, len(string_split(coalesce(f.primary_name, ''), ' '))),
                              lambda i: string_split(f.primary_name, ' ')[i] || string_split(f.primary_name, ' ')[i + 1])
                   AS name_bigrams,
               replace(f.primary_name, ' ', '') AS name_compact,
               -- "DWP" for "DEPARTMENT FOR WORK AND PENSIONS"
               CASE WHEN len(string_split(f.primary_name, ' ')) >= 3 THEN list_aggregate(list_transform(
                   list_filter(string_split(f.primary_name, ' '), lambda w: w NOT IN ('AND', 'FOR', 'OF', 'THE', 'IN')),
                   lambda w: left(w, 1)), 'string_agg', '') END AS initials,
               list_filter(string_split(nullif(trim(regexp_replace(upper(b.address_lines[1]), '[^A-Z0-9]+', ' ', 'g')), ''), ' '),
                           lambda w: w NOT IN ('THE', 'AND')) AS first_line_words,
               array_to_string(f.tokens, '') AS address_compact,
               coalesce(pn.words, []::VARCHAR[]) AS premises_name_words,
               f.proprietor_key, l.uprn, a.parent_uprn,
               -- where the record is: its UPRN when linked, else its postcode and building number
               CASE WHEN l.uprn IS NOT NULL THEN 'U' || l.uprn
                    WHEN f.postcode IS NOT NULL AND f.number IS NOT NULL THEN f.postcode || '|' || f.number
               END AS premises_key,
               f.tokens AS address_tokens,
               coalesce(s.words, []::VARCHAR[]) AS site_words,
               coalesce(lw.words, []::VARCHAR[]) AS local_words,
               coalesce(u.words, []::VARCHAR[]) AS uncommon_words,
               coalesce(d.words, []::VARCHAR[]) AS distinctive_words,
               coalesce(d.stems, []::VARCHAR[]) AS name_stems,
               b.source, b.source_kind, b.record_type, b.start_date AS started_on, f.premises_use, f.not_a_property, f.premises_business_words,
               -- whoever is liable or holds it: a ratepayer, or a name with a company's legal form
               (b.source_kind = 'rates' OR len(coalesce(c.keys, [])) > 0) AS operator,
               f.number, f.number_base, f.sub_premises, f.street,
               -- the number a range starts with, its letter kept: "94-96" is at 94, "70A" is not 70
               nullif(regexp_extract(f.number, '^[0-9]+[A-Z]?'), '') AS number_start,
               -- the first line as written, for naming a site ("Summerhill Garage", "The Arnold Centre")
               nullif(trim(regexp_replace(upper(b.address_lines[1]), '[^A-Z0-9]+', ' ', 'g')), '') AS first_line,
               split_part(f.street, ' ', 1) AS street_head,
               coalesce(a.postcode, f.postcode) AS postcode,
               left(coalesce(a.postcode, f.postcode), -2) AS sector,
               -- the postcode area ("LS" of "LS1 4AP"; '' without a postcode): once here, not per key
               coalesce(regexp_extract(coalesce(a.postcode, f.postcode), '^[A-Z]+'), '') AS area,
               rc.council,
               b.property_ref,
               CASE WHEN b.record_type = 'voa_list_entry' THEN NULL
                    ELSE coalesce(b.start_date, b.last_seen_date) END AS active_from,
               CASE WHEN b.record_type = 'voa_list_entry' THEN NULL
                    -- a food establishment in an extract was trading on the extract's date
                    WHEN b.record_type = 'food_establishment'
                        THEN coalesce(try_cast(b.extra ->> 'extract_date' AS DATE), b.last_seen_date)
                    -- else its end, or the next liability's start (``next_liabilities``)
                    ELSE coalesce(b.end_date, b.last_seen_date, nx.next_start, DATE '2999-12-31') END AS active_to,
               b.source || '|' || b.source_record_id AS record_key,
               len(f.name_keys) > 0 OR f.proprietor_key IS NOT NULL AS named
        FROM record_features f
        JOIN business_records b ON b.record_id = f.unique_id
        LEFT JOIN record_uncommon_words u ON u.unique_id = f.unique_id
        LEFT JOIN record_distinctive_words d ON d.unique_id = f.unique_id
        LEFT JOIN record_site_words s ON s.unique_id = f.unique_id
        LEFT JOIN record_local_words lw ON lw.unique_id = f.unique_id
        LEFT JOIN record_premises_names pn ON pn.unique_id = f.unique_id
        LEFT JOIN record_company_keys c ON c.unique_id = f.unique_id
        LEFT JOIN company_key_records ck ON ck.company_key = c.keys[1]
        LEFT JOIN next_liabilities nx ON nx.record_id = f.unique_id
        JOIN record_councils rc ON rc.record_id = f.unique_id
        LEFT JOIN record_links l ON l.record_id = f.unique_id
        LEFT JOIN addresses a ON a.uprn = l.uprn"""),
)

BUSINESS_INPUT_STEPS = business_input_steps()
