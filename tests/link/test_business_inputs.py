"""The business model's inputs are named SQL steps over what earlier stages leave."""

from __future__ import annotations

from business_index.link.business_inputs import BUSINESS_INPUT_STEPS
from business_index.sql_steps import check_plan
from business_index.store.index_schema import PUBLISHED


def test_the_plan_reads_only_the_record_features_and_earlier_published_tables() -> None:
    earlier = {t.name for t in PUBLISHED if t.stage in ("store", "sources")} | {"record_features", "record_links"}
    check_plan(BUSINESS_INPUT_STEPS, earlier)
    assert {"business_inputs", "named_inputs"} <= {table for step in BUSINESS_INPUT_STEPS for table in step.writes}


def _keys(rows: list[tuple[int, str | None, str | None, str | None]], max_block_size: int) -> dict[int, str | None]:
    """The blocking key on ``primary_name`` (``block_name``) of rows (unique_id, primary_name,
    sector, postcode)."""
    import duckdb

    from business_index.link.business_inputs import blocking_keys_sql
    from business_index.link.business_model import BLOCKING_KEYS

    con = duckdb.connect()
    others = [c for key in BLOCKING_KEYS.values() for c in key.columns if c not in ("primary_name", "sector")]
    con.execute("CREATE TABLE business_inputs (unique_id INTEGER, named BOOLEAN, primary_name VARCHAR, sector VARCHAR, "
                f"postcode VARCHAR, company_key VARCHAR, {', '.join(f'{c} VARCHAR' for c in dict.fromkeys(others) if c != 'postcode')})")
    con.executemany("INSERT INTO business_inputs (unique_id, named, primary_name, sector, postcode) "
                    "VALUES (?, true, ?, ?, ?)", rows)
    con.execute(blocking_keys_sql(max_block_size))
    return dict(con.execute("SELECT unique_id, block_name FROM blocking_keys").fetchall())


def test_a_block_within_the_size_keeps_its_key() -> None:
    keys = _keys([(1, "ACME", "E8 1", "E8 1AA"), (2, "ACME", "E9 2", "E9 2BB"), (3, None, "E8 1", "E8 1AA")], 2)
    assert keys[1] == keys[2] == "ACME" and keys.get(3) is None


def test_a_block_too_large_is_split_by_sector_then_postcode_then_left_out() -> None:
    rows = [(1, "ACME", "E8 1", "E8 1AA"), (2, "ACME", "E8 1", "E8 1AA"),  # a sector of two
            (3, "ACME", "E9 2", "E9 2AA"), (4, "ACME", "E9 2", "E9 2AA"),  # a sector of four, postcodes of two
            (5, "ACME", "E9 2", "E9 2BB"), (6, "ACME", "E9 2", "E9 2BB"),
            (7, "ACME", "N1 1", "N1 1AA"), (8, "ACME", "N1 1", "N1 1AA"), (9, "ACME", "N1 1", "N1 1AA"),
            (10, "ACME", None, None)]  # nowhere to split it by
    keys = _keys(rows, 2)
    assert keys[1] == keys[2] and keys[1] != keys[3]  # by sector
    assert keys[3] == keys[4] and keys[5] == keys[6] and keys[4] != keys[5]  # by postcode
    assert keys[7] is None and keys[8] is None and keys[9] is None and keys[10] is None  # still too large
    assert len({keys[1], keys[3], keys[5]}) == 3
    # and with room for all ten, one block
    assert set(_keys(rows, 10).values()) == {"ACME"}


def test_the_model_blocks_on_the_capped_keys() -> None:
    import json

    from business_index.link.business_model import BLOCKING_KEYS
    from business_index.link.businesses import MODEL_FILE

    rules = json.loads(MODEL_FILE.read_text(encoding="utf-8"))["splink_settings"]["blocking_rules_to_generate_predictions"]
    assert [rule["blocking_rule"] for rule in rules] == [f'l."{key}" = r."{key}"' for key in BLOCKING_KEYS]


def test_a_slip_in_the_first_word_of_a_split_company_block_still_meets_its_original() -> None:
    import duckdb

    from business_index.link.business_inputs import blocking_keys_sql
    from business_index.link.business_model import BLOCKING_KEYS

    companies = ["CROWN ESTATES", "CROWM ESTATES",  # a slip in the last letter of the first word
                 "COOWN ESTATES",  # and in its second letter
                 "CLAY ESTATES", "CEDAR ESTATES", "CIVIC ESTATES", "CUBE ESTATES"]  # others of the block
    con = duckdb.connect()
    columns = dict.fromkeys(c for key in BLOCKING_KEYS.values() for c in key.columns)
    con.execute(f"CREATE TABLE business_inputs (unique_id INTEGER, named BOOLEAN, company_key VARCHAR, "
                f"postcode VARCHAR, {', '.join(f'{c} VARCHAR' for c in columns if c != 'postcode')})")
    for i, company in enumerate(companies):
        con.execute("INSERT INTO business_inputs (unique_id, named, company_key, company_tail, sector) "
                    "VALUES (?, true, ?, ?, ?)", [i, company, "C|ESTATES", f"E{i} 1"])  # each in a sector of its own
    con.execute(blocking_keys_sql(3))
    keys = {i: (tail, end) for i, tail, end in con.execute(
        "SELECT unique_id, block_company_tail, block_company_tail_end FROM blocking_keys").fetchall()}

    def meet(a: int, b: int) -> bool:
        return any(x is not None and x == y for x, y in zip(keys[a], keys[b], strict=True))

    assert meet(0, 1) and meet(0, 2)
    assert not meet(0, 3) and not meet(2, 4)
    # a block within the size: one key, and no second one
    con.execute(blocking_keys_sql(100))
    assert set(con.execute("SELECT block_company_tail, block_company_tail_end FROM blocking_keys").fetchall()) == \
        {("C|ESTATES", None)}
