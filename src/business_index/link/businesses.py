"""Business records -> businesses, with ids that are stable across rebuilds.

Records are scored pairwise with the saved business model (``models/business_resolution.json``),
clustered by connected components above the threshold, and each cluster gets a business id:

* **The same records give the same id.** A cluster's new id is derived from its smallest record
  key (``source|source_record_id``), so a rebuild from scratch of the same data gives the same ids.
* **Ids survive change.** With a previous index, each cluster takes the previous id held by most of
  its records (ties: the smallest id). When clusters merge, the surviving id is the one with most
  records; the others are recorded as merged into it. When a cluster splits, the part with most
  records keeps the id and the other parts take the previous ids they hold or new ones.
  ``business_id_changes`` lists every merge and split.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
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
from business_index.link.cross_source import join_across_sources, premises_candidates
from business_index.link.premises import same_numbered_premises
from business_index.link.splink_logging import SPLINK_LOG_LEVEL, quiet_splink

MODEL_FILE = Path(__file__).parent / "models" / "business_resolution.json"


@dataclass
class BusinessReport:
    records: int
    businesses: int
    pairs_scored: int
    merged_ids: int
    split_ids: int
    joined_across_sources: dict[str, int]
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
               f.proprietor_key, l.uprn, a.parent_uprn,
               -- where the record is: its UPRN when linked, else its postcode and building number
               CASE WHEN l.uprn IS NOT NULL THEN 'U' || l.uprn
                    WHEN f.postcode IS NOT NULL AND f.number IS NOT NULL THEN f.postcode || '|' || f.number
               END AS premises_key,
               f.tokens AS address_tokens,
               coalesce(u.words, []::VARCHAR[]) AS uncommon_words,
               coalesce(d.words, []::VARCHAR[]) AS distinctive_words,
               coalesce(d.stems, []::VARCHAR[]) AS name_stems,
               b.source, f.number, f.number_base, f.sub_premises, f.street,
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
        LEFT JOIN record_company_keys c ON c.unique_id = f.unique_id
        LEFT JOIN record_links l ON l.record_id = f.unique_id
        LEFT JOIN addresses a ON a.uprn = l.uprn;
        CREATE OR REPLACE TABLE named_inputs AS SELECT * EXCLUDE (named) FROM business_inputs WHERE named;
    """)


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
                       previous_ids: list[tuple[str, str]] | None = None) -> BusinessReport:
    """Fill ``record_businesses`` (record_id, business_id) and ``business_id_changes``."""
    quiet_splink()
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
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE record_clusters AS
        SELECT c.unique_id AS record_id, c.cluster_id, i.record_key
        FROM {clusters.physical_name} c JOIN business_inputs i USING (unique_id)
    """)
    pairs = scalar(con, f"SELECT count(*) FROM {predictions.physical_name}")
    _ensure_table(con)
    seconds["cluster"] = time.perf_counter() - started
    started = time.perf_counter()
    across = join_across_sources(con)
    seconds["join_across_sources"] = time.perf_counter() - started
    started = time.perf_counter()
    _attach_nameless_records(con)
    seconds["attach_nameless"] = time.perf_counter() - started
    started = time.perf_counter()
    merged, split = _assign_stable_ids(con, previous_ids or [])
    seconds["stable_ids"] = time.perf_counter() - started
    return BusinessReport(
        records=scalar(con, "SELECT count(*) FROM record_businesses"),
        businesses=scalar(con, "SELECT count(DISTINCT business_id) FROM record_businesses WHERE business_id IS NOT NULL"),
        pairs_scored=pairs, merged_ids=merged, split_ids=split, joined_across_sources=across.pairs_joined,
        seconds={k: round(v, 2) for k, v in seconds.items()})


# a nameless record whose address holds every distinctive word (two or more) of a business's name,
# nearby, unless the address says the unit is AT a place ("Hand Car Wash At David Lloyd" names its
# host, not itself)
ADDRESS_NAMES_BUSINESS = ("(l.sector = r.sector AND len(r.distinctive_words) > 1 "
                          "AND list_has_all(l.address_tokens, r.distinctive_words) "
                          "AND NOT list_contains(l.address_tokens, 'AT'))")


def _attach_nameless_records(con: duckdb.DuckDBPyConnection) -> None:
    """A record with no business name (a withheld ratepayer, a VOA entry with no firm's name) is
    not compared by name: it joins the one business active at its premises during its period
    (the same UPRN, rates reference, or the very same building number: with no name to go on,
    12C is not 12; or an address that names the business, "Wizz Kids Out Of School Club, Grange
    Primary School"), and otherwise names no business (its business id stays empty)."""
    con.execute("CREATE OR REPLACE TEMP TABLE nameless_inputs AS SELECT * FROM business_inputs WHERE NOT named")
    premises_candidates(con, "nameless_inputs", "named_inputs", "nameless_candidates")
    con.execute(f"""
        INSERT INTO record_clusters
        SELECT l.unique_id, any_value(c.cluster_id), any_value(l.record_key)
        FROM nameless_candidates p
        JOIN nameless_inputs l ON l.unique_id = p.l_id
        JOIN named_inputs r ON r.unique_id = p.r_id
             AND r.active_from <= l.active_to AND l.active_from <= r.active_to
        JOIN record_clusters c ON c.record_id = r.unique_id
        WHERE l.active_from IS NOT NULL
          AND ({same_numbered_premises("number")} OR {ADDRESS_NAMES_BUSINESS})
        GROUP BY l.unique_id
        HAVING count(DISTINCT c.cluster_id) = 1
    """)


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Named records that scored no pair above the threshold are businesses of their own."""
    con.execute("""
        INSERT INTO record_clusters
        SELECT n.unique_id, 'solo-' || n.unique_id, n.record_key
        FROM named_inputs n ANTI JOIN record_clusters c ON c.record_id = n.unique_id
    """)


def new_business_id(record_key: str) -> str:
    return "B" + hashlib.sha1(record_key.encode("utf-8")).hexdigest()[:10].upper()


def _assign_stable_ids(con: duckdb.DuckDBPyConnection, previous: list[tuple[str, str]]) -> tuple[int, int]:
    con.execute("CREATE OR REPLACE TEMP TABLE previous_ids (record_key VARCHAR, business_id VARCHAR)")
    if previous:
        insert_rows(con, "previous_ids", ["record_key", "business_id"], previous)
    votes = con.execute("""
        SELECT c.cluster_id, p.business_id, count(*) AS n
        FROM record_clusters c JOIN previous_ids p USING (record_key)
        GROUP BY 1, 2 ORDER BY n DESC, p.business_id, c.cluster_id
    """).fetchall()
    keep: dict[str, str] = {}
    taken: set[str] = set()
    for cluster_id, business_id, _ in votes:  # greedy: most-shared first; an id goes to one cluster
        if cluster_id not in keep and business_id not in taken:
            keep[cluster_id] = business_id
            taken.add(business_id)
    firsts = con.execute("SELECT cluster_id, min(record_key) FROM record_clusters GROUP BY 1 ORDER BY 1").fetchall()
    assignment: list[tuple[str, str]] = []
    for cluster_id, first_key in firsts:
        business_id = keep.get(cluster_id)
        if business_id is None:
            business_id = new_business_id(first_key)
            while business_id in taken:
                business_id = new_business_id(business_id + first_key)
            taken.add(business_id)
        assignment.append((cluster_id, business_id))
    con.execute("CREATE OR REPLACE TEMP TABLE cluster_ids (cluster_id VARCHAR, business_id VARCHAR)")
    insert_rows(con, "cluster_ids", ["cluster_id", "business_id"], assignment)
    con.execute("""
        CREATE OR REPLACE TABLE record_businesses AS
        SELECT b.record_id, i.business_id, b.source || '|' || b.source_record_id AS record_key
        FROM business_records b
        LEFT JOIN record_clusters c USING (record_id)
        LEFT JOIN cluster_ids i USING (cluster_id);
        CREATE OR REPLACE TABLE business_id_changes AS
        WITH moves AS (
            SELECT p.business_id AS previous_id, r.business_id AS current_id, count(*) AS records
            FROM previous_ids p JOIN record_businesses r USING (record_key)
            WHERE p.business_id <> r.business_id GROUP BY 1, 2)
        SELECT previous_id, current_id, records,
               CASE WHEN previous_id IN (SELECT business_id FROM record_businesses) THEN 'split' ELSE 'merged' END
                   AS change
        FROM moves;
    """)
    merged = scalar(con, "SELECT count(DISTINCT previous_id) FROM business_id_changes WHERE change = 'merged'")
    split = scalar(con, "SELECT count(DISTINCT previous_id) FROM business_id_changes WHERE change = 'split'")
    return merged, split
