"""The features stage alone, on a copy of a built index's inputs: wall and CPU seconds (this process
and its workers), the peak RSS of both together, and the two tables it writes, kept as Parquet so
that two versions of the code can be compared row for row.

    # once per version of the code (PYTHONPATH picks the version):
    PYTHONPATH=src .venv/bin/python benchmarks/bench_features.py run --index built.duckdb \\
        --config sources.toml --out /tmp/features-new
    # then: identical? (schemas, counts, EXCEPT ALL both ways, the street names)
    .venv/bin/python benchmarks/bench_features.py compare /tmp/features-old /tmp/features-new

The index needs only ``addresses``, ``address_aliases`` and ``business_records`` (a finished build
has them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

TABLES = ("address_features", "record_features")


def run(index: Path, config: Path, out: Path, workers: int) -> dict[str, Any]:
    import psutil

    from business_index.build import _publishing_sources
    from business_index.config import load_settings
    from business_index.link.features import build_address_features, build_record_features, feature_pool

    out.mkdir(parents=True, exist_ok=True)
    work = out / "work.duckdb"
    work.unlink(missing_ok=True)
    con = duckdb.connect(str(work))
    con.execute(f"ATTACH '{index}' AS built (READ_ONLY)")
    for table in ("addresses", "address_aliases", "business_records"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM built.{table}")
    con.execute("DETACH built")
    settings = load_settings(config)
    stopwords = frozenset(word.upper() for word in settings.link.address_stopwords)
    pool = feature_pool(workers)
    time.sleep(3 if pool else 0)  # the build starts its workers while it reads: they have imported by now

    peak, done = [0], threading.Event()

    def sample() -> None:  # this process and its workers together, as the build's peak counts them
        me = psutil.Process()
        while not done.is_set():
            try:
                rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                rss = 0
            peak[0] = max(peak[0], rss)
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()
    started, cpu = time.perf_counter(), os.times()
    streets = build_address_features(con, stopwords, pool)
    addresses_done = time.perf_counter()
    build_record_features(con, streets, stopwords, _publishing_sources(settings), pool)
    finished, own_cpu = time.perf_counter(), os.times()
    done.set()
    if pool is not None:
        pool.shutdown()
    workers_cpu = os.times()
    for table in TABLES:
        con.execute(f"COPY {table} TO '{out / table}.parquet'")
    (out / "streets.txt").write_text("\n".join(sorted(streets)), encoding="utf-8")
    rows = {table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in TABLES}
    con.close()
    work.unlink()
    return {
        "seconds": {"address_features": round(addresses_done - started, 2),
                    "record_features": round(finished - addresses_done, 2), "features": round(finished - started, 2)},
        "cpu_seconds": {"this_process": round(own_cpu.user + own_cpu.system - cpu.user - cpu.system, 2),
                        "workers": round(workers_cpu.children_user + workers_cpu.children_system, 2)},
        "peak_tree_rss_mib": round(peak[0] / 2**20),
        "peak_rss_mib": {"this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                         "largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)},
        "rows": rows, "streets": len(streets),
    }


def compare(a: Path, b: Path) -> dict[str, Any]:
    """Whether two runs wrote the same tables: schema, row count, and no row of either missing
    from the other (EXCEPT ALL, so duplicates count), and the same street names."""
    con = duckdb.connect()
    report: dict[str, Any] = {}
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE VIEW a AS SELECT * FROM '{a / table}.parquet'")
        con.execute(f"CREATE OR REPLACE VIEW b AS SELECT * FROM '{b / table}.parquet'")
        only_a = con.execute("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchall()[0][0]
        only_b = con.execute("SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)").fetchall()[0][0]
        same_schema = con.execute("DESCRIBE a").fetchall() == con.execute("DESCRIBE b").fetchall()
        counts = [con.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0] for v in ("a", "b")]
        report[table] = {"same_schema": same_schema, "rows": counts, "only_in_a": only_a, "only_in_b": only_b,
                         "identical": same_schema and counts[0] == counts[1] and only_a == only_b == 0}
    streets = [set((d / "streets.txt").read_text(encoding="utf-8").split("\n")) for d in (a, b)]
    report["streets_identical"] = streets[0] == streets[1]
    report["identical"] = report["streets_identical"] and all(report[t]["identical"] for t in TABLES)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    timed = commands.add_parser("run", help="time the stage and keep its tables")
    timed.add_argument("--index", type=Path, required=True)
    timed.add_argument("--config", type=Path, required=True, help="the sources.toml the index was built from")
    timed.add_argument("--out", type=Path, required=True)
    timed.add_argument("--workers", type=int, default=2)
    checked = commands.add_parser("compare", help="are two runs' tables identical?")
    checked.add_argument("a", type=Path)
    checked.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        result = run(args.index, args.config, args.out, args.workers)
    else:
        result = compare(args.a, args.b)
    print(json.dumps(result, indent=2))
    if args.command == "compare" and not result["identical"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
