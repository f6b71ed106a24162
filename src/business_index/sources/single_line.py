"""A single-line address cut into the parts an LLPG holds (SAO, PAO, street, locality, town).

Gazetteer formats that give each property only as one line of text (``uprn_addresses``) still
fill the structured columns of an address, so that the index shows them the way it shows an LLPG's.
The splitter is small, general and deterministic; it never raises, and every word of a text part
it returns is a word of the input (upper-cased), never a word it made up. The matcher does not
trust it: it re-parses such addresses with its own parser (``clean/addresses.py``).

How a line is read (upper-cased, a trailing postcode taken off):
- commas separate parts; a line without commas is cut at its last house number and, after the
  street, at the last street-type word (``12 HIGH STREET BASILDON``: street, then town);
- a leading sub-premises label is the SAO: ``FLAT 2``, ``UNIT 3A``, ``SUITES 4-6``, ``GROUND FLOOR``,
  ``FIRST FLOOR FLAT``, ``FLAT A`` (a letter stays in the SAO text);
- the last part that starts with a house number (``12``, ``12A``, ``12-14``) is the PAO number and
  the street (``12 HIGH STREET``, or ``12, HIGH STREET``); parts before it are the building name
  (PAO text), or a SAO number (``2, 12 HIGH STREET``; ``1 ROSE COURT, HIGH STREET`` is SAO 1 of
  ROSE COURT when no sub-premises label came first); parts after it are the locality and the town
  (the last part);
- with no house number, the first part is the building name unless it ends in a street type
  (``THE GREEN``), then the street, then locality and town.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from business_index.postcodes import normalise_postcode

# house and unit numbers: 1 to 5 digits (they must fit the INTEGER columns), an optional letter,
# an optional range
_NUMBER = re.compile(r"^([0-9]{1,5})([A-Z]?)(?:-([0-9]{1,5})([A-Z]?))?$")
_TRAILING_POSTCODE = re.compile(r"(?:^|(?<=[\s,]))([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})[\s,.]*$")
SAO_LABELS = frozenset({
    "FLAT", "FLATS", "UNIT", "UNITS", "SHOP", "SHOPS", "SUITE", "SUITES", "ROOM", "ROOMS", "APARTMENT", "APT",
    "STUDIO", "OFFICE", "OFFICES", "WORKSHOP", "STALL", "KIOSK", "ARCH", "BAY", "PLOT", "GARAGE", "STORE",
    "FLOOR", "LEVEL", "MAISONETTE",
})
# a label followed by the number of the building, not of a unit ("SHOP 98 MORNING LANE")
_LABELS_ON_A_BUILDING_NUMBER = frozenset({"SHOP", "UNIT"})
_FLOOR_WORDS = frozenset({
    "BASEMENT", "LOWER", "UPPER", "GROUND", "GND", "FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH",
    "SEVENTH", "EIGHTH", "NINTH", "TENTH", "TOP", "MEZZANINE",
})
_ORDINAL = re.compile(r"^[0-9]{1,2}(ST|ND|RD|TH)$")
_FLOOR_ENDS = frozenset({"FLOOR", "FLOORS", "FLR", "FLRS"})
_FLOOR_JOINS = frozenset({"AND", "&", "/"})
# street-type abbreviations that also begin a name: SAINT, DOCTOR ("CHURCH ROAD ST ALBANS")
_NAME_STARTS = frozenset({"ST", "DR"})
STREET_TYPES = frozenset({
    "ROAD", "RD", "STREET", "ST", "STR", "LANE", "LN", "AVENUE", "AVE", "AV", "CLOSE", "CL", "DRIVE", "DR", "WAY",
    "WY", "PLACE", "PL", "CRESCENT", "CRES", "SQUARE", "SQ", "GROVE", "GR", "GRV", "GARDENS", "GDNS", "TERRACE",
    "TERR", "TER", "ROW", "WALK", "MEWS", "HILL", "GREEN", "PARADE", "BROADWAY", "RISE", "VALE", "CHASE",
    "BOULEVARD", "EMBANKMENT", "HIGHWAY",
})


@dataclass(frozen=True, slots=True)
class SingleLineParts:
    """The parts of one address, named as the LLPG's (AddressRecord's) columns."""

    sao_start_number: int | None = None
    sao_start_suffix: str | None = None
    sao_end_number: int | None = None
    sao_end_suffix: str | None = None
    sao_text: str | None = None
    pao_start_number: int | None = None
    pao_start_suffix: str | None = None
    pao_end_number: int | None = None
    pao_end_suffix: str | None = None
    pao_text: str | None = None
    street_description: str | None = None
    locality: str | None = None
    town: str | None = None
    postcode: str | None = None  # the trailing postcode, in its written form

    def as_parts(self) -> dict[str, object]:
        """The parts as the gazetteer reader's ``address_line`` takes them."""
        return asdict(self)

    @property
    def is_empty(self) -> bool:
        """No part but (perhaps) a postcode: nothing that says which property it is."""
        return all(value is None for name, value in asdict(self).items() if name != "postcode")


Number = tuple[int, str | None, int | None, str | None]


def parse_number(word: str) -> Number | None:
    """``12`` -> (12, None, None, None); ``12A-14`` -> (12, "A", 14, None); None for anything else."""
    match = _NUMBER.match(word)
    if not match:
        return None
    return (int(match[1]), match[2] or None, int(match[3]) if match[3] else None, match[4] or None)


def _is_number(word: str) -> bool:
    return _NUMBER.match(word) is not None


def split_trailing_postcode(text: str) -> tuple[str, str | None]:
    """The text without a postcode written at its end, and that postcode (``E8 1AB``) or None."""
    match = _TRAILING_POSTCODE.search(text.upper())
    if not match:
        return text, None
    return text[: match.start()], normalise_postcode(match[1] + match[2])


def split_single_line(text: str) -> SingleLineParts:
    """Cut one address line into LLPG parts (see the module's notes). Never raises."""
    body, postcode = split_trailing_postcode(text.upper())
    parts = [words for words in (part.split() for part in body.split(",")) if words]
    if not parts:
        return SingleLineParts(postcode=postcode)
    return _Splitter(parts, postcode).run()


class _Splitter:
    def __init__(self, parts: list[list[str]], postcode: str | None):
        self.parts = parts
        self.postcode = postcode
        self.sao_text: str | None = None
        self.sao_number: Number | None = None
        self.pao_number: Number | None = None
        self.pao_texts: list[str] = []
        self.street: str | None = None
        self.after: list[str] = []
        self.comma_less = len(parts) == 1

    def run(self) -> SingleLineParts:
        self._take_sao()
        self.parts = [piece for part in self.parts for piece in _cut_before_house_number(part)]
        anchor = self._anchor()
        if anchor is None:
            self._without_house_number()
        else:
            self._with_house_number(anchor)
        return self._result()

    # the sub-premises label at the very start: "FLAT 2", "GROUND FLOOR", "FIRST FLOOR FLAT 3", "FLAT A"
    def _take_sao(self) -> None:
        words = self.parts[0]
        taken = _floor_phrase(words)
        label_at = taken
        if taken < len(words) and words[taken] in SAO_LABELS:
            taken += 1
        if taken == 0:
            return
        has_label = taken > label_at
        number = parse_number(words[taken]) if has_label and taken < len(words) else None
        if number is not None:
            rest = words[taken + 1:]
            later_numbers = any(_is_number(w) for w in rest) or any(
                _is_number(w) for part in self.parts[1:] for w in part)
            if (label_at == 0 and words[0] in _LABELS_ON_A_BUILDING_NUMBER and rest and not later_numbers
                    and any(w in STREET_TYPES for w in rest)):
                # "SHOP 98 MORNING LANE": the number is the building's, the label the SAO
                self.sao_text = words[0]
                self.parts[0] = words[1:]
                return
            self.sao_number = number
            self.sao_text = " ".join(words[:taken])
            taken += 1
        else:
            if has_label and taken < len(words) and _is_letter(words[taken]):
                taken += 1  # "FLAT A"
            self.sao_text = " ".join(words[:taken])
        remaining = words[taken:]
        if remaining:
            self.parts[0] = remaining
        else:
            self.parts.pop(0)

    def _anchor(self) -> int | None:
        """The last part that starts with the house number: "12 HIGH STREET", or "12" then "HIGH STREET"."""
        for k in range(len(self.parts) - 1, -1, -1):
            part = self.parts[k]
            if not _is_number(part[0]):
                continue
            if len(part) > 1 and not _is_number(part[1]):
                return k
            if len(part) == 1 and k + 1 < len(self.parts) and not _is_number(self.parts[k + 1][0]):
                return k
        return None

    def _with_house_number(self, k: int) -> None:
        part = self.parts[k]
        self.pao_number = parse_number(part[0])
        if len(part) > 1:
            street, after = part[1:], self.parts[k + 1:]
        else:
            street, after = self.parts[k + 1], self.parts[k + 2:]
        if not after:
            street, town = _cut_after_street(street)
            after = [town] if town else []
        self.street = " ".join(street)
        self.after = [" ".join(p) for p in after]
        self._before_house_number(self.parts[:k])

    def _before_house_number(self, parts: list[list[str]]) -> None:
        texts: list[str] = []
        for part in parts:
            number = parse_number(part[0])
            if number is not None and self.sao_number is None and self.sao_text is None and not texts:
                if len(part) == 1:
                    self.sao_number = number  # "2, 12 HIGH STREET"
                    continue
                if not _is_number(part[1]):
                    self.sao_number = number  # "1 ROSE COURT, 12 HIGH STREET"
                    texts.append(" ".join(part[1:]))
                    continue
            texts.append(" ".join(part))
        if len(texts) >= 2 and self.sao_text is None and self.sao_number is None:
            self.sao_text = texts.pop(0)  # "THE OLD BAKERY, ACME HOUSE, 12 HIGH STREET"
        self.pao_texts = texts

    def _without_house_number(self) -> None:
        parts = self.parts
        if not parts:
            return
        if self.comma_less and len(parts) == 1:
            words = parts[0]
            if any(w in STREET_TYPES for w in words[1:]):  # "ACME HOUSE HIGH STREET BASILDON"
                street, town = _cut_after_street(words)
                self.street = " ".join(street)
                self.after = [" ".join(town)] if town else []
            else:
                self.pao_texts = [" ".join(words)]
            return
        first, rest = parts[0], parts[1:]
        if first[-1] in STREET_TYPES and len(first) > 1:
            self.street = " ".join(first)  # "THE GREEN, BASILDON"
        else:
            if len(first) == 1 and (number := parse_number(first[0])) is not None:
                self.pao_number = number  # "12, BASILDON": no street, the lone number is the PAO's
            else:
                self.pao_texts = [" ".join(first)]
            if rest and rest[0][-1] in STREET_TYPES and len(rest[0]) > 1:
                self.street = " ".join(rest[0])  # "ACME HOUSE, HIGH STREET, BASILDON"
                rest = rest[1:]
        if self.pao_number is None and rest and len(rest[0]) == 1 and (number := parse_number(rest[0][0])):
            self.pao_number, rest = number, rest[1:]  # "ACME HOUSE, 12"
        self.after = [" ".join(p) for p in rest]

    def _result(self) -> SingleLineParts:
        sao = self.sao_number or (None, None, None, None)
        pao = self.pao_number or (None, None, None, None)
        town = self.after[-1] if self.after else None
        locality = ", ".join(self.after[:-1]) or None
        return SingleLineParts(
            sao_start_number=sao[0], sao_start_suffix=sao[1], sao_end_number=sao[2], sao_end_suffix=sao[3],
            sao_text=self.sao_text or None,
            pao_start_number=pao[0], pao_start_suffix=pao[1], pao_end_number=pao[2], pao_end_suffix=pao[3],
            pao_text=", ".join(self.pao_texts) or None,
            street_description=self.street or None, locality=locality, town=town, postcode=self.postcode,
        )


def _floor_phrase(words: list[str]) -> int:
    """How many words at the start name a floor: ``GROUND FLOOR``, ``BASEMENT AND GROUND FLOORS``,
    ``1ST FLR``, ``BASEMENT``; 0 when they do not."""
    i = 0
    while i < len(words) and (words[i] in _FLOOR_WORDS or _ORDINAL.match(words[i])):
        i += 1
        if i + 1 < len(words) and words[i] in _FLOOR_JOINS and (
                words[i + 1] in _FLOOR_WORDS or _ORDINAL.match(words[i + 1])):
            i += 1
    if i and i < len(words) and words[i] in _FLOOR_ENDS:
        return i + 1
    if i and i < len(words) and words[i] in SAO_LABELS:
        return i  # "TOP FLAT", "GROUND FLOOR FLAT": the label follows
    if i == 1 and words[0] == "BASEMENT":
        return 1
    return 0


def _cut_before_house_number(words: list[str]) -> list[list[str]]:
    """A part that holds a house number after other words ("ACME HOUSE 12 HIGH STREET") is two."""
    for j in range(len(words) - 2, 0, -1):
        if _is_number(words[j]) and not _is_number(words[j + 1]):
            return [words[:j], words[j:]]
    return [words]


def _cut_after_street(words: list[str]) -> tuple[list[str], list[str] | None]:
    """The street, and what follows its street-type word (a town written without a comma):
    ``HIGH STREET BASILDON``, ``CHURCH ROAD ST ALBANS``, ``THE GREEN ROAD BASILDON``."""
    for i in range(1, len(words) - 1):
        follows = words[i + 1]
        if words[i] in STREET_TYPES and not (follows in STREET_TYPES and follows not in _NAME_STARTS):
            return words[: i + 1], words[i + 1:]
    return words, None


def _is_letter(word: str) -> bool:
    return len(word) == 1 and "A" <= word <= "Z"
