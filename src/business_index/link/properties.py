"""Business records -> UPRNs: shared keys first, then probabilistic address matching.

The address model is trained on each build's own data: its m probabilities come from the records
the council's keys already link (cross references and UPRN columns are, in effect, free labels
written by the council's own systems), its u probabilities from random pairs. So it learns how
this council's clerks write addresses without anyone labelling anything. Records whose best
candidate is below the threshold stay unmatched and are listed for review with their candidates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker

from business_index.duckdb_utils import scalar
from business_index.link.address_matching import (
    ADDRESS_COLUMNS,
    ADDRESSES,
    COMPARED_FORMS,
    INPUT_COLUMNS,
    INPUTS,
    NO_CANDIDATE,
    NOT_A_PROPERTY,
    SHIPPED_ADDRESS_MODEL,
    MatchRules,
    decide,
    load_model,
    model_for_gazetteer,
    prepare_gazetteer,
    score_candidates,
)
from business_index.link.address_model import address_settings
from business_index.link.compiled_model import compile_model
from business_index.link.deterministic import link_by_keys
from business_index.link.splink_logging import SPLINK_LOG_LEVEL, quiet_splink

RULE_SHARED_REFERENCE = "shared_property_reference"
MIN_LABELLED_PAIRS = 200


@dataclass
class PropertyLinkReport:
    records: int
    linked_by_rule: dict[str, int]
    unmatched: int
    model: dict[str, object]


def match_records_to_uprns(
    con: duckdb.DuckDBPyConnection,
    ndr_source_codes: list[str],
    rules: MatchRules,
    stopwords: frozenset[str],
    fallback_model: Path | None = SHIPPED_ADDRESS_MODEL,
) -> PropertyLinkReport:
    """Fill ``record_links`` and ``unmatched_records`` for every business record, and save the
    address model used in ``address_model``."""
    link_by_keys(con, ndr_source_codes)
    have_gazetteer = scalar(con, "SELECT count(*) FROM address_features") > 0  # type: ignore[index]
    model_info: dict[str, object] = {"trained_on_pairs": 0}
    if have_gazetteer:
        model_info = _match_by_address(con, rules, fallback_model)
    if "model" in model_info:
        save_address_model(con, model_info.pop("model"), str(model_info["source"]), rules, stopwords)  # type: ignore[arg-type]
    else:
        save_address_model(con, load_model(SHIPPED_ADDRESS_MODEL), "the shipped model", rules, stopwords)
    _share_links_within_property_reference(con)
    _list_unmatched(con)
    linked = dict(con.execute(
        "SELECT link_rule, count(*) FROM record_links GROUP BY 1 ORDER BY 2 DESC").fetchall())
    total = scalar(con, "SELECT count(*) FROM business_records")
    unmatched = scalar(con, "SELECT count(*) FROM unmatched_records")
    return PropertyLinkReport(total, linked, unmatched, model_info)


def _match_by_address(con: duckdb.DuckDBPyConnection, rules: MatchRules, fallback_model: Path | None) -> dict[str, object]:
    quiet_splink()
    _prepare_match_tables(con)
    n_labels = scalar(con, "SELECT count(*) FROM labelled_pairs")
    n_addresses = scalar(con, "SELECT count(*) FROM address_features")
    if n_labels >= MIN_LABELLED_PAIRS:
        model = _train(con)
        source = "this build's own keyed links"
    elif fallback_model is not None and fallback_model.exists():
        # the prior belongs to this gazetteer, not the one the model was trained on
        model = model_for_gazetteer(load_model(fallback_model), n_addresses)
        source = "the shipped model" if fallback_model == SHIPPED_ADDRESS_MODEL else str(fallback_model)
    else:
        return {"trained_on_pairs": n_labels, "skipped": "too few keyed links to learn from and no saved model"}
    prepare_gazetteer(con)
    pairs = score_candidates(con, "unlinked_records", compile_model(model))
    decide(con, "unlinked_records", rules)
    con.execute("""
        INSERT INTO record_links
        SELECT input_id, uprn, decided_by, match_probability FROM address_decisions WHERE uprn IS NOT NULL
    """)
    return {"trained_on_pairs": n_labels, "source": source, "predicted_pairs": pairs, "model": model}


def train_address_model(con: duckdb.DuckDBPyConnection, out: Path) -> dict:
    """Train the address model on ``con``'s keyed links and save it: the model a build falls back on
    when its own data has too few keyed links to learn from."""
    _prepare_match_tables(con)
    model = _train(con)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    return model


def _train(con: duckdb.DuckDBPyConnection) -> dict:
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("match_records", dataset_display_name=INPUTS)
    addresses = db_api.register("training_addresses", dataset_display_name=ADDRESSES)
    linker = Linker([records, addresses], address_settings(), log_level=SPLINK_LOG_LEVEL)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e5, seed=1)
    linker.training.estimate_m_from_pairwise_labels("labelled_pairs")
    model = linker.misc.save_model_to_json()
    # the prior: roughly one true candidate per record among all pairs
    n_records = scalar(con, "SELECT count(*) FROM record_features")
    n_addresses = scalar(con, "SELECT count(*) FROM address_features")
    model["probability_two_random_records_match"] = 1.0 / (max(n_addresses, 1) + 1) if n_records else 1e-6
    return model


def _prepare_match_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE labelled_pairs AS
        SELECT '{INPUTS}' AS source_dataset_l, l.record_id AS unique_id_l,
               '{ADDRESSES}' AS source_dataset_r, min(a.unique_id) AS unique_id_r
        FROM record_links l JOIN address_features a ON a.uprn = l.uprn AND a.lpi_status = 1
        GROUP BY l.record_id;
    """)
    # Splink links two tables of one shape: records have no organisation or kind, addresses no names
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW match_records AS SELECT {INPUT_COLUMNS}, {COMPARED_FORMS},
            NULL::VARCHAR AS org_key, NULL::VARCHAR AS kind FROM record_features;
        CREATE OR REPLACE TEMP VIEW training_addresses AS SELECT {ADDRESS_COLUMNS}, {COMPARED_FORMS},
            []::VARCHAR[] AS name_keys, NULL::VARCHAR AS primary_name, org_key, kind FROM address_features;
        CREATE OR REPLACE TEMP TABLE unlinked_records AS
        SELECT {INPUT_COLUMNS} FROM record_features f ANTI JOIN record_links l ON l.record_id = f.unique_id
        WHERE NOT f.not_a_property;
    """)


def save_address_model(con: duckdb.DuckDBPyConnection, model: dict, source: str, rules: MatchRules,
                       stopwords: frozenset[str]) -> None:
    """Publish the address model, rules and stop words this build matched with, so that `bx match`
    and the API place a list's addresses exactly as the build placed its records."""
    con.execute("""CREATE OR REPLACE TABLE address_model (
        model JSON, source VARCHAR, stopwords VARCHAR[], min_probability DOUBLE, min_margin DOUBLE)""")
    con.execute("INSERT INTO address_model VALUES (?, ?, ?, ?, ?)",
                [json.dumps(model), source, sorted(stopwords), rules.min_probability, rules.min_margin])


def _share_links_within_property_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Rates records of one hereditament (same property reference) share its UPRN when only some are linked."""
    con.execute(f"""
        INSERT INTO record_links
        SELECT r.record_id, best.uprn, '{RULE_SHARED_REFERENCE}', best.p
        FROM business_records r
        JOIN (
            SELECT b.property_ref, arg_max(l.uprn, l.match_probability) AS uprn, max(l.match_probability) AS p
            FROM business_records b JOIN record_links l USING (record_id)
            WHERE b.source_kind = 'rates' AND b.property_ref IS NOT NULL
            GROUP BY b.property_ref HAVING count(DISTINCT l.uprn) = 1
        ) best ON best.property_ref = r.property_ref
        WHERE r.source_kind = 'rates' AND NOT EXISTS (SELECT 1 FROM record_links k WHERE k.record_id = r.record_id)
    """)


def _list_unmatched(con: duckdb.DuckDBPyConnection) -> None:
    matched = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'address_decisions'")
    candidates = ("(SELECT input_id AS record_id, list({'uprn': uprn, 'match_probability': round(match_probability, 4)} "
                  "ORDER BY rank) FILTER (WHERE rank <= 3) AS best_candidates FROM address_ranked GROUP BY 1)"
                  if matched else "(SELECT NULL::BIGINT AS record_id, NULL AS best_candidates LIMIT 0)")
    decisions = ("(SELECT input_id AS record_id, reason FROM address_decisions)" if matched
                 else "(SELECT NULL::BIGINT AS record_id, NULL::VARCHAR AS reason LIMIT 0)")
    con.execute(f"""
        CREATE OR REPLACE TABLE unmatched_records AS
        SELECT r.record_id, r.uprn AS given_uprn,
               CASE WHEN r.uprn IS NOT NULL THEN 'the UPRN given is not a live property'
                    WHEN f.not_a_property THEN $${NOT_A_PROPERTY}$$
                    ELSE coalesce(d.reason, $${NO_CANDIDATE}$$) END AS reason,
               c.best_candidates
        FROM business_records r
        JOIN record_features f ON f.unique_id = r.record_id
        LEFT JOIN {candidates} c USING (record_id)
        LEFT JOIN {decisions} d USING (record_id)
        WHERE NOT EXISTS (SELECT 1 FROM record_links k WHERE k.record_id = r.record_id)
    """)
