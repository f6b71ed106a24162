"""`bx match` at scale: rows per second and peak memory for a long list against a large gazetteer,
and its accuracy against the build's own address stage.

    .venv/bin/python benchmarks/bench_match.py --properties 100000 --rows 1000000

1. Generates a borough and builds its index (or reuses --workdir's).
2. Every business record's address, its keys withheld (no cross reference, no UPRN column), is
   matched with `bx match`; precision and recall against the generator's truth are printed beside
   the build's own address stage on the records no key links.
3. A list of --rows addresses is written from the gazetteer the way people type them (street words
   abbreviated, typos, flats written five ways, postcodes missing or slipped, a business name in
   front), then matched with `bx match`: rows per second, the peak memory of `bx match` and its
   parser processes together, and precision and recall against the addresses the rows came from.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import psutil

ROOT = Path(__file__).resolve().parents[1]
BX = str(Path(sys.executable).parent / "bx")


def _peak_rss(command: list[str]) -> tuple[float, int, str]:
    """Run ``command``; its seconds, the peak RSS of it and its children together, its stdout."""
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, err = process.communicate()
    done.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    return time.perf_counter() - started, peak, out


def _typed_address(rng: random.Random, row: tuple) -> tuple[str, str]:
    from business_index.synthetic.messiness import title, typo, vary_number, vary_street, vary_sub_address

    (sao_text, sao_number, s1x, p1, p1x, p2, p2x, pao_text, street, locality, town, postcode, organisation) = row
    parts: list[str] = []
    if organisation and rng.random() < 0.15:
        parts.append(title(organisation))
    if sao_text or sao_number is not None:
        parts.append(vary_sub_address(rng, sao_text, f"{sao_number or ''}{s1x or ''}"))
    if pao_text:
        parts.append(title(pao_text))
    number = vary_number(rng, p1, p1x, p2, p2x)
    line = f"{number} {vary_street(rng, title(street or ''))}".strip()
    parts.append(typo(rng, line) if rng.random() < 0.03 else line)
    if locality and rng.random() < 0.5:
        parts.append(title(locality))
    if town and rng.random() < 0.6:
        parts.append(title(town))
    given = postcode or ""
    roll = rng.random()
    if roll < 0.08:
        given = ""
    elif roll < 0.12 and len(given) > 3:
        given = given[:-1] + rng.choice("ABDEFGHJLNPQRSTUWXYZ")  # a slip in the last letter
    separator = rng.choice((", ", ", ", " "))
    return separator.join(p for p in parts if p), given


def write_list(index: Path, out: Path, rows: int, seed: int) -> int:
    """Write ``rows`` typed addresses of ``index``'s gazetteer to ``out``; returns the distinct rows."""
    rng = random.Random(seed)
    with duckdb.connect(str(index), read_only=True) as con:
        addresses = con.execute("""
            SELECT uprn, sao_text, sao_start_number, sao_start_suffix, pao_start_number, pao_start_suffix,
                   pao_end_number, pao_end_suffix, pao_text, street_description, locality, town, postcode, organisation
            FROM addresses WHERE logical_status IN (1, 6) AND street_description IS NOT NULL
                AND NOT starts_with(coalesce(classification, ''), 'P')
            ORDER BY uprn""").fetchall()
    seen: set[tuple[str, str]] = set()
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row_id", "address", "postcode", "true_uprn"])
        for i in range(rows):
            row = addresses[rng.randrange(len(addresses))]
            address, postcode = _typed_address(rng, row[1:])
            seen.add((address, postcode))
            writer.writerow([i + 1, address, postcode, row[0]])
    return len(seen)


def _score(con: duckdb.DuckDBPyConnection, predictions: str, truth: str, where: str = "true") -> dict[str, float]:
    tp, predicted, actual = con.execute(f"""
        SELECT count(*) FILTER (WHERE p.uprn = t.true_uprn), count(p.uprn), count(t.true_uprn)
        FROM {truth} t LEFT JOIN {predictions} p USING (row_id) WHERE {where}""").fetchall()[0]
    return {"precision": round(tp / predicted, 5) if predicted else 1.0,
            "recall": round(tp / actual, 5) if actual else 1.0, "rows": int(con.execute(
                f"SELECT count(*) FROM {truth} t WHERE {where}").fetchall()[0][0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bx-bench-match"))
    args = parser.parse_args()
    from business_index.evaluate.synthetic import load_truth_records

    work = args.workdir / f"p{args.properties}-s{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    index = work / "index.duckdb"
    if not index.exists():
        subprocess.run([BX, "generate", "--out", str(work / "borough"), "--seed", str(args.seed),
                        "--properties", str(args.properties)], check=True, capture_output=True)
        subprocess.run([BX, "build", "--config", str(work / "borough" / "sources.toml"), "--index", str(index)],
                       check=True, capture_output=True)
    result: dict[str, object] = {"gazetteer_properties": args.properties, "seed": args.seed}

    # 1. the borough's own records, keys withheld, against the build's address stage
    con = duckdb.connect()
    con.execute(f"ATTACH '{index}' AS i (READ_ONLY)")
    records = work / "records.csv"
    con.execute(f"""COPY (SELECT record_id AS row_id,
                                 CASE WHEN len(address_lines) > 0 THEN array_to_string(address_lines, ', ')
                                      ELSE address_text END AS address,
                                 postcode, coalesce(trading_name, name) AS name
                          FROM i.business_records ORDER BY record_id) TO '{records}' (HEADER)""")
    seconds, peak, _ = _peak_rss([BX, "match", "--index", str(index), "--input", str(records),
                                  "--out", str(work / "records.matched.csv"), "--json"])
    truth_records = load_truth_records(work / "borough" / "truth" / "records.csv")  # noqa: F841
    con.execute(f"""
        CREATE TABLE record_truth AS SELECT b.record_id AS row_id, t.true_uprn FROM i.business_records b
            JOIN truth_records t ON t.file = parse_filename(b.file) AND t.line = b.line;
        CREATE VIEW matched_records AS SELECT row_id, uprn FROM read_csv('{work}/records.matched.csv') WHERE uprn IS NOT NULL;
        CREATE VIEW build_address_stage AS SELECT record_id AS row_id, uprn FROM i.record_links
            WHERE link_rule LIKE 'address_match%';
    """)
    no_key = ("t.row_id NOT IN (SELECT record_id FROM i.record_links WHERE link_rule LIKE 'ndr_cross%' "
              "OR link_rule LIKE 'source_uprn%' OR link_rule = 'shared_property_reference')")
    result["business_records"] = {
        "bx_match_all_records": _score(con, "matched_records", "record_truth"),
        "bx_match_records_no_key_links": _score(con, "matched_records", "record_truth", no_key),
        "build_address_stage_records_no_key_links": _score(con, "build_address_stage", "record_truth", no_key),
        "seconds": round(seconds, 1),
    }

    # 2. a long typed list
    typed = work / f"typed-{args.rows}.csv"
    if not typed.exists():
        distinct = write_list(index, typed, args.rows, args.seed)
        (work / f"typed-{args.rows}.distinct").write_text(str(distinct))
    distinct = int((work / f"typed-{args.rows}.distinct").read_text())
    seconds, peak, out = _peak_rss([BX, "match", "--index", str(index), "--input", str(typed),
                                    "--out", str(work / "typed.matched.parquet"), "--json"])
    summary = json.loads(out)
    con.execute(f"""
        CREATE VIEW typed_truth AS SELECT row_id, true_uprn FROM read_csv('{typed}');
        CREATE VIEW typed_matched AS SELECT row_id, uprn FROM read_parquet('{work}/typed.matched.parquet')
            WHERE uprn IS NOT NULL;
    """)
    in_order = con.execute(f"SELECT bool_and(row_id = n) FROM (SELECT row_id, row_number() OVER () AS n "
                           f"FROM read_parquet('{work}/typed.matched.parquet'))").fetchall()[0][0]
    result["typed_list"] = {
        "rows": summary["rows"], "distinct_addresses": distinct, "seconds": round(seconds, 1),
        "rows_per_second": round(summary["rows"] / seconds), "peak_memory_mib": round(peak / 2**20),
        "rows_out_in_input_order": bool(in_order), **_score(con, "typed_matched", "typed_truth"),
        "unmatched_by_reason": summary["unmatched_by_reason"],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
