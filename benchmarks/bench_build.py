"""The full build (ingest + link + derive) of a generated borough: wall time per stage and peak memory,
then its accuracy against the borough's truth.

    .venv/bin/python benchmarks/bench_build.py --properties 100000 --seed 7

The build runs in a child process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench_common import accuracy, borough_folder, build_in_child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--borough", type=Path, help="reuse a folder written by `bx generate`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        borough = borough_folder(args.borough, Path(tmp), args.seed, args.properties)
        index = Path(tmp) / "index.duckdb"
        result = build_in_child(borough / "sources.toml", index)
        result["accuracy"] = accuracy(index, borough / "truth")
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
