"""The LLPG reader: NLPG DTF 7.3 and AddressBase Premium CSV, full supplies and change-only updates.

Each row's layout is picked from its record identifier and field count, so one reader takes both
formats, files with or without the OS splitter's header rows, and a council that mixes them. Rows
are applied in PRO_ORDER, file after file: I inserts, U replaces the whole record, D deletes (a
BLPU's delete takes its LPIs, cross references, organisations and classifications with it).
Then every property gets its display address from the LPI that matches the BLPU's status; the
other LPIs are kept as search aliases.

A supply is never held whole: lines are read as the file streams, each is parsed and checked
here (so every bad row is quarantined with its file, line, field and reason), and the parsed rows
go in batches into DuckDB (``gazetteer_staging.py``), which applies the updates and joins each
property to its LPIs, streets, organisation and classification. The properties come back a batch
at a time for their addresses (the BS 7666 rules stay in Python, in ``bs7666.py``), and go out a
batch at a time to the caller's ``RowSink``. No Python object per row outlives its batch: what
the read holds is the batch and DuckDB's store (``MEMORY_LIMIT``, beyond which DuckDB spills to
a temporary folder), measured at 0.33 GB for 100,000 properties and 0.46 GB for 500,000 (2.4 GB
when the supply was held).

A large supply (``POOL_MIN_BYTES``) is read by ``[build] workers`` processes
(``gazetteer_pool.py``): each parses whole files (the same ``_parse_file``) and later assembles chunks of properties (the same
``_assemble_chunk``), and this process takes their work back in order, so that the rows, the
quarantine and the counts are those of a read in one process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, cast

import duckdb

from business_index.config import SourceConfig
from business_index.duckdb_utils import sql_literal
from business_index.postcodes import postcode_as_written
from business_index.records import (
    MAX_UPRN,
    AddressAlias,
    AddressRecord,
    CrossReference,
    Lineage,
    QuarantinedRow,
    record_columns,
)
from business_index.sources.base import (
    ColumnSink,
    FileStats,
    QuarantineLog,
    ReadResult,
    RowSink,
    SourceFileError,
    iter_delimited,
    stream_lines,
)
from business_index.sources.bs7666 import single_line_address
from business_index.sources.gazetteer_layouts import (
    ABP,
    DTF73,
    ENVELOPE_RECORD_TYPES,
    IGNORED_RECORD_TYPES,
    NATURAL_KEYS,
    Layout,
    detect_layout,
)
from business_index.sources.gazetteer_pool import WORKERS, Spool, Workers, remove_folder, spool_folder
from business_index.sources.gazetteer_staging import PendingRows, Staging, properties_between
from business_index.sources.values import ValueProblem, parse_date

VALID_CHANGE_TYPES = frozenset({"I", "U", "D"})
NEVER_SUPPLIED_STATUSES = {5: "candidate", 7: "rejected (external)", 9: "rejected (internal)"}
_DESCRIPTIVE = re.compile(r"^(ACCESS ROAD|ACCESS TO|FOOTPATH|PATH|ROAD|SERVICE ROAD|PRIVATE ROAD)\b", re.IGNORECASE)
# DTF 23 written in the ABP-style order within 11 fields (formats.md s.11 guard)
_DTF23_ABP_ORDER = Layout("dtf73", 23, (
    ("RECORD_IDENTIFIER", "int"), ("CHANGE_TYPE", "text"), ("PRO_ORDER", "int"), ("UPRN", "int"),
    ("XREF_KEY", "text"), ("CROSS_REFERENCE", "text"), ("VERSION", "int"), ("SOURCE", "text"),
    ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
))


def _parse_value(kind: str, text: str) -> object:
    text = text.strip()
    if not text:
        return None
    if kind == "text":
        return text
    if kind == "int":
        if match := _WHOLE_NUMBER.match(text):  # "12", and "12.0" or "12.00" from a spreadsheet
            return int(match[1])
        raise ValueProblem(f"{text!r} is not a whole number")
    if kind == "float":
        try:
            number = float(text)
        except ValueError:
            raise ValueProblem(f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueProblem(f"{text!r} is not a finite number")
        return number
    if kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return parse_date(text)
    return text


_PLANS: dict[Layout, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}


def _plan(layout: Layout) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The layout's field names, and which of them need more than trimming (numbers and dates)."""
    plan = _PLANS.get(layout)
    if plan is None:
        plan = _PLANS[layout] = (layout.names, tuple((n, k) for n, k in layout.fields if k != "text"))
    return plan


_WHOLE_NUMBER = re.compile(r"^([+-]?\d{1,18})(?:\.0+)?$")
# identifiers held as 64-bit integers; every other whole number of the layouts is a 32-bit one
_LARGE_NUMBERS = {name: MAX_UPRN + 1 for name in ("UPRN", "PARENT_UPRN", "SUCCESSOR", "USRN", "UDPRN")}
_INTEGER_LIMIT = 2**31


def _too_large(name: str, text: str) -> str:
    if name in ("UPRN", "PARENT_UPRN", "SUCCESSOR"):
        return f"{text!r} is not a UPRN (1 to 12 digits)"
    return f"{text!r} is too large for {name}"


def _parse_row(layout: Layout, fields: list[str]) -> dict[str, object]:
    names, typed = _plan(layout)
    # text first (most fields), then convert the typed ones: one pass, few function calls
    values: dict[str, object] = {name: (text.strip() or None) for name, text in zip(names, fields, strict=True)}
    for name, kind in typed:
        text = values[name]
        if text is None:
            continue
        try:
            if kind == "int":
                number = int(text)  # type: ignore[call-overload]
                values[name] = number
                if abs(number) >= _LARGE_NUMBERS.get(name, _INTEGER_LIMIT):
                    raise _FieldProblem(name, _too_large(name, str(text)))
            elif kind == "date":
                values[name] = date.fromisoformat(text)  # type: ignore[arg-type]
            elif kind == "float":
                number_ = float(text)  # type: ignore[arg-type]
                if not math.isfinite(number_):
                    raise ValueError(text)
                values[name] = number_
        except ValueError:
            try:
                parsed = _parse_value(kind, str(text))
            except ValueProblem as exc:
                raise _FieldProblem(name, str(exc)) from None
            if isinstance(parsed, int) and abs(parsed) >= _LARGE_NUMBERS.get(name, _INTEGER_LIMIT):
                raise _FieldProblem(name, _too_large(name, str(text))) from None
            values[name] = parsed
    return values


class _FieldProblem(Exception):
    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field_name = field_name
        self.reason = reason


def _check_values(record_type: int, values: dict[str, object]) -> None:
    """Rules beyond types: UPRNs of up to 12 digits, a known change type, suppliable statuses."""
    change = values.get("CHANGE_TYPE")
    if change not in VALID_CHANGE_TYPES:
        raise _FieldProblem("CHANGE_TYPE", f"{change!r} is not I, U or D")
    for key in ("UPRN", "PARENT_UPRN", "SUCCESSOR"):
        uprn = values.get(key)
        if uprn is not None and not (isinstance(uprn, int) and 0 < uprn <= MAX_UPRN):
            raise _FieldProblem(key, f"{uprn!r} is not a UPRN (1 to 12 digits)")
    if record_type in NATURAL_KEYS:
        for key in NATURAL_KEYS[record_type]:
            if values.get(key) is None and not (key == "LANGUAGE" and record_type == 15):
                raise _FieldProblem(key, f"the key field {key} is empty")
    if "UPRN" in values and values["UPRN"] is None:
        raise _FieldProblem("UPRN", "empty: the record belongs to no property")
    if record_type in (21, 24):
        status = values.get("LOGICAL_STATUS")
        if isinstance(status, int) and status in NEVER_SUPPLIED_STATUSES:
            raise _FieldProblem("LOGICAL_STATUS",
                                f"status {status} ({NEVER_SUPPLIED_STATUSES[status]}) is never supplied to users")


BATCH_SIZE = 10_000


# below this much input a pool's start (a second or so of imports a process) costs more than it gains
POOL_MIN_BYTES = 16 << 20


def read_gazetteer(source: SourceConfig, paths: list[Path], sink: RowSink | None = None,
                   batch_size: int = BATCH_SIZE, workers: int = WORKERS,
                   pool_min_bytes: int = POOL_MIN_BYTES) -> ReadResult:
    """Read an LLPG supply: its files in order, full supply then change-only updates.

    The rows are staged in DuckDB (``gazetteer_staging.py``) and come out ``batch_size`` at a
    time, into ``sink`` when one is given (``bx build`` writes them into the index), else into the
    result's lists. The result always holds the files' counts, warnings and quarantined rows.
    Memory stays bounded by the batch size, not by the size of the supply. With ``workers``
    above 1 and a supply of ``pool_min_bytes`` or more, the files are parsed and the addresses
    assembled in that many processes (``gazetteer_pool.py``); what comes out is the same, row for
    row and in the same order.
    """
    if _supply_bytes(paths) < pool_min_bytes:
        workers = 1
    result = ReadResult(source.name)
    out: RowSink = result if sink is None else sink
    with Staging(batch_size) as staging, Workers(workers) as pool:
        if workers > 1 and len(paths) > 1:
            _read_files_in_pool(source, paths, result, staging, out, pool)
        else:
            for index, path in enumerate(paths):
                parsed = _parse_file(source, path, index, staging, out.put_other_rows, batch_size)
                _take_file(source, path, index, parsed, result, staging)
        removed = staging.apply()
        if removed and result.files:
            result.files[-1].warnings.append(
                f"{removed} LPIs, cross references and other child records removed with their deleted BLPUs")
        _assemble(source, paths, staging, result, out, pool)
    return result


def _supply_bytes(paths: list[Path]) -> int:
    # a missing or unreadable file is reported when it is read, not here
    return sum(path.stat().st_size for path in paths if path.is_file())


def _read_files_in_pool(source: SourceConfig, paths: list[Path], result: ReadResult, staging: Staging,
                        out: RowSink, pool: Workers) -> None:
    folder = spool_folder()
    try:
        jobs = ((source, path, index, folder / str(index), staging.batch_size) for index, path in enumerate(paths))
        for index, (path, parsed) in enumerate(zip(paths, pool.in_order(_parse_file_to_spool, jobs), strict=True)):
            assert parsed.spool is not None
            parsed.spool.replay(staging.insert, out.put_other_rows)
            _take_file(source, path, index, parsed, result, staging)
    except BaseException:
        pool.close()  # the parses still running write into the folder: stopped before it goes
        raise
    finally:
        remove_folder(folder)


class _Rows(Protocol):
    """Where a file's parsed rows are staged: the staging store, or a worker's spool."""

    def add(self, record_type: int, names: tuple[str, ...], file: int, line: int, order: int, change: str,
            values: dict[str, object]) -> None: ...

    def flush(self) -> None: ...


@dataclass(slots=True)
class _ParsedFile:
    """One file's parse: its counts so far, its quarantined rows, and what its trailer said."""

    stats: FileStats
    quarantine: list[QuarantinedRow]
    staged: int
    trailer_count: int | None
    data_rows: int
    spool: Spool | None = None  # the rows, when parsed in a worker


def _parse_file_to_spool(source: SourceConfig, path: Path, index: int, folder: Path,
                         batch_size: int) -> _ParsedFile:
    """A worker's job: parse one file into a spool of its own."""
    folder.mkdir()
    spool = Spool(folder)
    rows = PendingRows(batch_size, spool.put_staged)
    parsed = _parse_file(source, path, index, rows, spool.put_other, batch_size)
    rows.flush()
    parsed.spool = spool
    return parsed


def _parse_file(source: SourceConfig, path: Path, index: int, staging: _Rows,
                put_other_rows: Callable[[list[tuple[Lineage, int, list[str]]]], None],
                batch_size: int) -> _ParsedFile:
    """Parse and check each row of one file: good rows to ``staging``, rows of the record types
    kept raw to ``put_other_rows``, bad rows quarantined in the result."""
    local = ReadResult(source.name)
    lines, stats, log = stream_lines(source.name, path, local, source.encoding)
    encoding = stats.encoding
    other_rows: list[tuple[Lineage, int, list[str]]] = []
    staged = 0
    trailer_count: int | None = None
    data_rows = 0
    recognised = 0
    for record in iter_delimited(lines, encoding=encoding):
        if record.fields is None:
            stats.read += 1
            log.reject(record.line, None, record.problem or "unreadable", record.raw)
            continue
        fields = record.fields
        first = fields[0].strip()
        if first.upper() == "RECORD_IDENTIFIER":
            continue  # a column-header row from the OS splitter: not data
        stats.read += 1
        try:
            record_type = int(first)
        except ValueError:
            log.reject(record.line, "RECORD_IDENTIFIER", f"{first[:20]!r} is not a record type number", record.raw)
            continue
        if record_type in ENVELOPE_RECORD_TYPES:
            recognised += 1
            stats.loaded += 1
            if record_type == 99 and len(fields) >= 3:
                try:
                    trailer_count = int(fields[2])
                except ValueError:
                    stats.warnings.append(f"{path}: line {record.line}: trailer RECORD_COUNT {fields[2]!r} is not a number")
            continue
        data_rows += 1
        if record_type in IGNORED_RECORD_TYPES:
            recognised += 1
            stats.loaded += 1
            other_rows.append((log.lineage(record.line), record_type, fields))
            if len(other_rows) >= batch_size:
                put_other_rows(other_rows)
                other_rows = []
            continue
        layout = detect_layout(record_type, len(fields))
        if layout is None:
            dtf, abp = DTF73.get(record_type), ABP.get(record_type)
            if dtf is None and abp is None:
                reason = f"record type {record_type} is not a DTF 7.3 or AddressBase Premium record"
            else:
                widths = " or ".join(f"{lay.width} ({lay.format})" for lay in (dtf, abp) if lay)
                reason = f"record type {record_type} has {len(fields)} fields; expected {widths}"
            log.reject(record.line, None, reason, record.raw)
            continue
        recognised += 1
        names = _plan(layout)[0]
        try:
            values = _parse_row(layout, fields)
            _check_values(record_type, values)
        except _FieldProblem as problem:
            if record_type == 23 and layout.format == "dtf73":
                values_or_none = _reparse_dtf23(fields)
                if values_or_none is not None:
                    values, names = values_or_none, _plan(_DTF23_ABP_ORDER)[0]
                    stats.warnings.append(f"{path}: line {record.line}: record 23 read in ABP-style field order")
                else:
                    log.reject(record.line, problem.field_name, problem.reason, record.raw)
                    continue
            else:
                log.reject(record.line, problem.field_name, problem.reason, record.raw)
                continue
        staging.add(record_type, names, index, record.line, int(values["PRO_ORDER"] or 0),  # type: ignore[call-overload]
                    str(values["CHANGE_TYPE"]), values)
        staged += 1
    if stats.read and not recognised:
        raise SourceFileError(path, "no row is a DTF 7.3 or AddressBase Premium record: is this an LLPG file?")
    if other_rows:
        put_other_rows(other_rows)
    return _ParsedFile(stats, local.quarantine, staged, trailer_count, data_rows)


def _take_file(source: SourceConfig, path: Path, index: int, parsed: _ParsedFile, result: ReadResult,
               staging: Staging) -> None:
    """Add a parsed file (its rows staged) to the read, in file order: its quarantined rows, then
    its deletes that cannot apply, given every earlier file."""
    stats = parsed.stats
    result.quarantine.extend(parsed.quarantine)
    log = QuarantineLog(source.name, path, result, stats)
    # rows apply in PRO_ORDER (file order among equals); a delete of a record not held is refused
    refused = staging.refusals(index)
    for _, line, record_type, key in refused:
        log.reject(line, NATURAL_KEYS[record_type][0],
                   f"delete of record {record_type} {key} that the gazetteer does not hold", "")
    stats.loaded += parsed.staged - len(refused)
    _check_trailer(source, path, stats, parsed.trailer_count, parsed.data_rows)
    result.files.append(stats)


def _reparse_dtf23(fields: list[str]) -> dict[str, object] | None:
    try:
        values = _parse_row(_DTF23_ABP_ORDER, fields)
        _check_values(23, values)
    except _FieldProblem:
        return None
    return values


def _check_trailer(source: SourceConfig, path: Path, stats: FileStats, trailer_count: int | None, data_rows: int) -> None:
    if trailer_count is None:
        message = f"{path}: no trailer record (99): the file may be truncated"
    elif trailer_count != data_rows:
        message = f"{path}: trailer says {trailer_count} records but the file holds {data_rows}"
    else:
        return
    if source.strict_trailer:
        raise SourceFileError(path, message.split(": ", 1)[1])
    stats.warnings.append(message)


def _assemble(source: SourceConfig, paths: list[Path], staging: Staging, result: ReadResult, out: RowSink,
              pool: Workers) -> None:
    """Turn the applied gazetteer into canonical addresses, aliases and cross references, a chunk
    of properties at a time (in the pool's processes when there is more than one chunk)."""
    files = [str(path) for path in paths]

    def lineage(row: dict[str, Any]) -> Lineage:
        return Lineage(source.name, files[row["_file"]], row["_line"])

    missing_lpi = 0
    ranges = staging.property_ranges()
    folder = spool_folder()
    try:
        if pool.count > 1 and len(ranges) > 1:
            blpus, lpis = staging.export_properties(folder)
            # a sink that takes columns gets them as the workers made them: no record is made here
            columns = isinstance(out, ColumnSink)
            for addresses, aliases, missing in pool.in_order(
                    _assemble_exported, ((source.name, files, blpus, lpis, first, last, columns)
                                         for first, last in ranges)):
                missing_lpi += missing
                if isinstance(addresses, dict):
                    cast(ColumnSink, out).put_address_columns(addresses)
                    cast(ColumnSink, out).put_alias_columns(aliases)  # type: ignore[arg-type]
                else:
                    out.put_addresses(addresses)
                    out.put_aliases(aliases)  # type: ignore[arg-type]
        else:
            for chunk in staging.properties():
                addresses, aliases, missing = _assemble_chunk(source.name, files, chunk)
                missing_lpi += missing
                out.put_addresses(addresses)
                out.put_aliases(aliases)
    finally:
        remove_folder(folder)
    if missing_lpi and result.files:
        result.files[-1].warnings.append(f"{missing_lpi} properties (BLPUs) have no LPI and so no address")
    for batch in staging.cross_references():
        out.put_cross_references([CrossReference(
            uprn=int(xref["UPRN"]),
            xref_key=str(xref["XREF_KEY"]),
            source_code=str(xref.get("SOURCE") or "").strip(),
            reference=str(xref.get("CROSS_REFERENCE") or "").strip(),
            start_date=xref.get("START_DATE"),
            end_date=xref.get("END_DATE"),
            lineage=lineage(xref),
        ) for xref in batch])
    orphans = staging.orphan_cross_references()
    if orphans and result.files:
        result.files[-1].warnings.append(f"{orphans} cross references name a UPRN that has no BLPU")


# a worker's connection for reading the exported properties: one a process, one thread (the pool
# is the parallelism) and little memory (a chunk is small)
_EXPORT_READER: duckdb.DuckDBPyConnection | None = None


_Columns = dict[str, list[Any]]


def _assemble_exported(source_name: str, files: list[str], blpus: Path, lpis: Path, first: int, last: int,
                       columns: bool) -> tuple[list[AddressRecord] | _Columns, list[AddressAlias] | _Columns, int]:
    """A worker's job: assemble the properties ``first`` to ``last`` of the exported ones, as
    records or (``columns``) column by column, as the index holds them (lists of plain values
    cost little to hand back; records cost more to make again than to make)."""
    global _EXPORT_READER
    if _EXPORT_READER is None:
        _EXPORT_READER = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": "256MB"})
    chunk = properties_between(_EXPORT_READER, f"read_parquet({sql_literal(blpus)})", f"read_parquet({sql_literal(lpis)})", first, last)
    addresses, aliases, missing = _assemble_chunk(source_name, files, chunk)
    if columns:
        return record_columns(addresses, AddressRecord), record_columns(aliases, AddressAlias), missing
    return addresses, aliases, missing


def _assemble_chunk(source_name: str, files: list[str], chunk: list[tuple[dict[str, Any], list[dict[str, Any]]]]
                    ) -> tuple[list[AddressRecord], list[AddressAlias], int]:
    """A chunk of properties' addresses and aliases, and how many of them have no LPI."""

    def lineage(row: dict[str, Any]) -> Lineage:
        return Lineage(source_name, files[row["_file"]], row["_line"])

    missing_lpi = 0
    addresses: list[AddressRecord] = []
    aliases: list[AddressAlias] = []
    for blpu, lpis in chunk:
        uprn = int(blpu["UPRN"])
        status = int(blpu.get("LOGICAL_STATUS") or 1)
        chosen = _display_lpi(lpis, status)
        # DTF 7.3 keeps postcode on the LPI and organisation and class on the BLPU; ABP keeps the
        # postcode on the BLPU and organisation and class in records 31 and 32. Read whichever is there.
        postcode = blpu.get("POSTCODE_LOCATOR")
        parts: dict[str, object] = {}
        if chosen is not None:
            parts = _address_parts(chosen, _descriptor(chosen, english_too=True))
            postcode = postcode or chosen.get("POSTCODE")
        else:
            missing_lpi += 1
        tidied_postcode = tidy_postcode(postcode)
        line = address_line(parts, tidied_postcode) if chosen else ""
        organisation = blpu.get("ORGANISATION") or blpu["_organisation"]
        classification = blpu.get("BLPU_CLASS") or blpu["_classification"]
        street_type = chosen.get("_street_type") if chosen else None
        descriptive = street_type == 9 or is_descriptive_street(parts.get("street_description"))  # type: ignore[arg-type]
        addresses.append(AddressRecord(
            uprn=uprn,
            parent_uprn=blpu.get("PARENT_UPRN"),
            lpi_key=str(chosen["LPI_KEY"]) if chosen else None,
            logical_status=status,
            blpu_state=blpu.get("BLPU_STATE"),
            # the display LPI's parts, each the address record's field of that name (none without one)
            **{name: parts.get(name) for name in ADDRESS_PART_FIELDS},  # type: ignore[arg-type]
            postcode=tidied_postcode,
            single_line_address=line,
            classification=classification,
            organisation=organisation,
            local_custodian_code=blpu.get("LOCAL_CUSTODIAN_CODE"),
            x_coordinate=blpu.get("X_COORDINATE"),
            y_coordinate=blpu.get("Y_COORDINATE"),
            latitude=blpu.get("LATITUDE"),
            longitude=blpu.get("LONGITUDE"),
            start_date=blpu.get("START_DATE"),
            end_date=blpu.get("END_DATE"),
            descriptive_street=descriptive,
            lineage=lineage(blpu),
        ))
        for lpi in lpis:
            lpi_postcode = tidy_postcode(lpi.get("POSTCODE") or postcode)
            if lpi is chosen:
                # the property's own line, unless this LPI's postcode differs from the property's
                lpi_line = line if lpi_postcode == tidied_postcode else address_line(parts, lpi_postcode)
            else:
                lpi_line = address_line(_address_parts(lpi, _descriptor(lpi, english_too=False)), lpi_postcode)
            aliases.append(AddressAlias(
                uprn=uprn, lpi_key=str(lpi["LPI_KEY"]), logical_status=int(lpi.get("LOGICAL_STATUS") or 0),
                language=str(lpi.get("LANGUAGE") or "ENG"),
                single_line_address=lpi_line, postcode=lpi_postcode,
                start_date=lpi.get("START_DATE"), end_date=lpi.get("END_DATE"),
                lineage=lineage(lpi),
            ))
    return addresses, aliases, missing_lpi


def _descriptor(lpi: dict[str, Any], english_too: bool) -> dict[str, object]:
    """The street descriptor (record 15) of an LPI's street in its language; for the display LPI,
    else the English one."""
    for which in ("_own", "_eng") if english_too else ("_own",):
        if lpi[which]:
            return {"STREET_DESCRIPTOR": lpi[f"{which}_street"], "LOCALITY_NAME": lpi[f"{which}_locality"],
                    "TOWN_NAME": lpi[f"{which}_town"]}
    return {}


def _display_lpi(lpis: list[dict[str, object]], blpu_status: int) -> dict[str, object] | None:
    """The LPI whose status matches the BLPU's, in English; official first, then the latest."""
    if not lpis:
        return None
    wanted = {1: 1, 6: 6, 8: 8}.get(blpu_status, 1)

    def rank(lpi: dict[str, object]) -> tuple:
        start = lpi.get("START_DATE")
        return (
            lpi.get("LOGICAL_STATUS") == wanted,
            str(lpi.get("LANGUAGE") or "ENG") == "ENG",
            lpi.get("LOGICAL_STATUS") == 1,
            lpi.get("OFFICIAL_FLAG") == "Y",
            start if isinstance(start, date) else date.min,
            str(lpi.get("LPI_KEY")),
        )

    return max(lpis, key=rank)


# what ``_address_parts`` gives, by the names ``AddressRecord`` has for them
ADDRESS_PART_FIELDS = ("usrn", "sao_start_number", "sao_start_suffix", "sao_end_number", "sao_end_suffix", "sao_text",
                       "pao_start_number", "pao_start_suffix", "pao_end_number", "pao_end_suffix", "pao_text",
                       "street_description", "locality", "town")


def _address_parts(lpi: dict[str, object], descriptor: dict[str, object]) -> dict[str, object]:
    return {
        "usrn": lpi.get("USRN"),
        "sao_start_number": lpi.get("SAO_START_NUMBER"), "sao_start_suffix": lpi.get("SAO_START_SUFFIX"),
        "sao_end_number": lpi.get("SAO_END_NUMBER"), "sao_end_suffix": lpi.get("SAO_END_SUFFIX"),
        "sao_text": lpi.get("SAO_TEXT"),
        "pao_start_number": lpi.get("PAO_START_NUMBER"), "pao_start_suffix": lpi.get("PAO_START_SUFFIX"),
        "pao_end_number": lpi.get("PAO_END_NUMBER"), "pao_end_suffix": lpi.get("PAO_END_SUFFIX"),
        "pao_text": lpi.get("PAO_TEXT"),
        "street_description": descriptor.get("STREET_DESCRIPTOR"),
        "locality": descriptor.get("LOCALITY_NAME"),
        "town": lpi.get("POST_TOWN") or descriptor.get("TOWN_NAME"),
    }


def address_line(parts: dict[str, object], postcode: str | None) -> str:
    """The single-line address of an LPI's parts (as ``_address_parts`` gives them), BS 7666 order:
    every gazetteer format's display address is built here."""
    return single_line_address(
        sao_start_number=parts.get("sao_start_number"), sao_start_suffix=parts.get("sao_start_suffix"),  # type: ignore[arg-type]
        sao_end_number=parts.get("sao_end_number"), sao_end_suffix=parts.get("sao_end_suffix"),  # type: ignore[arg-type]
        sao_text=parts.get("sao_text"),  # type: ignore[arg-type]
        pao_start_number=parts.get("pao_start_number"), pao_start_suffix=parts.get("pao_start_suffix"),  # type: ignore[arg-type]
        pao_end_number=parts.get("pao_end_number"), pao_end_suffix=parts.get("pao_end_suffix"),  # type: ignore[arg-type]
        pao_text=parts.get("pao_text"),  # type: ignore[arg-type]
        street=parts.get("street_description"),  # type: ignore[arg-type]
        locality=parts.get("locality"), town=parts.get("town"), postcode=postcode,  # type: ignore[arg-type]
    )


def is_descriptive_street(street_description: str | None) -> bool:
    """A street descriptor that names a way to a place rather than a street ("ACCESS ROAD TO ...")."""
    return bool(_DESCRIPTIVE.match(street_description or ""))


def tidy_postcode(value: object) -> str | None:
    """A full postcode in its one written form ("e81ab" and "E8  1AB" are "E8 1AB"); anything else
    (a partial postcode, a typo) as published, tidied."""
    return postcode_as_written(str(value)) if value else None
