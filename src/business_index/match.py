"""``bx match``: any list of addresses in a file (CSV, Parquet or JSON lines) -> the same list with
each row's UPRN, read and written a chunk at a time so a million rows cost little memory.

Every input row comes out, in order, with every input column as it went in, followed by the
answer columns (``ANSWER_COLUMNS``). Which input columns hold the address is named by the caller
or guessed from the header (``guess_columns``). Matching itself is ``link/address_lists.py``: the
build's own matcher, model and rules.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from business_index.link.address_lists import (
    AddressInput,
    AddressMatch,
    IndexAddressMatcher,
    parse_batch,
    start_parser,
)
from business_index.link.address_matching import MatchRules

ListFormat = Literal["csv", "parquet", "jsonl"]
ANSWER_COLUMNS = ("uprn", "matched_address", "match_probability", "runner_up_uprn", "runner_up_address",
                  "runner_up_probability", "decided_by", "reason")
_ANSWER_TYPES = (pa.int64(), pa.string(), pa.float64(), pa.int64(), pa.string(), pa.float64(), pa.string(), pa.string())
CHUNK_ROWS = 50_000
PARALLEL_FROM_BYTES = 4_000_000  # about 50,000 addresses: below it, parsing in processes costs more than it saves

# header words, compared with case, spaces and punctuation ignored
_SINGLE_LINE = ("address", "fulladdress", "singlelineaddress", "addressline", "addr", "propertyaddress",
                "premisesaddress", "siteaddress", "businessaddress", "location", "addresstext")
_LINE_PATTERN = re.compile(r"^(address|addr|add)(line)?(\d)$")
_LINE_EXTRAS = ("street", "locality", "town", "city", "posttown", "county")
_POSTCODE = ("postcode", "postalcode", "pcode", "postcodelocator", "zip", "zipcode")
_NAME = ("businessname", "tradingname", "name", "organisation", "organisationname", "companyname", "premisesname")


class MatchInputError(ValueError):
    """The input cannot be matched as asked; the message names the file and column."""


@dataclass(frozen=True)
class ListColumns:
    address: tuple[str, ...]  # one single-line column, or the lines in order
    postcode: str | None = None
    name: str | None = None


@dataclass
class MatchSummary:
    rows: int = 0
    matched: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    columns: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def list_format(path: Path, given: str | None = None) -> ListFormat:
    """The format of ``path``: ``given``, or from its extension."""
    name = (given or path.suffix.lstrip(".")).lower()
    if name in ("csv", "txt"):
        return "csv"
    if name in ("parquet", "pq"):
        return "parquet"
    if name in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise MatchInputError(f"{path}: cannot tell the format from the name; give it as csv, parquet or jsonl "
                          "(--format for the input, --out-format for the output)")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def guess_columns(header: list[str], address: list[str] | None = None, postcode: str | None = None,
                  name: str | None = None) -> ListColumns:
    """The columns to read: those named, else guessed from the header. Raises ``MatchInputError``
    naming the columns there are when the address cannot be found."""
    by_key = {_key(h): h for h in header}
    for given in [*(address or []), postcode, name]:
        if given is not None and given not in header:
            raise MatchInputError(f"no column {given!r}; the columns are: {', '.join(header)}")
    if not address:
        single = next((by_key[k] for k in _SINGLE_LINE if k in by_key), None)
        if single is not None:
            address = [single]
        else:
            numbered = sorted((int(m[3]), h) for h in header if (m := _LINE_PATTERN.match(_key(h))))
            address = [h for _, h in numbered] + [by_key[k] for k in _LINE_EXTRAS if k in by_key]
        if not address:
            raise MatchInputError("cannot tell which columns hold the address; name them with --address-column "
                                  f"(once, or once per line). The columns are: {', '.join(header)}")
    if postcode is None:
        postcode = next((by_key[k] for k in _POSTCODE if k in by_key and by_key[k] not in address), None)
    if name is None:
        name = next((by_key[k] for k in _NAME if k in by_key and by_key[k] not in address), None)
    return ListColumns(tuple(address), postcode, name)


class _ListReader:
    """Reads a list a chunk at a time, as dicts, in file order."""

    def __init__(self, path: Path, fmt: ListFormat):
        self.path, self.fmt = path, fmt
        self.total_bytes = path.stat().st_size
        self.bytes_read = 0
        self.schema: pa.Schema | None = None
        self._file: Any = None
        self._parquet: pq.ParquetFile | None = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        path, fmt = self.path, self.fmt
        if fmt == "csv":
            self._file = path.open(newline="", encoding="utf-8-sig")
            self._csv = csv.reader(self._counted(self._file))
            try:
                self.header = next(self._csv)
            except StopIteration:
                raise MatchInputError(f"{path}: the file is empty (a header row is needed)") from None
            except UnicodeDecodeError:
                raise MatchInputError(f"{path}: not UTF-8 text; save it as UTF-8 CSV") from None
            if len(set(self.header)) != len(self.header):
                raise MatchInputError(f"{path}: line 1: the header names a column twice")
        elif fmt == "parquet":
            self._parquet = pq.ParquetFile(path)
            self.schema = self._parquet.schema_arrow
            self.header = list(self.schema.names)
        else:
            self._file = path.open(encoding="utf-8")
            self._lines = enumerate(self._counted(self._file), start=1)
            self._first: dict[str, Any] | None = self._next_json()
            self.header = list(self._first) if self._first else []
            self._json_header = set(self.header)

    def _counted(self, lines: Any) -> Iterator[str]:
        for line in lines:
            self.bytes_read += len(line)
            yield line

    def _next_json(self) -> dict[str, Any] | None:
        for number, line in self._lines:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MatchInputError(f"{self.path}: line {number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise MatchInputError(f"{self.path}: line {number}: not a JSON object")
            if hasattr(self, "_json_header"):
                clash = [c for c in ANSWER_COLUMNS if c in row]
                if clash:
                    raise MatchInputError(f"{self.path}: line {number}: already has {', '.join(clash)}, which the "
                                          "answer adds; rename it first")
                extra = set(row) - self._json_header
                if extra:
                    raise MatchInputError(f"{self.path}: line {number}: has {', '.join(sorted(extra))}, which the "
                                          "first object has not; every object needs the same fields")
            return row
        return None

    def chunks(self, size: int) -> Iterator[list[dict[str, Any]]]:
        if self._parquet is not None:
            for batch in self._parquet.iter_batches(batch_size=size):
                yield batch.to_pylist()
                self.bytes_read = min(self.total_bytes, self.bytes_read + batch.nbytes)
            return
        chunk: list[dict[str, Any]] = []
        if self.fmt == "csv":
            width = len(self.header)
            for fields in self._csv:
                if not fields:
                    continue  # a blank line is no row
                if len(fields) != width:
                    line = self._csv.line_num
                    raise MatchInputError(f"{self.path}: line {line}: {len(fields)} fields where the header has {width}")
                chunk.append(dict(zip(self.header, fields, strict=True)))
                if len(chunk) == size:
                    yield chunk
                    chunk = []
        else:
            item: dict[str, Any] | None = self._first
            while item is not None:
                chunk.append(item)
                if len(chunk) == size:
                    yield chunk
                    chunk = []
                item = self._next_json()
        if chunk:
            yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._parquet is not None:
            self._parquet.close()


class _ListWriter:
    """Writes the answered rows, a chunk at a time, to a temporary file renamed into place at the
    end: a list half matched is never left where the whole one is expected."""

    def __init__(self, path: Path, fmt: ListFormat, header: list[str], schema: pa.Schema | None):
        self.path, self.fmt, self.header = path, fmt, header
        self.partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        self._parquet: pq.ParquetWriter | None = None
        self._schema = schema
        if fmt == "parquet":
            base = schema if schema is not None else pa.schema([(h, pa.string()) for h in header])
            self._schema = base
            for name, kind in zip(ANSWER_COLUMNS, _ANSWER_TYPES, strict=True):
                self._schema = self._schema.append(pa.field(name, kind))
        else:
            self._file = self.partial.open("w", newline="", encoding="utf-8")
            if fmt == "csv":
                self._csv = csv.writer(self._file)
                self._csv.writerow([*header, *ANSWER_COLUMNS])

    def write(self, rows: list[dict[str, Any]], answers: list[AddressMatch]) -> None:
        values = [_answer_values(a) for a in answers]
        if self.fmt == "csv":
            self._csv.writerows([*(row.get(h, "") for h in self.header), *("" if v is None else v for v in answer)]
                                for row, answer in zip(rows, values, strict=True))
        elif self.fmt == "jsonl":
            for row, answer in zip(rows, values, strict=True):
                out = dict(row)
                out.update(zip(ANSWER_COLUMNS, answer, strict=True))
                self._file.write(json.dumps(out, ensure_ascii=False, default=str) + "\n")
        else:
            assert self._schema is not None
            columns = [pa.array([_cell(row.get(h), kind) for row in rows], kind)
                       for h, kind in ((h, self._schema.field(h).type) for h in self.header)]
            columns += [pa.array(list(column), kind) for column, kind in
                        zip(zip(*values, strict=True), _ANSWER_TYPES, strict=True)]
            table = pa.Table.from_arrays(columns, schema=self._schema)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.partial, self._schema)
            self._parquet.write_table(table)

    def finish(self) -> None:
        if self.fmt == "parquet":
            if self._parquet is None:
                assert self._schema is not None
                pq.write_table(self._schema.empty_table(), self.partial)
            else:
                self._parquet.close()
        else:
            self._file.close()
        self.partial.replace(self.path)

    def abandon(self) -> None:
        if self.fmt == "parquet":
            if self._parquet is not None:
                self._parquet.close()
        else:
            self._file.close()
        self.partial.unlink(missing_ok=True)


def _cell(value: Any, kind: pa.DataType) -> Any:
    """A value for a Parquet column of ``kind``: a JSON list or object in a text column as JSON."""
    if kind == pa.string() and value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    return value


def _answer_values(answer: AddressMatch) -> tuple[Any, ...]:
    return (answer.uprn, answer.address, answer.match_probability, answer.runner_up_uprn, answer.runner_up_address,
            answer.runner_up_probability, answer.decided_by, answer.reason)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def match_list(index: Path, input_path: Path, out: Path, *, input_format: str | None = None,
               output_format: str | None = None, address_columns: list[str] | None = None,
               postcode_column: str | None = None, name_column: str | None = None,
               min_probability: float | None = None, min_margin: float | None = None,
               chunk_rows: int = CHUNK_ROWS, parsers: int = 2,
               progress: Callable[[int, int, int], None] | None = None) -> MatchSummary:
    """Match every row of ``input_path`` against ``index`` and write ``out``, parsing addresses in
    ``parsers`` processes (0: in this one); the build's rules unless ``min_probability`` or
    ``min_margin`` is given; ``progress`` is told (rows done, bytes read, bytes in all) after each
    chunk."""
    started = time.perf_counter()
    fmt_in = list_format(input_path, input_format)
    fmt_out = list_format(out, output_format or (None if out.suffix else fmt_in))
    reader = _ListReader(input_path, fmt_in)
    try:
        columns = guess_columns(reader.header, address_columns, postcode_column, name_column)
        clash = [c for c in ANSWER_COLUMNS if c in reader.header]
        if clash:
            raise MatchInputError(f"{input_path}: the input already has column(s) {', '.join(clash)}, which the "
                                  "answer adds; rename them first")
        matcher = IndexAddressMatcher(index)
        try:
            built = matcher.rules
            matcher.rules = MatchRules(built.min_probability if min_probability is None else min_probability,
                                       built.min_margin if min_margin is None else min_margin)
            writer = _ListWriter(out, fmt_out, reader.header, reader.schema)
            summary = MatchSummary(columns={"address": list(columns.address), "postcode": columns.postcode,
                                            "name": columns.name})
            try:
                _run(reader, writer, matcher, columns, chunk_rows, summary, progress, parsers)
                writer.finish()
            except BaseException:
                writer.abandon()
                raise
        finally:
            matcher.close()
    finally:
        reader.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _run(reader: _ListReader, writer: _ListWriter, matcher: IndexAddressMatcher, columns: ListColumns,
         chunk_rows: int, summary: MatchSummary, progress: Callable[[int, int, int], None] | None,
         parsers: int) -> None:
    # Parsing addresses is Python and the slowest part; scoring is DuckDB's. Parser processes read
    # ahead while this one scores and writes, so every core works. A small list is parsed here:
    # starting processes would cost more than it saves.
    if parsers < 1 or reader.total_bytes < PARALLEL_FROM_BYTES:
        for rows in reader.chunks(chunk_rows):
            distinct, positions = _distinct_inputs(rows, columns)
            _write_chunk(rows, positions, matcher.match_features(matcher.features(distinct)), writer, summary,
                         reader, progress)
        return
    streets, stopwords = matcher.parse_context()
    with ProcessPoolExecutor(max_workers=parsers, mp_context=get_context("spawn"), initializer=start_parser,
                             initargs=(streets, stopwords)) as pool:
        queue: deque[tuple[list[dict[str, Any]], list[int], Future[pa.Table]]] = deque()
        for rows in reader.chunks(chunk_rows):
            distinct, positions = _distinct_inputs(rows, columns)
            queue.append((rows, positions, pool.submit(parse_batch, distinct)))
            if len(queue) > parsers:
                _score_chunk(queue.popleft(), matcher, writer, summary, reader, progress)
        while queue:
            _score_chunk(queue.popleft(), matcher, writer, summary, reader, progress)


def _distinct_inputs(rows: list[dict[str, Any]], columns: ListColumns) -> tuple[list[AddressInput], list[int]]:
    """The distinct addresses of a chunk (lists repeat addresses: a business's many grants, a
    supplier's many invoices), and for each row the position of its address among them."""
    seen: dict[tuple[Any, ...], int] = {}
    distinct: list[AddressInput] = []
    positions: list[int] = []
    address, postcode, name = columns.address, columns.postcode, columns.name
    single = address[0] if len(address) == 1 else None
    for row in rows:
        lines = (_text(row.get(single)),) if single else tuple(_text(row.get(c)) for c in address)
        key = (lines, _text(row.get(postcode)) if postcode else None, _text(row.get(name)) if name else None)
        position = seen.get(key)
        if position is None:
            position = seen[key] = len(distinct)
            distinct.append(AddressInput(*key))
        positions.append(position)
    return distinct, positions


def _score_chunk(queued: tuple[list[dict[str, Any]], list[int], Future[pa.Table]], matcher: IndexAddressMatcher,
                 writer: _ListWriter, summary: MatchSummary, reader: _ListReader,
                 progress: Callable[[int, int, int], None] | None) -> None:
    rows, positions, parsed = queued
    _write_chunk(rows, positions, matcher.match_features(parsed.result()), writer, summary, reader, progress)


def _write_chunk(rows: list[dict[str, Any]], positions: list[int], distinct_answers: list[AddressMatch],
                 writer: _ListWriter, summary: MatchSummary, reader: _ListReader,
                 progress: Callable[[int, int, int], None] | None) -> None:
    answers = [distinct_answers[p] for p in positions]
    writer.write(rows, answers)
    summary.rows += len(rows)
    for answer in answers:
        if answer.uprn is not None:
            summary.matched += 1
        else:
            reason = answer.reason or "no answer"
            summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
    if progress is not None:
        progress(summary.rows, reader.bytes_read, reader.total_bytes)
