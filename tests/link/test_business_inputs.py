"""The business model's inputs are named SQL steps over what earlier stages leave."""

from __future__ import annotations

import duckdb

from business_index.link.business_inputs import BUSINESS_INPUT_STEPS
from business_index.sql_steps import check_plan
from business_index.store.index_schema import PUBLISHED


def test_the_plan_reads_only_the_record_features_and_earlier_published_tables() -> None:
    earlier = {t.name for t in PUBLISHED if t.stage in ("store", "sources")} | {"record_features", "record_links"}
    check_plan(BUSINESS_INPUT_STEPS, earlier)
    assert {"business_inputs", "named_inputs"} <= {table for step in BUSINESS_INPUT_STEPS for table in step.writes}


def _set_areas(con: duckdb.DuckDBPyConnection) -> None:
    """Give the hand-made ``business_inputs`` of a test their postcode areas, as the step does, and
    a council: one, unless the test gave them theirs."""
    con.execute("ALTER TABLE business_inputs ADD COLUMN area VARCHAR")
    con.execute("UPDATE business_inputs SET area = coalesce(regexp_extract(postcode, '^[A-Z]+'), '')")
    con.execute("ALTER TABLE business_inputs ADD COLUMN IF NOT EXISTS council VARCHAR")
    con.execute("UPDATE business_inputs SET council = coalesce(council, '')")


def _keys(rows: list[tuple[int, str | None, str | None, str | None]], max_block_size: int) -> dict[int, int | None]:
    """The blocking key on ``primary_name`` (``block_name``) of rows (unique_id, primary_name,
    sector, postcode)."""
    import duckdb

    from business_index.link.business_inputs import blocking_key_steps
    from business_index.link.business_model import BLOCKING_KEYS
    from business_index.sql_steps import run_steps

    con = duckdb.connect()
    others = [c for key in BLOCKING_KEYS.values() for c in key.columns if c not in ("primary_name", "sector")]
    con.execute("CREATE TABLE business_inputs (unique_id INTEGER, named BOOLEAN, primary_name VARCHAR, sector VARCHAR, "
                f"postcode VARCHAR, company_key VARCHAR, {', '.join(f'{c} VARCHAR' for c in dict.fromkeys(others) if c != 'postcode')})")
    con.executemany("INSERT INTO business_inputs (unique_id, named, primary_name, sector, postcode) "
                    "VALUES (?, true, ?, ?, ?)", rows)
    _set_areas(con)
    run_steps(con, blocking_key_steps(max_block_size))
    return dict(con.execute("SELECT unique_id, block_name FROM blocking_keys").fetchall())


def test_a_block_within_the_size_keeps_its_key() -> None:
    keys = _keys([(1, "ACME", "E8 1", "E8 1AA"), (2, "ACME", "E9 2", "E9 2BB"), (3, None, "E8 1", "E8 1AA")], 2)
    assert keys[1] is not None and keys[1] == keys[2] and keys.get(3) is None


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
    assert len(set(_keys(rows, 10).values())) == 1 and None not in _keys(rows, 10).values()


def test_the_model_blocks_on_the_capped_keys() -> None:
    import json

    from business_index.link.business_model import BLOCKING_KEYS
    from business_index.link.businesses import MODEL_FILE

    rules = json.loads(MODEL_FILE.read_text(encoding="utf-8"))["splink_settings"]["blocking_rules_to_generate_predictions"]
    assert [rule["blocking_rule"] for rule in rules] == [f'l."{key}" = r."{key}"' for key in BLOCKING_KEYS]


def test_a_slip_in_the_first_word_of_a_split_company_block_still_meets_its_original() -> None:
    import duckdb

    from business_index.link.business_inputs import blocking_key_steps
    from business_index.link.business_model import BLOCKING_KEYS
    from business_index.sql_steps import run_steps

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
    _set_areas(con)
    run_steps(con, blocking_key_steps(3))
    keys = {i: (tail, end) for i, tail, end in con.execute(
        "SELECT unique_id, block_company_tail, block_company_tail_end FROM blocking_keys").fetchall()}

    def meet(a: int, b: int) -> bool:
        return any(x is not None and x == y for x, y in zip(keys[a], keys[b], strict=True))

    assert meet(0, 1) and meet(0, 2)
    assert not meet(0, 3) and not meet(2, 4)
    # a block within the size: one key, and no second one
    run_steps(con, blocking_key_steps(100))
    blocks = set(con.execute("SELECT block_company_tail, block_company_tail_end FROM blocking_keys").fetchall())
    assert len(blocks) == 1 and next(iter(blocks))[1] is None


def _all_keys(rows: list[dict[str, str | None]], max_block_size: int, area_block_size: int = 50
              ) -> dict[int, dict[str, str | None]]:
    """Every blocking key of ``rows`` (unique_id and any columns of ``business_inputs`` the keys read),
    by unique_id."""
    import duckdb

    from business_index.link.business_inputs import blocking_key_steps
    from business_index.link.business_model import BLOCKING_KEYS
    from business_index.sql_steps import run_steps

    con = duckdb.connect()
    columns = dict.fromkeys(["company_key", "postcode", "sector", "council",
                             *(c for key in BLOCKING_KEYS.values() for c in key.columns)])
    con.execute(f"CREATE TABLE business_inputs (unique_id INTEGER, named BOOLEAN, "
                f"{', '.join(f'{c} VARCHAR' for c in columns)})")
    for i, row in enumerate(rows):
        con.execute(f"INSERT INTO business_inputs (unique_id, named, {', '.join(row)}) "
                    f"VALUES ({i}, true, {', '.join('?' for _ in row)})", list(row.values()))
    _set_areas(con)
    run_steps(con, blocking_key_steps(max_block_size, area_block_size))
    names = [d[0] for d in con.execute("SELECT * FROM blocking_keys").description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in con.execute("SELECT * FROM blocking_keys").fetchall()}


def _meet(keys: dict[int, dict[str, int | None]], a: int, b: int) -> bool:
    """Whether records ``a`` and ``b`` agree on a blocking key (so that they are compared)."""
    return any(v is not None and v == keys[b][k] for k, v in keys[a].items() if k != "unique_id")


def test_a_name_in_several_areas_is_split_by_area_and_one_record_of_each_meets_the_others() -> None:
    rows = [{"primary_name": "BRIDGECO DINER", "postcode": pc, "sector": pc[:-2]}
            for pc in ("E8 1AA", "E9 2BB", "E5 0AA", "LS1 4AP", "LS6 2BB", "M1 1AA")]
    keys = _all_keys(rows, max_block_size=100, area_block_size=4)
    assert _meet(keys, 0, 1) and _meet(keys, 0, 2) and _meet(keys, 3, 4)  # every pair within an area
    assert keys[0]["block_name"] != keys[3]["block_name"]
    # across areas: only the first record of each area, in a key of their own
    bridged = {i for i, k in keys.items() if k["block_name_areas"] is not None}
    assert bridged == {0, 3, 5} and len({keys[i]["block_name_areas"] for i in bridged}) == 1
    assert not _meet(keys, 1, 4)
    # a block of no more than the size, or in one area, is not split
    assert len({k["block_name"] for k in _all_keys(rows, 100, area_block_size=6).values()}) == 1
    one_area = [{**row, "postcode": "E8 1AA", "sector": "E8 1"} for row in rows]
    assert len({k["block_name"] for k in _all_keys(one_area, 100, area_block_size=4).values()}) == 1
    assert all(k["block_name_areas"] is None for k in _all_keys(one_area, 100, area_block_size=4).values())


def test_records_of_two_councils_share_no_block() -> None:
    """A name's records within one council's area are paired; two councils' records of one name are
    not, whichever key they share (across councils only a registered name joins organisations)."""
    grill = {"primary_name": "AYSES GRILL", "name_sorted": "AYSES GRILL", "name_first2": "AYSES GRILL",
             "sector": "E8 1", "premises_key": "E8 1AA|4"}
    rows = [{**grill, "postcode": "E8 1AA", "council": "5360"}, {**grill, "postcode": "E8 1AB", "council": "5360"},
            {**grill, "postcode": "E8 1AA", "council": "5420"}]
    keys = _all_keys(rows, max_block_size=100)
    assert _meet(keys, 0, 1)
    assert not _meet(keys, 0, 2) and not _meet(keys, 1, 2)
    # one council, or none known: one area, as before councils were known
    assert _meet(_all_keys([{**row, "council": ""} for row in rows], 100), 0, 2)


def _company(key: str) -> dict[str, str | None]:
    words = key.split()
    return {"company_key": key, "company_head": f"{words[0]}|{len(words)}|{words[-1][0]}",
            "company_tail": f"{key[0]}|{' '.join(words[1:])}", "postcode": "LS1 1AA", "sector": "LS1 1"}


def test_a_slip_block_of_many_companies_is_split_by_what_a_slip_leaves_intact() -> None:
    companies = ["LEEDS BEEWAY EDGAR", "LEEDS BEEWEY EDGAR",  # a slip in the middle word
                 "LEEDS BEEWAY EDGR",  # and in the last
                 "LEEDS CROWN ELM", "LEEDS DOVE EAGLE", "LEEDS FERN ECHO"]  # others of "LEEDS|3|E"
    keys = _all_keys([_company(c) for c in companies], max_block_size=3)
    assert _meet(keys, 0, 1) and _meet(keys, 0, 2)
    assert not any(_meet(keys, a, b) for a in range(3) for b in range(3, 6))
    # within the size, one block
    keys = _all_keys([_company(c) for c in companies], max_block_size=6)
    assert len({k["block_company_head"] for k in keys.values()}) == 1


def test_a_slip_block_counts_registered_names_not_records() -> None:
    """One company's many records and the slip of one of them stay one block: the block holds two
    names, however many records."""
    from business_index.link.business_model import SLIP_BLOCK_SIZE

    rows = [_company("KINGSMEAD ESTATES") for _ in range(SLIP_BLOCK_SIZE + 5)] + [_company("KINGSMEAD ESTATTES")]
    keys = _all_keys(rows, max_block_size=500)
    assert _meet(keys, 0, len(rows) - 1)
    assert len({k["block_company_head"] for k in keys.values()}) == 1


def _one_keystroke(left: str, right: str, left_records: int, right_records: int) -> bool:
    from business_index.link.business_model import COMPANY_ONE_KEYSTROKE

    con = duckdb.connect()
    return con.execute(f"SELECT {COMPANY_ONE_KEYSTROKE} FROM (SELECT ? AS company_key_l, ? AS company_key_r, "
                       "? AS company_key_records_l, ? AS company_key_records_r)",
                       [left, right, left_records, right_records]).fetchone()[0]


def test_a_slip_of_a_registered_name_is_rare_beside_the_name() -> None:
    assert _one_keystroke("HASSETT ESTATES", "HASET ESTATES", 1, 1) is False  # two keystrokes
    assert _one_keystroke("HASSETT ESTATES", "HASSET ESTATES", 40, 1)  # written once: a slip
    assert _one_keystroke("HASSETT ESTATES", "HASSET ESTATES", 3, 4)  # too few to tell: a slip
    # each written by dozens of records: two companies whose names the register allows side by side
    assert _one_keystroke("HASSETT ESTATES", "FASSETT ESTATES", 62, 55) is False

