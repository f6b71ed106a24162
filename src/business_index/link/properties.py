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
from business_index.link.address_model import address_settings
from business_index.link.deterministic import link_by_keys
from business_index.link.splink_logging import SPLINK_LOG_LEVEL, quiet_splink

ADDRESS_MODEL_FILE = Path(__file__).parent / "models" / "address_matching.json"
RULE_ADDRESS_MATCH = "address_match"
RULE_ADDRESS_MATCH_TO_UNIT = "address_match_parent_to_unit"
RULE_SHARED_REFERENCE = "shared_property_reference"
MIN_LABELLED_PAIRS = 200
# Splink orders a pair's sides by dataset name: these names keep records on the left
RECORDS, ADDRESSES = "a_records", "b_addresses"
_MATCH_COLUMNS = "unique_id, postcode, sector, district, sub_premises, number, number_base, street, tokens"


@dataclass
class PropertyLinkReport:
    records: int
    linked_by_rule: dict[str, int]
    unmatched: int
    model: dict[str, object]


def match_records_to_uprns(
    con: duckdb.DuckDBPyConnection,
    ndr_source_codes: list[str],
    threshold: float,
    fallback_model: Path | None = ADDRESS_MODEL_FILE,
) -> PropertyLinkReport:
    """Fill ``record_links`` and ``unmatched_records`` for every business record."""
    link_by_keys(con, ndr_source_codes)
    have_gazetteer = scalar(con, "SELECT count(*) FROM address_features") > 0  # type: ignore[index]
    model_info: dict[str, object] = {"trained_on_pairs": 0}
    if have_gazetteer:
        model_info = _match_by_address(con, threshold, fallback_model)
    _share_links_within_property_reference(con)
    _list_unmatched(con)
    linked = dict(con.execute(
        "SELECT link_rule, count(*) FROM record_links GROUP BY 1 ORDER BY 2 DESC").fetchall())
    total = scalar(con, "SELECT count(*) FROM business_records")
    unmatched = scalar(con, "SELECT count(*) FROM unmatched_records")
    return PropertyLinkReport(total, linked, unmatched, model_info)


def _match_by_address(con: duckdb.DuckDBPyConnection, threshold: float, fallback_model: Path | None) -> dict[str, object]:
    quiet_splink()
    _prepare_match_tables(con)
    n_labels = scalar(con, "SELECT count(*) FROM labelled_pairs")
    if n_labels >= MIN_LABELLED_PAIRS:
        model = _train(con)
        source = "this build's own keyed links"
    elif fallback_model is not None and fallback_model.exists():
        model = json.loads(fallback_model.read_text())
        # the prior belongs to this gazetteer, not the one the model was trained on
        model["probability_two_random_records_match"] = 1.0 / max(scalar(con, "SELECT count(*) FROM address_features"), 1)
        source = str(fallback_model)
    else:
        return {"trained_on_pairs": n_labels, "skipped": "too few keyed links to learn from and no saved model"}
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("unlinked_records", dataset_display_name=RECORDS)
    addresses = db_api.register("match_addresses", dataset_display_name=ADDRESSES)
    linker = Linker([records, addresses], model, log_level=SPLINK_LOG_LEVEL)
    predictions = linker.inference.predict(threshold_match_probability=0.001)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE address_candidates AS
        SELECT r.unique_id_l AS record_id, a.uprn, max(r.match_weight) AS match_weight,
               max(r.match_probability) AS match_probability, any_value(a.kind) AS kind
        FROM {predictions.physical_name} r JOIN address_features a ON a.unique_id = r.unique_id_r
        GROUP BY 1, 2;
        CREATE OR REPLACE TEMP TABLE address_ranked AS
        SELECT *, row_number() OVER (PARTITION BY record_id ORDER BY match_weight DESC, uprn) AS rank,
               match_weight - coalesce(lead(match_weight) OVER (PARTITION BY record_id ORDER BY match_weight DESC, uprn),
                                       match_weight - 20) AS distinguishability
        FROM address_candidates;
    """)
    con.execute(f"""
        INSERT INTO record_links
        SELECT r.record_id, coalesce(o.uprn, r.uprn),
               CASE WHEN o.uprn IS NOT NULL THEN '{RULE_ADDRESS_MATCH_TO_UNIT}' ELSE '{RULE_ADDRESS_MATCH}' END,
               r.match_probability
        FROM address_ranked r
        LEFT JOIN only_unit_of_parent o ON o.parent_uprn = r.uprn AND r.kind = 'parent'
        WHERE r.rank = 1 AND r.match_probability >= {threshold}
          -- a different building number is a different building, however alike the rest
          AND NOT EXISTS (
              SELECT 1 FROM record_features f
              WHERE f.unique_id = r.record_id AND f.number_base IS NOT NULL
                AND NOT EXISTS (
                    SELECT 1 FROM address_features a
                    WHERE a.uprn = r.uprn AND (
                        a.number_base IS NULL OR a.number_base = f.number_base
                        OR try_cast(f.number_base AS INTEGER) BETWEEN
                               try_cast(regexp_extract(a.number, '^([0-9]+)', 1) AS INTEGER)
                           AND try_cast(regexp_extract(a.number, '-([0-9]+)', 1) AS INTEGER))))
    """)
    return {"trained_on_pairs": n_labels, "source": source, "predicted_pairs": scalar(con, f"SELECT count(*) FROM {predictions.physical_name}")}


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
    records = db_api.register("match_records", dataset_display_name=RECORDS)
    addresses = db_api.register("match_addresses", dataset_display_name=ADDRESSES)
    linker = Linker([records, addresses], address_settings(), log_level=SPLINK_LOG_LEVEL)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e5, seed=1)
    linker.training.estimate_m_from_pairwise_labels("labelled_pairs")
    model = linker.misc.save_model_to_json()
    # the prior: roughly one true candidate per record among all pairs
    n_records = scalar(con, "SELECT count(*) FROM record_features")
    n_addresses = scalar(con, "SELECT count(*) FROM address_features")
    model["probability_two_random_records_match"] = 1.0 / max(n_addresses, 1) if n_records else 1e-6
    return model


def _prepare_match_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE labelled_pairs AS
        SELECT '{RECORDS}' AS source_dataset_l, l.record_id AS unique_id_l,
               '{ADDRESSES}' AS source_dataset_r, min(a.unique_id) AS unique_id_r
        FROM record_links l JOIN address_features a ON a.uprn = l.uprn AND a.lpi_status = 1
        GROUP BY l.record_id;
    """)
    # Splink links two tables of one shape: records have no organisation or kind, addresses no names
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW match_records AS SELECT {_MATCH_COLUMNS},
            name_keys, primary_name, NULL::VARCHAR AS org_key, NULL::VARCHAR AS kind FROM record_features;
        CREATE OR REPLACE TEMP VIEW match_addresses AS SELECT {_MATCH_COLUMNS},
            []::VARCHAR[] AS name_keys, NULL::VARCHAR AS primary_name, org_key, kind FROM address_features;
        CREATE OR REPLACE TEMP TABLE unlinked_records AS
        SELECT m.* FROM match_records m ANTI JOIN record_links l ON l.record_id = m.unique_id
        WHERE m.unique_id NOT IN (SELECT unique_id FROM record_features WHERE not_a_property);
    """)


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
    has_candidates = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'address_ranked'")
    candidates = ("(SELECT record_id, list({'uprn': uprn, 'match_probability': round(match_probability, 4)} "
                  "ORDER BY rank) FILTER (WHERE rank <= 3) AS best_candidates FROM address_ranked GROUP BY 1)"
                  if has_candidates else "(SELECT NULL::BIGINT AS record_id, NULL AS best_candidates LIMIT 0)")
    con.execute(f"""
        CREATE OR REPLACE TABLE unmatched_records AS
        SELECT r.record_id, r.uprn AS given_uprn,
               CASE WHEN r.uprn IS NOT NULL THEN 'the UPRN given is not a live property'
                    WHEN f.not_a_property THEN 'describes a place that is not a property (pitch, advertising right, ...)'
                    WHEN c.best_candidates IS NULL THEN 'no candidate address'
                    ELSE 'best candidate below the threshold' END AS reason,
               c.best_candidates
        FROM business_records r
        JOIN record_features f ON f.unique_id = r.record_id
        LEFT JOIN {candidates} c USING (record_id)
        WHERE NOT EXISTS (SELECT 1 FROM record_links k WHERE k.record_id = r.record_id)
    """)
