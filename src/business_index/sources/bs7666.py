"""Single-line addresses from an LPI and its street descriptor, by BS 7666 order (formats.md s.5).

Conventions chosen (and tested):
- a number token is followed by a space, never a comma, also when it ends in a suffix letter:
  ``12A HIGH STREET``. The OS reference SQL puts a comma after a suffixed number; we do not,
  because residents and the other systems write ``12A HIGH STREET``;
- a SAO number that comes with SAO text stays with it (``FLAT 1, 2 HIGH STREET``,
  ``ROOM 4, BARING HOUSE, ...``); without SAO text it stands in front of the PAO text
  (``1 ROSE COURT``) or, when there is none, is a part of its own (``1, 2 HIGH STREET``).
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")


def number_token(start: int | None, start_suffix: str | None, end: int | None, end_suffix: str | None) -> str:
    """``12``, ``12A``, ``12-14``, ``12A-12C``, ``1-3B``; empty when there is no start number."""
    if start is None:
        return ""
    token = f"{start}{start_suffix or ''}"
    if end is not None:
        token += f"-{end}{end_suffix or ''}"
    return token


def single_line_address(
    *,
    sao_start_number: int | None = None,
    sao_start_suffix: str | None = None,
    sao_end_number: int | None = None,
    sao_end_suffix: str | None = None,
    sao_text: str | None = None,
    pao_start_number: int | None = None,
    pao_start_suffix: str | None = None,
    pao_end_number: int | None = None,
    pao_end_suffix: str | None = None,
    pao_text: str | None = None,
    street: str | None = None,
    locality: str | None = None,
    town: str | None = None,
    postcode: str | None = None,
    organisation: str | None = None,
) -> str:
    """Assemble the parts in BS 7666 order, skipping empty ones, joined with ', '."""
    parts: list[str] = []
    if organisation:
        parts.append(organisation)
    sao_number = number_token(sao_start_number, sao_start_suffix, sao_end_number, sao_end_suffix)
    pao_number = number_token(pao_start_number, pao_start_suffix, pao_end_number, pao_end_suffix)
    if sao_text:
        # "FLAT 1", "ROOM 4": a SAO number that comes with SAO text stays with it
        parts.append(f"{sao_text} {sao_number}".strip())
    elif sao_number and pao_text:
        pao_text = f"{sao_number} {pao_text}"  # "1 ROSE COURT"
    elif sao_number:
        parts.append(sao_number)  # "1, 2 HIGH STREET"
    if pao_text:
        parts.append(pao_text)
    if street:
        parts.append(f"{pao_number} {street}".strip())  # "12 HIGH STREET"
    elif pao_number:
        parts.append(pao_number)
    if locality and (not town or locality.strip().upper() != town.strip().upper()):
        parts.append(locality)
    if town:
        parts.append(town)
    if postcode:
        parts.append(postcode)
    return ", ".join(_SPACES.sub(" ", p).strip() for p in parts if p and p.strip())
