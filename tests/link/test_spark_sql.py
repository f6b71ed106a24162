"""The business model's DuckDB SQL written as Spark SQL: each rewrite, and every condition of the
shipped model evaluated by both engines on the same pairs of records."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pytest

from business_index.link.businesses import MODEL_FILE
from business_index.link.spark_engine import DAMERAU_LEVENSHTEIN_FUNCTION, JARO_WINKLER_FUNCTION
from business_index.link.spark_sql import UntranslatableSql, duckdb_to_spark, spark_model_settings

LISTS = ("name_keys", "company_keys", "name_tokens", "uncommon_words", "address_tokens")


@pytest.mark.parametrize(("duckdb_sql", "spark_sql"), [
    ("len(name_keys_l) = 0", "SIZE(name_keys_l) = 0"),
    ("len(primary_name_l) > 3", "LENGTH(primary_name_l) > 3"),  # a string's length stays one
    ("list_has_any(company_keys_l, company_keys_r)", "ARRAYS_OVERLAP(company_keys_l, company_keys_r)"),
    ("len(list_intersect(name_tokens_l, name_tokens_r)) >= 2",
     "SIZE(IF(name_tokens_r IS NULL, FILTER(name_tokens_l, e__ -> FALSE), "
     "ARRAY_INTERSECT(name_tokens_l, name_tokens_r))) >= 2"),
    ("list_has_all(address_tokens_l, name_tokens_r)",
     "IF(address_tokens_l IS NULL, NULL, FORALL(name_tokens_r, e__ -> e__ IS NULL OR "
     "ARRAY_CONTAINS(address_tokens_l, e__)))"),
    ("damerau_levenshtein(a_l, a_r) <= 1", "DAMERAU_LEVENSHTEIN(a_l, a_r) <= 1"),
    ("jaro_winkler_similarity(a_l, a_r) >= 0.9", "BX_JARO_WINKLER(a_l, a_r) >= 0.9"),
    ("list_max(list_transform(name_keys_l, lambda x: len(x)))", "ARRAY_MAX(TRANSFORM(name_keys_l, x -> LENGTH(x)))"),
    ('"primary_name_l" = "primary_name_r"', "`primary_name_l` = `primary_name_r`"),
])
def test_each_rewrite(duckdb_sql: str, spark_sql: str) -> None:
    assert duckdb_to_spark(duckdb_sql, LISTS, JARO_WINKLER_FUNCTION) == spark_sql


@pytest.mark.parametrize("function", [JARO_WINKLER_FUNCTION, None])
def test_jaro_winkler_is_duckdbs_to_the_last_bit(spark_engine, function: str | None) -> None:  # type: ignore[no-untyped-def]
    """Splink's Scala jaro_winkler matches characters in another order ('DALSTONE CAFE' /
    'DALSTON CAFE': 0.943 against DuckDB's 0.951); the translation is DuckDB's, bit for bit, on
    short strings of few letters (many repeats, so matching order and transpositions matter),
    empty strings, NULLs and letters beyond ASCII: this package's Java function, and the same in
    Spark SQL."""
    rng = random.Random(3)
    pairs = [("".join(rng.choice("ABCDE ") for _ in range(rng.randint(0, 10))),
              "".join(rng.choice("ABCDE ") for _ in range(rng.randint(0, 10)))) for _ in range(3000)]
    pairs += [("DALSTONE CAFE", "DALSTON CAFE"), ("ŁODZ BAKERY", "LODZ BAKERY"), (None, "A"), ("", ""),
              ("MARTHA", "MARHTA"), ("DIXON", "DICKSONX")]
    con = duckdb.connect()
    con.register("strings", pa.table({"id": list(range(len(pairs))), "a": [p[0] for p in pairs],
                                      "b": [p[1] for p in pairs]}))
    expected = dict(con.execute("SELECT id, jaro_winkler_similarity(a, b) FROM strings").fetchall())
    spark = spark_engine.spark()
    spark.createDataFrame(con.sql("SELECT * FROM strings").to_arrow_table()).createOrReplaceTempView("strings")
    sql = duckdb_to_spark("jaro_winkler_similarity(a, b)", jaro_winkler=function)
    assert not sql.lower().startswith("jaro_winkler(")  # not Splink's
    found = {row[0]: row[1] for row in spark.sql(f"SELECT id, {sql} FROM strings").collect()}
    assert found == expected
    assert expected[len(pairs) - 6] > 0.95 and expected[len(pairs) - 3] == 0.0


def test_damerau_levenshtein_is_this_packages_function_when_given() -> None:
    assert (duckdb_to_spark("damerau_levenshtein(a_l, a_r) <= 1", LISTS, JARO_WINKLER_FUNCTION,
                            DAMERAU_LEVENSHTEIN_FUNCTION) == "BX_DAMERAU_LEVENSHTEIN(a_l, a_r) <= 1")


def test_damerau_levenshtein_is_duckdbs(spark_engine) -> None:  # type: ignore[no-untyped-def]
    """This package's Java function gives DuckDB's distances (the unrestricted distance over
    characters): short strings of few letters (transpositions of letters far apart), empty strings,
    NULLs and letters beyond ASCII."""
    rng = random.Random(4)
    pairs = [("".join(rng.choice("ABCD ") for _ in range(rng.randint(0, 9))),
              "".join(rng.choice("ABCD ") for _ in range(rng.randint(0, 9)))) for _ in range(3000)]
    pairs += [("CA", "ABC"), ("HASSETT ESTATES", "FASSETT ESTATES"), ("ŁODZ", "LODZ"), ("ŁÓDŹ", "ŹÓDŁ"),
              (None, "A"), ("A", None), ("", ""), ("", "ABC")]
    con = duckdb.connect()
    con.register("strings", pa.table({"id": list(range(len(pairs))), "a": [p[0] for p in pairs],
                                      "b": [p[1] for p in pairs]}))
    expected = dict(con.execute("SELECT id, damerau_levenshtein(a, b) FROM strings").fetchall())
    spark = spark_engine.spark()
    spark.createDataFrame(con.sql("SELECT * FROM strings").to_arrow_table()).createOrReplaceTempView("strings")
    sql = duckdb_to_spark("damerau_levenshtein(a, b)", damerau_levenshtein=DAMERAU_LEVENSHTEIN_FUNCTION)
    found = {row[0]: row[1] for row in spark.sql(f"SELECT id, {sql} FROM strings").collect()}
    assert found == expected
    assert [expected[3000 + i] for i in range(4)] == [2, 1, 1, 2]  # Ł is one character, not two bytes


def test_sql_that_does_not_parse_is_refused() -> None:
    with pytest.raises(UntranslatableSql, match="cannot parse"):
        duckdb_to_spark("list_has_any(a_l, ", LISTS)


def test_model_settings_keep_every_probability_and_label() -> None:
    settings = json.loads(MODEL_FILE.read_text())["splink_settings"]
    spark = spark_model_settings(settings, LISTS)
    assert spark["sql_dialect"] == "spark" and settings["sql_dialect"] == "duckdb"  # a copy
    for before, after in zip(settings["comparisons"], spark["comparisons"], strict=True):
        for a, b in zip(before["comparison_levels"], after["comparison_levels"], strict=True):
            assert {k: v for k, v in a.items() if k != "sql_condition"} == \
                   {k: v for k, v in b.items() if k != "sql_condition"}
    assert len(spark["blocking_rules_to_generate_predictions"]) == len(settings["blocking_rules_to_generate_predictions"])
    assert all(rule["sql_dialect"] == "spark" for rule in spark["blocking_rules_to_generate_predictions"])


# names with slips and shared words, so that the Jaro-Winkler levels (0.88, 0.95), one-keystroke
# company names, containment and shared words are each met and missed
WORDS = ["HACKNEY", "HACKNY", "HACKNEYS", "CATERING", "CATERNG", "STORES", "STORE", "RED", "LION", "THE",
         "CAFE", "KAFE", "MARSTONS", "PLC", "HIGH", "STREET", "MARE", "DALSTON", "DALSTONE", "FOODS"]


def _records(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)

    def words(k: int) -> list[str]:
        return [rng.choice(WORDS) for _ in range(k)]

    def maybe(value: object, p_null: float = 0.15) -> object:
        return None if rng.random() < p_null else value

    rows = []
    for i in range(n):
        name = words(rng.randint(1, 3))
        keys = [" ".join(name)] + ([" ".join(words(2))] if rng.random() < 0.4 else [])
        company = " ".join(words(2)) if rng.random() < 0.4 else None
        start = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3000))
        rows.append({
            "unique_id": i,
            "primary_name": maybe(" ".join(name)),
            "name_keys": maybe(keys if rng.random() > 0.1 else []),
            "company_key": company,
            "company_key_records": rng.choice([1, 4, 5, 40]) if company else None,
            "company_keys": maybe([company] if company else []),
            "name_tokens": maybe(sorted(set(name))),
            "uncommon_words": maybe([w for w in name if w not in ("THE", "STORES", "CAFE")]),
            "address_tokens": maybe(words(rng.randint(0, 5))),
            "proprietor_key": maybe(rng.choice(["JOHN SMITH", "JON SMITH", "MARY JONES", "MARY JONE"]), 0.4),
            "premises_key": maybe(f"P{rng.randint(1, 6)}", 0.3),
            "property_ref": maybe(f"R{rng.randint(1, 6)}", 0.5),
            "parent_uprn": maybe(rng.randint(1, 3), 0.5),
            "postcode": maybe(rng.choice(["E8 1AA", "E8 1AB", "E9 2BB"]), 0.3),
            "sector": maybe(rng.choice(["E8 1", "E9 2"]), 0.2),
            "active_from": maybe(start, 0.2),
            "active_to": start + timedelta(days=rng.randint(0, 2000)),
        })
    return pa.Table.from_pylist(rows)


@pytest.mark.parametrize("function", [JARO_WINKLER_FUNCTION, None])
def test_every_model_condition_means_the_same_on_spark(spark_engine, function: str | None) -> None:  # type: ignore[no-untyped-def]
    """Each level of the shipped model, DuckDB's SQL in DuckDB and its translation in Spark, over
    every pair of 60 made-up records: TRUE, FALSE and NULL alike."""
    settings = json.loads(MODEL_FILE.read_text())["splink_settings"]
    spark_settings = spark_model_settings(settings, LISTS, function, DAMERAU_LEVENSHTEIN_FUNCTION if function else None)
    conditions = [(level["sql_condition"], translated["sql_condition"])
                  for comparison, spark_comparison in zip(settings["comparisons"], spark_settings["comparisons"],
                                                          strict=True)
                  for level, translated in zip(comparison["comparison_levels"],
                                               spark_comparison["comparison_levels"], strict=True)
                  if level["sql_condition"] != "ELSE"]
    assert len(conditions) >= 15

    con = duckdb.connect()
    con.register("records", _records(60, seed=5))
    columns = [c for c in _records(1, seed=5).column_names]
    pairs_sql = ", ".join([f"l.{c} AS {c}_l" for c in columns] + [f"r.{c} AS {c}_r" for c in columns])
    con.execute(f"CREATE TABLE pairs AS SELECT {pairs_sql} FROM records l, records r")

    def truth(condition: str) -> str:
        return f"CASE WHEN ({condition}) THEN 'T' WHEN NOT ({condition}) THEN 'F' ELSE 'N' END"

    by_duckdb = con.execute("SELECT unique_id_l, unique_id_r, " + ", ".join(
        f"{truth(d)} AS c{i}" for i, (d, _) in enumerate(conditions)) + " FROM pairs").fetchall()
    spark = spark_engine.spark()
    spark.createDataFrame(con.sql("SELECT * FROM pairs").to_arrow_table()).createOrReplaceTempView("pairs")
    by_spark = [tuple(row) for row in spark.sql("SELECT unique_id_l, unique_id_r, " + ", ".join(
        f"{truth(s)} AS c{i}" for i, (_, s) in enumerate(conditions)) + " FROM pairs").collect()]
    assert len(by_duckdb) == len(by_spark) == 3600
    duck = {row[:2]: row[2:] for row in by_duckdb}
    sparks = {row[:2]: row[2:] for row in by_spark}
    for i, (condition, _) in enumerate(conditions):
        differ = [(pair, duck[pair][i], sparks[pair][i]) for pair in duck if duck[pair][i] != sparks[pair][i]]
        assert not differ, (condition, differ[:5])
        # and the pairs meet and miss each condition
        assert {duck[pair][i] for pair in duck} >= {"T", "F"}, condition
