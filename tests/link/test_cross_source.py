"""Joining one business's records across sources at one premises (one establishment), on a tiny
council with no gazetteer: business rates (NDR) and food hygiene (FHRS) only, written the way the
real files are."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from business_index.build import build_index
from business_index.config import load_settings

NDR = """PlaceRef,FOIName,PropAddress1,PropAddress2,PropAddress3,PropAddress4,PropAddress5,PropPostCode,PropDesc,LiabStart
'0000001,Shadforth Pharmaceutical Company Limited,49 High Street,Billericay,Essex,,,CM12 9AX,SHOP AND PREMISES,2009-01-04
'0000002,Marstons Plc,Red Lion,High Street,Billericay,Essex,,CM12 9AJ,PUBLIC HOUSE AND PREMISES,1995-04-01
'0000003,Argos Limited,Argos,Miles Gray Road,Basildon,Essex,,SS14 3AF,WAREHOUSE AND PREMISES,1996-02-02
'0000004,Quillon Trading Limited,5 Mill Lane,Wickford,Essex,,,SS11 7AB,SHOP AND PREMISES,2012-05-01
'0000005,,7 Bell Street,Wickford,Essex,,,SS11 7AD,CAFE AND PREMISES,2015-03-01
'0000006,,12C Western Road,Billericay,Essex,,,CM12 9DZ,SHOP AND PREMISES,2017-01-01
'0000007,Upstairs Accountancy Ltd,First Floor,7 Bell Street,Wickford,Essex,,SS11 7AD,OFFICES AND PREMISES,2016-01-01
"""
FHRS_HEADER = ("FHRSID,LocalAuthorityBusinessID,BusinessName,BusinessType,BusinessTypeID,AddressLine1,AddressLine2,"
               "AddressLine3,AddressLine4,PostCode,RatingValue,RatingKey,RatingDate,LocalAuthorityCode,"
               "LocalAuthorityName,SchemeType,NewRatingPending,Hygiene,Structural,ConfidenceInManagement,Longitude,"
               "Latitude,ExtractDate")
FHRS_ROWS = [
    ("101", "Shadforth Pharmacy", "49 High Street", "Billericay", "CM12 9AX"),
    ("102", "Red Lion", "113 High Street", "Billericay", "CM12 9AJ"),
    ("103", "Aramark Limited", "Argos Warehouse", "Miles Gray Road", "SS14 3AF"),
    ("104", "Quillon Cafe", "5 Mill Lane", "Wickford", "SS11 7AB"),
    ("105", "Quillon Bakery", "5 Mill Lane", "Wickford", "SS11 7AB"),
    ("106", "Bell Cafe", "7 Bell Street", "Wickford", "SS11 7AD"),
    ("107", "Bean Away", "12 Western Road", "Billericay", "CM12 9DZ"),
]
CONFIG = """
[[sources]]
name = "ndr"
kind = "rates"
format = "ndr_csv"
paths = ["ndr.csv"]

[[sources]]
name = "fhrs"
kind = "licensing"
format = "fhrs_csv"
paths = ["fhrs.csv"]
"""


def write_council(folder: Path) -> Path:
    """The tiny council's files and sources.toml in ``folder``; returns the sources.toml."""
    (folder / "ndr.csv").write_text(NDR)
    rows = [FHRS_HEADER] + [f"{i},{i},{name},Restaurant/Cafe/Canteen,1,{a1},{a2},Essex,,{pc},5,fhrs_5_en-GB,"
                            f"2018-02-21,109,Basildon,FHRS,False,5,5,5,,,2020-10-28"
                            for i, name, a1, a2, pc in FHRS_ROWS]
    (folder / "fhrs.csv").write_text("\n".join(rows) + "\n")
    (folder / "sources.toml").write_text(CONFIG)
    return folder / "sources.toml"


@pytest.fixture(scope="module")
def businesses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """source|record id (for rates, the property reference without its row) -> establishment id."""
    folder = tmp_path_factory.mktemp("council")
    index = folder / "index.duckdb"
    build_index(load_settings(write_council(folder)), index)
    with duckdb.connect(str(index), read_only=True) as con:
        return {key.split(":")[0]: business for key, business in con.execute(
            "SELECT record_key, establishment_id FROM record_establishments").fetchall()}


def one_business(businesses: dict[str, str | None], *keys: str) -> bool:
    ids = {businesses[k] for k in keys}
    return len(ids) == 1 and None not in ids


def test_a_company_and_its_trading_name_at_one_numbered_premises(businesses: dict) -> None:
    assert one_business(businesses, "ndr|0000001", "fhrs|101")


def test_a_pub_company_whose_address_names_the_pub(businesses: dict) -> None:
    assert one_business(businesses, "ndr|0000002", "fhrs|102")


def test_a_contractor_in_another_companys_building_is_not_that_company(businesses: dict) -> None:
    assert not one_business(businesses, "ndr|0000003", "fhrs|103")


def test_an_ambiguous_pair_is_left_apart(businesses: dict) -> None:
    # the rates record could be either food business at 5 Mill Lane: it joins neither
    assert not one_business(businesses, "ndr|0000004", "fhrs|104")
    assert not one_business(businesses, "ndr|0000004", "fhrs|105")


def test_a_withheld_ratepayer_joins_the_one_business_at_its_very_premises(businesses: dict) -> None:
    # the first-floor offices at 7 Bell Street are another hereditament, not a rival candidate
    assert one_business(businesses, "ndr|0000005", "fhrs|106")
    assert not one_business(businesses, "ndr|0000007", "fhrs|106")
    # 12C is not 12 when there is no name to go on: the withheld ratepayer is an establishment of its own
    assert not one_business(businesses, "ndr|0000006", "fhrs|107")
    assert businesses["ndr|0000006"] is not None


def test_a_build_without_a_gazetteer_says_what_it_lacks(tmp_path: Path) -> None:
    from business_index.build import NO_GAZETTEER

    report = build_index(load_settings(write_council(tmp_path)), tmp_path / "index.duckdb")
    assert report.counts["addresses"] == 0 and report.notes == [NO_GAZETTEER]
    assert report.counts["establishments"] > 0
