"""The "same premises" rules and the cross-source name rules are symmetric: which record is on the
left never changes the answer (generated pairs of records, evaluated by DuckDB itself)."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from business_index.link.cross_source import NAMES_ALIKE, NAMES_SIMILAR, SHARE_DISTINCTIVE_WORD
from business_index.link.establishments import NAMES_DIFFER
from business_index.link.premises import (
    AT_ONE_PREMISES,
    SAME_NUMBERED_PREMISES,
    SAME_POSTCODE_UNNUMBERED,
    SAME_SECTOR_ADDRESS_ALIKE,
    SAME_SECTOR_SITE,
    SAME_SECTOR_UNNUMBERED,
    SAME_SITE,
)

CONDITIONS = [AT_ONE_PREMISES, SAME_NUMBERED_PREMISES, SAME_POSTCODE_UNNUMBERED, SAME_SITE, SAME_SECTOR_UNNUMBERED,
              SAME_SECTOR_SITE, SAME_SECTOR_ADDRESS_ALIKE, NAMES_ALIKE, NAMES_SIMILAR, SHARE_DISTINCTIVE_WORD,
              NAMES_DIFFER]
COLUMNS = ("source VARCHAR, property_ref VARCHAR, uprn BIGINT, postcode VARCHAR, sector VARCHAR, street VARCHAR, "
           "number VARCHAR, number_base VARCHAR, sub_premises VARCHAR, address_tokens VARCHAR[], "
           "distinctive_words VARCHAR[], name_stems VARCHAR[], name_keys VARCHAR[], name_tokens VARCHAR[], "
           "company_keys VARCHAR[], proprietor_key VARCHAR, street_head VARCHAR, name_compact VARCHAR, "
           "address_compact VARCHAR, name_bigrams VARCHAR[], initials VARCHAR, site_words VARCHAR[], "
           "first_line VARCHAR, local_words VARCHAR[]")


def derived(name: list[str], street: str | None, tokens: list[str]) -> tuple[object, ...]:
    """The columns business_inputs derives from a record's name words, street and address words."""
    key = " ".join(name)
    return (street.split()[0] if street else None, key.replace(" ", ""), "".join(tokens),
            [a + b for a, b in zip(name, name[1:], strict=False)],
            "".join(w[0] for w in name if w not in ("AND", "FOR", "OF", "THE", "IN")) if len(name) >= 3 else None,
            sorted(set(tokens) - {"HIGH", "STREET"}), " ".join(tokens[:2]) or None, sorted(set(tokens) - {"STREET"}))
WORDS = st.sampled_from(["RED", "LION", "HIGH", "STREET", "SHADFORTH", "PHARMACY", "ARGOS", "CAFE", "MILL"])


@st.composite
def records(draw: st.DrawFn) -> tuple[object, ...]:
    postcode = draw(st.sampled_from(["CM12 9AJ", "CM12 9AW", "SS14 1BA", None]))
    number = draw(st.sampled_from(["8", "8A", "12", "12-14", None]))
    name = draw(st.lists(WORDS, min_size=1, max_size=3))
    key = " ".join(name)
    street = draw(st.sampled_from(["HIGH STREET", "HIGH ROAD", "MILL LANE", None]))
    tokens = draw(st.lists(WORDS, max_size=5))
    return (draw(st.sampled_from(["ndr", "fhrs"])), draw(st.sampled_from(["0001", "0002", None])),
            draw(st.sampled_from([None, 100, 200])), postcode, postcode[:-2] if postcode else None,
            street, number,
            number.split("-")[0].rstrip("A") if number else None, draw(st.sampled_from([None, "FIRST FLOOR", "1"])),
            tokens, sorted(set(name) - {"HIGH", "STREET", "CAFE"}),
            sorted(set(name) - {"HIGH", "STREET", "CAFE"}), [key], name,
            draw(st.sampled_from([[], [key]])), draw(st.sampled_from([None, key])), *derived(name, street, tokens))


CON = duckdb.connect()
CON.execute(f"CREATE TABLE pair_l ({COLUMNS}); CREATE TABLE pair_r ({COLUMNS})")


@settings(max_examples=150, deadline=None)
@given(records(), records())
def test_every_rule_is_symmetric(left: tuple[object, ...], right: tuple[object, ...]) -> None:
    placeholders = ", ".join("?" for _ in left)
    CON.execute("DELETE FROM pair_l; DELETE FROM pair_r")
    CON.execute(f"INSERT INTO pair_l VALUES ({placeholders})", list(left))
    CON.execute(f"INSERT INTO pair_r VALUES ({placeholders})", list(right))
    for condition in CONDITIONS:
        forwards = CON.execute(f"SELECT coalesce({condition}, false) FROM pair_l l, pair_r r").fetchall()
        backwards = CON.execute(f"SELECT coalesce({condition}, false) FROM pair_r l, pair_l r").fetchall()
        assert forwards == backwards, condition


def _holds(condition: str, left: tuple[object, ...], right: tuple[object, ...]) -> bool:
    placeholders = ", ".join("?" for _ in left)
    CON.execute("DELETE FROM pair_l; DELETE FROM pair_r")
    CON.execute(f"INSERT INTO pair_l VALUES ({placeholders})", list(left))
    CON.execute(f"INSERT INTO pair_r VALUES ({placeholders})", list(right))
    return bool(CON.execute(f"SELECT coalesce({condition}, false) FROM pair_l l, pair_r r").fetchall()[0][0])


def _record(source: str, ref: str | None, postcode: str, street: str, number: str | None, sub: str | None = None,
            tokens: tuple[str, ...] = (), name: str = "SHADFORTH PHARMACY") -> tuple[object, ...]:
    words = name.split()
    return (source, ref, None, postcode, postcode[:-2], street, number,
            number.split("-")[0].rstrip("ABC") if number else None, sub, list(tokens), words, words, [name], words,
            [], None, *derived(words, street, list(tokens)))


def test_examples_of_the_premises_rules() -> None:
    shop = _record("ndr", "0001", "CM12 9AX", "HIGH STREET", "8")
    assert _holds(SAME_NUMBERED_PREMISES, shop, _record("fhrs", None, "CM12 9AX", "HIGH STREET", "8A"))
    # a postcode slip on the same street
    assert _holds(SAME_NUMBERED_PREMISES, shop, _record("fhrs", None, "CM12 9AW", "HIGH STREET", "8"))
    assert not _holds(SAME_NUMBERED_PREMISES, shop, _record("fhrs", None, "CM12 9AW", "MILL LANE", "8"))
    assert not _holds(SAME_NUMBERED_PREMISES, _record("ndr", "0001", "CM12 9AX", "HIGH STREET", "8", "FIRST FLOOR"),
                      _record("fhrs", None, "CM12 9AX", "HIGH STREET", "8", "SECOND FLOOR"))
    # two hereditaments of one rates list are never one premises
    assert not _holds(AT_ONE_PREMISES, shop, _record("ndr", "0002", "CM12 9AX", "HIGH STREET", "8"))
    pub = _record("ndr", "0003", "CM12 9AJ", "HIGH STREET", None, tokens=("RED", "LION", "HIGH", "STREET"),
                  name="MARSTONS")
    assert _holds(AT_ONE_PREMISES, pub, _record("fhrs", None, "CM12 9AJ", "HIGH STREET", "113", name="RED LION"))


def test_examples_of_the_looser_premises_rules() -> None:
    # a street written with a word more or less: the very same number on a street whose first word agrees
    fish = _record("ndr", "0001", "SS13 3AT", "BROADWAY HIGH", "6", name="FISHN CHICKN")
    assert _holds(SAME_NUMBERED_PREMISES, fish, _record("fhrs", None, "SS13 3AS", "BROADWAY NORTH", "6"))
    assert not _holds(SAME_NUMBERED_PREMISES, fish, _record("fhrs", None, "SS13 3AS", "BROADWAY NORTH", "6A"))
    # one named site: both unnumbered, at one postcode, the same first line
    garage = _record("ndr", "0001", "SS14 3AS", "ARTERIAL ROAD", None, tokens=("SUMMERHILL", "GARAGE", "ARTERIAL"),
                     name="PETROGAS GROUP")
    station = _record("fhrs", None, "SS14 3AS", "ARTERIAL ROAD", None, tokens=("SUMMERHILL", "GARAGE", "SOUTHEND"),
                      name="SUMMERHILL SERVICE STATION")
    assert _holds(SAME_SITE, garage, station)
    assert not _holds(SAME_SITE, garage, _record("fhrs", None, "SS14 3AS", "ARTERIAL ROAD", None,
                                                 tokens=("UNIT", "LAND"), name="SUMMERHILL SERVICE STATION"))
    # addresses alike across a postcode slip in one sector
    unit_1b = _record("ndr", "0001", "SS13 3BY", "OLD MARKET", "1B",
                      tokens=("1B", "OLD", "MARKET", "RETAIL", "PARK", "PITSEA", "BASILDON"), name="POUNDLAND")
    unit_b = _record("fhrs", None, "SS13 3BB", None, None,
                     tokens=("B", "OLD", "MARKET", "RETAIL", "PARK", "PITSEA", "BASILDON"), name="POUNDLAND")
    assert _holds(SAME_SECTOR_ADDRESS_ALIKE, unit_1b, unit_b)
    assert not _holds(SAME_SECTOR_ADDRESS_ALIKE, unit_1b, _record("fhrs", None, "SS13 3BB", None, None,
                                                                   tokens=("B", "HIGH", "ROAD"), name="POUNDLAND"))


def test_examples_of_names_that_agree_and_differ() -> None:
    def at_one(name: str) -> tuple[object, ...]:
        return _record("fhrs", None, "CM11 1HA", "NORSEY ROAD", None, name=name)

    # joined and split words, and initials, agree
    assert _holds(SHARE_DISTINCTIVE_WORD, at_one("TREE HOUSE PREMIER"), at_one("TREEHOUSE CLUB"))
    assert _holds(NAMES_ALIKE, at_one("DEPARTMENT FOR WORK AND PENSIONS"), at_one("BASILDON DWP STAFF RESTAURANT"))
    # a different word each side, neither a slip of the other: two businesses
    assert _holds(NAMES_DIFFER, at_one("HOMERTON FLORIST"), at_one("HOMERTON OPTICIANS"))
    assert _holds(NAMES_DIFFER, at_one("MARKET AND CANAL"), at_one("MARKET AND LADLE"))
    assert not _holds(NAMES_DIFFER, at_one("MARKET AND CANAL"), at_one("MARKET AND CANAAL"))
    assert not _holds(NAMES_DIFFER, at_one("SHACKLEWELL MANGAL"), at_one("THE SHACKLEWELL MANGAL"))
    assert not _holds(NAMES_DIFFER, at_one("TREE HOUSE CLUB"), at_one("TREEHOUSE CLUB"))
