"""``bx build``: run the stages over the sources of a ``sources.toml`` and publish a DuckDB index.

The orchestration sits above the stages (like the CLI) so that each stage stays ignorant of the
ones after it: ingest (every source, nothing lost) -> clean and link (records to UPRNs, records to
businesses) -> derive (one name per property) -> store (publish atomically).
"""

from __future__ import annotations

import gc
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from business_index.clean.names import name_key
from business_index.config import Settings, SourceConfig
from business_index.derive.establishments import APPROVED_NAME_SEARCH_STEPS, SUMMARY_STEPS
from business_index.derive.name_index import NAME_INDEX_STEPS
from business_index.derive.property_names import derive_property_names
from business_index.duckdb_utils import scalar
from business_index.link.address_matching import MatchRules
from business_index.link.businesses import (
    MODEL_FILE,
    NameEngine,
    PreviousIds,
    model_problem,
    resolve_businesses,
)
from business_index.link.companies import attach_companies, read_registers
from business_index.link.engines import engine_problem, name_engine_for
from business_index.link.features import (
    PARALLEL_FROM,
    build_address_features,
    build_record_features,
    feature_pool,
)
from business_index.link.properties import match_records_to_uprns
from business_index.records import AddressAlias, AddressRecord, CrossReference, Lineage, SourceKind
from business_index.sources import ReadResult, read_sources
from business_index.sql_steps import run_steps
from business_index.store.index_schema import PUBLISHED_NAMES
from business_index.store.index_writer import IndexWriter
from business_index.store.submissions import ApprovedName


@dataclass
class SourceSummary:
    name: str
    kind: str
    format: str
    read: int
    loaded: int
    quarantined: int
    files: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, dict[str, object]] = field(default_factory=dict)


@dataclass
class BuildReport:
    index: Path
    build_id: str
    sources: list[SourceSummary]
    seconds: dict[str, float]
    counts: dict[str, int]
    linking: dict = field(default_factory=dict)
    guards: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index),
            "build_id": self.build_id,
            "guards": self.guards,
            "notes": self.notes,
            "sources": {s.name: {"kind": s.kind, "format": s.format, "read": s.read, "loaded": s.loaded,
                                 "quarantined": s.quarantined, "files": s.files, "warnings": s.warnings,
                                 "quarantine_reasons": s.quarantine_reasons} for s in self.sources},
            "counts": self.counts,
            "linking": self.linking,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


Progress = Callable[[str, int, int], None]


NO_GAZETTEER = ("No gazetteer source, so no properties: no UPRNs, postcode lookups or derived names per "
                "property. Establishments, organisations, their search and screening work from the "
                "addresses as written; add an LLPG (dtf73 or abp source) for the property side.")


class BuildRefused(Exception):
    """A build that would do harm if it went ahead: checked before any work, or before publishing."""


def preflight(settings: Settings, index: Path) -> None:
    """Everything that can be known wrong before any work starts, each a one-line error naming the
    setting: the index path, the source paths, the business model."""
    if index.is_dir():
        raise BuildRefused(f"--index {index}: is a folder; give the path of the index file to write")
    folder = index.resolve().parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not _can_write_in(existing):
        raise BuildRefused(f"--index {index}: cannot write in {existing or folder}")
    target = index.resolve()
    seen: dict[Path, str] = {}
    for source in settings.sources:
        for path in source.paths:
            resolved = settings.resolve(path).resolve()
            if resolved == target:
                raise BuildRefused(f"--index {index}: is a file of source {source.name!r}; the build would "
                                   "overwrite its own input")
            if resolved in seen:
                raise BuildRefused(f"{resolved}: listed twice (sources {seen[resolved]!r} and {source.name!r}); "
                                   "every row would be read twice")
            seen[resolved] = source.name
    model = _business_model_path(settings)
    problem = model_problem(model)
    if problem:
        raise BuildRefused(f"[link] business_model {model}: {problem}")
    problem = engine_problem(settings.link)
    if problem:
        raise BuildRefused(f"[link] engine {settings.link.engine}: {problem}")


def _can_write_in(folder: Path) -> bool:
    """Whether a file can be made in ``folder``: tried, since permissions say yes to root even where
    the filesystem says no (/proc, a read-only mount)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".bx-write-test-"):
            return True
    except OSError:
        return False


def address_rules(settings: Settings) -> MatchRules:
    """When the address matcher may place an address, from ``[link]``."""
    return MatchRules(settings.link.address_match_threshold, settings.link.address_match_margin)


def _business_model_path(settings: Settings) -> Path:
    link = settings.link
    return settings.resolve(link.business_model) if link.business_model else MODEL_FILE


def _shrinkage(index: Path, counts: dict[str, int], limit: float) -> list[str]:
    """What fell below ``limit`` of the published index: addresses, and records of each source."""
    if not index.exists():
        return []
    try:
        with duckdb.connect(str(index), read_only=True) as old:
            before = {f"records of {s}": n for s, n in old.execute(
                "SELECT source, sum(loaded) FROM source_files GROUP BY 1").fetchall()}
            before["addresses"] = scalar(old, "SELECT count(*) FROM addresses")
    except duckdb.Error:
        return []  # not an index we can read: nothing to compare with
    return [f"{what}: {counts.get(what, 0):,} (the published index has {n:,})"
            for what, n in sorted(before.items()) if n and counts.get(what, 0) < limit * n]


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def reason_code(field_name: str | None, reason: str) -> str:
    """A quarantine reason with its particulars taken out, so that rows quarantined for one reason
    group together: "UPRN: '12x' is not a UPRN (1 to 12 digits)" and the same for '9.5' are one
    code, "UPRN: … is not a UPRN (1 to 12 digits)" (quoted values become …, other bare numbers N;
    brackets and the rule's own wording stay)."""
    text = _QUOTED.sub("…", reason)
    if "(" in text:  # a rule's own numbers sit in its bracketed wording: keep them
        head, _, tail = text.partition("(")
        text = _NUMBER.sub("N", head) + "(" + tail
    else:
        text = _NUMBER.sub("N", text)
    return f"{field_name}: {text}" if field_name else text


def _reason_counts(result: ReadResult) -> dict[str, dict[str, object]]:
    """Quarantine reasons by code, most frequent first, each with its count and one real example."""
    grouped: dict[str, dict[str, object]] = {}
    for row in result.quarantine:
        code = reason_code(row.field, row.reason)
        entry = grouped.setdefault(code, {"count": 0, "example": {
            "file": row.lineage.file, "line": row.lineage.line, "field": row.field, "reason": row.reason}})
        entry["count"] = int(entry["count"]) + 1  # type: ignore[call-overload]
    return dict(sorted(grouped.items(), key=lambda kv: -int(kv[1]["count"])))  # type: ignore[call-overload]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused, then restored. A build makes millions of
    long-lived objects (rows read, parts parsed) and next to no reference cycles, and the collector
    would walk them all again every few thousand allocations: a fifth of the time of reading and
    parsing at 100,000 properties, and more the more there are. Memory is still freed as objects go
    (by reference counting)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_index(settings: Settings, index: Path, progress: Progress | None = None,
                approved_names: Sequence[ApprovedName] = (), allow_shrink: bool = False,
                name_engine: NameEngine | None = None) -> BuildReport:
    """Ingest every source and publish the index atomically; raises ``SourceFileError`` on a file
    that cannot be read and ``BuildRefused`` on a setting that would do harm or a build that shrank
    against the published index (unless ``allow_shrink``). ``approved_names`` (from the
    submissions store) take part in choosing each property's name. ``name_engine`` overrides
    ``[link] engine`` (e.g. a Spark engine whose session outlives the build)."""
    with cyclic_gc_paused():
        return _build_index(settings, index, progress, approved_names, allow_shrink, name_engine)


def _build_index(settings: Settings, index: Path, progress: Progress | None,
                 approved_names: Sequence[ApprovedName], allow_shrink: bool,
                 name_engine: NameEngine | None) -> BuildReport:
    report_progress = progress or (lambda stage, done, total: None)
    # the build's steps, in order: one per source read, then the stages after ingest
    steps = [f"reading {s.name}" for s in settings.sources] + list(LATER_STEPS)

    def tell(step: str, detail: str = "") -> None:
        report_progress(f"{step}{detail}", steps.index(step), len(steps))

    timings: dict[str, float] = {}
    preflight(settings, index)
    writer = IndexWriter.create(index, settings.build.duckdb_memory_limit())
    pool: Executor | None = None
    try:
        started = time.perf_counter()
        results = _read_sources(writer, settings, tell)
        timings["ingest"] = time.perf_counter() - started
        # started now, so that its processes are ready when the features are parsed; only for
        # enough rows to be worth sending to another process
        if sum(r.loaded for r in results) >= PARALLEL_FROM:
            pool = feature_pool(settings.build.workers)
        tell("writing the index", f" ({sum(r.loaded for r in results):,} rows)")
        started = time.perf_counter()
        summaries = _store(writer, settings, results)
        results.clear()  # every row is in the index now: the rows read go before the linking's peak
        writer.name_files_as_written({str(settings.resolve(p)): str(p) for s in settings.sources for p in s.paths})
        timings["store"] = time.perf_counter() - started
        if not allow_shrink:
            shrunk = _shrinkage(index, {"addresses": scalar(writer.connection, "SELECT count(*) FROM addresses"),
                                        **{f"records of {s.name}": s.loaded for s in summaries}},
                                settings.build.shrink_limit)
            if shrunk:
                raise BuildRefused("this build shrank against the published index, so it was not published: "
                                   + "; ".join(shrunk) + ". If that is meant, build again with --allow-shrink")
        started = time.perf_counter()
        link_report = _link(writer.connection, settings, index, timings, tell, pool, name_engine)
        tell("deriving names and summaries")
        started = time.perf_counter()
        writer.write_rows("approved_names", [
            {"uprn": a.uprn, "business_name": a.business_name, "submission_id": a.submission_id,
             "decided_at": a.decided_at, "name_key": name_key(a.business_name)} for a in approved_names])
        step_seconds = run_steps(writer.connection, SUMMARY_STEPS)
        derive_property_names(writer.connection, settings.derive.name_precedence)
        step_seconds.update(run_steps(writer.connection, APPROVED_NAME_SEARCH_STEPS))
        step_seconds.update(run_steps(writer.connection, NAME_INDEX_STEPS))
        timings.update({f"derive.{step}": seconds for step, seconds in step_seconds.items()})
        # only the declared tables are published (store/index_schema.py): the stages' working
        # tables and Splink's go
        for (table,) in writer.connection.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            if table not in PUBLISHED_NAMES:
                writer.connection.execute(f'DROP TABLE IF EXISTS "{table}"')
        timings["derive"] = time.perf_counter() - started
        started = time.perf_counter()
        writer.index_lookups()
        timings["index_lookups"] = time.perf_counter() - started
        counts = {table: scalar(writer.connection, f"SELECT count(*) FROM {table}")
                  for table in ("approved_names", "addresses", "address_aliases", "cross_references", "business_records", "quarantine",
                                "record_links", "unmatched_records", "establishments", "organisations",
                                "property_names")}
        writer.write_build_info({"council": settings.council.name, "config": settings.base_dir,
                                 "derive.name_precedence": json.dumps([str(k) for k in settings.derive.name_precedence]),
                                 **{f"count.{k}": v for k, v in counts.items()}})
        tell("publishing")
        published = writer.publish()
    except BaseException:
        writer.abandon()
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    guards = {
        "empty_files": "refused; sources allowed to be empty: "
                       + (", ".join(s.name for s in settings.sources if s.allow_empty) or "none")
                       + " (set allow_empty = true on a source)",
        "shrink_limit": settings.build.shrink_limit,
        "shrink_check": "skipped (--allow-shrink)" if allow_shrink else
                        "addresses and every source's records at least shrink_limit of the published index's",
    }
    notes = []
    if counts["addresses"] == 0:
        notes.append(NO_GAZETTEER)
    return BuildReport(published, writer.build_id, summaries, timings, counts, link_report, guards, notes)


TRAINING_STEPS = ("reading the sources", "comparable forms", "records to properties (UPRNs)",
                  "estimating the business model", "estimating the address model")


def train_business_model_from(settings: Settings, out: Path, address_out: Path | None = None,
                              progress: Progress | None = None) -> dict[str, int]:
    """Ingest and link ``settings``'s sources in a scratch database, then train the business model
    (and, given ``address_out``, the fallback address model)."""
    import tempfile

    from business_index.link.businesses import train_business_model
    from business_index.link.properties import train_address_model

    report_progress = progress or (lambda stage, done, total: None)

    def tell(step: str) -> None:
        report_progress(step, TRAINING_STEPS.index(step), len(TRAINING_STEPS))

    with tempfile.TemporaryDirectory() as scratch:
        writer = IndexWriter.create(Path(scratch) / "training.duckdb", settings.build.duckdb_memory_limit())
        try:
            tell("reading the sources")
            _store(writer, settings, _read_sources(writer, settings))
            con = writer.connection
            stopwords = frozenset(word.upper() for word in settings.link.address_stopwords)
            tell("comparable forms")
            streets = build_address_features(con, stopwords)
            build_record_features(con, streets, stopwords, _publishing_sources(settings))
            tell("records to properties (UPRNs)")
            match_records_to_uprns(con, _ndr_codes(con, settings), address_rules(settings), stopwords)
            tell("estimating the business model")
            train_business_model(con, out)
            if address_out is not None:
                tell("estimating the address model")
                train_address_model(con, address_out)
            records = scalar(con, "SELECT count(*) FROM business_records")
        finally:
            writer.abandon()
    return {"records": records}


def _publishing_sources(settings: Settings) -> frozenset[str]:
    return frozenset(s.name for s in settings.sources if s.publishes_names)


def _ndr_codes(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """The cross-reference SOURCE codes present in the data that any gazetteer source calls NDR."""
    gazetteers = [s for s in settings.sources if s.kind == SourceKind.GAZETTEER]
    present = [row[0] for row in con.execute("SELECT DISTINCT source_code FROM cross_references").fetchall()]
    return sorted(code for code in present if any(g.is_ndr_xref_source(code) for g in gazetteers))


def _previous_ids(index: Path) -> PreviousIds:
    """The record -> establishment and organisation ids of the index being replaced, so ids survive
    the rebuild."""
    if not index.exists():
        return PreviousIds()
    try:
        with duckdb.connect(str(index), read_only=True) as old:
            rows = old.execute("SELECT record_key, establishment_id, organisation_id FROM record_establishments").fetchall()
    except duckdb.Error:
        return PreviousIds()  # an index from before establishments, or not an index: start afresh
    return PreviousIds(establishments=[(k, e) for k, e, _ in rows if e is not None],
                       organisations=[(k, o) for k, _, o in rows if o is not None])


LATER_STEPS = ("writing the index", "comparable forms of records and addresses", "records to properties (UPRNs)",
               "establishments and organisations", "deriving names and summaries", "publishing")


def _link(con: duckdb.DuckDBPyConnection, settings: Settings, index: Path, timings: dict[str, float],
          tell: Callable[[str, str], None], pool: Executor | None = None,
          name_engine: NameEngine | None = None) -> dict:
    link = settings.link
    stopwords = frozenset(word.upper() for word in link.address_stopwords)
    started = time.perf_counter()
    records = scalar(con, "SELECT count(*) FROM business_records")
    tell("comparable forms of records and addresses", f" ({records:,} records)")
    streets = build_address_features(con, stopwords, pool)
    build_record_features(con, streets, stopwords, _publishing_sources(settings), pool)
    if pool is not None:
        pool.shutdown()  # its work is done: its memory back before linking
    timings["features"] = time.perf_counter() - started
    started = time.perf_counter()
    registers = _read_registers(con, settings)
    timings["registers"] = time.perf_counter() - started
    started = time.perf_counter()
    tell("records to properties (UPRNs)", "")
    properties = match_records_to_uprns(con, _ndr_codes(con, settings), address_rules(settings), stopwords)
    timings["link_properties"] = time.perf_counter() - started
    started = time.perf_counter()
    tell("establishments and organisations", "")
    model = _business_model_path(settings)
    with name_engine_for(link, name_engine) as engine:
        businesses = resolve_businesses(con, link.business_match_threshold, model, _previous_ids(index),
                                        link.max_block_size, name_engine=engine)
    attach_companies(con)
    timings["link_businesses"] = time.perf_counter() - started
    return {"properties": asdict(properties), "businesses": asdict(businesses), "registers": registers}


def _read_registers(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, object]:
    """Companies House files, read now that the records' names and postcodes are known (only the
    companies they could mean are kept); each file's counts go to ``source_files`` and its rows
    that could not be read to ``quarantine``."""
    registers = [(s.name, [(settings.resolve(p), str(p)) for p in s.paths]) for s in settings.sources
                 if s.kind == SourceKind.REGISTER]
    stats = read_registers(con, registers)
    source_of = {str(p): s.name for s in settings.sources for p in s.paths}
    for file in stats:
        source, written = source_of[file.path], file.path
        con.execute("DELETE FROM source_files WHERE source = ? AND file = ?", [source, written])
        con.execute("INSERT INTO source_files VALUES (?, ?, 'utf-8', ?, ?, ?, [])",
                    [source, written, file.read, file.read - len(file.rejected), len(file.rejected)])
        for line, column, reason in file.rejected:
            con.execute("INSERT INTO quarantine (source, file, line, field, reason, raw) VALUES (?, ?, ?, ?, ?, '')",
                        [source, written, line, column, reason])
    return {"files": len(stats), "read": sum(s.read for s in stats), "kept": sum(s.kept for s in stats)}


class _IndexRows:
    """Where a streaming reader's batches go in a build: straight into the index being written, so
    that no source's rows (an LLPG's millions of addresses) are held whole."""

    def __init__(self, writer: IndexWriter):
        self.writer = writer

    def put_addresses(self, rows: Sequence[AddressRecord]) -> None:
        self.writer.write_addresses(rows)

    def put_aliases(self, rows: Sequence[AddressAlias]) -> None:
        self.writer.write_aliases(rows)

    def put_address_columns(self, columns: dict[str, list[Any]]) -> None:
        self.writer.write_address_columns(columns)

    def put_alias_columns(self, columns: dict[str, list[Any]]) -> None:
        self.writer.write_alias_columns(columns)

    def put_cross_references(self, rows: Sequence[CrossReference]) -> None:
        self.writer.write_cross_references(rows)

    def put_other_rows(self, rows: Sequence[tuple[Lineage, int, list[str]]]) -> None:
        self.writer.write_other_rows(rows)


def _read_sources(writer: IndexWriter, settings: Settings,
                  tell: Callable[[str, str], None] | None = None) -> list[ReadResult]:
    """Read every source in order; a streaming reader's rows go into the index as they come, the
    other readers' wait in their results for ``_store``."""
    def starting(source: SourceConfig) -> None:
        if tell is not None:
            tell(f"reading {source.name}", f" ({len(source.paths)} file{'s' if len(source.paths) > 1 else ''})")

    return read_sources(settings, _IndexRows(writer), starting)


def _store(writer: IndexWriter, settings: Settings, results: list[ReadResult]) -> list[SourceSummary]:
    next_record_id = 1
    summaries: list[SourceSummary] = []
    for source, result in zip(settings.sources, results, strict=True):
        writer.write_addresses(result.addresses)
        writer.write_aliases(result.aliases)
        writer.write_cross_references(result.cross_references)
        writer.write_other_rows(result.other_rows)
        next_record_id = writer.write_business_records(
            result.business_records if result.business_record_table is None else result.business_record_table,
            next_record_id)
        writer.write_quarantine(result.quarantine)
        writer.write_rows("source_files", [
            {"source": source.name, "file": f.path, "encoding": f.encoding, "read": f.read, "loaded": f.loaded,
             "quarantined": f.quarantined, "warnings": f.warnings} for f in result.files])
        writer.write_rows("sources", [{
            "name": source.name, "kind": str(source.kind), "format": source.format,
            "description": source.description, "owner": source.owner, "lawful_basis": source.lawful_basis,
            "refreshed": source.refreshed, "retention": source.retention,
            "paths": [str(settings.resolve(p)) for p in source.paths]}])
        summaries.append(SourceSummary(
            name=source.name, kind=str(source.kind), format=source.format,
            read=result.read, loaded=result.loaded, quarantined=result.quarantined,
            files=[{"file": f.path, "read": f.read, "loaded": f.loaded, "quarantined": f.quarantined,
                    "encoding": f.encoding} for f in result.files],
            warnings=result.warnings, quarantine_reasons=_reason_counts(result)))
    return summaries
