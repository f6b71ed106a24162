"""The name rule on small hand-made tables: which candidate wins under a precedence, and that every
answer carries its source and the candidates it beat."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from business_index.derive.property_names import derive_property_names
from business_index.records import NameSourceKind

DEFAULT = [NameSourceKind.APPROVED, NameSourceKind.GAZETTEER, NameSourceKind.LICENSING, NameSourceKind.RATES]

# uprn, organisation, logical_status
ADDRESSES = [
    (1, "ROSIES BAKERY", 1),   # gazetteer name, a licence and an approved name
    (2, None, 1),              # two licences and two ratepayers
    (3, None, 1),              # only rates: an ended account started later than the current one
    (4, None, 8),              # historical property: an approved name for it is ignored
]
# record_id, uprn, source, source_kind, record_type, public_name, start, end, last_seen, establishment_id
RECORDS = [
    (10, 1, "licensing", "licensing", "licence", "Rosie's Bakery Ltd", None, None, date(2026, 5, 1), "B1"),
    (20, 2, "licensing", "licensing", "licence", "Old Cafe", None, None, date(2024, 1, 1), "B2"),
    (21, 2, "licensing", "licensing", "licence", "New Cafe", None, None, date(2026, 1, 1), "B3"),
    (22, 2, "ndr", "rates", "ndr_account", "Landlord Ltd", date(2025, 1, 1), None, None, "B4"),
    (30, 3, "ndr", "rates", "ndr_account", "Current Ratepayer", date(2020, 1, 1), None, None, "B5"),
    (31, 3, "ndr", "rates", "ndr_account", "Gone Away Ltd", date(2023, 1, 1), date(2024, 1, 1), None, "B6"),
]
APPROVED = [(1, "Rosie's Bakery", "sub-1", "2026-11-20T09:00:00.000000Z"),
            (4, "Ghost Shop", "sub-2", "2026-11-20T09:00:00.000000Z")]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE addresses (uprn BIGINT, organisation VARCHAR, logical_status INTEGER, source VARCHAR,
                                start_date DATE);
        CREATE TABLE business_records (record_id BIGINT, source VARCHAR, source_kind VARCHAR, record_type VARCHAR,
                                       start_date DATE, end_date DATE, last_seen_date DATE);
        CREATE TABLE record_links (record_id BIGINT, uprn BIGINT);
        CREATE TABLE record_features (unique_id BIGINT, public_name VARCHAR);
        CREATE TABLE record_establishments (record_id BIGINT, establishment_id VARCHAR);
        CREATE TABLE establishments (establishment_id VARCHAR, organisation_id VARCHAR);
        CREATE TABLE organisations (organisation_id VARCHAR, name VARCHAR);
        CREATE TABLE premises_history (uprn BIGINT, establishment_id VARCHAR, current BOOLEAN);
        CREATE TABLE approved_names (uprn BIGINT, business_name VARCHAR, submission_id VARCHAR, decided_at VARCHAR);
    """)
    for uprn, organisation, status in ADDRESSES:
        con.execute("INSERT INTO addresses VALUES (?, ?, ?, 'llpg', DATE '2010-01-01')", [uprn, organisation, status])
    for rid, uprn, source, kind, rtype, name, start, end, seen, business in RECORDS:
        con.execute("INSERT INTO business_records VALUES (?, ?, ?, ?, ?, ?, ?)", [rid, source, kind, rtype, start, end, seen])
        con.execute("INSERT INTO record_links VALUES (?, ?)", [rid, uprn])
        con.execute("INSERT INTO record_features VALUES (?, ?)", [rid, name])
        con.execute("INSERT INTO record_establishments VALUES (?, ?)", [rid, business])
        con.execute("INSERT INTO establishments VALUES (?, ?)", [business, f"O{business}"])
        con.execute("INSERT INTO organisations VALUES (?, ?)", [f"O{business}", f"Operator of {name}"])
    con.executemany("INSERT INTO approved_names VALUES (?, ?, ?, ?)", APPROVED)
    return con


def chosen(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str, str]]:
    return {uprn: (name, kind, source) for uprn, name, kind, source in con.execute(
        "SELECT uprn, business_name, name_source_kind, name_source FROM property_names").fetchall()}


def test_default_rule(con: duckdb.DuckDBPyConnection) -> None:
    derive_property_names(con, DEFAULT)
    names = chosen(con)
    assert names[1] == ("Rosie's Bakery", "approved", "submission sub-1")
    assert names[2][:2] == ("New Cafe", "licensing")  # the latest last-seen licence
    assert names[3][:2] == ("Current Ratepayer", "rates")  # current liability beats a later, ended one
    assert 4 not in names  # an approved name for a property no longer live is not used
    others = con.execute("SELECT [c.name FOR c IN other_candidates] FROM property_names WHERE uprn = 1").fetchall()
    assert others[0][0] == ["ROSIES BAKERY", "Rosie's Bakery Ltd"]
    # the establishment and its operator come with the name
    assert con.execute("SELECT establishment_id, organisation_id, organisation_name FROM property_names "
                       "WHERE uprn = 2").fetchall()[0] == ("B3", "OB3", "Operator of New Cafe")
    # an approved name names no establishment itself: it is the one whose record carries that name
    assert con.execute("SELECT establishment_id FROM property_names WHERE uprn = 1").fetchall()[0][0] == "B1"


def test_precedence_is_configurable(con: duckdb.DuckDBPyConnection) -> None:
    derive_property_names(con, [NameSourceKind.GAZETTEER, NameSourceKind.APPROVED, NameSourceKind.RATES,
                                NameSourceKind.LICENSING])
    names = chosen(con)
    assert names[1][:2] == ("ROSIES BAKERY", "gazetteer")
    assert names[2][:2] == ("Landlord Ltd", "rates")


def test_a_name_no_record_carries_is_given_to_no_establishment(con: duckdb.DuckDBPyConnection) -> None:
    """An approved name for a newcomer is not pinned on whoever traded there before."""
    con.execute("UPDATE approved_names SET business_name = 'Mare Street Tailors' WHERE uprn = 1")
    derive_property_names(con, DEFAULT)
    row = con.execute("SELECT business_name, establishment_id FROM property_names WHERE uprn = 1").fetchall()[0]
    assert row == ("Mare Street Tailors", None)
