import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from business_index.sources.gazetteer import address_line
from business_index.sources.single_line import SingleLineParts, split_single_line, split_trailing_postcode

CASES = [
    ("Flat 2, 12 High Street, Basildon, SS14 1AA",
     dict(sao_text="FLAT", sao_start_number=2, pao_start_number=12, street_description="HIGH STREET",
          town="BASILDON", postcode="SS14 1AA")),
    ("Flat 2 12 High Street Basildon SS14 1AA",  # no commas: cut at the house number and the street type
     dict(sao_text="FLAT", sao_start_number=2, pao_start_number=12, street_description="HIGH STREET",
          town="BASILDON", postcode="SS14 1AA")),
    ("Unit 3A, Acme House, 12-14 High St, Pitsea, Basildon",
     dict(sao_text="UNIT", sao_start_number=3, sao_start_suffix="A", pao_text="ACME HOUSE", pao_start_number=12,
          pao_end_number=14, street_description="HIGH ST", locality="PITSEA", town="BASILDON")),
    ("Ground Floor, 12A Mare Street, Hackney, London, E8 1AB",
     dict(sao_text="GROUND FLOOR", pao_start_number=12, pao_start_suffix="A", street_description="MARE STREET",
          locality="HACKNEY", town="LONDON", postcode="E8 1AB")),
    ("First Floor Flat 3, 7 The Green Road, Exeter",
     dict(sao_text="FIRST FLOOR FLAT", sao_start_number=3, pao_start_number=7, street_description="THE GREEN ROAD",
          town="EXETER")),
    ("FLAT A, 12 HIGH ST", dict(sao_text="FLAT A", pao_start_number=12, street_description="HIGH ST")),
    ("Suites 4-6B, 10 Low Road, Exeter",
     dict(sao_text="SUITES", sao_start_number=4, sao_end_number=6, sao_end_suffix="B", pao_start_number=10,
          street_description="LOW ROAD", town="EXETER")),
    ("The Old Bakery, Church Lane, Heavitree, Exeter",
     dict(pao_text="THE OLD BAKERY", street_description="CHURCH LANE", locality="HEAVITREE", town="EXETER")),
    ("The White Hart, Exeter", dict(pao_text="THE WHITE HART", town="EXETER")),
    ("2, 12 High Street", dict(sao_start_number=2, pao_start_number=12, street_description="HIGH STREET")),
    ("1 Rose Court, 12 High Street, Exeter",  # as the LLPG holds it: SAO 1 of ROSE COURT
     dict(sao_start_number=1, pao_text="ROSE COURT", pao_start_number=12, street_description="HIGH STREET",
          town="EXETER")),
    ("12, High Street, Exeter", dict(pao_start_number=12, street_description="HIGH STREET", town="EXETER")),
    ("Shop 98 Morning Lane", dict(sao_text="SHOP", pao_start_number=98, street_description="MORNING LANE")),
    ("Unit 3, Acme Estate, Exeter", dict(sao_text="UNIT", sao_start_number=3, pao_text="ACME ESTATE", town="EXETER")),
    ("12 Church Road St Albans",  # ST begins a name here, not a street
     dict(pao_start_number=12, street_description="CHURCH ROAD", town="ST ALBANS")),
    ("Acme House, 12", dict(pao_text="ACME HOUSE", pao_start_number=12)),
    ("SS14 1AA", dict(postcode="SS14 1AA")),
    ("", {}),
    (" , ,", {}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_splits_into_llpg_parts(text: str, expected: dict[str, object]) -> None:
    assert split_single_line(text) == SingleLineParts(**expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "FLAT 2, MARLOW HOUSE, 14 HIGH STREET, EXETER, EX4 3LF",
    "GROUND FLOOR, 12A MARE STREET, HACKNEY, LONDON, E8 1AB",
    "1 ROSE COURT, 12 HIGH STREET, EXETER",
    "2, 12 HIGH STREET, EXETER",
    "UNIT 3A, ACME HOUSE, 12-14 HIGH STREET, PITSEA, BASILDON, SS14 1AA",
])
def test_a_line_the_llpg_reader_writes_splits_back_into_the_same_line(text: str) -> None:
    parts = split_single_line(text)
    assert address_line(parts.as_parts(), parts.postcode) == text


def test_trailing_postcode_only() -> None:
    assert split_trailing_postcode("12 High St, Basildon ss141aa.") == ("12 High St, Basildon ", "SS14 1AA")
    assert split_trailing_postcode("SS14 1AA, 12 High St") == ("SS14 1AA, 12 High St", None)
    assert split_trailing_postcode("FLAT 2A1 1AA") == ("FLAT 2A1 1AA", None)  # not a word of its own


def test_numbers_fit_the_integer_columns() -> None:
    parts = split_single_line("123456 High Street, Exeter")
    assert parts.pao_start_number is None and parts.street_description == "123456 HIGH STREET"


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[\s,]+", text.upper()) if w}


ADDRESS_WORDS = st.sampled_from([
    "Flat", "Unit", "Shop", "Suite", "Ground", "First", "Floor", "Basement", "Top", "and", "&", "12", "12A", "3-5",
    "7B-9", "A", "High", "Street", "St", "Road", "Rd", "The", "Green", "Court", "House", "Acme", "Church", "Lane",
    "Heavitree", "Exeter", "SS14", "1AA", "E8 1AB", "-", "99999", "123456", "0", "Ä", "ß", "\u0663", "²",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.lists(st.tuples(ADDRESS_WORDS, st.sampled_from([" ", ", ", ",", "  "])), max_size=14).map(
        lambda pairs: "".join(w + sep for w, sep in pairs)),
))
def test_never_raises_and_every_word_comes_from_the_input(text: str) -> None:
    parts = split_single_line(text)
    given_words = _words(text)
    for name in ("sao_text", "pao_text", "street_description", "locality", "town"):
        value = getattr(parts, name)
        if value is not None:
            assert value.strip() and _words(value) <= given_words, (name, value)
    for name in ("sao_start_number", "sao_end_number", "pao_start_number", "pao_end_number"):
        number = getattr(parts, name)
        if number is not None:
            assert 0 <= number < 100_000 and str(number) in text
    for name in ("sao_start_suffix", "sao_end_suffix", "pao_start_suffix", "pao_end_suffix"):
        suffix = getattr(parts, name)
        assert suffix is None or (len(suffix) == 1 and suffix in text.upper())
    assert split_single_line(text) == parts  # deterministic
    address_line(parts.as_parts(), parts.postcode)  # and the LLPG reader can write it
