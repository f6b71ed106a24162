"""Readers: one per format a council really holds, each turning its files into canonical records.

Formats live here and nowhere else. ``read_source`` dispatches on the ``format`` named in
``sources.toml``; every reader accounts for every row it reads: loaded, or quarantined with the
file, line, field and reason.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

from business_index.config import Settings, SourceConfig
from business_index.records import SourceKind, business_record_table
from business_index.sources.base import FileStats, ReadResult, RowSink, SourceFileError, check_readable
from business_index.sources.gazetteer import POOL_MIN_BYTES, read_gazetteer
from business_index.sources.licensing import read_fhrs_csv, read_fhrs_xml, read_licensing
from business_index.sources.plain_gazetteers import read_abplus, read_uprn_addresses
from business_index.sources.rates import read_ndr, read_voa

Reader = Callable[[SourceConfig, list[Path]], ReadResult]

READERS: dict[str, Reader] = {
    "dtf73": read_gazetteer,
    "abp": read_gazetteer,
    "abplus": read_abplus,
    "uprn_addresses": read_uprn_addresses,
    "ndr_csv": read_ndr,
    "voa_list_entries": read_voa,
    "licensing_csv": read_licensing,
    "lga_premises_licences": read_licensing,
    "fhrs_xml": read_fhrs_xml,
    "fhrs_csv": read_fhrs_csv,
}
# (source, paths, sink, the most processes it may read with: ``[build] workers``)
StreamingReader = Callable[[SourceConfig, list[Path], RowSink, int], ReadResult]
# readers that can give their rows out in batches, so that a supply too large to hold is never held
STREAMING_READERS: dict[str, StreamingReader] = {
    "dtf73": lambda source, paths, sink, workers: read_gazetteer(source, paths, sink, workers=workers),
    "abp": lambda source, paths, sink, workers: read_gazetteer(source, paths, sink, workers=workers),
}


def read_source(settings: Settings, source: SourceConfig, sink: RowSink | None = None) -> ReadResult:
    """Read every file of one source; raises ``SourceFileError`` for a file that cannot be read at
    all, and for a file with no row in it unless the source ``allow_empty``. Given a ``sink``, a
    streaming reader (the LLPG's) puts its addresses, aliases, cross references and other rows
    there as it goes, and the result keeps only the counts, warnings and quarantined rows."""
    paths = [settings.resolve(path) for path in source.paths]
    for path in paths:
        if not path.exists():
            raise SourceFileError(path, f"file not found (source {source.name!r})")
        check_readable(path)
    if source.kind == SourceKind.REGISTER:
        # read while linking, filtered to the businesses the records name (sources/companies_house.py)
        return ReadResult(source.name)
    empty = [p for p in paths if p.stat().st_size == 0]
    if empty and not source.allow_empty:
        raise SourceFileError(empty[0], _no_rows(source))
    readable = [p for p in paths if p not in empty]
    if not readable:
        result = ReadResult(source.name)
    elif sink is not None and source.format in STREAMING_READERS:
        result = STREAMING_READERS[source.format](source, readable, sink, settings.build.workers)
    else:
        result = READERS[source.format](source, readable)
    result.files.extend(FileStats(str(p)) for p in empty)  # read, with nothing in them
    if not source.allow_empty:
        for stats in result.files:
            if stats.read == 0:
                raise SourceFileError(Path(stats.path), _no_rows(source))
    return result


# the files of the business records' sources beyond which a build reads them in a process of their
# own while it streams the LLPG: the LLPG pool's trade, a process's start against the parsing it takes
APART_MIN_BYTES = POOL_MIN_BYTES
# the kinds of source whose records are read apart: records, handed back as one table (addresses of
# a gazetteer read whole would come back as objects; a register is read later, while linking)
_APART_KINDS = (SourceKind.RATES, SourceKind.LICENSING, SourceKind.OTHER)


def read_sources(settings: Settings, sink: RowSink,
                 starting: Callable[[SourceConfig], None] | None = None) -> list[ReadResult]:
    """Every source's result, in the order of ``settings.sources`` (``starting`` told of each as
    its turn comes). A streaming reader's rows go into ``sink`` as they come; the other sources'
    rows wait in their results. With ``[build] workers`` above 1, a streamed source (the LLPG, whose
    own processes leave this one mostly waiting) and ``APART_MIN_BYTES`` of business records'
    files, those sources are read in one spawned process, one after another, while this process
    reads the others; their records come back as a table. What is read is the same either way."""
    apart = [i for i, source in enumerate(settings.sources)
             if source.kind in _APART_KINDS and source.format not in STREAMING_READERS]
    streamed = any(source.format in STREAMING_READERS for source in settings.sources)
    apart_bytes = sum(path.stat().st_size for i in apart for path in map(settings.resolve, settings.sources[i].paths)
                      if path.is_file())
    if settings.build.workers <= 1 or not streamed or apart_bytes < APART_MIN_BYTES:
        apart = []
    results: list[ReadResult] = []
    pool = multiprocessing.get_context("spawn").Pool(1) if apart else None
    try:
        pending = {} if pool is None else {
            i: pool.apply_async(read_source_apart, (settings, settings.sources[i])) for i in apart}
        for i, source in enumerate(settings.sources):
            if starting is not None:
                starting(source)
            results.append(pending[i].get() if i in pending else read_source(settings, source, sink))
            if pool is not None and i == apart[-1]:  # the last read apart: the process and its memory go now
                pool.close()
                pool.join()
    finally:
        if pool is not None:  # after a failed read: stops the reads still going, not waited for
            pool.terminate()
    return results


def read_source_apart(settings: Settings, source: SourceConfig) -> ReadResult:
    """``read_source`` in another process: the records come back as one table (a few buffers to
    pickle, not a million objects)."""
    result = read_source(settings, source)
    result.business_record_table = business_record_table(result.business_records)
    result.business_records = []
    return result


def _no_rows(source: SourceConfig) -> str:
    return (f"has no rows (source {source.name!r}): an empty or header-only export is taken for a failed "
            "extract; set allow_empty = true for this source if it may be empty")


__all__ = ["READERS", "STREAMING_READERS", "ReadResult", "RowSink", "SourceFileError", "read_source", "read_sources"]
