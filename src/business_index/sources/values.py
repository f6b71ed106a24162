"""Parsing of the values council files really contain: dates in five notations, Excel serial days,
money with '£' and commas, references with an Excel apostrophe, UPRNs written as floats.

Every parser raises ``ValueProblem`` with a reason a data officer can act on; readers turn that
into a quarantined row naming the field.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

EXCEL_EPOCH = date(1899, 12, 30)
# Serial day numbers we accept as Excel dates: 1954-10-08 .. 2119-02-01. Outside that a bare number
# is more likely a mistake than a date.
EXCEL_SERIAL_RANGE = (20000, 80000)
UPRN_PATTERN = re.compile(r"^\d{1,12}$")  # MAX_UPRN (records.py): 1 to 12 digits
MONEY_LIMIT = 10**13  # pounds; the largest rateable value in England is under a billion
MISSING_MARKERS = frozenset({"", "N/A", "NA", "NULL", "NONE", "-", "#N/A", "NAN"})

_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?Z?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_DAY_MON_YEAR = re.compile(r"^(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*[- ](\d{2}|\d{4})$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_FLOAT_INT = re.compile(r"^(\d+)\.0*$")


class ValueProblem(ValueError):
    """A value that cannot be read as the type its column needs."""


def clean_text(value: str | None) -> str | None:
    """Trim; treat blank as missing. Keeps the text as published otherwise."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def is_missing(value: str | None) -> bool:
    return value is None or value.strip().upper() in MISSING_MARKERS


def _two_digit_year(year: int) -> int:
    # Business records span decades, so a pivot at 70 keeps 1975 and 2015 both right.
    return year + (1900 if year >= 70 else 2000)


def parse_date(value: str | None, order: str = "dmy") -> date | None:
    """Read a date written as ISO, D/M/Y or M/D/Y (per ``order``), DD-MON-YYYY or an Excel serial."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        if match := _ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if _SERIAL.match(text):
            serial = int(float(text))
            low, high = EXCEL_SERIAL_RANGE
            if not low <= serial <= high:
                raise ValueProblem(f"{text!r} is a number outside the range of Excel dates")
            return EXCEL_EPOCH + timedelta(days=serial)
        if match := _SLASHED.match(text):
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            if len(match[3]) == 2:
                year = _two_digit_year(year)
            day, month = (first, second) if order == "dmy" else (second, first)
            if month > 12 and day <= 12:  # the other order is the only one that can be right
                day, month = month, day
            return date(year, month, day)
        if match := _DAY_MON_YEAR.match(text):
            found = _MONTHS.get(match[2].upper())
            if found is None:
                raise ValueProblem(f"{text!r} has an unknown month {match[2]!r}")
            year = int(match[3])
            if len(match[3]) == 2:
                year = _two_digit_year(year)
            return date(year, found, int(match[1]))
    except ValueError as exc:
        if isinstance(exc, ValueProblem):
            raise
        raise ValueProblem(f"{text!r} is not a real calendar date") from exc
    raise ValueProblem(f"{text!r} is not a date in any notation we read")


def parse_uprn(value: str | None) -> int | None:
    """A UPRN: up to 12 digits. ``1710022145.00`` (a spreadsheet float) is accepted; blank is None."""
    if is_missing(value):
        return None
    text = value.strip()  # type: ignore[union-attr]
    if match := _FLOAT_INT.match(text):
        text = match[1]
    if not UPRN_PATTERN.match(text):
        raise ValueProblem(f"{value!r} is not a UPRN (1 to 12 digits)")
    uprn = int(text)
    if uprn == 0:
        return None
    return uprn




def parse_money(value: str | None) -> int | None:
    """Whole pounds from '£156,000', '156000.00', '(1,200)' (negative) or blank."""
    if value is None:
        return None
    text = value.strip().replace("£", "").replace(",", "").replace(" ", "")
    if not text or text.upper() in MISSING_MARKERS:
        return None
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    try:
        number = float(text)
    except ValueError as exc:
        raise ValueProblem(f"{value!r} is not an amount of money") from exc
    if not math.isfinite(number) or abs(number) >= MONEY_LIMIT:
        raise ValueProblem(f"{value!r} is not a plausible amount of money (at most {MONEY_LIMIT:,} pounds)")
    amount = round(number)
    return -amount if negative else amount


def parse_reference(value: str | None) -> str | None:
    """A key from another system: kept as text (leading zeros matter), Excel's apostrophe removed."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("'"):
        text = text[1:].strip()
    return text or None
