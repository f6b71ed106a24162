"""Business records -> establishments and organisations, with ids that are stable across rebuilds.

Three steps, each in a module of its own:

1. **Names** (here): records are scored pairwise with the saved business model
   (``models/business_resolution.json``, Splink) and clustered above the threshold into
   ``name_clusters``: records that name one business in any of its spellings, wherever they are.
2. **Establishments** (``establishments.py``): the business at one premises over one period, joined
   by place and time with names as evidence.
3. **Organisations** (``organisations.py``): the operator behind establishments.

Both get ids that survive rebuilds (``stable_ids.py``: ``E...`` for establishments, ``O...`` for
organisations); ``id_changes`` lists every merge and split.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker

from business_index.duckdb_utils import insert_rows, scalar
from business_index.link.business_model import (
    FIXED_M_PROBABILITIES,
    FIXED_U_PROBABILITIES,
    MODEL_VERSION,
    business_settings,
)
from business_index.link.establishments import build_establishments
from business_index.link.organisations import build_organisations
from business_index.link.splink_logging import SPLINK_LOG_LEVEL, quiet_splink
from business_index.link.stable_ids import assign_stable_ids, id_changes_sql

MODEL_FILE = Path(__file__).parent / "models" / "business_resolution.json"


@dataclass
class BusinessReport:
    records: int
    establishments: int
    organisations: int
    pairs_scored: int
    id_changes: dict[str, int]
    establishment_joins: dict[str, int]
    seconds: dict[str, float]


def _business_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """``business_inputs``: every record's comparable fields; ``named_inputs``: those with a name."""
    # A name written without its legal form still names a company when the same name is written
    # with one elsewhere in the data, as a look-up on the company register would show.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE known_companies AS
        SELECT DISTINCT unnest(company_keys) AS key FROM record_features;
        CREATE OR REPLACE TEMP TABLE record_company_keys AS
        SELECT n.unique_id, list(DISTINCT n.key ORDER BY n.key) AS keys
        FROM (SELECT unique_id, unnest(name_keys) AS key FROM record_features) n
        JOIN known_companies k USING (key)
        GROUP BY n.unique_id;
        -- words in more than 1 in 500 names ('FOOD', 'STORES', 'CAFE') say little on their own
        CREATE OR REPLACE TEMP TABLE common_name_words AS
        SELECT word FROM (
            SELECT DISTINCT unique_id, unnest(string_split(primary_name, ' ')) AS word
            FROM record_features WHERE primary_name IS NOT NULL)
        GROUP BY word
        HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features WHERE primary_name IS NOT NULL) / 500);
        CREATE OR REPLACE TEMP TABLE record_uncommon_words AS
        SELECT n.unique_id, list(n.word) AS words
        FROM (SELECT unique_id, unnest(string_split(primary_name, ' ')) AS word
              FROM record_features WHERE primary_name IS NOT NULL) n
        ANTI JOIN common_name_words c USING (word)
        WHERE n.word <> ''
        GROUP BY n.unique_id;
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
        GROUP BY word HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features) / 500);
        -- by a join, not a list look-up per word (thousands of generic words at a borough's scale)
        CREATE OR REPLACE TEMP TABLE record_distinctive_words AS
        SELECT n.unique_id, list(n.word) AS words,
               -- "MARTINS" and "MARTIN" are one word to compare
               list(CASE WHEN len(n.word) > 3 AND suffix(n.word, 'S') THEN left(n.word, -1) ELSE n.word END) AS stems
        FROM (SELECT unique_id, unnest(string_split(primary_name, ' ')) AS word
              FROM record_features WHERE primary_name IS NOT NULL) n
        ANTI JOIN generic_words g USING (word)
        WHERE len(n.word) > 1
        GROUP BY n.unique_id;
        -- the words that name a site ("SUMMERHILL GARAGE", "ARNOLD CENTRE"): an address's words
        -- that are neither numbers nor common in addresses (streets, towns, counties)
        CREATE OR REPLACE TEMP TABLE common_address_words AS
        SELECT word FROM (SELECT DISTINCT unique_id, unnest(tokens) AS word FROM record_features)
        GROUP BY word HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features) / 500);
        CREATE OR REPLACE TEMP TABLE record_site_words AS
        SELECT n.unique_id, list(DISTINCT n.word) AS words
        FROM (SELECT unique_id, unnest(tokens) AS word FROM record_features) n
        ANTI JOIN common_address_words c USING (word)
        WHERE len(n.word) > 1 AND NOT regexp_matches(n.word, '[0-9]')
        GROUP BY n.unique_id;
        -- words that place an address within a sector (a street, a site, a village), not the town
        -- or county most addresses carry: used by at most 1 in 50 records
        CREATE OR REPLACE TEMP TABLE record_local_words AS
        SELECT n.unique_id, list(DISTINCT n.word) AS words
        FROM (SELECT unique_id, unnest(tokens) AS word FROM record_features) n
        ANTI JOIN (SELECT word FROM (SELECT DISTINCT unique_id, unnest(tokens) AS word FROM record_features)
                   GROUP BY word HAVING count(*) > greatest(5, (SELECT count(*) FROM record_features) / 50)) c
             USING (word)
        WHERE len(n.word) > 1 AND NOT regexp_matches(n.word, '[0-9]')
        GROUP BY n.unique_id;
        -- the name an address gives its premises, before the building number ("Flatbridge Cafe,
        -- 7 Hurricane Close"): its uncommon words
        CREATE OR REPLACE TEMP TABLE record_premises_names AS
        SELECT n.unique_id, list(DISTINCT n.word) AS words
        FROM (SELECT unique_id,
                     unnest(list_slice(tokens, 1, coalesce(list_position(tokens, number), 1) - 1)) AS word
              FROM record_features WHERE number IS NOT NULL) n
        ANTI JOIN generic_words g USING (word)
        WHERE len(n.word) > 1 AND NOT regexp_matches(n.word, '[0-9]')
        GROUP BY n.unique_id;
    """)
    con.execute("""
        CREATE OR REPLACE TABLE business_inputs AS
        SELECT f.unique_id, f.name_keys, coalesce(c.keys, []::VARCHAR[]) AS company_keys,
               c.keys[1] AS company_key,
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
               b.property_ref,
               CASE WHEN b.record_type = 'voa_list_entry' THEN NULL
                    ELSE coalesce(b.start_date, b.last_seen_date) END AS active_from,
               CASE WHEN b.record_type = 'voa_list_entry' THEN NULL
                    -- a food establishment in an extract was trading on the extract's date
                    WHEN b.record_type = 'food_establishment'
                        THEN coalesce(try_cast(b.extra ->> 'extract_date' AS DATE), b.last_seen_date)
                    -- a ratepayer's liability with no end date ends when the next one's for the same
                    -- property starts
                    ELSE coalesce(b.end_date, b.last_seen_date,
                                  CASE WHEN b.property_ref IS NOT NULL AND b.start_date IS NOT NULL THEN
                                      lead(b.start_date) OVER (PARTITION BY b.source, b.property_ref
                                                               ORDER BY b.start_date, b.record_id) END,
                                  DATE '2999-12-31') END AS active_to,
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
        LEFT JOIN record_links l ON l.record_id = f.unique_id
        LEFT JOIN addresses a ON a.uprn = l.uprn;
        CREATE OR REPLACE TABLE named_inputs AS SELECT * EXCLUDE (named) FROM business_inputs WHERE named;
    """)


def model_problem(path: Path) -> str | None:
    """Why ``path`` is not a business model this software can use, or None when it is."""
    if not path.exists():
        return "not found; make one with `bx train`"
    if not path.is_file():
        return "is not a file"
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not a model file (not JSON: {exc})"
    if not isinstance(model, dict) or "splink_settings" not in model:
        return "not a model file (no splink_settings); make one with `bx train`"
    if model.get("business_index_model_version") != MODEL_VERSION:
        return (f"model version {model.get('business_index_model_version')!r}, this software needs "
                f"{MODEL_VERSION!r}: retrain it with `bx train`")
    return None


def train_business_model(con: duckdb.DuckDBPyConnection, out: Path) -> dict:
    """Estimate the model without labels on the records in ``con`` and save it as JSON."""
    quiet_splink()
    _business_inputs(con)
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("named_inputs")
    linker = Linker(records, business_settings(), log_level=SPLINK_LOG_LEVEL)
    linker.training.estimate_probability_two_random_records_match(
        ["l.primary_name = r.primary_name AND l.premises_key = r.premises_key"], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    # within one premises, EM separates one business's records from its predecessors' and successors'
    linker.training.estimate_parameters_using_expectation_maximisation(
        "l.premises_key = r.premises_key", record_sample_proportion=1.0)
    settings = linker.misc.save_model_to_json()
    for comparison in settings["comparisons"]:
        fixed_m = FIXED_M_PROBABILITIES.get(comparison["output_column_name"], {})
        fixed_u = FIXED_U_PROBABILITIES.get(comparison["output_column_name"], {})
        for level in comparison["comparison_levels"]:
            label = level.get("label_for_charts")
            if label in fixed_m:
                level["m_probability"] = fixed_m[label]
            if label in fixed_u:
                level["u_probability"] = fixed_u[label]
    model = {"business_index_model_version": MODEL_VERSION, "splink_settings": settings}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    return model


def resolve_businesses(con: duckdb.DuckDBPyConnection, threshold: float, model_path: Path = MODEL_FILE,
                       previous_ids: PreviousIds | None = None) -> BusinessReport:
    """Fill ``record_establishments`` (record_id, record_key, establishment_id, organisation_id),
    ``id_changes`` and ``business_inputs``."""
    quiet_splink()
    previous = previous_ids or PreviousIds()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    _business_inputs(con)
    seconds["inputs"] = time.perf_counter() - started
    model = json.loads(model_path.read_text(encoding="utf-8"))
    if model.get("business_index_model_version") != MODEL_VERSION:
        raise ValueError(f"{model_path}: model version {model.get('business_index_model_version')!r}, "
                         f"this software needs {MODEL_VERSION!r}: retrain it with `bx train`")
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("named_inputs")
    linker = Linker(records, model["splink_settings"], log_level=SPLINK_LOG_LEVEL)
    started = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    seconds["score_pairs"] = time.perf_counter() - started
    started = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    # the names: records the model says name one business, whatever their premises
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE name_clusters AS
        SELECT c.unique_id AS record_id, 'n' || c.cluster_id AS cluster_id
        FROM {clusters.physical_name} c JOIN named_inputs i USING (unique_id);
        INSERT INTO name_clusters
        SELECT n.unique_id, 'n' || n.unique_id FROM named_inputs n
        ANTI JOIN name_clusters c ON c.record_id = n.unique_id;
    """)
    pairs = scalar(con, f"SELECT count(*) FROM {predictions.physical_name}")
    for table in (clusters, predictions):
        table.drop_table_from_database_and_remove_from_cache()
    seconds["cluster_names"] = time.perf_counter() - started
    started = time.perf_counter()
    joined = build_establishments(con)
    seconds["establishments"] = time.perf_counter() - started
    started = time.perf_counter()
    build_organisations(con)
    seconds["organisations"] = time.perf_counter() - started
    started = time.perf_counter()
    assign_stable_ids(con, "establishment_clusters", previous.establishments, "E", "establishment_ids")
    assign_stable_ids(con, "organisation_clusters", previous.organisations, "O", "organisation_ids")
    con.execute("""
        CREATE OR REPLACE TABLE record_establishments AS
        SELECT b.record_id, b.source || '|' || b.source_record_id AS record_key,
               ei.stable_id AS establishment_id, oi.stable_id AS organisation_id
        FROM business_records b
        LEFT JOIN establishment_clusters e USING (record_id)
        LEFT JOIN establishment_ids ei ON ei.cluster_id = e.cluster_id
        LEFT JOIN organisation_clusters o USING (record_id)
        LEFT JOIN organisation_ids oi ON oi.cluster_id = o.cluster_id;
    """)
    _record_id_changes(con, previous)
    seconds["stable_ids"] = time.perf_counter() - started
    changes = dict(con.execute("SELECT kind || ' ' || change, count(DISTINCT previous_id) FROM id_changes "
                               "GROUP BY 1").fetchall())
    return BusinessReport(
        records=scalar(con, "SELECT count(*) FROM record_establishments"),
        establishments=scalar(con, "SELECT count(DISTINCT establishment_id) FROM record_establishments"),
        organisations=scalar(con, "SELECT count(DISTINCT organisation_id) FROM record_establishments"),
        pairs_scored=pairs, id_changes=changes, establishment_joins=joined,
        seconds={k: round(v, 2) for k, v in seconds.items()})


@dataclass
class PreviousIds:
    """The ids of the index being replaced, per record (record_key, id), so that they survive."""

    establishments: list[tuple[str, str]] = field(default_factory=list)
    organisations: list[tuple[str, str]] = field(default_factory=list)


def _record_id_changes(con: duckdb.DuckDBPyConnection, previous: PreviousIds) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE previous_establishment_ids (record_key VARCHAR, stable_id VARCHAR)")
    insert_rows(con, "previous_establishment_ids", ["record_key", "stable_id"], previous.establishments)
    con.execute("CREATE OR REPLACE TEMP TABLE previous_organisation_ids (record_key VARCHAR, stable_id VARCHAR)")
    insert_rows(con, "previous_organisation_ids", ["record_key", "stable_id"], previous.organisations)
    con.execute(f"""
        CREATE OR REPLACE TABLE id_changes AS
        SELECT * FROM ({id_changes_sql("establishment", "previous_establishment_ids", "record_establishments",
                                       "establishment_id")})
        UNION ALL
        SELECT * FROM ({id_changes_sql("organisation", "previous_organisation_ids", "record_establishments",
                                       "organisation_id")})""")
