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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker

from business_index.duckdb_utils import insert_rows, scalar
from business_index.link.business_inputs import (
    BUSINESS_INPUT_STEPS,
    DEFAULT_MAX_BLOCK_SIZE,
    business_input_steps,
)
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
from business_index.sql_steps import run_steps

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
    run_steps(con, BUSINESS_INPUT_STEPS)
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
                       previous_ids: PreviousIds | None = None,
                       max_block_size: int = DEFAULT_MAX_BLOCK_SIZE, *,
                       name_engine: NameEngine | None = None) -> BusinessReport:
    """Fill ``record_establishments`` (record_id, record_key, establishment_id, organisation_id),
    ``id_changes`` and ``business_inputs``; the model pairs records in blocks of at most
    ``max_block_size`` (``business_model.BLOCKING_KEYS``); ``name_engine`` scores and clusters the
    names (default: Splink on DuckDB, in ``con``)."""
    quiet_splink()
    previous = previous_ids or PreviousIds()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    run_steps(con, business_input_steps(max_block_size))
    seconds["inputs"] = time.perf_counter() - started
    model = json.loads(model_path.read_text(encoding="utf-8"))
    if model.get("business_index_model_version") != MODEL_VERSION:
        raise ValueError(f"{model_path}: model version {model.get('business_index_model_version')!r}, "
                         f"this software needs {MODEL_VERSION!r}: retrain it with `bx train`")
    pairs = (name_engine or cluster_names_with_duckdb)(con, model["splink_settings"], threshold, seconds)
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


# scores the pairs of ``named_inputs`` with the model's Splink settings and fills ``name_clusters``
# at the threshold; adds its steps' seconds and returns the number of pairs scored
NameEngine = Callable[[duckdb.DuckDBPyConnection, dict, float, dict[str, float]], int]


def cluster_names_with_duckdb(con: duckdb.DuckDBPyConnection, splink_settings: dict, threshold: float,
                              seconds: dict[str, float]) -> int:
    """Splink on DuckDB, in ``con``: the default ``NameEngine``."""
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("named_inputs")
    linker = Linker(records, splink_settings, log_level=SPLINK_LOG_LEVEL)
    started = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    seconds["score_pairs"] = time.perf_counter() - started
    started = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    write_name_clusters(con, clusters.physical_name)
    pairs = scalar(con, f"SELECT count(*) FROM {predictions.physical_name}")
    for table in (clusters, predictions):
        table.drop_table_from_database_and_remove_from_cache()
    seconds["cluster_names"] = time.perf_counter() - started
    return pairs


def write_name_clusters(con: duckdb.DuckDBPyConnection, clusters: str) -> None:
    """``name_clusters`` from Splink's clusters (unique_id, cluster_id) in table or view ``clusters``:
    records the model says name one business, whatever their premises; a named record in no
    cluster is one of its own."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE name_clusters AS
        SELECT c.unique_id AS record_id, 'n' || c.cluster_id AS cluster_id
        FROM {clusters} c JOIN named_inputs i USING (unique_id);
        INSERT INTO name_clusters
        SELECT n.unique_id, 'n' || n.unique_id FROM named_inputs n
        ANTI JOIN name_clusters c ON c.record_id = n.unique_id;
    """)


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
