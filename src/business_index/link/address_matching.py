"""Addresses -> UPRNs: the one matcher that `bx build`, `bx match` and the address-matches endpoint
share, with one model file.

It compares two tables of one shape: the addresses to place (``INPUT_COLUMNS``, written by
``link/features.py`` for business records and for any list of addresses) and the gazetteer's
``address_features`` (one row per usable LPI of a live property). The model is a Splink settings
object with its probabilities (``link/address_model.py`` says what it compares); a build saves
the one it used in the published ``address_model`` table, so a list matched against an index is
scored exactly as that index's own records were.

Every input gets one decision (``address_decisions``): the property chosen, or none with the
reason, and in either case the best candidate and the runner-up with their probabilities, and the
model levels that decided. The rules, in order:

0. an input that names no property (a market pitch, an advertising right) is not placed;
1. no candidate shares a postcode, a street and number, a sector and number, ... (the blocking
   rules): "no candidate address";
2. the best candidate's probability is under ``min_probability``: "best candidate below the
   threshold";
3. the input has a building number and no address of the best candidate can have it (8 is not 10;
   8 is within 6-10): a different building however alike the rest, "building number differs";
4. the best other property (the highest ranked that is not the best one's building nor a unit of
   it) is within ``min_margin`` of the best's match weight, or as likely and sharing as many of the
   words: "two candidates too close to call" (never the lower UPRN by chance; of two equally likely, the one
   sharing more words is the best);
5. otherwise the best candidate, or, when it is a building of several units with only one business
   unit, that unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from business_index.clean.addresses import FLOOR_ORDER, TOP_FLOOR
from business_index.duckdb_utils import scalar
from business_index.link.compiled_model import CompiledModel, level_labels_sql, scoring_sql, sql_text
from business_index.records import LIVE_STATUSES_SQL

SHIPPED_ADDRESS_MODEL = Path(__file__).parent / "models" / "address_matching.json"
# Splink orders a pair's sides by dataset name: these names keep inputs on the left
INPUTS, ADDRESSES = "a_records", "b_addresses"
ADDRESS_COLUMNS = "unique_id, postcode, sector, district, sub_premises, number, number_base, street, tokens, floors"
INPUT_COLUMNS = f"{ADDRESS_COLUMNS}, name_keys, primary_name"
# what the model compares besides the columns themselves, computed once per address, not per pair:
# the distinct words, the building number as a range (8: 8-8; 6-10: 6-10), and the street's first
# four letters (of the first word that is not a number when no known street was read), and a flat's
# place in its building by number or letter (Flat 2 and Flat B are both 2)
COMPARED_FORMS = ("list_distinct(tokens) AS words, "
                  "CASE WHEN regexp_full_match(sub_premises, '[A-Z]') THEN ascii(sub_premises) - 64 "
                  "ELSE try_cast(sub_premises AS INTEGER) END AS flat_position, "
                  "left(coalesce(street, list_filter(tokens, lambda w: NOT (w[1] BETWEEN '0' AND '9'))[1]), 4) "
                  "AS street_head, try_cast(number_base AS INTEGER) AS number_low, "
                  "coalesce(try_cast(regexp_extract(number, '-([0-9]+)', 1) AS INTEGER), "
                  "try_cast(number_base AS INTEGER)) AS number_high")

DECIDED_BY_MODEL = "address_match"
DECIDED_BY_MODEL_TO_UNIT = "address_match_parent_to_unit"
NO_CANDIDATE = "no candidate address"
BELOW_THRESHOLD = "best candidate below the threshold"
NUMBER_DIFFERS = "building number differs from the best candidate's"
TOO_CLOSE = "two candidates too close to call"
NOT_A_PROPERTY = "describes a place that is not a property (pitch, advertising right, ...)"

# a pair less likely than this is not a candidate at all
MIN_CANDIDATE_PROBABILITY = 0.001


@dataclass(frozen=True)
class MatchRules:
    """When the best candidate is good enough: its probability, and its lead over the runner-up
    (in match weight, log2 of the odds: 1.0 means twice as likely)."""

    min_probability: float = 0.9
    min_margin: float = 0.0


def model_for_gazetteer(model: dict[str, Any], addresses: int) -> dict[str, Any]:
    """``model`` with the prior of this gazetteer: one true property among all of them, or none
    (so a gazetteer of one address is not a certain match, and its log-odds stay finite)."""
    fitted = dict(model)
    fitted["probability_two_random_records_match"] = 1.0 / (max(addresses, 1) + 1)
    return fitted


def load_model(path: Path = SHIPPED_ADDRESS_MODEL) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return model


def create_units_of_parents(con: duckdb.DuckDBPyConnection, addresses: str = "addresses") -> None:
    """``only_unit_of_parent``: a parent shell whose only business unit is one child. Records
    against the shell mean the unit."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE only_unit_of_parent AS
        SELECT parent_uprn, min(uprn) AS uprn FROM {addresses}
        WHERE logical_status IN {LIVE_STATUSES_SQL} AND parent_uprn IS NOT NULL
              AND NOT starts_with(coalesce(classification, ''), 'R')
              AND NOT starts_with(coalesce(classification, ''), 'P')
        GROUP BY parent_uprn HAVING count(*) = 1;
    """)


def prepare_gazetteer(con: duckdb.DuckDBPyConnection) -> None:
    """The gazetteer side of the comparison (``match_addresses``), computed once for every batch
    scored on this connection; call again when ``address_features`` changes."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE match_addresses AS SELECT {ADDRESS_COLUMNS}, {COMPARED_FORMS},
            []::VARCHAR[] AS name_keys, NULL::VARCHAR AS primary_name, org_key, kind FROM address_features;
    """)


def score_candidates(con: duckdb.DuckDBPyConnection, inputs: str, model: CompiledModel) -> int:
    """Score every candidate property of every input of ``inputs`` (``INPUT_COLUMNS``) against the
    gazetteer ``prepare_gazetteer`` made, into the temp table ``address_ranked`` (input_id, uprn,
    match_weight, match_probability, likeness, kind, level (of the best only), parent_uprn, rank);
    returns the number
    of pairs kept."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE match_inputs AS SELECT {INPUT_COLUMNS}, {COMPARED_FORMS},
            NULL::VARCHAR AS org_key, NULL::VARCHAR AS kind FROM {inputs};
    """)
    _resolve_top_floors(con)
    columns = [c.strip() for c in f"{INPUT_COLUMNS}, words, flat_position, street_head, number_low, number_high, "
                                  "org_key, kind".split(",")]
    scored = scoring_sql(model, "match_inputs", "match_addresses", columns, columns, MIN_CANDIDATE_PROBABILITY)
    # candidates of equal weight are told apart by the share of their words in common (worked out
    # only where the best weight is shared: most inputs have one best)
    likeness = ("len(list_filter(i.words, lambda w: list_contains(g.words, w))) * 1.0 / "
                "nullif(len(list_distinct(list_concat(i.words, g.words))), 0)")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE address_pairs AS {scored};
        CREATE OR REPLACE TEMP TABLE address_candidates AS
        SELECT *, max(match_weight) OVER (PARTITION BY input_id) AS top_weight FROM (
            SELECT p.unique_id_l AS input_id, a.uprn, max(p.match_weight) AS match_weight,
                   max(p.match_probability) AS match_probability, any_value(a.kind) AS kind,
                   arg_max(p.levels, p.match_weight) AS levels, any_value(a.parent_uprn) AS parent_uprn
            FROM address_pairs p JOIN address_features a ON a.unique_id = p.unique_id_r
            GROUP BY 1, 2);
        CREATE OR REPLACE TEMP TABLE tied_likeness AS
        SELECT c.input_id, c.uprn, max({likeness}) AS likeness
        FROM address_candidates c JOIN address_features a ON a.uprn = c.uprn
        JOIN match_addresses g ON g.unique_id = a.unique_id JOIN match_inputs i ON i.unique_id = c.input_id
        WHERE c.match_weight = c.top_weight AND c.input_id IN (
            SELECT input_id FROM address_candidates WHERE match_weight = top_weight GROUP BY 1 HAVING count(*) > 1)
        GROUP BY 1, 2;
        CREATE OR REPLACE TEMP TABLE address_ranked AS
        SELECT input_id, uprn, match_weight, match_probability, likeness, kind,
               CASE WHEN rank = 1 THEN {level_labels_sql(model, 'levels')} END AS level, parent_uprn, rank
        FROM (
            SELECT c.*, t.likeness, row_number() OVER (
                PARTITION BY c.input_id ORDER BY c.match_weight DESC, t.likeness DESC NULLS LAST, c.uprn) AS rank
            FROM address_candidates c LEFT JOIN tied_likeness t USING (input_id, uprn));
    """)
    pairs = scalar(con, "SELECT count(*) FROM address_pairs")
    con.execute("DROP TABLE address_pairs; DROP TABLE address_candidates; DROP TABLE tied_likeness; DROP TABLE match_inputs")
    return int(pairs)


def _resolve_top_floors(con: duckdb.DuckDBPyConnection) -> None:
    """"Top floor flat, 12 High Street" is the highest floor the gazetteer names at 12 High Street
    (same postcode, same number); with no floors there, it stays as written."""
    rank = "list_max(list_transform({}, lambda f: {}))".format(
        "{floors}", "CASE " + " ".join(f"WHEN f = {sql_text(floor)} THEN {i}" for i, floor in enumerate(FLOOR_ORDER)) + " END")
    con.execute(f"""
        UPDATE match_inputs SET sub_premises = top.floor, floors = [top.floor]
        FROM (
            SELECT i.unique_id,
                   [{', '.join(sql_text(f) for f in FLOOR_ORDER)}][max({rank.format(floors='a.floors')}) + 1] AS floor
            FROM match_inputs i JOIN address_features a ON a.postcode = i.postcode AND a.number_base = i.number_base
            WHERE i.sub_premises = {sql_text(TOP_FLOOR)} AND {rank.format(floors='a.floors')} IS NOT NULL
            GROUP BY 1) top
        WHERE match_inputs.unique_id = top.unique_id
    """)


def decide(con: duckdb.DuckDBPyConnection, inputs: str, rules: MatchRules, not_a_property: str = "false") -> None:
    """One decision per input of ``inputs`` from ``address_ranked`` into the temp table
    ``address_decisions`` (input_id, uprn, match_probability, decided_by, level, reason,
    best_uprn, best_probability, runner_up_uprn, runner_up_probability); ``not_a_property`` is a
    SQL condition on the input row ``i`` that says it names no property at all."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE address_decisions AS
        WITH best AS (SELECT * FROM address_ranked WHERE rank = 1),
        runner_up AS (SELECT * FROM address_ranked WHERE rank = 2),
        -- the best other property: not the best one's building, nor a unit of it
        rival AS (
            SELECT c.* FROM address_ranked c JOIN best b USING (input_id)
            WHERE c.rank > 1 AND coalesce(c.parent_uprn, -1) <> b.uprn AND coalesce(b.parent_uprn, -1) <> c.uprn
            QUALIFY row_number() OVER (PARTITION BY c.input_id ORDER BY c.rank) = 1),
        judged AS (
            SELECT i.unique_id AS input_id, b.uprn AS best_uprn, b.match_probability AS best_probability,
                   b.match_weight AS best_weight, b.kind AS best_kind, b.level, b.parent_uprn AS best_parent,
                   r.uprn AS runner_up_uprn, r.match_probability AS runner_up_probability,
                   r.match_weight AS runner_up_weight, r.parent_uprn AS runner_up_parent,
                   CASE
                       WHEN {not_a_property} THEN {sql_text(NOT_A_PROPERTY)}
                       WHEN b.uprn IS NULL THEN {sql_text(NO_CANDIDATE)}
                       WHEN b.match_probability < {rules.min_probability} THEN {sql_text(BELOW_THRESHOLD)}
                       WHEN i.number_base IS NOT NULL AND NOT EXISTS (
                           SELECT 1 FROM address_features a
                           WHERE a.uprn = b.uprn AND (
                               a.number_base IS NULL OR a.number_base = i.number_base
                               OR try_cast(i.number_base AS INTEGER) BETWEEN
                                      try_cast(regexp_extract(a.number, '^([0-9]+)', 1) AS INTEGER)
                                  AND try_cast(regexp_extract(a.number, '-([0-9]+)', 1) AS INTEGER)))
                           THEN {sql_text(NUMBER_DIFFERS)}
                       WHEN v.uprn IS NOT NULL AND (b.match_weight - v.match_weight < {rules.min_margin}
                                                    OR (b.match_weight = v.match_weight AND b.likeness = v.likeness))
                           THEN {sql_text(TOO_CLOSE)}
                   END AS reason
            FROM {inputs} i LEFT JOIN best b ON b.input_id = i.unique_id
            LEFT JOIN runner_up r ON r.input_id = i.unique_id
            LEFT JOIN rival v ON v.input_id = i.unique_id)
        SELECT j.input_id,
               CASE WHEN j.reason IS NULL THEN coalesce(o.uprn, j.best_uprn) END AS uprn,
               CASE WHEN j.reason IS NULL THEN j.best_probability END AS match_probability,
               CASE WHEN j.reason IS NOT NULL THEN NULL
                    WHEN o.uprn IS NOT NULL THEN '{DECIDED_BY_MODEL_TO_UNIT}' ELSE '{DECIDED_BY_MODEL}' END AS decided_by,
               j.level, j.reason, j.best_uprn, j.best_probability, j.runner_up_uprn, j.runner_up_probability
        FROM judged j
        LEFT JOIN only_unit_of_parent o ON o.parent_uprn = j.best_uprn AND j.best_kind = 'parent'
    """)

