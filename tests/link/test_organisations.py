"""Organisations across councils: names join establishments within one council's area, and one
council's organisation joins another's only by the registered name most of its records write. End
to end on hand-made council files, and the rule itself on hand-made name clusters (whatever the
model would score)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from business_index.link.business_inputs import RECORD_COUNCILS
from business_index.link.organisations import build_organisations
from business_index.sql_steps import run_steps
from tests.link.test_establishments import CONFIG as ESTABLISHMENT_CONFIG
from tests.link.test_establishments import _csv_cell, build_council, record_units

# (UPRN, address, postcode, custodian): two councils, each keeping its own postcodes
ADDRESSES = [
    (100001, "1 High Street, Ayton", "AA1 1AA", 1111),
    (100002, "2 Mill Lane, Ayton", "AA1 1AB", 1111),
    (100003, "5 Station Road, Ayton", "AA1 1AD", 1111),
    (100004, "8 Bridge Street, Ayton", "AA1 1AE", 1111),
    (100005, "3 Quay Street, Ayton", "AA1 1AF", 1111),
    (200001, "1 Market Street, Beeton", "BB2 2AA", 2222),
    (200002, "7 Church Road, Beeton", "BB2 2AB", 2222),
    (200003, "9 Park Road, Beeton", "BB2 2AD", 2222),
    (200004, "4 Bell Lane, Beeton", "BB2 2AE", 2222),
]
# (place ref, ratepayer, address, town, postcode, description, liability start)
NDR_ROWS = [
    # a ratepayer with no legal form in each town: two landlords who happen to share a name
    ("5001", "Wayland Estates", "2 Mill Lane", "Ayton", "AA1 1AB", "OFFICES AND PREMISES", "2015-04-01"),
    ("5002", "Wayland Estates", "7 Church Road", "Beeton", "BB2 2AB", "OFFICES AND PREMISES", "2016-04-01"),
    # a registered company rates a pub in each town: one company
    ("5003", "Kestrel Taverns Ltd", "5 Station Road", "Ayton", "AA1 1AD", "PUBLIC HOUSE AND PREMISES", "2012-04-01"),
    ("5004", "Kestrel Taverns Limited", "9 Park Road", "Beeton", "BB2 2AD", "PUBLIC HOUSE AND PREMISES",
     "2013-04-01"),
]
# (FHRS id, business name, type, address, town, postcode, rating date)
FHRS_ROWS = [
    # one trading name in each town, no operator on record: two businesses
    ("301", "Zeynep's Ocakbasi Grill", "Restaurant/Cafe/Canteen", "1 High Street", "Ayton", "AA1 1AA", "2019-05-01"),
    ("302", "Zeynep's Ocakbasi Grill", "Restaurant/Cafe/Canteen", "1 Market Street", "Beeton", "BB2 2AA",
     "2019-06-01"),
    # the same trading name twice in one town: the name reaches across the town
    ("303", "Quillon Patisserie", "Restaurant/Cafe/Canteen", "8 Bridge Street", "Ayton", "AA1 1AE", "2019-02-01"),
    ("304", "Quillon Patisserie", "Restaurant/Cafe/Canteen", "3 Quay Street", "Ayton", "AA1 1AF", "2019-03-01"),
    ("305", "Bell Lane Stores", "Retailers - other", "4 Bell Lane", "Beeton", "BB2 2AE", "2019-03-01"),
    # other businesses, each of its own name, so that a name on two records is a rare one
    *((f"{400 + n}", f"{word} {kind}", "Retailers - other", f"{n} Long Road", town, f"{area} 3{chr(65 + n % 26)}X",
       "2019-04-01")
      for n, (word, kind) in enumerate((w, k) for w in ("Amber", "Birch", "Cedar", "Damson", "Elder", "Fennel",
                                                         "Garnet", "Hazel", "Indigo", "Juniper")
                                       for k in ("Books", "Shoes", "Hardware"))
      for town, area in [("Ayton", "AA1") if n % 2 else ("Beeton", "BB2")]),
]
# a gazetteer naming each property's custodian, before the councils' rates and food hygiene exports
CONFIG = """
[[sources]]
name = "llpg"
kind = "gazetteer"
format = "uprn_addresses"
paths = ["addresses.csv"]
""" + ESTABLISHMENT_CONFIG


@pytest.fixture(scope="module")
def two_councils_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two councils built, the gazetteer naming each property's custodian."""
    folder = tmp_path_factory.mktemp("two-councils")
    rows = [",".join(_csv_cell(str(v)) for v in (uprn, f"{line}, {pc}", pc, council)) for uprn, line, pc, council in ADDRESSES]
    (folder / "addresses.csv").write_text("\n".join(["UPRN,ADDRESS,POSTCODE,LOCAL_CUSTODIAN_CODE", *rows]) + "\n")
    return build_council(folder, NDR_ROWS, FHRS_ROWS, CONFIG, town="Ayton")


@pytest.fixture(scope="module")
def two_councils(two_councils_index: Path) -> dict[str, tuple[str, str | None]]:
    """'ndr|<place ref>' or 'fhrs|<id>' -> (establishment id, organisation id)."""
    return {key.split(":")[0]: unit for key, unit in record_units(two_councils_index).items()}


def organisation(units: dict[str, tuple[str, str]], key: str) -> str:
    return units[key][1]


def test_a_company_is_one_organisation_across_councils(two_councils: dict) -> None:
    assert organisation(two_councils, "ndr|5003") == organisation(two_councils, "ndr|5004")


def test_a_name_without_legal_form_stays_within_its_council(two_councils: dict) -> None:
    assert organisation(two_councils, "fhrs|301") != organisation(two_councils, "fhrs|302")
    assert organisation(two_councils, "ndr|5001") != organisation(two_councils, "ndr|5002")


def test_the_gazetteer_says_which_council_keeps_each_property(two_councils_index: Path) -> None:
    with duckdb.connect(str(two_councils_index), read_only=True) as con:
        kept = dict(con.execute("SELECT uprn, local_custodian_code FROM addresses").fetchall())
    assert kept == {uprn: council for uprn, _, _, council in ADDRESSES}


# --- the rule on hand-made clusters -------------------------------------------------------------
# (record, establishment, name cluster (or name cluster and registered name), operator, written
# with a legal form, UPRN, postcode)
Member = tuple[int, str, str | tuple[str, str], bool, bool, int | None, str | None]


def organisations_of(members: list[Member], custodians: dict[int, int | None]) -> dict[int, str]:
    """Each record's organisation cluster from ``build_organisations`` over hand-made tables: the
    properties ``custodians`` (UPRN -> council) at postcodes 'AA1 1AA' for council 1111 and
    'BB2 2BB' otherwise."""
    con = duckdb.connect()
    con.execute("CREATE TABLE addresses (uprn BIGINT, postcode VARCHAR, local_custodian_code INTEGER)")
    con.executemany("INSERT INTO addresses VALUES (?, ?, ?)",
                    [(u, "AA1 1AA" if c == 1111 else "BB2 2BB", c) for u, c in custodians.items()])
    con.execute("CREATE TABLE establishment_clusters (record_id BIGINT, record_key VARCHAR, cluster_id VARCHAR)")
    con.execute("CREATE TABLE name_clusters (record_id BIGINT, cluster_id VARCHAR)")
    con.execute("CREATE TABLE operators (unique_id BIGINT, operator BOOLEAN)")
    con.execute("CREATE TABLE record_links (record_id BIGINT, uprn BIGINT)")
    con.execute("CREATE TABLE record_features (unique_id BIGINT, company_keys VARCHAR[], postcode VARCHAR)")
    for record, establishment, name, operator, company, uprn, postcode in members:
        con.execute("INSERT INTO establishment_clusters VALUES (?, ?, ?)", (record, f"r{record}", establishment))
        con.execute("INSERT INTO name_clusters VALUES (?, ?)", (record, name if isinstance(name, str) else name[0]))
        con.execute("INSERT INTO operators VALUES (?, ?)", (record, operator))
        if uprn is not None:
            con.execute("INSERT INTO record_links VALUES (?, ?)", (record, uprn))
        registered = [] if not company else [name] if isinstance(name, str) else [name[1]]
        con.execute("INSERT INTO record_features VALUES (?, ?, ?)", (record, registered, postcode))
    run_steps(con, (RECORD_COUNCILS,))
    con.execute("CREATE TABLE business_inputs AS SELECT o.unique_id, o.operator, c.council "
                "FROM operators o JOIN record_councils c ON c.record_id = o.unique_id")
    build_organisations(con)
    return dict(con.execute("SELECT record_id, cluster_id FROM organisation_clusters").fetchall())


TWO_COUNCILS = {1: 1111, 2: 1111, 3: 2222, 4: 2222}


def test_a_trading_name_joins_establishments_within_one_council_only() -> None:
    orgs = organisations_of([
        (1, "e1", "grill", False, False, 1, "AA1 1AA"),
        (2, "e2", "grill", False, False, 2, "AA1 1AA"),
        (3, "e3", "grill", False, False, 3, "BB2 2BB"),
    ], TWO_COUNCILS)
    assert orgs[1] == orgs[2]
    assert orgs[1] != orgs[3]


def test_a_ratepayer_without_legal_form_stays_in_its_council_and_a_company_does_not() -> None:
    orgs = organisations_of([
        (1, "e1", "wayland", True, False, 1, "AA1 1AA"),
        (3, "e3", "wayland", True, False, 3, "BB2 2BB"),
        (2, "e2", "kestrel", True, True, 2, "AA1 1AA"),
        (4, "e4", "kestrel", True, True, 4, "BB2 2BB"),
    ], TWO_COUNCILS)
    assert orgs[1] != orgs[3]
    assert orgs[2] == orgs[4]


def test_a_trading_name_in_a_company_s_council_joins_the_company() -> None:
    # "Kestrel Taverns" written without its legal form in the company's council is the company
    orgs = organisations_of([
        (1, "e1", "kestrel", True, True, 1, "AA1 1AA"),
        (2, "e2", "kestrel", False, False, 2, "AA1 1AA"),
        (3, "e3", "kestrel", True, True, 3, "BB2 2BB"),
        (4, "e4", "kestrel", False, False, 4, "BB2 2BB"),
    ], TWO_COUNCILS)
    assert len(set(orgs.values())) == 1


def test_one_trading_name_does_not_join_two_companies_of_two_councils() -> None:
    # "Hassett Estates Ltd" here and "Birmingham Hassett Estates Ltd" there, both trading as
    # "Hassett Estates": the name model may put all four records under one name
    orgs = organisations_of([
        (1, "e1", ("hassett", "HASSETT ESTATES"), True, True, 1, "AA1 1AA"),
        (2, "e2", ("hassett", "HASSETT ESTATES"), True, True, 2, "AA1 1AA"),
        (3, "e3", ("hassett", "BIRMINGHAM HASSETT ESTATES"), True, True, 3, "BB2 2BB"),
        (4, "e4", ("hassett", "BIRMINGHAM HASSETT ESTATES"), True, True, 4, "BB2 2BB"),
    ], TWO_COUNCILS)
    assert orgs[1] == orgs[2]
    assert orgs[3] == orgs[4]
    assert orgs[1] != orgs[3]


def test_a_pub_s_name_with_a_legal_form_does_not_chain_its_pub_company_to_another_town_s_pub() -> None:
    # a pub company of one town, one of whose pubs a licence names "The Star Cock Ltd"; another
    # town's pub of that name is its own company
    orgs = organisations_of([
        (1, "e1", ("xyz", "XYZ TAVERNS"), True, True, 1, "AA1 1AA"),
        (2, "e2", ("xyz", "XYZ TAVERNS"), True, True, 2, "AA1 1AA"),
        (3, "e3", ("xyz", "XYZ TAVERNS"), True, True, 2, "AA1 1AA"),
        (4, "e3", ("star", "THE STAR COCK"), True, True, 2, "AA1 1AA"),
        (5, "e5", ("star", "THE STAR COCK"), True, True, 3, "BB2 2BB"),
        (6, "e6", ("star", "THE STAR COCK"), True, True, 4, "BB2 2BB"),
    ], TWO_COUNCILS)
    assert orgs[1] == orgs[2] == orgs[3] == orgs[4]
    assert orgs[5] == orgs[6]
    assert orgs[1] != orgs[5]


def test_an_unlinked_record_is_in_its_postcode_s_council() -> None:
    orgs = organisations_of([
        (1, "e1", "grill", False, False, 1, "AA1 1AA"),
        (2, "e2", "grill", False, False, None, "AA1 1AA"),  # no UPRN: its postcode is council 1111's
        (3, "e3", "grill", False, False, None, "BB2 2XY"),  # a postcode no property has: its sector's
        (4, "e4", "grill", False, False, 3, "BB2 2BB"),
    ], TWO_COUNCILS)
    assert orgs[1] == orgs[2]
    assert orgs[3] == orgs[4]
    assert orgs[1] != orgs[3]


@pytest.mark.parametrize("custodians", [{1: None, 2: None, 3: None}, {1: 1111, 2: 1111, 3: 1111}],
                         ids=["no custodian known", "one council"])
def test_with_one_council_or_none_known_names_join_as_they_always_did(custodians: dict) -> None:
    orgs = organisations_of([
        (1, "e1", "grill", False, False, 1, "AA1 1AA"),
        (2, "e2", "grill", False, False, 3, "BB2 2BB"),
        (3, "e3", "grill", False, False, None, None),  # nowhere known: the one council's
    ], custodians)
    assert len(set(orgs.values())) == 1
