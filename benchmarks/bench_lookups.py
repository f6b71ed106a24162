"""Point look-ups of a published DuckDB index, one at a time on one cursor: p50 and p99 of each query
the property, establishment and organisation routes make, with the build's indexes
(``index_schema.LOOKUPS``) and, for comparison, on a copy without them.

    .venv/bin/python benchmarks/bench_lookups.py --index sample/index.duckdb [--samples 300] [--compare]

No server and no HTTP: what the indexes change is the database's share of a request.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from business_index.store import index_queries as queries


def _timings(index: Path, samples: int) -> dict[str, tuple[float, float]]:
    con = duckdb.connect(str(index), read_only=True)
    sample = f"USING SAMPLE {samples} ROWS (reservoir, 1)"
    uprns = [u for (u,) in con.execute(f"SELECT uprn FROM property_names {sample}").fetchall()]
    establishments = [e for (e,) in con.execute(f"SELECT establishment_id FROM establishments {sample}").fetchall()]
    organisations = [o for (o,) in con.execute(f"SELECT organisation_id FROM organisations {sample}").fetchall()]
    cases: dict[str, Callable[[int], object]] = {
        "property_row": lambda i: queries.property_row(con, uprns[i % len(uprns)]),
        "linked_records": lambda i: queries.linked_records(con, uprns[i % len(uprns)]),
        "premises_history": lambda i: queries.premises_history(con, uprns[i % len(uprns)]),
        "establishment_row": lambda i: queries.establishment_row(con, establishments[i % len(establishments)]),
        "organisation_row": lambda i: queries.organisation_row(con, organisations[i % len(organisations)]),
        "establishments_of": lambda i: queries.establishments_of(con, [organisations[i % len(organisations)]]),
    }
    result = {}
    for name, look_up in cases.items():
        for i in range(20):  # warm the cache, as a serving process is
            look_up(i)
        took = []
        for i in range(samples):
            started = time.perf_counter()
            look_up(i)
            took.append((time.perf_counter() - started) * 1000)
        took.sort()
        result[name] = (took[len(took) // 2], took[min(len(took) - 1, int(len(took) * 0.99))])
    con.close()
    return result


def _without_indexes(index: Path, folder: Path) -> Path:
    copy = folder / "without-indexes.duckdb"
    shutil.copyfile(index, copy)
    with duckdb.connect(str(copy)) as con:
        for (name,) in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall():
            con.execute(f'DROP INDEX "{name}"')
        con.execute("CHECKPOINT")
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--compare", action="store_true", help="also time a copy without the build's indexes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = {"with indexes": _timings(args.index, args.samples)}
        if args.compare:
            runs["without indexes"] = _timings(_without_indexes(args.index, Path(folder)), args.samples)
    print(f"{'query':20s}" + "".join(f"{label:>26s}" for label in runs))
    for query in runs["with indexes"]:
        print(f"{query:20s}" + "".join(f"{f'p50 {run[query][0]:.2f} / p99 {run[query][1]:.2f} ms':>26s}"
                                       for run in runs.values()))


if __name__ == "__main__":
    main()
