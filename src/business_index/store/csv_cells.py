"""Cells of the CSV files Business Index writes, made safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel and
LibreOffice as a formula ("CSV injection"): a submitted name such as ``=HYPERLINK(...)`` would run
on the custodian's machine. Such a cell is written with a leading apostrophe, which spreadsheets
show as text (OWASP's advice). Numbers are columns of their own type and never pass through here.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# the same rule as a DuckDB macro, for exports written by COPY
SQL_MACRO = """CREATE OR REPLACE TEMP MACRO spreadsheet_safe(cell) AS
    CASE WHEN cell IS NOT NULL AND (starts_with(cell, '=') OR starts_with(cell, '+') OR starts_with(cell, '-')
              OR starts_with(cell, '@') OR starts_with(cell, chr(9)) OR starts_with(cell, chr(13)))
         THEN '''' || cell ELSE cell END"""


def spreadsheet_safe(cell: object) -> object:
    """``cell`` as a spreadsheet will show it as text; anything not a string is returned as it is."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
