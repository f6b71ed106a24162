import pytest
from hypothesis import given
from hypothesis import strategies as st

from business_index.clean.addresses import describes_no_property, parse_address, tidy
from business_index.postcodes import (
    find_postcode,
    normalise_postcode,
    postcode_district,
    postcode_sector,
)

STREETS = frozenset({"MARE STREET", "DALSTON LANE", "MORNING LANE", "BROADWAY MARKET", "ACACIA AVENUE"})


@pytest.mark.parametrize(("lines", "sub", "number", "street"), [
    (["Ground Floor 12a Mare St", "Hackney"], "GROUND FLOOR", "12A", "MARE STREET"),
    (["Gnd Flr", "12 A Mare Street"], "GROUND FLOOR", "12A", "MARE STREET"),
    (["G/F, 12A, Mare Street, London, E8 1AB"], "GROUND FLOOR", "12A", "MARE STREET"),
    (["Bsmt & Gnd Flr", "3 Mare Street"], "BASEMENT AND GROUND FLOOR", "3", "MARE STREET"),
    (["Shop", "15 Mare St"], "GROUND FLOOR", "15", "MARE STREET"),
    (["Shop 98 Morning Lane"], "GROUND FLOOR", "98", "MORNING LANE"),
    (["Shop 3", "15 Mare St"], "3", "15", "MARE STREET"),
    (["Unit 3,", "Albion Business Centre", "20 Mare Street"], "3", "20", "MARE STREET"),
    (["7, Gore Business Centre, 49 Dalston Lane"], "7", "49", "DALSTON LANE"),
    (["4 Chalgrove Business Centre", "23", "Mare Street"], "4", "23", "MARE STREET"),
    (["12-14 Mare Street"], None, "12-14", "MARE STREET"),
    (["12 Acacia Avenue"], None, "12", "ACACIA AVENUE"),
    (["Flat A", "34 Mare Street"], "A", "34", "MARE STREET"),
    # a floor names the flat; the number after "Flat" is then the building's
    (["First Floor Flat 13 Mare Street London"], "FIRST FLOOR", "13", "MARE STREET"),
    (["Flat 2, 13 Mare Street"], "2", "13", "MARE STREET"),
    # a lone letter before the building number is a flat's
    (["C, 6 Dalston Lane"], "C", "6", "DALSTON LANE"),
    (["A 23 Mare Street"], "A", "23", "MARE STREET"),
    (["B&Q, 5 Mare Street"], None, "5", "MARE STREET"),
    (["A1 Business Park, 5 Mare Street"], None, "5", "MARE STREET"),  # a road, not flat A
    (["G/F and top floor, 12 Mare Street"], "GROUND FLOOR", "12", "MARE STREET"),
    (["First and second floors, 21 Mare Street"], "SECOND FLOOR", "21", "MARE STREET"),  # floors: both
])
def test_parts_of_messy_addresses(lines: list[str], sub: str | None, number: str, street: str) -> None:
    parts = parse_address(lines, known_streets=STREETS)
    assert (parts.sub_premises, parts.number, parts.street) == (sub, number, street)


def test_without_a_gazetteer_the_street_is_read_from_street_words() -> None:
    assert parse_address(["31-33 The Broadway", "Wickford"]).number == "31-33"
    assert parse_address(["88 Town Square", "Basildon"]).street == "TOWN SQUARE"
    assert parse_address(["12 High Road", "Pitsea"]).street == "HIGH ROAD"


def test_places_that_are_not_properties() -> None:
    assert describes_no_property(["Advertising Right Adj 1", "Mare Street"])
    assert describes_no_property(["Pitch 3, Ridley Road Market"])
    assert not describes_no_property(["12 Mare Street"])


@given(number=st.integers(1, 400), suffix=st.sampled_from(["", "A", "B"]), style=st.integers(0, 2))
def test_a_number_reads_the_same_however_it_is_spaced(number: int, suffix: str, style: int) -> None:
    written = [f"{number}{suffix}", f"{number} {suffix}".strip(), f"{number}{suffix.lower()}"][style]
    parts = parse_address([f"{written} Mare Street"], known_streets=STREETS)
    assert parts.number == f"{number}{suffix}" and parts.street == "MARE STREET"


def test_postcodes() -> None:
    assert normalise_postcode("e81ab") == "E8 1AB" and normalise_postcode(" EC2A  4PH ") == "EC2A 4PH"
    assert normalise_postcode("SS14") is None and normalise_postcode(None) is None
    assert find_postcode("12 Mare Street, London e8 1ab") == "E8 1AB"
    assert postcode_sector("E8 1AB") == "E8 1" and postcode_district("E8 1AB") == "E8"


FLOOR_WORDS = ["B", "AND", "&", "G", "/", "GROUND", "GND", "GRD", "FLOOR", "FLR", "F", "FIRST", "1ST", "SECOND", "TOP",
               "BASEMENT", "BSMT", "BAND", "12", "MARE", "STREET", "FL", "THIRD", "4TH"]


@given(st.lists(st.sampled_from(FLOOR_WORDS), min_size=1, max_size=6), st.booleans())
def test_the_quick_floor_check_never_skips_a_floor(words: list[str], joined: bool) -> None:
    from business_index.clean.addresses import _FLOOR_KEYS, FLOOR_PHRASES, tidy

    text = tidy(("" if joined else " ").join(words))
    if any(pattern.search(text) for pattern, _ in FLOOR_PHRASES):
        assert any(key in text for key in _FLOOR_KEYS), text


@given(st.lists(st.sampled_from(["ADJ", "ADJACENT", "TO", "PITCH", "4", "ADVERTISING", "RIGHT", "RIGHTS", "TELECOM", "MAST",
                                 "CAR", "PARKING", "SPACE", "ATM", "SITE", "OPP.", "HIGH", "STREET", "'", "-", ","]),
                min_size=1, max_size=6))
def test_the_quick_check_for_places_that_are_not_properties_never_skips_one(words: list[str]) -> None:
    from business_index.clean.addresses import NOT_A_PROPERTY

    text = " ".join(words)
    assert describes_no_property([text]) == bool(NOT_A_PROPERTY.search(tidy(text)))


def test_every_floor_an_address_names() -> None:
    assert parse_address(["Flat A, First and Second Floors, 21 Mare Street"]).floors == ("FIRST FLOOR", "SECOND FLOOR")
    assert parse_address(["Basement flat 45 Mare Street"]).floors == ("BASEMENT",)
    assert parse_address(["G/F and top floor, 12 Mare Street"]).floors == ("GROUND FLOOR", "TOP FLOOR")
    assert parse_address(["12 Mare Street"]).floors == ()
