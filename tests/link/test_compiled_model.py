"""The compiled scorer gives exactly Splink's match weights on the same pairs."""

from __future__ import annotations

import duckdb
import pytest
from splink import DuckDBAPI, Linker

from business_index.link.address_matching import (
    ADDRESS_COLUMNS,
    ADDRESSES,
    COMPARED_FORMS,
    INPUT_COLUMNS,
    INPUTS,
    load_model,
    model_for_gazetteer,
)
from business_index.link.compiled_model import compile_model, scoring_sql
from business_index.link.features import input_features

GAZETTEER = [
    ("Flat A, 34 Mare Street, London", "E8 1AB", "RD"), ("Flat B, 34 Mare Street, London", "E8 1AB", "RD"),
    ("34 Mare Street, London", "E8 1AB", "PP"), ("36 Mare Street, London", "E8 1AB", "CR"),
    ("Ground Floor, 12A Mare Street", "E8 1AC", "CR"), ("6-10 Dalston Lane", "E8 3AZ", "CR"),
    ("The Old Bakery, Church Lane", "E8 2AA", "CO"), ("1 Church Lane", "E8 2AA", "RD"),
]
INPUTS_TYPED = [
    ("Flat B 34 Mare St", "E8 1AB", None), ("Gnd Flr 12 a Mare St", "E8 1AC", "Acme Cafe Ltd"),
    ("8 Dalston Lane", "E8 3AZ", None), ("Old Bakery, Church Lane", "E8 2AB", None),
    ("34 Mare Street", None, None), ("Unit 9, Nowhere Road", "E8 9ZZ", None),
]


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    streets = frozenset({"MARE STREET", "DALSTON LANE", "CHURCH LANE"})
    typed = input_features([(i, [a], p, n) for i, (a, p, n) in enumerate(INPUTS_TYPED)], streets)  # noqa: F841
    gazetteer = input_features([(i, [a], p, None) for i, (a, p, _) in enumerate(GAZETTEER)], streets)  # noqa: F841
    kinds = {i: {"RD": "residential", "PP": "parent", "CR": "commercial", "CO": "commercial"}[k]
             for i, (_, _, k) in enumerate(GAZETTEER)}
    con.execute(f"""
        CREATE TABLE l AS SELECT {INPUT_COLUMNS}, {COMPARED_FORMS}, NULL::VARCHAR AS org_key, NULL::VARCHAR AS kind FROM typed;
        CREATE TABLE r AS SELECT {ADDRESS_COLUMNS}, {COMPARED_FORMS}, []::VARCHAR[] AS name_keys,
            NULL::VARCHAR AS primary_name, CASE WHEN unique_id = 0 THEN 'ACME CAFE' END AS org_key,
            NULL::VARCHAR AS kind FROM gazetteer;
    """)
    for i, kind in kinds.items():
        con.execute("UPDATE r SET kind = ? WHERE unique_id = ?", [kind, i])
    return con


def test_weights_equal_splinks_predict(con: duckdb.DuckDBPyConnection) -> None:
    model = model_for_gazetteer(load_model(), len(GAZETTEER))
    db_api = DuckDBAPI(connection=con)
    linker = Linker([db_api.register("l", dataset_display_name=INPUTS), db_api.register("r", dataset_display_name=ADDRESSES)],
                    model)
    splink = {(int(a), int(b)): w for a, b, w in con.execute(
        f"SELECT unique_id_l, unique_id_r, match_weight FROM {linker.inference.predict().physical_name}").fetchall()}
    columns = [c.strip() for c in f"{INPUT_COLUMNS}, words, flat_position, street_head, number_low, number_high, org_key, kind".split(",")]
    ours = {(int(a), int(b)): w for a, b, w in con.execute(
        f"SELECT unique_id_l, unique_id_r, match_weight FROM ({scoring_sql(compile_model(model), 'l', 'r', columns, columns, 1e-300)})"
    ).fetchall()}
    assert len(splink) >= 6
    assert ours.keys() == splink.keys()
    for pair, weight in splink.items():
        assert ours[pair] == pytest.approx(weight, abs=1e-9), pair
