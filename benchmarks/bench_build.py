"""The full build (ingest + link + derive) of a generated borough: wall time per stage and peak memory,
then its accuracy against the borough's truth.

    .venv/bin/python benchmarks/bench_build.py --properties 100000 --seed 7

The build runs in a child process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path


def _build(config: str, index: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from business_index.build import build_index
    from business_index.config import load_settings

    started = time.perf_counter()
    report = build_index(load_settings(Path(config)), Path(index))
    businesses = report.linking.get("businesses", {})
    queue.put({"seconds": round(time.perf_counter() - started, 1), "stages": report.seconds,
               "link_businesses_steps": businesses.get("seconds"), "pairs_scored": businesses.get("pairs_scored"),
               "counts": report.counts,
               "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--borough", type=Path, help="reuse a folder written by `bx generate`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        borough = args.borough
        if borough is None:
            from business_index.synthetic import generate_borough

            borough = Path(tmp) / "borough"
            generate_borough(borough, args.seed, args.properties)
        index = Path(tmp) / "index.duckdb"
        queue = multiprocessing.get_context("spawn").Queue()
        process = multiprocessing.get_context("spawn").Process(
            target=_build, args=(str(borough / "sources.toml"), str(index), queue))
        process.start()
        result = queue.get()
        process.join()
        from business_index.evaluate.synthetic import evaluate_against_truth

        scores = evaluate_against_truth(index, borough / "truth")
        result["accuracy"] = {
            "record_to_uprn": {k: scores["record_to_uprn"][k] for k in ("precision", "recall", "f1")},
            "establishments": {k: scores["establishments"][k] for k in ("precision", "recall", "f1")},
            "organisations": {k: scores["organisations"][k] for k in ("precision", "recall", "f1")},
            "eighteen_way_supplier": scores.get("eighteen_way_supplier"),
        }
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
