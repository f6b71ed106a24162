"""Establishments and organisations on hand-made records: every situation a council's files show
(Basildon-style NDR and FHRS exports, no gazetteer), each a small story that must come out right."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from business_index.build import build_index
from business_index.config import load_settings
from tests.link.test_cross_source import FHRS_HEADER

NDR_HEADER = "PlaceRef,FOIName,PropAddress1,PropAddress2,PropPostCode,PropDesc,LiabStart"
# (place ref, ratepayer, address line 1, line 2, postcode, description, liability start)
NDR_ROWS = [
    # a pub company rates its pubs; food hygiene knows them by their trading names
    ("1001", "Wexford Inns Ltd", "14 Kings Road", "Lowtown", "LT1 1AA", "PUBLIC HOUSE AND PREMISES", "2012-04-01"),
    ("1002", "Wexford Inns Ltd", "3 Mill Way", "Lowtown", "LT2 2BB", "PUBLIC HOUSE AND PREMISES", "2010-04-01"),
    # a restaurant group and its brand; an academy trust and its school
    ("1003", "Chokdee Limited", "120 High Street", "Lowtown", "LT1 1AC", "RESTAURANT AND PREMISES", "2015-06-01"),
    ("1004", "Great Oak Academy Trust", "Great Oak School", "Forest Glade", "LT3 3CC", "SCHOOL AND PREMISES",
     "2013-09-01"),
    # a withheld ratepayer at the very premises of one food business
    ("1005", "", "22 Station Parade", "Lowtown", "LT1 1AD", "SHOP AND PREMISES", "2016-01-01"),
    # the premises named in the address is the trading name
    ("1006", "Marstons Plc", "The Red Lion", "Church Street", "LT4 4DD", "PUBLIC HOUSE AND PREMISES", "1998-01-01"),
    # trivial variants: a range, a neighbouring postcode, joined words
    ("1007", "Tasty Plc", "94 Market Street", "Lowtown", "LT1 1AE", "RESTAURANT AND PREMISES", "2010-01-10"),
    ("1008", "The Tree House Child Care Ltd", "Education Rooms", "Norsey Wood", "LT5 5EE", "DAY NURSERY AND PREMISES",
     "2018-10-31"),
    # an ATM and advertising right at a host's premises; the host's own hereditament
    ("1009", "Cardtronics UK Ltd", "ATM At", "30 Bridge Street", "LT1 1AF", "ATM AND PREMISES", "2016-01-01"),
    ("1010", "Clear Channel UK Ltd", "Advertising Right", "30 Bridge Street", "LT1 1AF",
     "ADVERTISING RIGHT AND PREMISES", "2016-01-01"),
    ("1011", "", "30 Bridge Street", "Lowtown", "LT1 1AF", "SHOP AND PREMISES", "2009-01-01"),
    # a multi-occupied building: offices upstairs, a takeaway on the ground floor
    ("1012", "Upstairs Accountancy Ltd", "First Floor", "40 Bell Street", "LT1 1AG", "OFFICES AND PREMISES",
     "2014-01-01"),
    ("1013", "Bell Kebabs Ltd", "40 Bell Street", "Lowtown", "LT1 1AG", "SHOP AND PREMISES", "2017-03-01"),
    # successive occupiers: the cafe that closed and the one that opened, and a successor ratepayer
    ("1014", "Old Corner Cafe Ltd", "5 Corner Road", "Lowtown", "LT1 1AH", "CAFE AND PREMISES", "2008-01-01"),
    ("1014", "Bampton Property Group Ltd", "5 Corner Road", "Lowtown", "LT1 1AH", "CAFE AND PREMISES", "2021-02-01"),
    # a pre-school does not trade from a firm's offices
    ("1015", "Biminster Homes Ltd", "70 Laindon Road", "Lowtown", "LT1 1AJ", "OFFICES AND PREMISES", "2015-01-04"),
    # a withheld ratepayer whose address names another business than the food one there
    ("1016", "", "Flatbridge Cafe", "7 Hurricane Close", "LT6 6FF", "CAFE AND PREMISES", "2020-01-27"),
    # a contract caterer in another company's warehouse
    ("1017", "Argos Limited", "Argos Warehouse", "Miles Road", "LT7 7GG", "WAREHOUSE AND PREMISES", "1996-02-02"),
    # a pub named in its company's address, in a village; a pub of that name in another village nearby
    ("1018", "Upton Inns Ltd", "Spread Eagle", "Church Lane, Upton", "LT8 8HA", "PUBLIC HOUSE AND PREMISES",
     "2005-01-01"),
]
# (FHRS id, business name, type, address line 1, line 2, postcode, rating date)
FHRS_ROWS = [
    ("201", "The Kings Arms", "Pub/bar/nightclub", "14 Kings Road", "Lowtown", "LT1 1AA", "2019-05-01"),
    ("202", "The Miller", "Pub/bar/nightclub", "3 Mill Way", "Lowtown", "LT2 2BB", "2019-06-01"),
    ("203", "Giggling Squid", "Restaurant/Cafe/Canteen", "120 High Street", "Lowtown", "LT1 1AC", "2019-02-01"),
    ("204", "Great Oak School Kitchen", "School/college/university", "Great Oak School", "Forest Glade",
     "LT3 3CC", "2019-03-01"),
    ("205", "Station News", "Retailers - other", "22 Station Parade", "Lowtown", "LT1 1AD", "2019-04-25"),
    ("206", "Red Lion", "Pub/bar/nightclub", "113 Church Street", "Lowtown", "LT4 4DD", "2019-07-01"),
    ("207", "Wildwood Restaurants", "Restaurant/Cafe/Canteen", "94-96 Market Street", "Lowtown", "LT1 1AW",
     "2019-02-26"),
    ("208", "The Treehouse Club", "Other catering premises", "Norsey Woods Education Room", "Lowtown", "LT5 5EE",
     "2019-02-08"),
    ("209", "Bridge Street Stores", "Retailers - other", "30 Bridge Street", "Lowtown", "LT1 1AF", "2018-01-01"),
    ("210", "Bell Kebab House", "Takeaway/sandwich shop", "40 Bell Street", "Lowtown", "LT1 1AG", "2019-01-01"),
    ("211", "Old Corner Cafe", "Restaurant/Cafe/Canteen", "5 Corner Road", "Lowtown", "LT1 1AH", "2018-01-01"),
    ("212", "Party House Pre-School", "Hospitals/Childcare/Caring Premises", "70 Laindon Road", "Lowtown",
     "LT1 1AJ", "2019-03-14"),
    ("213", "Shotgate Cafe", "Restaurant/Cafe/Canteen", "7 Hurricane Close", "Lowtown", "LT6 6FF", "2018-10-18"),
    ("214", "Aramark Limited", "Restaurant/Cafe/Canteen", "Argos Warehouse", "Miles Road", "LT7 7GG", "2019-01-01"),
    # two pubs of one name, run by different companies (no rates record names either)
    ("215", "Spread Eagle", "Pub/bar/nightclub", "1 Eagle Lane", "Lowtown", "LT1 1AZ", "2019-01-01"),
    ("216", "Spread Eagle", "Pub/bar/nightclub", "9 Far Road", "Farton", "FT9 9JJ", "2019-01-01"),
    ("217", "Spread Eagle", "Pub/bar/nightclub", "Downton Green", "Downton", "LT8 8ZZ", "2019-01-01"),
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


def _csv_cell(value: str) -> str:
    return f'"{value}"' if "," in value else value


def build_council(folder: Path, ndr_rows: list, fhrs_rows: list, config: str, town: str = "Lowtown") -> Path:
    """Write a hand-made council's NDR export (``NDR_ROWS``' shape), FHRS export (``FHRS_ROWS``'
    shape) and ``config`` as sources.toml in ``folder``, build it; returns the index."""
    ndr = [NDR_HEADER] + [",".join(_csv_cell(v) for v in (f"'{ref}", *rest)) for ref, *rest in ndr_rows]
    (folder / "ndr.csv").write_text("\n".join(ndr) + "\n")
    fhrs = [FHRS_HEADER] + [f"{i},{i},{name},{kind},1,{_csv_cell(a1)},{a2},,,{pc},5,fhrs_5_en-GB,{rated},109,"
                            f"{town},FHRS,False,5,5,5,,,2020-10-28"
                            for i, name, kind, a1, a2, pc, rated in fhrs_rows]
    (folder / "fhrs.csv").write_text("\n".join(fhrs) + "\n")
    (folder / "sources.toml").write_text(config)
    index = folder / "index.duckdb"
    build_index(load_settings(folder / "sources.toml"), index)
    return index


def record_units(index: Path) -> dict[str, tuple[str, str | None]]:
    """record key -> (establishment id, organisation id) of a built index."""
    with duckdb.connect(str(index), read_only=True) as con:
        rows = con.execute("SELECT record_key, establishment_id, organisation_id FROM record_establishments").fetchall()
    return {key: (e, o) for key, e, o in rows}


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str | None]]:
    """'ndr|<place ref>:<row>' or 'fhrs|<id>' -> (establishment id, organisation id)."""
    return record_units(build_council(tmp_path_factory.mktemp("council"), NDR_ROWS, FHRS_ROWS, CONFIG))


def ndr(units: dict, ref: str, nth: int = 0) -> tuple[str, str | None]:
    keys = sorted((k for k in units if k.startswith(f"ndr|{ref}:")), key=lambda k: int(k.split(":")[1]))
    return units[keys[nth]]


def fhrs(units: dict, fhrs_id: str) -> tuple[str, str | None]:
    return units[f"fhrs|{fhrs_id}"]


def same_establishment(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    return a[0] == b[0]


def test_every_record_is_in_one_establishment(units: dict) -> None:
    assert len(units) == len(NDR_ROWS) + len(FHRS_ROWS)
    assert all(establishment for establishment, _ in units.values())


def test_an_operating_company_and_the_trading_name_at_its_premises(units: dict) -> None:
    assert same_establishment(ndr(units, "1001"), fhrs(units, "201"))  # pub company and pub
    assert same_establishment(ndr(units, "1002"), fhrs(units, "202"))
    assert same_establishment(ndr(units, "1003"), fhrs(units, "203"))  # restaurant group and brand
    assert same_establishment(ndr(units, "1004"), fhrs(units, "204"))  # academy trust and its school


def test_a_pub_company_is_one_organisation_of_two_establishments(units: dict) -> None:
    first, second = ndr(units, "1001"), ndr(units, "1002")
    assert first[0] != second[0]
    assert first[1] is not None and first[1] == second[1]
    assert fhrs(units, "201")[1] == fhrs(units, "202")[1] == first[1]


def test_a_withheld_ratepayer_at_the_very_premises_of_one_food_business(units: dict) -> None:
    assert same_establishment(ndr(units, "1005"), fhrs(units, "205"))


def test_the_premises_named_in_the_address_is_the_trading_name(units: dict) -> None:
    assert same_establishment(ndr(units, "1006"), fhrs(units, "206"))


def test_trivial_variants(units: dict) -> None:
    # "94" and "94-96", in a neighbouring postcode of the same sector
    assert same_establishment(ndr(units, "1007"), fhrs(units, "207"))
    # "Tree House" and "Treehouse", "Education Rooms" and "Education Room"
    assert same_establishment(ndr(units, "1008"), fhrs(units, "208"))


def test_an_atm_and_an_advertising_right_are_never_the_hosts(units: dict) -> None:
    shop = fhrs(units, "209")
    assert same_establishment(ndr(units, "1011"), shop)
    for ancillary in ("1009", "1010"):
        assert not same_establishment(ndr(units, ancillary), shop)
        assert not same_establishment(ndr(units, ancillary), ndr(units, "1011"))


def test_part_of_a_building_is_not_the_whole(units: dict) -> None:
    takeaway = fhrs(units, "210")
    assert same_establishment(ndr(units, "1013"), takeaway)
    assert not same_establishment(ndr(units, "1012"), takeaway)


def test_successive_occupiers_are_told_apart_by_dates(units: dict) -> None:
    cafe = fhrs(units, "211")
    assert same_establishment(ndr(units, "1014", 0), cafe)
    # the property company liable from 2021, after the cafe was last inspected, is another business
    assert not same_establishment(ndr(units, "1014", 1), cafe)


def test_the_business_must_fit_the_premises(units: dict) -> None:
    assert not same_establishment(ndr(units, "1015"), fhrs(units, "212"))


def test_an_address_naming_another_business_is_evidence_against(units: dict) -> None:
    assert not same_establishment(ndr(units, "1016"), fhrs(units, "213"))


def test_two_registered_companies_are_two_legal_entities(units: dict) -> None:
    assert not same_establishment(ndr(units, "1017"), fhrs(units, "214"))


def test_one_trading_name_at_two_premises_is_two_establishments(units: dict) -> None:
    assert not same_establishment(fhrs(units, "215"), fhrs(units, "216"))
    # the pub company's Spread Eagle in Upton is not the Spread Eagle in Downton, though one sector
    assert not same_establishment(ndr(units, "1018"), fhrs(units, "217"))
    # and two pubs of one name with no operator on record are two organisations
    assert fhrs(units, "215")[1] != fhrs(units, "216")[1]
