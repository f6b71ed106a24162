"""Comparable features of business records and gazetteer addresses, as DuckDB tables.

``record_features``: one row per business record: normalised postcode and its sector and district,
address parts (sub-premises, number, street, tokens), and business-name keys.
``address_features``: one row per usable LPI (approved, alternative, provisional) with the same
parts taken from the LPI's structured fields, the property's organisation name key and its kind
(commercial unit, parent shell, residential).

Both are written a batch of rows at a time (``CHUNK_ROWS``), parsed in the build's worker processes
when it has them, so that the stage's memory does not grow with the country's size.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa

from business_index.clean.addresses import (
    DEFAULT_STOPWORDS,
    AddressParts,
    address_tokens,
    describes_no_property,
    expand_street_words,
    parse_address,
    tidy,
)
from business_index.clean.names import (
    has_legal_form,
    looks_like_person,
    name_key,
    record_name_candidates,
    split_trading_as,
)
from business_index.clean.premises_uses import business_named_by, premises_use
from business_index.postcodes import (
    find_postcode,
    normalise_postcode,
    postcode_as_written,
    postcode_district,
    postcode_sector,
)
from business_index.records import LIVE_STATUSES_SQL
from business_index.sources.bs7666 import number_token

USABLE_LPI_STATUSES = (1, 3, 6)


def property_kind(classification: str | None) -> str:
    """What a property is, for matching: a business unit, a parent shell, a home, or other."""
    code = (classification or "").upper()
    if code.startswith("P"):
        return "parent"
    if code.startswith("R"):
        return "residential"
    if code.startswith(("C", "X")) or code.startswith("CI"):
        return "commercial"
    return "other"


def public_name(record_type: str, name: str | None, trading_name: str | None, published: bool = False) -> str | None:
    """The business name a record may show the public; never a private individual's name.

    A source that publishes its names (``published``: food hygiene, licence registers, the VOA list)
    makes its business name public as it stands, "W H Smith" and "K Superstore" included; a
    licence holder's own name is not its business name and stays personal. Otherwise a trading
    name, or the trading half of 'X t/a Y', is public unless it reads as a person's name; a
    ratepayer with no company legal form may be a private individual, so an NDR ratepayer name is
    public only when it is a company's.
    """
    if published:
        shown = trading_name if trading_name and trading_name.strip() else name
        return " ".join(shown.split()) if shown and shown.strip() else None
    if trading_name and trading_name.strip():
        _, trading = split_trading_as(trading_name)
        if trading and not looks_like_person(trading):
            return " ".join(trading.split())
    if not name or not name.strip():
        return None
    person, trading = split_trading_as(name)
    if not trading or looks_like_person(trading):
        return None
    if record_type == "ndr_account" and not person and not has_legal_form(trading):
        return None
    return " ".join(trading.split())


def build_address_features(con: duckdb.DuckDBPyConnection, stopwords: frozenset[str] = DEFAULT_STOPWORDS,
                           pool: Executor | None = None) -> frozenset[str]:
    """Write ``address_features``; returns the gazetteer's street names (normalised) for record
    parsing. With a ``pool`` (``feature_pool``), rows are parsed in its processes, in order."""
    query = f"""
        SELECT l.uprn, a.parent_uprn, l.lpi_key, l.logical_status, l.single_line_address, l.postcode,
               a.classification, a.organisation,
               -- the approved LPI's structured fields (the property's own row), when this LPI is one
               s.lpi_key IS NOT NULL AS structured, s.sao_text, s.sao_start_number, s.sao_start_suffix,
               s.sao_end_number, s.sao_end_suffix, s.pao_start_number, s.pao_start_suffix, s.pao_end_number,
               s.pao_end_suffix, s.street_description
        FROM address_aliases l JOIN addresses a USING (uprn)
        LEFT JOIN (SELECT DISTINCT ON (lpi_key) * FROM addresses WHERE lpi_key IS NOT NULL) s
             ON s.lpi_key = l.lpi_key
        WHERE l.logical_status IN {USABLE_LPI_STATUSES} AND a.logical_status IN {LIVE_STATUSES_SQL}
        ORDER BY l.uprn, l.lpi_key
    """
    empty = _ADDRESS_SCHEMA.empty_table()  # noqa: F841 - read by DuckDB by name
    con.execute("CREATE OR REPLACE TABLE address_features AS SELECT * FROM empty")
    streets: dict[str, None] = {}
    for named in _stream(con, query, "address_features", pool, _address_chunk, stopwords):
        streets.update(dict.fromkeys(named))
    return frozenset(streets)


def _address_chunk(batch: pa.RecordBatch, first_id: int, stopwords: frozenset[str]) -> tuple[pa.RecordBatch, list[str]]:
    """The features of some rows of the ``build_address_features`` query (``unique_id`` counting
    from ``first_id``), and the streets they name, in order."""
    columns: dict[str, list[Any]] = {k: [] for k in _ADDRESS_SCHEMA.names}
    columns["unique_id"] = list(range(first_id, first_id + batch.num_rows))
    streets: dict[str, None] = {}
    for (uprn, parent, lpi_key, status, line, postcode, classification, organisation, structured,
         *fields) in _rows(batch):
        if structured:  # the approved LPI: use its fields, not a re-parse of its text
            tokens = address_tokens(line, stopwords)
            sao_text, s1, s1x, s2, s2x, p1, p1x, p2, p2x, street_description = fields
            sub = " ".join(x for x in (tidy(sao_text) if sao_text else "", number_token(s1, s1x, s2, s2x)) if x)
            sub_parsed, floors = _sub_premises(sub) if sub else (None, ())
            number = number_token(p1, p1x, p2, p2x) or None
            street = _street(street_description) if street_description else None
            sub_premises, number_base = sub_parsed or (sub or None), (str(p1) if p1 is not None else None)
        else:
            parsed = parse_address([line], stopwords)
            sub_premises, number, number_base, street = parsed.sub_premises, parsed.number, parsed.number_base, parsed.street
            tokens, floors = parsed.tokens, parsed.floors
        if street:
            streets[street] = None
        columns["uprn"].append(uprn)
        columns["parent_uprn"].append(parent)
        columns["lpi_key"].append(lpi_key)
        columns["lpi_status"].append(status)
        columns["kind"].append(property_kind(classification))
        columns["postcode"].append(postcode)
        columns["sector"].append(postcode_sector(postcode))
        columns["district"].append(postcode_district(postcode))
        columns["sub_premises"].append(sub_premises)
        columns["number"].append(number)
        columns["number_base"].append(number_base)
        columns["street"].append(street)
        columns["tokens"].append(list(tokens))
        columns["org_key"].append(name_key(organisation))
        columns["floors"].append(list(floors))
    return pa.RecordBatch.from_pydict(columns, schema=_ADDRESS_SCHEMA), list(streets)


# a gazetteer's streets and flat labels ("FLAT 1", "UNIT 3") are each written on many of its rows
@lru_cache(maxsize=65536)
def _sub_premises(sub: str) -> tuple[str | None, tuple[str, ...]]:
    """The sub-premises label and floors of an approved LPI's secondary addressable object."""
    parts = parse_address([sub])
    return parts.sub_premises, parts.floors


@lru_cache(maxsize=65536)
def _street(street_description: str) -> str:
    """An LPI's street description in the form the matcher compares."""
    return expand_street_words(tidy(street_description))


def build_record_features(con: duckdb.DuckDBPyConnection, known_streets: frozenset[str],
                          stopwords: frozenset[str] = DEFAULT_STOPWORDS,
                          publishing_sources: frozenset[str] = frozenset(), pool: Executor | None = None) -> None:
    """Write ``record_features``; ``publishing_sources`` are the sources whose names are published.
    With a ``pool`` (``feature_pool``), records are parsed in its processes, in order."""
    query = """
        SELECT record_id, name, trading_name, holder_name, holder_is_individual, address_lines, address_text,
               postcode, record_type, description, source
        FROM business_records ORDER BY record_id"""
    empty = _RECORD_SCHEMA.empty_table()  # noqa: F841 - read by DuckDB by name
    con.execute("CREATE OR REPLACE TABLE record_features AS SELECT * FROM empty")
    for _ in _stream(con, query, "record_features", pool, _record_chunk, known_streets, stopwords,
                     publishing_sources):
        pass


def _record_chunk(batch: pa.RecordBatch, first_id: int, known_streets: frozenset[str], stopwords: frozenset[str],
                  publishing_sources: frozenset[str]) -> tuple[pa.RecordBatch, list[str]]:
    """The features of some rows of the ``build_record_features`` query, in order (``first_id``
    unused: a record's id is its own)."""
    columns: dict[str, list[Any]] = {k: [] for k in _RECORD_SCHEMA.names}
    for record_id, name, trading, holder, individual, lines, text, postcode, record_type, description, source \
            in _rows(batch):
        address_lines = list(lines) if lines else ([text] if text else [])
        pc = (normalise_postcode(postcode) or find_postcode(text) or find_postcode(" ".join(address_lines))
              or postcode_as_written(postcode))
        parts = parse_address(address_lines, stopwords, known_streets)
        names = record_name_candidates(name, trading, holder, bool(individual))
        primary = names.keys[0] if names.keys else None
        columns["unique_id"].append(record_id)
        _append_address(columns, pc, parts)
        shown = public_name(record_type, name, trading, source in publishing_sources)
        columns["public_name"].append(shown)
        columns["public_key"].append(name_key(shown))
        columns["name_keys"].append(list(names.keys))
        columns["company_keys"].append(list(names.company_keys))
        columns["primary_name"].append(primary)
        columns["name_sorted"].append(" ".join(sorted(primary.split())) if primary else None)
        columns["name_first2"].append(" ".join(primary.split()[:2]) if primary else None)
        columns["proprietor_key"].append(name_key(names.proprietor) if names.proprietor else None)
        columns["individual"].append(names.individual)
        columns["not_a_property"].append(describes_no_property(address_lines))
        columns["premises_use"].append(premises_use(description))
        # a business named by the premises' name before the number ("Flatbridge Cafe, 7 Hurricane Close")
        before = (parts.tokens[:parts.tokens.index(parts.number)]
                  if parts.number in parts.tokens and not parts.sub_premises else ())
        columns["premises_business_words"].append(list(business_named_by(before)))
    return pa.RecordBatch.from_pydict(columns, schema=_RECORD_SCHEMA), []


def feature_pool(workers: int) -> Executor | None:
    """Processes for parsing rows (``[build] workers``), or None to parse in this one. Spawned, not
    forked: the build's process holds DuckDB's threads. Shut it down after use."""
    if workers <= 1:
        return None
    # without the cyclic garbage collector, as in the build (``build.py``): the rows make no cycles
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=gc.disable)
    for _ in range(workers):  # start them now, so that they import this while the build reads its sources
        pool.submit(_ready)
    return pool


def _ready() -> None:
    """Nothing: a task whose unpickling imports this module in a new process."""


def _rows(batch: pa.RecordBatch) -> Iterator[tuple[Any, ...]]:
    """A batch's rows as tuples of Python values, as ``fetchall`` gives them."""
    return zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _stream(con: duckdb.DuckDBPyConnection, query: str, table: str, pool: Executor | None,
            work: Callable[..., tuple[pa.RecordBatch, list[str]]], *shared: Any) -> Iterator[list[str]]:
    """Fill ``table`` (created empty by the caller, which names it where its readers
    can see) from ``work(batch, first_id, *shared)`` over the rows of
    ``query`` in batches of ``CHUNK_ROWS``, in order, yielding each batch's second result.

    Batches are read, parsed and written one after another, with at most a few per process in
    flight, so that memory stays flat however many rows there are: no list of every row, in
    this process or sent to another. Arrow carries them both ways (a batch pickles as its
    buffers), so this process only moves batches while the pool's processes parse.
    """
    reader_con = con.cursor()  # its own connection: the rows stream from it while ``con`` writes
    try:
        workers = getattr(pool, "_max_workers", 1) if pool is not None else 1
        size = CHUNK_ROWS
        if pool is not None:  # a small council's few rows still shared by every process, a few batches each
            rows = reader_con.sql(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
            size = max(min(CHUNK_ROWS, -(-rows // (IN_FLIGHT_PER_WORKER * workers))), 1)
        reader = reader_con.sql(query).to_arrow_reader(size)
        in_flight: deque[Future[tuple[pa.RecordBatch, list[str]]]] = deque()
        limit = IN_FLIGHT_PER_WORKER * workers
        sent = _Shared(shared) if pool is not None else None
        first_id = 1
        for batch in reader:
            if batch.num_rows == 0:
                continue
            if pool is None:
                yield _write(con, table, work(batch, first_id, *shared))
            else:
                in_flight.append(pool.submit(_work_on, work, batch, first_id, sent))
                while len(in_flight) >= limit:
                    yield _write(con, table, in_flight.popleft().result())
            first_id += batch.num_rows
        while in_flight:
            yield _write(con, table, in_flight.popleft().result())
    finally:
        reader_con.close()


class _Shared:
    """Arguments every batch shares (the gazetteer's streets: a national gazetteer names a hundred
    thousand), pickled once here and unpickled once in each process, not once per batch."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        self.key = uuid.uuid4().hex
        self.payload = pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce__(self) -> tuple[Callable[[str, bytes], tuple[Any, ...]], tuple[str, bytes]]:
        return _shared_values, (self.key, self.payload)


_received: dict[str, tuple[Any, ...]] = {}  # in a pool's process: the shared arguments it has unpickled


def _shared_values(key: str, payload: bytes) -> tuple[Any, ...]:
    """The shared arguments pickled as ``key``, unpickled the first time this process sees them."""
    if key not in _received:
        _received.clear()  # one stage's arguments at a time
        _received[key] = pickle.loads(payload)
    return _received[key]


def _work_on(work: Callable[..., tuple[pa.RecordBatch, list[str]]], batch: pa.RecordBatch, first_id: int,
             shared: Any) -> tuple[pa.RecordBatch, list[str]]:
    """``work`` in a pool's process, the shared arguments unpacked (sent as a ``_Shared``, they
    arrive as its values)."""
    return work(batch, first_id, *shared)


def _write(con: duckdb.DuckDBPyConnection, table: str, result: tuple[pa.RecordBatch, list[str]]) -> list[str]:
    """Append a parsed batch to ``table``; returns what else its work said."""
    parsed, other = result
    con.execute(f"INSERT INTO {table} SELECT * FROM parsed")
    return other


PARALLEL_FROM = 5000  # rows: for fewer, the build starts no pool; they are parsed sooner here
# rows read, parsed and written at a time: enough that a batch's sending costs little beside its
# parsing (about half a second), few enough that the batches in flight take little memory
CHUNK_ROWS = 10_000
IN_FLIGHT_PER_WORKER = 2  # one being parsed, one waiting: a process never waits for its next batch


def _append_address(columns: dict[str, list[Any]], postcode: str | None, parts: AddressParts) -> None:
    """A record's or an input's postcode and address parts, in the columns the matcher compares."""
    columns["postcode"].append(postcode)
    columns["sector"].append(postcode_sector(postcode))
    columns["district"].append(postcode_district(postcode))
    columns["sub_premises"].append(parts.sub_premises)
    columns["number"].append(parts.number)
    columns["number_base"].append(parts.number_base)
    columns["street"].append(parts.street)
    columns["tokens"].append(list(parts.tokens))
    columns["floors"].append(list(parts.floors))


def input_features(inputs: Iterable[tuple[int, Sequence[str | None], str | None, str | None]],
                   known_streets: frozenset[str], stopwords: frozenset[str] = DEFAULT_STOPWORDS) -> pa.Table:
    """The comparable form (the matcher's ``INPUT_COLUMNS`` and ``not_a_property``) of a list of
    addresses to match: (id, address lines, postcode or None, business name or None) each, parsed
    as business records' addresses are."""
    columns: dict[str, list[Any]] = {k: [] for k in _INPUT_SCHEMA.names}
    for input_id, lines, postcode, name in inputs:
        address_lines = [line for line in lines if line and line.strip()]
        pc = normalise_postcode(postcode) or find_postcode(" ".join(address_lines)) or postcode_as_written(postcode)
        parts = parse_address(address_lines, stopwords, known_streets)
        keys = record_name_candidates(name, None, None, False).keys if name else ()
        columns["unique_id"].append(input_id)
        _append_address(columns, pc, parts)
        columns["name_keys"].append(list(keys))
        columns["primary_name"].append(keys[0] if keys else None)
        columns["not_a_property"].append(describes_no_property(address_lines))
    return pa.table(columns, schema=_INPUT_SCHEMA)


_TEXT = pa.string()
_ADDRESS_SCHEMA = pa.schema([
    ("unique_id", pa.int64()), ("uprn", pa.int64()), ("parent_uprn", pa.int64()), ("lpi_key", _TEXT),
    ("lpi_status", pa.int32()), ("kind", _TEXT), ("postcode", _TEXT), ("sector", _TEXT), ("district", _TEXT),
    ("sub_premises", _TEXT), ("number", _TEXT), ("number_base", _TEXT), ("street", _TEXT),
    ("tokens", pa.list_(_TEXT)), ("org_key", _TEXT), ("floors", pa.list_(_TEXT)),
])
_INPUT_SCHEMA = pa.schema([
    ("unique_id", pa.int64()), ("postcode", _TEXT), ("sector", _TEXT), ("district", _TEXT), ("sub_premises", _TEXT),
    ("number", _TEXT), ("number_base", _TEXT), ("street", _TEXT), ("tokens", pa.list_(_TEXT)), ("floors", pa.list_(_TEXT)),
    ("name_keys", pa.list_(_TEXT)), ("primary_name", _TEXT), ("not_a_property", pa.bool_()),
])
_RECORD_SCHEMA = pa.schema([
    ("unique_id", pa.int64()), ("postcode", _TEXT), ("sector", _TEXT), ("district", _TEXT), ("sub_premises", _TEXT),
    ("number", _TEXT), ("number_base", _TEXT), ("street", _TEXT), ("tokens", pa.list_(_TEXT)), ("floors", pa.list_(_TEXT)),
    ("public_name", _TEXT), ("public_key", _TEXT), ("name_keys", pa.list_(_TEXT)), ("company_keys", pa.list_(_TEXT)), ("primary_name", _TEXT), ("name_sorted", _TEXT), ("name_first2", _TEXT),
    ("proprietor_key", _TEXT), ("individual", pa.bool_()), ("not_a_property", pa.bool_()), ("premises_use", _TEXT),
    ("premises_business_words", pa.list_(_TEXT)),
])
