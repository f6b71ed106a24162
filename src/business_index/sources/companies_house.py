"""Companies House "Free Company Data Product" (BasicCompanyData CSV): every live and recently
dissolved UK company with its number, registered address, category, status, incorporation date,
SIC codes and up to ten previous names.

The national file is about 5 GB, so it is read a row at a time and only the companies a caller's
``keep`` accepts are held (those registered at the council's postcodes, or whose name, now or
before, is one the index's records use): a whole national file costs the memory of what is kept.

Its layout has quirks, each handled here: some header names start with a space (" CompanyNumber",
" PreviousName_1.CompanyName"), dates are dd/mm/yyyy, company names hold quoted commas, unused SIC
and previous-name columns are empty, and the file may start with a byte-order mark.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from business_index.sources.base import SourceFileError

COMPANY_NUMBER = re.compile(r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6}|[A-Z]{2}[0-9]{5}[A-Z])$")
MAX_PREVIOUS_NAMES = 10
MAX_SIC_CODES = 4


@dataclass(frozen=True)
class PreviousName:
    name: str
    until: date | None  # the date the company stopped using it (CONDATE: the change of name)


@dataclass(frozen=True)
class Company:
    number: str
    name: str
    status: str | None  # "Active", "Dissolved", "Liquidation", "In Administration", ...
    category: str | None  # "Private Limited Company", "PLC", "Limited Liability Partnership", ...
    incorporated: date | None
    dissolved: date | None
    postcode: str | None
    address: str
    sic_codes: tuple[str, ...]
    previous_names: tuple[PreviousName, ...]
    line: int


@dataclass
class CompanyFileStats:
    path: str
    read: int = 0
    kept: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)


def read_companies(path: Path, keep: Callable[[Company], bool], stats: CompanyFileStats | None = None
                   ) -> Iterator[Company]:
    """The companies of a BasicCompanyData CSV that ``keep`` accepts, a row at a time; ``stats``
    counts what was read and kept, and the rows that could not be read (line, field, reason)."""
    stats = stats if stats is not None else CompanyFileStats(str(path))
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = csv.reader(handle)
        try:
            header = [h.strip() for h in next(rows)]
        except StopIteration:
            raise SourceFileError(path, "the file is empty (a header row is needed)") from None
        column = {name: i for i, name in enumerate(header)}
        for required in ("CompanyName", "CompanyNumber"):
            if required not in column:
                raise SourceFileError(path, f"no {required} column: not a Companies House BasicCompanyData file")

        def cell(values: list[str], name: str) -> str:
            i = column.get(name)
            return values[i].strip() if i is not None and i < len(values) else ""

        for values in rows:
            if not values:
                continue
            stats.read += 1
            line = rows.line_num
            number = cell(values, "CompanyNumber").upper()
            if not COMPANY_NUMBER.match(number):
                stats.rejected.append((line, "CompanyNumber", f"{number!r} is not a company number"))
                continue
            name = " ".join(cell(values, "CompanyName").split())
            if not name:
                stats.rejected.append((line, "CompanyName", "no company name"))
                continue
            previous = []
            for n in range(1, MAX_PREVIOUS_NAMES + 1):
                old = " ".join(cell(values, f"PreviousName_{n}.CompanyName").split())
                if old:
                    previous.append(PreviousName(old, _date(cell(values, f"PreviousName_{n}.CONDATE"))))
            address = ", ".join(part for part in (cell(values, f"RegAddress.{p}") for p in (
                "CareOf", "POBox", "AddressLine1", "AddressLine2", "PostTown", "County")) if part)
            company = Company(
                number=number, name=name, status=cell(values, "CompanyStatus") or None,
                category=cell(values, "CompanyCategory") or None,
                incorporated=_date(cell(values, "IncorporationDate")), dissolved=_date(cell(values, "DissolutionDate")),
                postcode=" ".join(cell(values, "RegAddress.PostCode").upper().split()) or None, address=address,
                sic_codes=tuple(s for s in (cell(values, f"SICCode.SicText_{n}") for n in range(1, MAX_SIC_CODES + 1))
                                if s and s.lower() != "none supplied"),
                previous_names=tuple(previous), line=line)
            if keep(company):
                stats.kept += 1
                yield company


def _date(text: str) -> date | None:
    """dd/mm/yyyy, as Companies House writes them; None when empty or not a date."""
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
