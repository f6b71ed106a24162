"""What premises are used for, from the words of a rates description or a food hygiene business
type, and which uses a trading business can be found at. The word lists and the fits live in
``words/premises_uses.toml``; this module only reads them."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

USES_FILE = Path(__file__).parent / "words" / "premises_uses.toml"
_WORD = re.compile(r"[A-Z0-9&]+")


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[tuple[str, tuple[tuple[str, ...], ...]], ...], dict[str, frozenset[str]], frozenset[str]]:
    data = tomllib.loads(USES_FILE.read_text(encoding="utf-8"))
    uses = tuple((entry["use"], tuple(tuple(p.split()) for p in entry["phrases"])) for entry in data["uses"])
    fits = {use: frozenset(allowed) for use, allowed in data["fits"].items()}
    naming = frozenset(data["naming"]["uses"])
    unknown = ({u for allowed in fits.values() for u in allowed} | naming) - {u for u, _ in uses}
    if unknown:
        raise ValueError(f"{USES_FILE}: [fits] or [naming] name uses that are not defined: {sorted(unknown)}")
    return uses, fits, naming


@lru_cache(maxsize=1)
def _phrases_by_first_word() -> dict[str, tuple[tuple[int, int, tuple[str, ...]], ...]]:
    """Every phrase of the word list under its first word, with the order of its use and its own
    order among the use's phrases, so that a description's words are looked up, not scanned."""
    by_word: dict[str, list[tuple[int, int, tuple[str, ...]]]] = {}
    for use_order, (_, phrases) in enumerate(_table()[0]):
        for phrase_order, phrase in enumerate(phrases):
            by_word.setdefault(phrase[0], []).append((use_order, phrase_order, phrase))
    return {word: tuple(found) for word, found in by_word.items()}


def _first_phrase(words: list[str] | tuple[str, ...]) -> tuple[int, int, int, int] | None:
    """The first phrase among ``words`` in the word list's order (its use's order, then the
    phrase's, then where it stands): (use order, phrase order, start, length), or None."""
    index = _phrases_by_first_word()
    best: tuple[int, int, int, int] | None = None
    for start, word in enumerate(words):
        for use_order, phrase_order, phrase in index.get(word, ()):
            n = len(phrase)
            if tuple(words[start:start + n]) == phrase:
                found = (use_order, phrase_order, start, n)
                if best is None or found < best:
                    best = found
    return best


@lru_cache(maxsize=65536)
def premises_use(description: str | None) -> str | None:
    """The use a description names ("SHOP AND PREMISES" -> "retail"), or None when it names none."""
    if not description:
        return None
    found = _first_phrase(_WORD.findall(description.upper().replace("'", "")))
    return _table()[0][found[0]][0] if found else None


def use_fits(trading_use: str | None, rated_use: str | None) -> bool:
    """Whether a trading business of ``trading_use`` can be found at a hereditament rated as
    ``rated_use``. Unknown on either side is no evidence against."""
    if trading_use is None or rated_use is None:
        return True
    return rated_use in _table()[1].get(trading_use, frozenset())


def fitting_pairs() -> list[tuple[str, str]]:
    """Every (trading use, rated use) that fits, for joining in SQL."""
    return sorted((t, r) for t, allowed in _table()[1].items() for r in allowed)


_NOT_A_NAME = frozenset({"THE", "AND", "&", "OF", "AT", "UNIT", "UNITS", "SHOP", "PREMISES", "GROUND", "FLOOR",
                         "FIRST", "BASEMENT", "REAR", "FRONT", "PART", "LAND", "BUILDING", "BLOCK"})


def business_named_by(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The name a premises' own name gives a business: "FLATBRIDGE CAFE" names a business
    called Flatbridge (a use phrase of a trading use and other words); "BRANCH 161" and "RED LION"
    name no use and "COLVESTONE WORKS" names a building, so nothing. Returns the words other than
    the use phrase and filler."""
    words = [w for w in words if w]
    found = _first_phrase(words)
    if found is None:
        return ()
    use_order, _, start, n = found
    uses, _, naming = _table()
    if uses[use_order][0] not in naming:
        return ()
    rest = words[:start] + words[start + n:]
    return tuple(w for w in rest if w not in _NOT_A_NAME and not any(c.isdigit() for c in w))
