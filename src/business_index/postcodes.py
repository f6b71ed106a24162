"""UK postcodes, the one home of their rules for every stage (readers, cleaning, the API): normalise
to ``OUTWARD INWARD``, find one inside free text, and cut it into the district and sector that
blocking and near-miss comparisons use."""

from __future__ import annotations

import re
from functools import lru_cache

_FULL = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})\b")


@lru_cache(maxsize=65536)  # a borough's postcodes, each written on many rows
def normalise_postcode(text: str | None) -> str | None:
    """``e81ab`` -> ``E8 1AB``; None when it is not a full UK postcode."""
    if not text:
        return None
    compact = re.sub(r"[^A-Z0-9]", "", text.upper())
    match = _FULL.match(compact)
    return f"{match[1]} {match[2]}" if match else None



def postcode_as_written(text: str | None) -> str | None:
    """A full postcode in its one written form ("e81ab" and "E8  1AB" are "E8 1AB"); anything else
    (a partial postcode, a typo) as written, in capitals with single spaces: compared as it stands,
    the same on both sides."""
    if not text or not text.strip():
        return None
    return normalise_postcode(text) or " ".join(text.upper().split())


def find_postcode(text: str | None) -> str | None:
    """The last full postcode written anywhere in ``text`` (addresses end with it)."""
    if not text:
        return None
    matches = _IN_TEXT.findall(text.upper())
    return f"{matches[-1][0]} {matches[-1][1]}" if matches else None


def remove_postcode(text: str) -> str:
    return _IN_TEXT.sub(" ", text.upper())


def postcode_sector(postcode: str | None) -> str | None:
    """``E8 1AB`` -> ``E8 1``."""
    return postcode[:-2] if postcode else None


def postcode_district(postcode: str | None) -> str | None:
    """``E8 1AB`` -> ``E8``."""
    return postcode.split(" ")[0] if postcode else None
