"""One generated borough built twice, business names scored and clustered by Splink on DuckDB and on
Spark: both build times, each stage's seconds, and how far the two agree over pairs of records (name
clusters, establishments, organisations).

    .venv/bin/python benchmarks/bench_spark.py --properties 100000
    .venv/bin/python benchmarks/bench_spark.py --properties 20000 --spark-master local[2]

Spark runs in local mode unless --spark-master names a cluster (whose nodes then need this package
and a --checkpoint-dir they can all read). Only the names move to Spark, so the stages before and
after are DuckDB's in both builds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench_common import borough_folder


def cpu_seconds(jvm_pid: int | None) -> float:
    """CPU seconds used so far by this process and, in local mode, by Spark's JVM (driver and
    executors in one), whose work the wall time hides on a shared machine."""
    used = time.process_time()
    if jvm_pid is not None:
        fields = Path(f"/proc/{jvm_pid}/stat").read_text().rsplit(")", 1)[1].split()
        used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--borough", type=Path, help="reuse a folder written by `bx generate`")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--checkpoint-dir", help="for a cluster: a folder every node can read")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    from business_index.build import build_index
    from business_index.config import load_settings
    from business_index.link.engine_agreement import KeepNameClusters, index_groupings, pairwise_agreement
    from business_index.link.spark_engine import SparkNameEngine

    with tempfile.TemporaryDirectory() as tmp:
        borough = borough_folder(args.borough, Path(tmp), args.seed, args.properties)
        settings = load_settings(borough / "sources.toml")
        spark = SparkNameEngine(master=args.spark_master, shuffle_partitions=args.shuffle_partitions,
                                checkpoint_dir=args.checkpoint_dir)
        engines = {"duckdb": KeepNameClusters(), "spark": KeepNameClusters(spark)}
        result: dict[str, object] = {"properties": args.properties, "spark_master": args.spark_master}
        groupings = {}
        # local mode: the JVM is started before the timings so that its CPU can be read (its
        # start-up is still in the build's spark_session step, as a first build's would be)
        local = args.spark_master.startswith("local") and Path("/proc/self/stat").exists()
        jvm_pid = int(spark.spark()._jvm.java.lang.ProcessHandle.current().pid()) if local else None
        try:
            for name, engine in engines.items():
                index = Path(tmp) / f"{name}.duckdb"
                started, cpu = time.perf_counter(), cpu_seconds(jvm_pid)
                report = build_index(settings, index, name_engine=engine)
                businesses = report.linking["businesses"]
                result[name] = {"build_seconds": round(time.perf_counter() - started, 1),
                                "cpu_seconds": round(cpu_seconds(jvm_pid) - cpu, 1),
                                "stages": {k: round(v, 2) for k, v in report.seconds.items()},
                                "business_steps": businesses["seconds"],
                                "pairs_scored": businesses["pairs_scored"],
                                "establishments": businesses["establishments"],
                                "organisations": businesses["organisations"]}
                groupings[name] = {"name clusters": engine.kept, **index_groupings(index)}
        finally:
            spark.stop()
        result["agreement"] = {kind: pairwise_agreement(groupings["duckdb"][kind], groupings["spark"][kind]).as_dict()
                               for kind in ("name clusters", "establishments", "organisations")}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    for name in engines:
        run = result[name]
        assert isinstance(run, dict)
        print(f"{name}: build {run['build_seconds']} s ({run['cpu_seconds']} s CPU), {run['pairs_scored']:,} pairs scored, "
              f"{run['establishments']:,} establishments, {run['organisations']:,} organisations")
        print("  stages:", ", ".join(f"{k} {v}" for k, v in run["stages"].items()))
        print("  business linking:", ", ".join(f"{k} {v}" for k, v in run["business_steps"].items()))
    for kind, agreement in result["agreement"].items():  # type: ignore[attr-defined]
        print(f"agreement of {kind}: {agreement['agreement']:.6f} ({agreement['pairs_both']:,} pairs together in "
              f"both, {agreement['pairs_a']:,} by DuckDB, {agreement['pairs_b']:,} by Spark)"
              + (f"; e.g. DuckDB only {agreement['only_a'][:2]}, Spark only {agreement['only_b'][:2]}"
                 if agreement["agreement"] < 1 else ""))


if __name__ == "__main__":
    main()
