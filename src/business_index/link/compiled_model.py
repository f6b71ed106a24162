"""A saved Splink model as one SQL query: blocking, comparison levels and match weights.

Splink trains the models (``link/properties.py``, ``link/businesses.py``); scoring with one needs
only what the model file holds: the blocking rules, each comparison's levels (an SQL condition and
a Bayes factor, read through Splink's own settings object so that defaults apply exactly as in
Splink) and the prior. Compiled to one statement, scoring a batch costs a join and a few
expressions per pair, without Splink's per-call set-up (concatenating both tables, caching,
checks), which dominated matching lists of addresses. A test checks that the weights equal
Splink's ``predict`` on the same pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from splink.internals.settings_creator import SettingsCreator

from business_index.link.splink_logging import quiet_splink


@dataclass(frozen=True)
class CompiledComparison:
    name: str
    conditions: tuple[str, ...]  # in order; the last level is the ELSE
    log2_bayes_factors: tuple[float, ...]  # 0.0 for a null level
    labels: tuple[str, ...]


@dataclass(frozen=True)
class CompiledModel:
    blocking_rules: tuple[str, ...]
    comparisons: tuple[CompiledComparison, ...]
    prior_weight: float  # log2 of the prior odds that two random records match


def compile_model(model: dict[str, Any]) -> CompiledModel:
    """The scoring parts of a saved Splink model (a settings dict with its probabilities)."""
    quiet_splink()
    settings = SettingsCreator.from_path_or_dict(model).get_settings("duckdb")
    comparisons = []
    for comparison in settings.comparisons:
        conditions, weights, labels = [], [], []
        for level in comparison.comparison_levels:
            condition = level.sql_condition.strip()
            if condition.upper() == "ELSE" and level is not comparison.comparison_levels[-1]:
                raise ValueError(f"comparison {comparison.output_column_name}: ELSE is not its last level")
            conditions.append(condition)
            weights.append(0.0 if level.is_null_level else float(level._log2_bayes_factor))
            labels.append(level.label_for_charts)
        comparisons.append(CompiledComparison(comparison.output_column_name, tuple(conditions), tuple(weights),
                                              tuple(labels)))
    prior = float(settings._probability_two_random_records_match)
    rules = tuple(rule.blocking_rule_sql for rule in settings._blocking_rules_to_generate_predictions)
    return CompiledModel(rules, tuple(comparisons), math.log2(prior / (1.0 - prior)))


def scoring_sql(model: CompiledModel, left: str, right: str, left_columns: list[str], right_columns: list[str],
                min_probability: float) -> str:
    """A query over tables ``left`` and ``right`` (both with ``unique_id``) giving every pair the
    blocking rules generate once, at or above ``min_probability``: unique_id_l, unique_id_r,
    match_weight, match_probability and ``levels`` (each comparison's level, 1-based)."""
    blocked = "\n        UNION\n        ".join(
        f"SELECT l.unique_id AS unique_id_l, r.unique_id AS unique_id_r FROM {left} l JOIN {right} r ON {rule}"
        for rule in model.blocking_rules)
    suffixed_l = ", ".join(f'l."{c}" AS "{c}_l"' for c in left_columns)
    suffixed_r = ", ".join(f'r."{c}" AS "{c}_r"' for c in right_columns)
    levels = ",\n               ".join(
        "CASE " + " ".join(f"WHEN {c} THEN {i + 1}" for i, c in enumerate(comp.conditions[:-1]))
        + f" ELSE {len(comp.conditions)} END AS \"level_{comp.name}\""
        for comp in model.comparisons)
    weight = " + ".join(
        f"[{', '.join(_double(w) for w in comp.log2_bayes_factors)}][\"level_{comp.name}\"]" for comp in model.comparisons)
    level_list = ", ".join(f'"level_{comp.name}"' for comp in model.comparisons)
    min_weight = math.log2(min_probability / (1.0 - min_probability)) if 0 < min_probability < 1 else -1e308
    return f"""
    WITH blocked AS (
        {blocked}
    ),
    compared AS (
        SELECT b.unique_id_l, b.unique_id_r,
               {levels}
        FROM blocked b
        JOIN (SELECT {suffixed_l} FROM {left} l) lc ON lc.unique_id_l = b.unique_id_l
        JOIN (SELECT {suffixed_r} FROM {right} r) rc ON rc.unique_id_r = b.unique_id_r
    ),
    weighed AS (
        SELECT unique_id_l, unique_id_r, {_double(model.prior_weight)} + {weight} AS match_weight, [{level_list}] AS levels
        FROM compared
    )
    SELECT unique_id_l, unique_id_r, match_weight, pow(2, match_weight) / (1 + pow(2, match_weight)) AS match_probability,
           levels
    FROM weighed WHERE match_weight >= {_double(min_weight)}"""


def level_labels_sql(model: CompiledModel, levels: str) -> str:
    """An SQL expression naming, from a ``levels`` list, the level of each comparison."""
    parts = [f"'{comp.name}: ' || [{', '.join(sql_text(label) for label in comp.labels)}][{levels}[{i + 1}]]"
             for i, comp in enumerate(model.comparisons)]
    return f"concat_ws('; ', {', '.join(parts)})"


def _double(value: float) -> str:
    """``value`` as an SQL DOUBLE (a bare 1.25 would be a DECIMAL, rounded to its scale)."""
    if math.isinf(value):
        return "'inf'::DOUBLE" if value > 0 else "'-inf'::DOUBLE"
    return f"{value!r}::DOUBLE"


def sql_text(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
