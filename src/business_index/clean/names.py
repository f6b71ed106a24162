"""UK business names in one comparable form.

``name_key`` folds what UK registries treat as the same name (after Companies House "same as"
practice): legal forms (Ltd/Limited, PLC, LLP, CIC, LP), '(UK)'-style qualifiers, 'in
administration', '&'/'+'/'and', punctuation, case, accents and a leading 'The'. ``split_trading_as``
separates 'J Smith t/a Joe's Cafe' into the proprietor and the trading name; both are name
candidates. Frequent words ('services', 'london') are not deleted here: the linker weighs them by
term frequency instead.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein

_WORDS = tomllib.loads((Path(__file__).parent / "words" / "business_names.toml").read_text(encoding="utf-8"))
REGISTERED_FORMS: tuple[str, ...] = tuple(_WORDS["legal_forms"]["registered"])
# longest first, so that "PUBLIC LIMITED COMPANY" goes whole before "COMPANY"
LEGAL_FORMS: tuple[str, ...] = tuple(sorted({*REGISTERED_FORMS, *_WORDS["legal_forms"]["other"]}, key=len, reverse=True))
QUALIFIERS: tuple[str, ...] = tuple(_WORDS["qualifiers"])
ABBREVIATIONS: dict[str, str] = dict(_WORDS["abbreviations"])
INSOLVENCY = re.compile(r"\(?\b(IN ADMINISTRATION|IN ADMIN|IN LIQUIDATION|IN RECEIVERSHIP|DISSOLVED)\b\)?")
TRADING_AS = re.compile(r"\s+(?:T/AS|T/A|T\.A\.|T\.A|TRADING AS|TRADINGAS|TRADES AS)\s+")
PERSON_TITLE = re.compile(r"^(" + "|".join(_WORDS["person_titles"]) + r")\b\.?\s")
_LEGAL_TAIL = re.compile(r"(?:\s+(?:" + "|".join(re.escape(f) for f in LEGAL_FORMS) + r"))+$")
_REGISTERED_TAIL = re.compile(r"\b(" + "|".join(re.escape(f) for f in REGISTERED_FORMS) + r")\s*$")
_QUALIFIER = re.compile(r"\((?:" + "|".join(QUALIFIERS) + r")\)")
_SINGLE_LETTERS = re.compile(r"\b(?:[A-Z] ){1,}[A-Z]\b")


def _fold(text: str) -> str:
    if not text.isascii():  # most names are ASCII: skip the per-character accent removal for them
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.upper().strip().strip('"').strip("'").strip()


@lru_cache(maxsize=200_000)
def split_trading_as(text: str | None) -> tuple[str | None, str | None]:
    """(proprietor, trading name) from 'X t/a Y' or 'Y (Mr X)'; (None, text) when neither form is used."""
    if not text or not text.strip():
        return None, None
    folded = _fold(text)
    parts = TRADING_AS.split(f" {folded} ", maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return _original_slice(text, parts[0].strip()), _original_slice(text, parts[1].strip())
    bracket = re.match(r"^(.*\S)\s*\(([^()]*)\)\s*$", folded)
    if bracket and looks_like_person(bracket[2]):
        return bracket[2].strip(), bracket[1].strip()
    return None, text.strip()


def _original_slice(original: str, folded_part: str) -> str:
    """Return the part as written in ``original`` where the case-folded match lines up."""
    index = _fold(original).find(folded_part)
    stripped = original.strip().strip('"').strip()
    if index >= 0 and len(_fold(original)) == len(stripped):
        return stripped[index: index + len(folded_part)]
    return folded_part


MAX_WORDS_AFTER_TITLE = 3


@lru_cache(maxsize=200_000)
def looks_like_person(text: str | None) -> bool:
    """A private individual's name: a title, or initials and a surname, with no business words."""
    if not text:
        return False
    folded = _fold(text)
    if _LEGAL_TAIL.search(folded) or any(w in folded.split() for w in ("AND", "&", "TRUST", "COUNCIL", "GROUP")):
        return bool(PERSON_TITLE.match(folded)) and not _LEGAL_TAIL.search(folded)
    words = folded.replace(".", " ").split()
    if PERSON_TITLE.match(folded):
        # "Mr J R Smith" is a person; "Mr Simms Olde Sweet Shoppe" is a shop named after one
        return len(words) <= MAX_WORDS_AFTER_TITLE + 1
    return 2 <= len(words) <= 3 and len(words[0]) == 1 and words[-1].isalpha() and len(words[-1]) > 1


_APOSTROPHE = re.compile(r"(?<=\w)['\u2019`](?=\w)")
_TRAILING_BRACKET = re.compile(r"\s*\((?:[^()\s]+\s?){1,3}\)(?=(\s+(LIMITED|LTD\.?|PLC|LLP|CIC))?\s*$)")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=200_000)
def _mend_legal_slip(name: str) -> str:
    """A last word one keystroke from LIMITED ("LIMITTED", "LMITED") is that legal form, mistyped:
    left as it is, it would make the company a name of its own."""
    head, _, last = name.rpartition(" ")
    if head and last != "LIMITED" and 5 <= len(last) <= 9 and DamerauLevenshtein.distance(last, "LIMITED") <= 1:
        return f"{head} LIMITED"
    return name


@lru_cache(maxsize=65_536)  # a name is keyed again as the public name, and written in other sources near by
def name_key(text: str | None) -> str | None:
    """The comparable form of a business name, or None when nothing is left of it."""
    if not text:
        return None
    name = _fold(text)
    name = INSOLVENCY.sub(" ", name)
    name = _QUALIFIER.sub(" ", name)
    name = _TRAILING_BRACKET.sub(" ", name)  # "RAVENS BAKERY (ESSEX) LTD": a qualifier, not the name
    name = name.replace("&", " AND ").replace("+", " AND ")
    name = _APOSTROPHE.sub("", name)  # JOE'S -> JOES
    name = _PUNCTUATION.sub(" ", name)
    name = _SPACES.sub(" ", name).strip()
    name = _SINGLE_LETTERS.sub(lambda m: m[0].replace(" ", ""), name)  # A B C -> ABC
    name = _mend_legal_slip(name)
    for _ in range(2):
        name = _LEGAL_TAIL.sub("", name).strip()
    if name.startswith("THE ") and len(name) > 4:
        name = name[4:]
    words = [ABBREVIATIONS.get(w, w) for w in name.split()]
    while len(words) > 1 and words[-1] in ("CO", "AND"):  # "SMITH & CO" is "SMITH"
        words = words[:-1]
    return " ".join(words) or None



@lru_cache(maxsize=65_536)
def has_legal_form(text: str | None) -> bool:
    """Whether a name ends with a company's legal form (Ltd, Limited, PLC, LLP, CIC ...)."""
    if not text:
        return False
    folded = re.sub(r"[^\w\s]", " ", INSOLVENCY.sub(" ", _QUALIFIER.sub(" ", _fold(text))))
    folded = _mend_legal_slip(re.sub(r"\s+", " ", folded).strip())
    return bool(_REGISTERED_TAIL.search(folded))


@dataclass(frozen=True, slots=True)
class NameCandidates:
    """The names one record offers for comparison, as keys, with who is a person.

    ``company_keys`` are the keys of names written with a legal form: a registered company's name
    is unique in the UK, so two records naming the same company are strong evidence of one business
    wherever its premises are.
    """

    keys: tuple[str, ...]
    company_keys: tuple[str, ...]
    proprietor: str | None  # a person's name split off by 't/a'
    individual: bool


def record_name_candidates(name: str | None, trading_name: str | None, holder_name: str | None,
                           holder_is_individual: bool) -> NameCandidates:
    """Every business-name key a record carries: its name, trading name and company holder name,
    with any 't/a' split into both halves. A private individual's name is never a business key."""
    keys: list[str] = []
    company_keys: list[str] = []
    proprietor: str | None = None
    for value, is_holder in ((trading_name, False), (name, False), (holder_name, True)):
        if not value:
            continue
        person, trading = split_trading_as(value)
        if person:
            proprietor = proprietor or person
        if is_holder and (holder_is_individual or looks_like_person(trading)):
            proprietor = proprietor or trading
            continue
        if trading and looks_like_person(trading) and not person:
            proprietor = proprietor or trading
            continue
        key = name_key(trading)
        if key and key not in keys:
            keys.append(key)
        if key and has_legal_form(trading) and key not in company_keys:
            company_keys.append(key)
    return NameCandidates(tuple(keys), tuple(company_keys), proprietor,
                          bool(proprietor) or holder_is_individual)
