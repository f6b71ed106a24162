"""Many boroughs as one dataset (issue 16, "grow past one machine"): the build at growing scales,
on DuckDB and on Spark, each stage's seconds and business records per second, peak memory and
accuracy against the generated truth.

    .venv/bin/python benchmarks/bench_national.py --dataset /work/national-data \\
        --boroughs 20 --properties-per-borough 130000 --seed 7 --engine duckdb --scales 100000,500000,2000000

The dataset (``bx generate --boroughs``) is generated into ``--dataset`` unless that folder already
holds one, which is then reused whatever the size options say. A scale is a number of business
records: each is built from the first k boroughs, k chosen to come nearest it (at least one; all of
them when the dataset is smaller), so every scale's data is the previous scale's plus more boroughs.
Each build runs in a child process of its own (peak RSS its own; the peak with its workers and a
Spark JVM is sampled by build step). Records per second of a stage are the build's business
records over that stage's seconds, so stages compare on one unit.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import accuracy, build_in_child, dataset_folder

STAGES = ("ingest", "store", "features", "registers", "link_properties", "link_businesses", "derive",
          "index_lookups")


def _boroughs_for(scale: int, cumulative: list[int]) -> int:
    """How many of the first boroughs come nearest ``scale`` records."""
    return min(range(1, len(cumulative) + 1), key=lambda k: (abs(cumulative[k - 1] - scale), k))


def _run(dataset: Path, boroughs: list[Any], k: int, engine: str, work: Path, max_rss_mib: int | None,
         say: Any) -> dict[str, Any]:
    from business_index.synthetic.national import write_selection

    if k == len(boroughs):
        sources, truth = dataset / "sources.toml", dataset / "truth"
    else:
        sources, truth = write_selection(dataset, boroughs[:k])
    index = work / f"index-{engine}-{k:02d}.duckdb"
    say(f"building {k} borough(s) on {engine} ...")
    started = time.perf_counter()
    result = build_in_child(sources, index, None if engine == "duckdb" else engine, max_rss_mib)
    wall = time.perf_counter() - started
    if "aborted" not in result:
        scoring = time.perf_counter()
        result["accuracy"] = accuracy(index, truth)
        result["scoring_seconds"] = round(time.perf_counter() - scoring, 1)
        result["index_bytes"] = index.stat().st_size
    result["wall_seconds"] = round(wall, 1)
    for leftover in work.glob(f"index-{engine}-{k:02d}*"):  # keep the disk for the next, larger build
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink()
    return result


def _steps(run: dict[str, Any]) -> str:
    return ", ".join(f"{s['step']} from {s['began_s']} s peak {s['peak_mib']:,}" for s in run["steps"])


def _show(run: dict[str, Any], say: Any) -> None:
    if "aborted" in run:
        say(f"  {run['engine']} at {run['boroughs']} borough(s): ABORTED after {run['seconds']} s: {run['aborted']}; "
            f"peak {run['peak_tree_rss_mib']:,} MiB; steps (MiB): {_steps(run)}")
        return
    counts, stages = run["counts"], run["stages"]
    records = counts["business_records"]
    say(f"  {run['engine']} at {run['boroughs']} borough(s): {records:,} business records, "
        f"{counts['addresses']:,} addresses; build {run['seconds']} s "
        f"({records / run['seconds']:,.0f} records/s), {run['pairs_scored'] or 0:,} pairs scored")
    say("  stage seconds (records/s): " + ", ".join(
        f"{s} {stages[s]:.1f} ({records / stages[s]:,.0f})" for s in STAGES if stages.get(s)))
    if run.get("link_businesses_steps"):
        say("  business linking: " + ", ".join(f"{k} {v}" for k, v in run["link_businesses_steps"].items()))
    say(f"  peak RSS {run['peak_rss_mib']:,} MiB (build process), {run['peak_tree_rss_mib']:,} MiB with its "
        f"workers; steps (MiB): {_steps(run)}")
    acc = run["accuracy"]
    say("  accuracy: " + "; ".join(
        f"{level} P {acc[level]['precision']:.5f} R {acc[level]['recall']:.5f} F1 {acc[level]['f1']:.5f}"
        for level in ("record_to_uprn", "establishments", "organisations"))
        + f"; 18-way supplier {'passed' if (acc['eighteen_way_supplier'] or {}).get('passed') else 'FAILED'}")


def _table(runs: list[dict[str, Any]], say: Any) -> None:
    say("\nscale x stage: seconds (business records per second), shared machine")
    header = ["engine", "scale", "boroughs", "records", "addresses", *STAGES, "total", "peak MiB", "pairs"]
    rows = []
    for run in runs:
        if "aborted" in run:
            rows.append([run["engine"], f"{run['scale']:,}", str(run["boroughs"]), "aborted", "", *["" for _ in STAGES],
                         f"({run['seconds']:.0f} s)", f"{run['peak_tree_rss_mib']:,}", ""])
            continue
        records = run["counts"]["business_records"]
        cells = [f"{run['stages'][s]:.1f} ({records / run['stages'][s]:,.0f})" if run["stages"].get(s) else "-"
                 for s in STAGES]
        rows.append([run["engine"], f"{run['scale']:,}", str(run["boroughs"]), f"{records:,}",
                     f"{run['counts']['addresses']:,}", *cells, f"{run['seconds']:.1f} ({records / run['seconds']:,.0f})",
                     f"{run['peak_tree_rss_mib']:,}", f"{run['pairs_scored'] or 0:,}"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        say("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=Path("/work/national-data"),
                        help="the dataset's folder: reused if it holds one, else generated into it")
    parser.add_argument("--boroughs", type=int, default=20)
    parser.add_argument("--properties-per-borough", type=int, default=130_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=("duckdb", "spark", "both"), default="duckdb")
    parser.add_argument("--scales", default="100000,500000,2000000", help="business records, comma-separated")
    parser.add_argument("--work", type=Path, help="where the indexes are built (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--max-rss-gib", type=float, default=14.0,
                        help="stop a build whose memory with its workers passes this (0: never)")
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, flush=True)

    from business_index.synthetic.national import MANIFEST, read_manifest

    dataset, generated = dataset_folder(args.dataset, args.seed, args.boroughs, args.properties_per_borough, say)
    boroughs = read_manifest(dataset)
    manifest = json.loads((dataset / MANIFEST).read_text(encoding="utf-8"))
    cumulative = [sum(b.business_records for b in boroughs[:k]) for k in range(1, len(boroughs) + 1)]
    say(f"dataset {dataset}: {len(boroughs)} boroughs, {manifest['properties']:,} properties, "
        f"{manifest['business_records']:,} business records; "
        + (f"generated in {generated:.1f} s" if generated is not None else
           f"reused (generated in {manifest['seconds']} s)") + " (shared machine)")
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    engines = ["duckdb", "spark"] if args.engine == "both" else [args.engine]
    runs: list[dict[str, Any]] = []
    max_rss = round(args.max_rss_gib * 1024) or None
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        for scale in scales:
            k = _boroughs_for(scale, cumulative)
            say(f"\nscale {scale:,} records: the first {k} borough(s), {cumulative[k - 1]:,} records, "
                f"{sum(b.properties for b in boroughs[:k]):,} properties")
            for engine in engines:
                run = {"engine": engine, "scale": scale, "boroughs": k,
                       **_run(dataset, boroughs, k, engine, Path(tmp), max_rss, say)}
                runs.append(run)
                _show(run, say)
                if args.json:
                    args.json.write_text(json.dumps({"dataset": manifest, "runs": runs}, indent=2, default=str))
    _table(runs, say)


if __name__ == "__main__":
    main()
