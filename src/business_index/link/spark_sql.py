"""The business model's DuckDB SQL as Spark SQL: one translation, so that Spark scores pairs with the
same model file (``models/business_resolution.json``) that DuckDB does.

The model's custom comparison levels are written in DuckDB SQL (``business_model.py``). Splink can
transpile a level given its base dialect (``CustomLevel(base_dialect_str=...)``), but it does so
with sqlglot's stock Spark generator, which is wrong for what this model uses: DuckDB's ``len`` of a
list becomes Spark's ``LENGTH`` (a string's length, an error on an array), ``list_has_any``
becomes ``&&`` (not Spark SQL), and ``list_has_all``, ``list_intersect``,
``jaro_winkler_similarity`` and ``damerau_levenshtein`` pass through under names Spark does not
know. So the levels are parsed with sqlglot's DuckDB dialect, these nodes are rewritten, and the
tree is written as Spark SQL:

================================  ==========================================================================
DuckDB                            Spark
================================  ==========================================================================
``len(list)``                     ``size(list)`` (``len``/``length`` of a string stays ``length``)
``list_has_any(a, b)``            ``arrays_overlap(a, b)``
``list_has_all(a, b)``            ``IF(a IS NULL, NULL, forall(b, e -> e IS NULL OR array_contains(a, e)))``
``list_intersect(a, b)``          ``IF(b IS NULL, filter(a, e -> FALSE), array_intersect(a, b))`` (distinct elements)
``list_transform``, ``list_max``  ``transform``, ``array_max`` (sqlglot's own)
``jaro_winkler_similarity``       DuckDB's algorithm: ``bx_jaro_winkler`` (this package's jar), not Splink's UDF
``jaro_similarity``               ``jaro_sim`` (Splink's Scala UDF)
``damerau_levenshtein``           ``bx_damerau_levenshtein`` (this package's jar), else Splink's Scala UDF
================================  ==========================================================================

Which columns are lists is told, not guessed (``array_columns``: the input table's LIST columns;
Splink's ``name_keys_l`` / ``name_keys_r`` are list columns when ``name_keys`` is one), and a
function's result is a list when the function makes one. ``len`` of anything else is kept as a
string length. A function this module does not know is left as written, so that Spark names it in
its error rather than a wrong translation running.

``size(NULL)`` is NULL only when Spark's ``spark.sql.legacy.sizeOfNull`` is false (the default
under ANSI mode, Spark 4's default); ``spark_engine`` sets it, as DuckDB's ``len(NULL)`` is NULL.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp

# Splink's similarity UDFs (splink.backends.spark jar), by the DuckDB function they stand for
UDF_NAMES = {"jaro_similarity": "jaro_sim", "damerau_levenshtein": "damerau_levenshtein"}

# expressions whose value is a list, whatever their arguments
_LIST_MAKERS = (exp.Array, exp.ArrayFilter, exp.Transform, exp.ArrayConcat, exp.ArrayDistinct,
                exp.ArraySort, exp.ArrayIntersect, exp.Split)
_LIST_FUNCTIONS = frozenset({"list_intersect", "array_intersect", "list_distinct", "list_filter",
                             "list_transform", "string_split", "str_split", "filter", "transform"})


class UntranslatableSql(ValueError):
    """A model condition this module cannot write as Spark SQL."""


def duckdb_to_spark(sql: str, array_columns: Collection[str] = (), jaro_winkler: str | None = None,
                    damerau_levenshtein: str | None = None) -> str:
    """``sql`` (a DuckDB condition or expression) as Spark SQL; ``array_columns`` are the columns
    (as named in ``sql``, or their base name before ``_l`` / ``_r``) that hold lists.
    ``jaro_winkler`` names a Spark function that computes DuckDB's Jaro-Winkler (the engine's
    ``bx_jaro_winkler``, from this package's jar); without one it is written out in Spark SQL
    (``jaro_winkler_sql``: the same values, some hundred times slower). ``damerau_levenshtein``
    names one that computes DuckDB's Damerau-Levenshtein (``bx_damerau_levenshtein``); without one
    Splink's Scala UDF is used (the same distances here, much slower)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise UntranslatableSql(f"cannot parse {sql!r} as DuckDB SQL: {exc}") from exc
    return _bottom_up(cast(exp.Expression, tree), _Context(frozenset(array_columns), jaro_winkler,
                                                                    damerau_levenshtein)).sql(dialect="spark")


@dataclass(frozen=True)
class _Context:
    lists: frozenset[str]
    jaro_winkler: str | None
    damerau_levenshtein: str | None = None


def _bottom_up(node: exp.Expression, context: _Context) -> exp.Expression:
    """``node`` rewritten from its leaves up, so that a function sees its arguments translated."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _bottom_up(value, context))
        elif isinstance(value, list):
            node.set(key, [_bottom_up(v, context) if isinstance(v, exp.Expression) else v for v in value])
    return _rewrite(node, context)


def _jaro_winkler(left: exp.Expression, right: exp.Expression, context: _Context) -> exp.Expression:
    if context.jaro_winkler:
        return _call(context.jaro_winkler, left, right)
    return jaro_winkler_sql(left, right)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    """A call of Spark's function ``name``, written as named (not re-read as a DuckDB function)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _is_list(node: exp.Expression, lists: frozenset[str]) -> bool:
    if isinstance(node, exp.Column):
        name = node.name
        return name in lists or (name[-2:] in ("_l", "_r") and name[:-2] in lists)
    if isinstance(node, _LIST_MAKERS):
        return True
    if isinstance(node, exp.If):
        return _is_list(node.args["true"], lists)
    return isinstance(node, exp.Anonymous) and node.name.lower() in _LIST_FUNCTIONS


def _rewrite(node: exp.Expression, context: _Context) -> exp.Expression:
    lists = context.lists
    if isinstance(node, exp.Length) and _is_list(node.this, lists):
        return _call("size", node.this)
    if isinstance(node, exp.ArrayOverlaps):
        return _call("arrays_overlap", node.this, node.expression)
    if isinstance(node, exp.JarowinklerSimilarity):
        return _jaro_winkler(node.this, node.expression, context)
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        args = node.expressions
        if name == "jaro_winkler_similarity" and len(args) == 2:
            return _jaro_winkler(args[0], args[1], context)
        if name == "damerau_levenshtein" and context.damerau_levenshtein:
            return _call(context.damerau_levenshtein, *args)
        if name in UDF_NAMES:
            return _call(UDF_NAMES[name], *args)
        if name == "list_intersect" and len(args) == 2:
            # DuckDB: NULL when the first list is NULL, but an empty list when only the second is
            first, second = args
            element = exp.to_identifier("e__")
            empty = _call("filter", first.copy(), exp.Lambda(this=exp.false(), expressions=[element]))
            return exp.If(this=second.copy().is_(exp.null()), true=empty, false=_call("array_intersect", first, second))
        if name in ("list_has_all", "array_has_all"):
            if len(args) != 2:
                raise UntranslatableSql(f"{name} takes two lists: {node.sql('duckdb')}")
            haystack, needles = args
            element = exp.to_identifier("e__")
            # DuckDB: NULL when the first list is NULL, and NULL elements of the second are ignored
            contains = exp.or_(exp.column(element.copy()).is_(exp.null()),
                               _call("array_contains", haystack.copy(), exp.column(element.copy())))
            every = _call("forall", needles, exp.Lambda(this=contains, expressions=[element]))
            return exp.If(this=haystack.is_(exp.null()), true=exp.null(), false=every)
        if name in ("list_has_any", "array_has_any"):
            return _call("arrays_overlap", *args)
    return node


def spark_model_settings(splink_settings: dict, array_columns: Collection[str],
                         jaro_winkler: str | None = None, damerau_levenshtein: str | None = None) -> dict:
    """A copy of the saved Splink settings (as in the model file) whose comparison levels and
    blocking rules are Spark SQL (``duckdb_to_spark``); every probability and label is kept."""
    settings = copy.deepcopy(splink_settings)
    settings["sql_dialect"] = "spark"
    for comparison in settings.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            condition = level.get("sql_condition")
            if condition is not None and condition.strip().upper() != "ELSE":
                level["sql_condition"] = duckdb_to_spark(condition, array_columns, jaro_winkler, damerau_levenshtein)
    rules: list[str | dict] = []
    for rule in settings.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, str):
            rules.append(duckdb_to_spark(rule, array_columns, jaro_winkler, damerau_levenshtein))
        else:
            rule = dict(rule)
            rule["blocking_rule"] = duckdb_to_spark(rule["blocking_rule"], array_columns, jaro_winkler,
                                                    damerau_levenshtein)
            rule["sql_dialect"] = "spark"
            rules.append(rule)
    settings["blocking_rules_to_generate_predictions"] = rules
    return settings


_names = itertools.count()


def _let(value: str, body: Callable[[str], str]) -> str:
    """``body`` of a lambda variable bound to ``value`` (Spark SQL has no LET): each value is
    computed once however often ``body`` names it."""
    var = f"v{next(_names)}__"
    return f"element_at(transform(array({value}), {var} -> {body(var)}), 1)"


def _d(literal: str) -> str:
    return f"CAST({literal} AS DOUBLE)"


def _fused_multiply_add(a: str, b: str, c: str) -> str:
    """``a * b + c`` rounded once, as DuckDB's build computes the Winkler step (a fused multiply-add);
    here from error-free transformations in doubles (Dekker's product, Knuth's sum)."""
    split = _d("134217729")

    def halves(x: str, then: Callable[[str, str], str]) -> str:
        return _let(f"{split} * {x}", lambda t: _let(f"{t} - ({t} - {x})", lambda hi: then(hi, f"({x} - {hi})")))

    if not a.startswith("v") or not b.startswith("v"):  # name each operand once
        return _let(a, lambda av: _let(b, lambda bv: _fused_multiply_add(av, bv, c)))
    return _let(f"{a} * {b}", lambda p: halves(a, lambda ah, al: halves(b, lambda bh, bl: _let(
        f"(({ah} * {bh} - {p}) + {ah} * {bl} + {al} * {bh}) + {al} * {bl}", lambda e: _let(
            f"{c} + {p}", lambda s: _let(f"{s} - {c}", lambda bb: (
                f"{s} + ((({c} - ({s} - {bb})) + ({p} - {bb})) + {e})")))))))


def jaro_winkler_sql(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    """DuckDB's ``jaro_winkler_similarity`` in Spark SQL, to the last bit (Splink's Scala
    ``jaro_winkler`` matches characters in another order and differs, e.g. 0.943 against DuckDB's
    0.951 for 'DALSTONE CAFE' / 'DALSTON CAFE', which crosses the model's 0.95).

    As DuckDB: NULL with a NULL, 0 with an empty string; each character of the second string, in
    order, matches the first unmatched equal character of the first string within
    max(length) / 2 - 1 of it; half the matched characters out of order (rounded down) are
    transpositions; jaro = (m / len1 + m / len2 + (m - t) / m) / 3; above 0.7, the common prefix
    (at most 4) adds 0.1 of the rest for each character, in one rounding."""
    a_sql, b_sql = left.sql(dialect="spark"), right.sql(dialect="spark")

    def body(ab: str) -> str:
        a, b = f"{ab}.a", f"{ab}.b"
        la, lb = f"length({a})", f"length({b})"
        bound = f"CAST(greatest(greatest({la}, {lb}) div 2 - 1, 0) AS INT)"

        def step(acc: str, j: str) -> str:
            lo, hi = f"greatest(1, {j} - {bound})", f"least({la}, {j} + {bound})"
            i, u, k = (f"i{next(_names)}__" for _ in range(3))
            window = f"IF({lo} <= {hi}, sequence({lo}, {hi}), array())"
            first = (f"array_min(filter({window}, {i} -> NOT element_at({acc}.used, {i}) "
                     f"AND substring({a}, {i}, 1) = substring({b}, {j}, 1)))")
            return _let(first, lambda hit: (
                f"IF({hit} IS NULL, {acc}, named_struct('used', transform({acc}.used, ({u}, {k}) -> {u} OR {k} + 1 = {hit}), "
                f"'js', concat({acc}.js, array({j}))))"))

        acc, j, i, k = (f"w{next(_names)}__" for _ in range(4))
        matched = (f"aggregate(sequence(1, {lb}), named_struct('used', array_repeat(false, {la}), "
                   f"'js', CAST(array() AS ARRAY<INT>)), ({acc}, {j}) -> {step(acc, j)})")

        def jaro(st: str) -> str:
            m = f"size({st}.js)"
            from_a = f"transform(filter(sequence(1, {la}), {i} -> element_at({st}.used, {i})), {i} -> substring({a}, {i}, 1))"
            transpositions = _let(from_a, lambda chars: (
                f"size(filter(sequence(1, {m}), {k} -> element_at({chars}, {k}) <> "
                f"substring({b}, element_at({st}.js, {k}), 1))) div 2"))
            return (f"IF({m} = 0, {_d('0')}, ({m} / {la} + {m} / {lb} + ({m} - {transpositions}) / {m}) / {_d('3')})")

        prefix = " + ".join(f"IF({n} <= least({la}, {lb}) AND left({a}, {n}) = left({b}, {n}), 1, 0)" for n in range(1, 5))
        boost = f"CAST({prefix} AS DOUBLE) * {_d('0.1')}"

        def winkler_step(sim: str) -> str:
            rest = f"({_d('1')} - {sim})"
            return f"IF({sim} > {_d('0.7')}, {_fused_multiply_add(boost, rest, sim)}, {sim})"

        winkler = _let(_let(matched, jaro), winkler_step)
        return (f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN CAST(NULL AS DOUBLE) "
                f"WHEN {la} = 0 OR {lb} = 0 THEN {_d('0')} ELSE {winkler} END")

    sql = _let(f"named_struct('a', {a_sql}, 'b', {b_sql})", body)
    return cast(exp.Expression, sqlglot.parse_one(sql, read="spark"))
