"""Addresses as comparable parts: the sub-premises label (``UNIT 3``, ``FLAT A``, ``GROUND FLOOR``),
the building number (``12A``, ``12-14``), the street, and the remaining tokens.

Clerks write ``Gnd Flr 12 a Mare St``; the gazetteer says ``GROUND FLOOR, 12A MARE STREET``. Both
come out as sub-premises ``GROUND FLOOR``, number ``12A``, street ``MARE STREET``. Words that say
nothing about the place (``LONDON``, the borough's name) are dropped from the tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from business_index.clean.postcodes import remove_postcode

STREET_WORDS = {
    "RD": "ROAD", "ST": "STREET", "STR": "STREET", "AVE": "AVENUE", "AV": "AVENUE", "LN": "LANE",
    "TERR": "TERRACE", "TER": "TERRACE", "GDNS": "GARDENS", "GRDNS": "GARDENS", "CL": "CLOSE", "PL": "PLACE",
    "CRES": "CRESCENT", "SQ": "SQUARE", "GR": "GROVE", "GRV": "GROVE", "PK": "PARK", "WY": "WAY",
    "HSE": "HOUSE", "CT": "COURT", "BLDGS": "BUILDINGS", "MKT": "MARKET", "HIGH ST": "HIGH STREET",
}
FLOOR_PHRASES = (
    (re.compile(r"\b(BASEMENT|BSMT|BSMNT|B)\s*(AND|&|/)\s*(GROUND|GND|GRD|G)\s*(FLOORS?|FLRS?|F)?\b"),
     "BASEMENT AND GROUND FLOOR"),
    (re.compile(r"\bB\s*/\s*G\s*(FLOORS?|FLRS?)?\b"), "BASEMENT AND GROUND FLOOR"),
    (re.compile(r"\b(GROUND|GND|GRD)\s*(FLOOR|FLR|FL)\b"), "GROUND FLOOR"),
    (re.compile(r"\bG\s*/\s*F\b"), "GROUND FLOOR"),
    (re.compile(r"\b(FIRST|1ST)\s*(FLOOR|FLR|FL)\b"), "FIRST FLOOR"),
    (re.compile(r"\b(SECOND|2ND)\s*(FLOOR|FLR|FL)\b"), "SECOND FLOOR"),
    (re.compile(r"\bBASEMENT\b"), "BASEMENT"),
)
SUB_PREMISES = re.compile(
    r"\b(FLAT|UNIT|SHOP|ARCH|ARCHES|RAILWAY ARCH|SUITE|STUDIO|ROOM|WORKSHOP|STALL|KIOSK|APARTMENT|APT)"
    r"\s+([0-9]+[A-Z]?|[A-Z])\b")
SUB_PREMISES_ALIASES = {"SHOP": "UNIT", "ARCHES": "ARCH", "RAILWAY ARCH": "ARCH", "APARTMENT": "FLAT", "APT": "FLAT",
                        "SUITE": "UNIT", "WORKSHOP": "UNIT", "STUDIO": "UNIT"}
NUMBER = re.compile(r"\b(\d+)\s?([A-Z])?(?:\s?[-/]\s?(\d+)([A-Z])?)?\b")
DEFAULT_STOPWORDS = frozenset({"LONDON", "UK", "UNITED", "KINGDOM", "ENGLAND"})


@dataclass(frozen=True, slots=True)
class AddressParts:
    sub_premises: str | None  # "UNIT 3", "FLAT A", "GROUND FLOOR", "ARCH 214"
    number: str | None  # "12A", "12-14"
    number_base: str | None  # "12": the first number without its suffix
    street: str | None
    tokens: tuple[str, ...]  # every meaningful word and number, in order, no stop words


def tidy(text: str) -> str:
    text = text.upper().replace("&", " AND ")
    text = re.sub(r"(?<=\w)['\u2019](?=\w)", "", text)
    text = re.sub(r"[^\w/\-;]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def expand_street_words(text: str) -> str:
    words = text.split(" ")
    return " ".join(STREET_WORDS.get(w, w) if i > 0 else w for i, w in enumerate(words))


def _floor(text: str) -> tuple[str | None, str]:
    for pattern, label in FLOOR_PHRASES:
        match = pattern.search(text)
        if match:
            return label, (text[: match.start()] + " " + text[match.end():]).strip()
    return None, text


def parse_address(
    lines: Iterable[str | None], stopwords: frozenset[str] = DEFAULT_STOPWORDS, known_streets: frozenset[str] = frozenset()
) -> AddressParts:
    """Split an address given as lines (or one line) into comparable parts."""
    # lines stay apart (";") so that "Shop" on one line and "15 Mare St" on the next is not "Shop 15"
    text = tidy(remove_postcode(" ; ".join(line for line in lines if line)))
    text = ";".join(expand_street_words(part.strip()) for part in text.split(";"))
    sub_premises: str | None = None
    match = SUB_PREMISES.search(text)
    if match:
        kind = SUB_PREMISES_ALIASES.get(match[1], match[1])
        sub_premises = f"{kind} {match[2]}"
        text = (text[: match.start()] + " " + text[match.end():]).strip()
    floor, text = _floor(text)
    if floor and not sub_premises:
        sub_premises = floor
    elif re.match(r"^SHOP\s*(;|$)", text) and not sub_premises:
        sub_premises, text = "GROUND FLOOR", text[4:].strip(" ;")
    number = number_base = street = None
    number_match = NUMBER.search(text)
    if number_match:
        start, suffix, end, end_suffix = number_match.groups()
        if suffix and text[number_match.end(2):number_match.end(2) + 1].isalpha():
            suffix = None  # "12 ACACIA AVENUE": the A starts a word, it is not a suffix
        number_base = start
        number = f"{start}{suffix or ''}" + (f"-{end}{end_suffix or ''}" if end else "")
        end_of_number = number_match.end() if (suffix or end) else number_match.end(1)
        rest = text[end_of_number:].replace(";", " ").strip(" ,/-")
        street = _street_from(rest, known_streets)
        text = f"{text[: number_match.start()]} {number} {text[end_of_number:]}"
    text = text.replace(";", " ")
    tokens = tuple(t for t in re.split(r"[\s/]+", text) if t and t not in stopwords)
    if street is None and known_streets:
        street = _street_from(text, known_streets)
    return AddressParts(sub_premises, number, number_base, street, tokens)


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
    types = set(STREET_WORDS.values()) | {"HIGH", "MEWS", "WALK", "ROW", "HILL", "GREEN", "BROADWAY", "PARADE"}
    for i, word in enumerate(words[:6]):
        if word in types and i > 0:
            return " ".join(words[: i + 1])
    return " ".join(words[:3])
