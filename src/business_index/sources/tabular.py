"""Headed CSV files (NDR exports, licensing registers, FHRS CSV): columns found by header synonyms.

``TableReader`` yields one ``TableRow`` per data row, with its line and its 1-based row number
(the header not counted), after checking the row has as many fields as the header. Readers turn
rows into records; a ``ValueProblem`` they raise quarantines the row with its field named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from business_index.config import SourceConfig
from business_index.records import BusinessRecord
from business_index.sources.base import (
    QuarantineLog,
    ReadResult,
    SourceFileError,
    iter_delimited,
    map_columns,
    open_lines,
)
from business_index.sources.values import ValueProblem


class FieldValueProblem(ValueProblem):
    """A ValueProblem that knows which canonical field it is about."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field_name = field_name


@dataclass(slots=True)
class TableRow:
    number: int
    line: int
    cells: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.cells.get(name)


RowConverter = Callable[[TableRow, QuarantineLog], BusinessRecord]
# keeps one row's records in the result, or raises FieldValueProblem to quarantine the row
RowHandler = Callable[[TableRow, QuarantineLog], None]


def read_table(
    source: SourceConfig,
    path: Path,
    result: ReadResult,
    synonyms: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    convert: RowConverter,
    what: str,
) -> None:
    """Read one headed CSV file of business records into ``result``, quarantining what cannot be loaded."""

    def keep(row: TableRow, log: QuarantineLog) -> None:
        result.business_records.append(convert(row, log))

    read_rows(source, path, result, synonyms, required, keep, what)


def read_rows(
    source: SourceConfig,
    path: Path,
    result: ReadResult,
    synonyms: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    handle: RowHandler,
    what: str,
) -> None:
    """Read one headed CSV file, giving each row to ``handle``; a row it refuses (FieldValueProblem)
    is quarantined with its column named, every other row counts as loaded."""
    lines, stats, log = open_lines(source.name, path, result, source.encoding)
    records = iter_delimited(lines, encoding=stats.encoding)
    header_row = next(records, None)
    if header_row is None or header_row.fields is None:
        raise SourceFileError(path, f"empty file, or its header is not readable text: expected {what}")
    header = [cell.strip() for cell in header_row.fields]
    mapping = map_columns(path, header, synonyms, source.columns)
    missing = [name for name in required if name not in mapping]
    if missing:
        wanted = "; ".join(f"{name} (one of: {', '.join(synonyms[name][:6])})" for name in missing)
        raise SourceFileError(path, f"not {what}: no column for {wanted}. "
                                    f"Name the column under [sources.columns] if it has another header")
    width = len(header)
    number = 0
    for record in records:
        number += 1
        stats.read += 1
        if record.fields is None:
            log.reject(record.line, None, record.problem or "unreadable", record.raw)
            continue
        fields = record.fields
        if len(fields) != width:
            if len(fields) > width and not any(cell.strip() for cell in fields[width:]):
                fields = fields[:width]
            else:
                log.reject(record.line, None, f"row has {len(fields)} fields; the header has {width}", record.raw)
                continue
        row = TableRow(number, record.line, {name: fields[index] for name, index in mapping.items()})
        try:
            handle(row, log)
        except FieldValueProblem as problem:
            log.reject(record.line, _column_name(header, mapping, problem.field_name), str(problem), record.raw)
            continue
        stats.loaded += 1
    result.files.append(stats)


def _column_name(header: list[str], mapping: dict[str, int], field_name: str) -> str:
    index = mapping.get(field_name)
    return header[index] if index is not None else field_name


def field_value(field_name: str, parse: Callable[[str | None], object], value: str | None) -> object:
    """Parse one cell, tagging any problem with the field it came from."""
    try:
        return parse(value)
    except ValueProblem as exc:
        raise FieldValueProblem(field_name, str(exc)) from None
