"""``bx build``: run the stages over the sources of a ``sources.toml`` and publish a DuckDB index.

The orchestration sits above the stages (like the CLI) so that each stage stays ignorant of the
ones after it. Stages so far: ingest (every source, nothing lost) -> store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from business_index.config import Settings
from business_index.duckdb_utils import scalar
from business_index.sources import ReadResult, read_source
from business_index.store.index_writer import IndexWriter


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
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class BuildReport:
    index: Path
    build_id: str
    sources: list[SourceSummary]
    seconds: dict[str, float]
    counts: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index),
            "build_id": self.build_id,
            "sources": {s.name: {"kind": s.kind, "format": s.format, "read": s.read, "loaded": s.loaded,
                                 "quarantined": s.quarantined, "files": s.files, "warnings": s.warnings,
                                 "quarantine_reasons": s.quarantine_reasons} for s in self.sources},
            "counts": self.counts,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


Progress = Callable[[str, int, int], None]


def _reason_counts(result: ReadResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in result.quarantine:
        # group "row has 7 fields; the header has 21" style reasons by their shape
        key = f"{row.field}: {row.reason}" if row.field else row.reason
        key = " ".join("N" if token.strip("',;:()").isdigit() else token for token in key.split(" "))
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def build_index(settings: Settings, index: Path, progress: Progress | None = None) -> BuildReport:
    """Ingest every source and publish the index atomically; raises on a file that cannot be read."""
    tell = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    writer = IndexWriter.create(index)
    try:
        started = time.perf_counter()
        results: list[ReadResult] = []
        for i, source in enumerate(settings.sources):
            tell(f"reading {source.name}", i, len(settings.sources))
            results.append(read_source(settings, source))
        timings["ingest"] = time.perf_counter() - started
        tell("writing the index", len(settings.sources), len(settings.sources))
        started = time.perf_counter()
        summaries = _store(writer, settings, results)
        timings["store"] = time.perf_counter() - started
        counts = {table: scalar(writer.connection, f"SELECT count(*) FROM {table}")
                  for table in ("addresses", "address_aliases", "cross_references", "business_records", "quarantine")}
        writer.write_build_info({"council": settings.council.name, "config": settings.base_dir,
                                 **{f"count.{k}": v for k, v in counts.items()}})
        published = writer.publish()
    except BaseException:
        writer.abandon()
        raise
    return BuildReport(published, writer.build_id, summaries, timings, counts)


def _store(writer: IndexWriter, settings: Settings, results: list[ReadResult]) -> list[SourceSummary]:
    next_record_id = 1
    summaries: list[SourceSummary] = []
    for source, result in zip(settings.sources, results, strict=True):
        writer.write_addresses(result.addresses)
        writer.write_aliases(result.aliases)
        writer.write_cross_references(result.cross_references)
        writer.write_other_rows(result.other_rows)
        next_record_id = writer.write_business_records(result.business_records, next_record_id)
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
