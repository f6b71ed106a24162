"""Parsing an LLPG's files in worker processes, handed back in file order.

Parsing each line in Python is much of a gazetteer read, and each file parses on its own: so the
files go to a pool of processes (``[build] workers`` of them, ``WORKERS`` where no number is
given; spawned, so that no DuckDB or thread state of the parent is forked), each parsing one file
into a ``Spool``, a folder of its own: the rows
to stage as Arrow IPC files and the rows kept raw as pickles, one file per batch, listed in the
order a read in one process would have given them out. The reader takes the files back in file
order (a file's deletes are checked against every earlier file, and its quarantined rows follow
the earlier files'), and no more than ``workers + 1`` files are parsed ahead of it, so the spools
hold a few files' rows, never a supply.
"""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import pyarrow as pa

# the processes that parse a gazetteer's files when the caller names no number (a build passes
# ``[build] workers``): the second core of a small machine is the gain
WORKERS = 2

T = TypeVar("T")


@dataclass(slots=True)
class SpoolEntry:
    kind: Literal["staged", "other"]
    path: Path
    record_type: int = 0


@dataclass(slots=True)
class Spool:
    """What a worker's parse of one file gives out, in a folder of its own, in order."""

    folder: Path
    entries: list[SpoolEntry] = field(default_factory=list)

    def put_staged(self, record_type: int, batch: pa.Table) -> None:
        path = self.folder / f"{len(self.entries):06d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
            writer.write_table(batch)
        self.entries.append(SpoolEntry("staged", path, record_type))

    def put_other(self, rows: list[Any]) -> None:
        path = self.folder / f"{len(self.entries):06d}.pickle"
        with path.open("wb") as stream:
            pickle.dump(rows, stream, protocol=pickle.HIGHEST_PROTOCOL)
        self.entries.append(SpoolEntry("other", path))

    def replay(self, staged: Callable[[int, pa.Table], None], other: Callable[[list[Any]], None]) -> None:
        """Give out what the worker spooled, in its order, each batch's file removed once given."""
        for entry in self.entries:
            if entry.kind == "staged":
                with pa.memory_map(str(entry.path)) as source:
                    staged(entry.record_type, pa.ipc.open_file(source).read_all())
            else:
                with entry.path.open("rb") as stream:
                    other(pickle.load(stream))
            entry.path.unlink()


class Workers:
    """A pool of ``count`` spawned processes, started when first given work."""

    def __init__(self, count: int):
        self.count = count
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def in_order(self, work: Callable[..., T], jobs: Iterable[tuple[Any, ...]]) -> Iterator[T]:
        """``work(*job)`` for each job, the results in job order, with at most ``count + 1`` jobs
        begun and not yet taken (so what waits to be taken stays bounded). ``work`` must be a
        module-level function: a spawned process imports it by name."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.count, mp_context=multiprocessing.get_context("spawn"))
        pending: deque[Future[T]] = deque()
        try:
            for job in jobs:
                pending.append(self._pool.submit(work, *job))
                if len(pending) > self.count:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def spool_folder() -> Path:
    """A folder for the spools of one read; the caller removes it (``remove_folder``)."""
    return Path(tempfile.mkdtemp(prefix="bx-gazetteer-spool-"))


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
