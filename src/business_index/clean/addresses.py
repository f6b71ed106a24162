"""Addresses as comparable parts: the sub-premises label (``UNIT 3``, ``FLAT A``, ``GROUND FLOOR``),
the building number (``12A``, ``12-14``), the street, and the remaining tokens.

Clerks write ``Gnd Flr 12 a Mare St``; the gazetteer says ``GROUND FLOOR, 12A MARE STREET``. Both
come out as sub-premises ``GROUND FLOOR``, number ``12A``, street ``MARE STREET``. Words that say
nothing about the place (``LONDON``, the borough's name) are dropped from the tokens.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from business_index.postcodes import remove_postcode

_WORDS = tomllib.loads((Path(__file__).parent / "words" / "addresses.toml").read_text(encoding="utf-8"))
STREET_WORDS: dict[str, str] = dict(_WORDS["street_words"])
TOP_FLOOR = "TOP FLOOR"
FLOOR_PHRASES = (
    (re.compile(r"\b(BASEMENT|BSMT|BSMNT|B)\s*(AND|&|/)\s*(GROUND|GND|GRD|G)\s*(FLOORS?|FLRS?|F)?\b"),
     "BASEMENT AND GROUND FLOOR"),
    (re.compile(r"\bB\s*/\s*G\s*(FLOORS?|FLRS?)?\b"), "BASEMENT AND GROUND FLOOR"),
    (re.compile(r"\b(GROUND|GND|GRD)\s*(FLOORS?|FLRS?|FL)\b"), "GROUND FLOOR"),
    (re.compile(r"\bG\s*/\s*F\b"), "GROUND FLOOR"),
    (re.compile(r"\b(FIRST|1ST)\s*(FLOORS?|FLRS?|FL)\b"), "FIRST FLOOR"),
    (re.compile(r"\b(SECOND|2ND)\s*(FLOORS?|FLRS?|FL)\b"), "SECOND FLOOR"),
    (re.compile(r"\b(THIRD|3RD)\s*(FLOORS?|FLRS?|FL)\b"), "THIRD FLOOR"),
    (re.compile(r"\b(FOURTH|4TH)\s*(FLOORS?|FLRS?|FL)\b"), "FOURTH FLOOR"),
    (re.compile(r"\bTOP\s*(FLOORS?|FLRS?|FL)\b"), TOP_FLOOR),
    (re.compile(r"\bBASEMENT\b"), "BASEMENT"),
)
_FLOOR_KEYS = ("FL", "BASEMENT", "/", "AND G", "ANDG")
# floors from the lowest up: "TOP FLOOR" means the highest of them a building has
FLOOR_ORDER = ("BASEMENT", "BASEMENT AND GROUND FLOOR", "GROUND FLOOR", "FIRST FLOOR", "SECOND FLOOR", "THIRD FLOOR",
               "FOURTH FLOOR")
# every floor an address names, "First and second floors" included: the floors of a flat
_ORDINAL_FLOORS = {"BASEMENT": "BASEMENT", "LOWER GROUND": "BASEMENT", "GROUND": "GROUND FLOOR", "GND": "GROUND FLOOR",
                   "GRD": "GROUND FLOOR", "FIRST": "FIRST FLOOR", "1ST": "FIRST FLOOR", "SECOND": "SECOND FLOOR",
                   "2ND": "SECOND FLOOR", "THIRD": "THIRD FLOOR", "3RD": "THIRD FLOOR", "FOURTH": "FOURTH FLOOR",
                   "4TH": "FOURTH FLOOR", "TOP": TOP_FLOOR}
_ORDINAL = "LOWER GROUND|" + "|".join(k for k in _ORDINAL_FLOORS if k != "LOWER GROUND")
_FLOORS_PHRASE = re.compile(rf"\b((?:{_ORDINAL})(?:\s*(?:AND|/|-)\s*(?:{_ORDINAL}))*)\s*(?:FLOORS?|FLRS?|FL)\b|\bBASEMENT\b")
_ORDINAL_WORD = re.compile(rf"\b({_ORDINAL})\b")
SUB_PREMISES = re.compile(
    r"\b(FLAT|UNIT|SHOP|ARCH|ARCHES|RAILWAY ARCH|SUITE|STUDIO|ROOM|WORKSHOP|STALL|KIOSK|APARTMENT|APT)"
    r"\s+([0-9]+[A-Z]?|[A-Z])\b")
NUMBER = re.compile(r"\b(\d+)\s?([A-Z])?(?:\s?[-/]\s?(\d+)([A-Z])?)?\b")
_STREET_TYPES = frozenset(STREET_WORDS.values()) | frozenset(_WORDS["street_types"])
DEFAULT_STOPWORDS = frozenset(_WORDS["stopwords"])


@dataclass(frozen=True, slots=True)
class AddressParts:
    sub_premises: str | None  # the unit or flat identifier ("3", "A", "214"), or a floor ("GROUND FLOOR")
    number: str | None  # "12A", "12-14"
    number_base: str | None  # "12": the first number without its suffix
    street: str | None
    tokens: tuple[str, ...]  # every meaningful word and number, in order, no stop words
    floors: tuple[str, ...] = ()  # every floor it names ("FIRST FLOOR", "SECOND FLOOR"), lowest first


def floors_named(text: str) -> tuple[str, ...]:
    """The floors a tidied address names, lowest first: "Flat A, first and second floors" gives
    FIRST FLOOR and SECOND FLOOR."""
    if not any(key in text for key in _FLOOR_KEYS):
        return ()
    found: set[str] = set()
    for phrase in _FLOORS_PHRASE.finditer(text):
        if phrase[1] is None:
            found.add("BASEMENT")
        else:
            found.update(_ORDINAL_FLOORS[word] for word in _ORDINAL_WORD.findall(phrase[1]))
    return tuple(sorted(found, key=_floor_rank))


def _floor_rank(floor: str) -> int:
    """Where a floor stands, lowest first; "TOP FLOOR" above every named one."""
    return FLOOR_ORDER.index(floor) if floor in FLOOR_ORDER else len(FLOOR_ORDER)


_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")
_NOT_ADDRESS_CHARACTER = re.compile(r"[^\w/\-;]")
_SPACES = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\s/]+")
_FLOOR_BEFORE = re.compile(r"\b(FLOOR|FLR|BASEMENT)\s*;?\s*$")
# a letter, a space or a line break, then a number: "C, 6 Balls Pond Road"; not a road ("A1", "A127")
_LEADING_LETTER = re.compile(r"^([A-Z])(?:\s+|\s*;\s*)(?=\d)")
_SHOP_ALONE = re.compile(r"^SHOP\s*(;|$)")  # "SHOP" as a line of its own, or the whole address
_LINE_ENDS = re.compile(r"\s*(;|$)")  # at a position: nothing more on that line


def tidy(text: str) -> str:
    text = text.upper().replace("&", " AND ")
    if "'" in text or "\u2019" in text:  # most addresses have no apostrophe: skip the search
        text = _APOSTROPHE.sub("", text)
    text = _NOT_ADDRESS_CHARACTER.sub(" ", text)
    # every whitespace character is now a space (it is not an address character): split on spaces
    return " ".join(text.split())


def address_tokens(text: str, stopwords: frozenset[str] = DEFAULT_STOPWORDS) -> tuple[str, ...]:
    """The meaningful words and numbers of an address, without parsing it into parts."""
    tidied = tidy(remove_postcode(text)).replace(";", " ")
    return tuple(t for t in _TOKEN_SPLIT.split(expand_street_words(tidied)) if t and t not in stopwords)


def expand_street_words(text: str) -> str:
    """``text`` with every word but the first written out ("MARE ST" -> "MARE STREET")."""
    first, space, rest = text.partition(" ")
    if not space:
        return text
    get = STREET_WORDS.get
    return first + " " + " ".join([get(w, w) for w in rest.split(" ")])


def _floor(text: str) -> tuple[str | None, str]:
    # every floor phrase holds one of these; most addresses hold none, and skip nine searches
    if not any(key in text for key in _FLOOR_KEYS):
        return None, text
    for pattern, label in FLOOR_PHRASES:
        match = pattern.search(text)
        if match:
            return label, (text[: match.start()] + " " + text[match.end():]).strip()
    return None, text


NOT_A_PROPERTY = re.compile(
    r"\b(ADJ|ADJACENT|OPPOSITE|OPP|PITCH|ADVERTISING RIGHTS?|ADVERTISING STATION|HOARDING|TELECOMS? MAST|"
    r"COMMUNICATIONS? STATION|CAR PARKING SPACES?|PARKING SPACE|ELECTRICITY SUBSTATION|ATM SITE)\b")


_NOT_A_PROPERTY_KEYS = ("ADJ", "OPP", "PITCH", "ADVERT", "HOARDING", "MAST", "STATION", "PARKING", "ATM")


def describes_no_property(lines: Iterable[str | None]) -> bool:
    """Rated or licensed places that are not addressable properties: advertising rights, market
    pitches, masts, parking spaces. They have no UPRN to find, so the matcher leaves them alone."""
    text = " ; ".join(line for line in lines if line)
    # every phrase holds one of these words; most addresses hold none, and skip tidying
    upper = text.upper().replace("'", "").replace("\u2019", "")
    if not any(key in upper for key in _NOT_A_PROPERTY_KEYS):
        return False
    return bool(NOT_A_PROPERTY.search(tidy(text)))


def split_lines(lines: Iterable[str | None]) -> list[str]:
    """Address lines, with a one-line address cut at its commas (they separate its lines)."""
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if "," in line:
            out.extend([part for part in line.split(",") if part.strip()])
        elif line.strip():  # most lines have no comma: one part, the line itself
            out.append(line)
    return out


def _starts_with_street(text: str, known_streets: frozenset[str]) -> bool:
    words = text.replace(";", " ").split()
    if known_streets:
        return any(" ".join(words[:size]) in known_streets for size in range(1, min(len(words), 6) + 1))
    return len(words) >= 2 and words[0].isalpha() and any(w in _STREET_TYPES for w in words[1:4])


def parse_address(
    lines: Iterable[str | None], stopwords: frozenset[str] = DEFAULT_STOPWORDS, known_streets: frozenset[str] = frozenset()
) -> AddressParts:
    """Split an address given as lines (or one comma-separated line) into comparable parts.

    The building number is the number written before the street; a number standing alone before
    it ("7, Gore Business Centre, 49 Dalston Lane") identifies the unit.
    """
    # lines stay apart (";") so that "Shop" on one line and "15 Mare St" on the next is not "Shop 15"
    text = tidy(remove_postcode(" ; ".join(split_lines(lines))))
    text = ";".join(expand_street_words(part.strip()) for part in text.split(";"))
    sub_premises: str | None = None
    match = SUB_PREMISES.search(text)
    floors = floors_named(text)
    if match:
        after = text[match.end():]
        before = text[:match.start()]
        flat_of_the_building = match[1] == "FLAT" and (
            _FLOOR_BEFORE.search(before) or (not before.strip() and not after.lstrip().startswith(";")))
        if (match[1] in ("SHOP", "UNIT") or flat_of_the_building) \
                and not NUMBER.search(after) and _starts_with_street(after, known_streets):
            # "Shop 98 Morning Lane": 98 is the building; a shop is on the ground floor. "First Floor
            # Flat 13 Derby Road": the floor names the flat, 13 is the building; so is 74 in "Flat 74
            # High Street" with nothing before it and no other number
            sub_premises = "GROUND FLOOR" if match[1] == "SHOP" else None
            text = f"{text[: match.start()]} {match[2]} {after}"
        else:
            sub_premises = match[2]
            text = (text[: match.start()] + " " + after).strip()
    leading_letter = _LEADING_LETTER.match(text) if sub_premises is None else None
    if leading_letter:  # "C, 6 Balls Pond Road", "A 23 Vyner Street": a flat's letter before the number
        sub_premises, text = leading_letter[1], text[leading_letter.end():]
    floor, text = _floor(text)
    if floor and not sub_premises:
        sub_premises = floor
    elif not sub_premises and _SHOP_ALONE.match(text):
        sub_premises, text = "GROUND FLOOR", text[4:].strip(" ;")
    number = number_base = street = None
    matches = [m for m in NUMBER.finditer(text)]
    chosen = None
    for m in matches:  # the number followed by the street
        if _starts_with_street(text[_number_end(text, m):], known_streets):
            chosen = m
    before_street = chosen is not None
    if chosen is None and matches:
        chosen = matches[0]
    if chosen is not None:
        start, suffix, end, end_suffix = chosen.groups()
        if suffix and text[chosen.end(2):chosen.end(2) + 1].isalpha():
            suffix = None  # "12 ACACIA AVENUE": the A starts a word, it is not a suffix
        number_base = start
        number = f"{start}{suffix or ''}" + (f"-{end}{end_suffix or ''}" if end else "")
        end_of_number = chosen.end() if (suffix or end) else chosen.end(1)
        street = _street_from(text[end_of_number:].replace(";", " ").strip(" ,/-"), known_streets)
        if sub_premises is None:
            # a number before the building number ("7, Gore Business Centre, 49 Dalston Lane",
            # "4 Chalgrove Business Centre, 23 Chatsworth Road") identifies the unit
            for earlier in matches:
                if earlier.start() < chosen.start() and (
                        before_street or _LINE_ENDS.match(text, _number_end(text, earlier))):
                    sub_premises = earlier[0].replace(" ", "")
                    break
        text = f"{text[: chosen.start()]} {number} {text[end_of_number:]}"
    text = text.replace(";", " ")
    tokens = tuple(t for t in _TOKEN_SPLIT.split(text) if t and t not in stopwords)
    if street is None and known_streets:
        street = _street_from(text, known_streets)
    if sub_premises in FLOOR_ORDER and sub_premises not in floors:
        floors = tuple(sorted((*floors, sub_premises), key=_floor_rank))
    return AddressParts(sub_premises, number, number_base, street, tokens, floors)


def _number_end(text: str, match: re.Match[str]) -> int:
    suffix = match.group(2)
    if suffix and not text[match.end(2):match.end(2) + 1].isalpha():
        return match.end()
    return match.end() if match.group(3) else match.end(1)


def _street_from(text: str, known_streets: frozenset[str]) -> str | None:
    """The street named at the start of ``text``: the longest known street if we know the
    gazetteer's streets, else the words up to the first street-type word."""
    words = text.split()
    if not words:
        return None
    if known_streets:
        for size in range(min(len(words), 6), 0, -1):
            for start in range(0, len(words) - size + 1):
                candidate = " ".join(words[start: start + size])
                if candidate in known_streets:
                    return candidate
        return None
    for i, word in enumerate(words[:6]):
        if word in _STREET_TYPES and i > 0:
            return " ".join(words[: i + 1])
    return " ".join(words[:3])
