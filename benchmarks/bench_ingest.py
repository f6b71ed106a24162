"""Ingest speed: rows per second for a ~1M-row LLPG (DTF 7.3 and ABP) and a ~100k-row NDR export,
and the whole `bx build` (ingest + store) of the same borough, each with its peak memory.

    .venv/bin/python benchmarks/bench_ingest.py                 # generates a borough first
    .venv/bin/python benchmarks/bench_ingest.py --borough DIR   # or reuse one from `bx generate`

Each measurement runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path


class _Discard:
    """A RowSink that drops what it is given."""

    def put_addresses(self, rows: object) -> None: ...

    def put_aliases(self, rows: object) -> None: ...

    def put_cross_references(self, rows: object) -> None: ...

    def put_other_rows(self, rows: object) -> None: ...


def _measure(task: str, borough: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from business_index.build import build_index
    from business_index.config import load_settings
    from business_index.sources import read_source

    started = time.perf_counter()
    if task == "build":
        report = build_index(load_settings(Path(borough) / "sources.toml"), Path(borough) / "bench.duckdb")
        rows = sum(s.read for s in report.sources)
    else:
        config = "sources-abp.toml" if task == "llpg_abp" else "sources.toml"
        settings = load_settings(Path(borough) / config)
        name = "ndr" if task == "ndr" else "llpg"
        # the LLPG streams its rows out a batch at a time, as into a build's index: counted, not kept
        result = read_source(settings, next(s for s in settings.sources if s.name == name), _Discard())
        rows = result.read
    seconds = time.perf_counter() - started
    queue.put({"task": task, "rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
               "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--borough", type=Path, help="a folder written by `bx generate`")
    parser.add_argument("--properties", type=int, default=420_000, help="size of the borough to generate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        borough = args.borough
        if borough is None:
            from business_index.synthetic import generate_borough

            borough = Path(tmp) / "borough"
            generate_borough(borough, 7, args.properties)
        context = multiprocessing.get_context("spawn")
        results = []
        for task in ("llpg_dtf73", "llpg_abp", "ndr", "build"):
            queue = context.Queue()
            process = context.Process(target=_measure, args=(task, str(borough), queue))
            process.start()
            results.append(queue.get())
            process.join()
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
