"""Business Index against uk_address_matcher (MoJ, PyPI `uk-address-matcher`), on the same inputs,
in one run: precision, recall and time of record -> UPRN matching for each.

    .venv/bin/python benchmarks/bench_address_matchers.py --properties 20000 --seed 7

uk_address_matcher pins splink<5 and duckdb<2, so it runs in its own virtual environment,
`.venv-peer`, which this script creates on first use (from PyPI).

Both get every business record of a generated borough (address as one line, postcode apart) and
the borough's gazetteer (UPRN, single-line address, postcode). Scored on two sets:
- "all records": Business Index end to end (its keys, then its address model) against
  uk_address_matcher on addresses alone;
- "no key": the records no cross reference or UPRN column links, where both must match addresses.
`bx match` is also run on uk_address_matcher's very list (addresses alone, no keys, no names),
against an index built from the same gazetteer as a plain `uprn_addresses` file: the two tools on
the same input, matcher against matcher.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / ".venv-peer"
PEER_VERSION = "uk-address-matcher==1.5.3"


def ensure_peer() -> Path:
    python = PEER / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PEER_VERSION], check=True)
    return python


def _score(con: duckdb.DuckDBPyConnection, predictions: str, subset: str) -> dict[str, float]:
    tp, predicted, actual = con.execute(f"""
        SELECT count(*) FILTER (WHERE p.uprn IS NOT NULL AND p.uprn = t.true_uprn),
               count(*) FILTER (WHERE p.uprn IS NOT NULL),
               count(*) FILTER (WHERE t.true_uprn IS NOT NULL)
        FROM truth t LEFT JOIN {predictions} p USING (record_id)
        WHERE t.record_id IN (SELECT record_id FROM {subset})""").fetchall()[0]
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "records": int(
        con.execute(f"SELECT count(*) FROM {subset}").fetchall()[0][0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--properties", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from business_index.build import build_index
    from business_index.config import load_settings
    from business_index.evaluate.synthetic import load_truth_records
    from business_index.synthetic import generate_borough

    peer_python = ensure_peer()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate_borough(out / "borough", args.seed, args.properties)
        started = time.perf_counter()
        report = build_index(load_settings(out / "borough" / "sources.toml"), out / "index.duckdb")
        ours_seconds = time.perf_counter() - started
        con = duckdb.connect(str(out / "index.duckdb"))
        con.execute(f"""
            COPY (SELECT record_id AS unique_id,
                         -- an empty list of lines is not NULL: records given as one text keep it
                         CASE WHEN len(address_lines) > 0 THEN array_to_string(address_lines, ', ')
                              ELSE coalesce(address_text, '') END AS address_concat,
                         postcode
                  FROM business_records) TO '{out}/messy.parquet' (FORMAT parquet);
            COPY (SELECT uprn AS unique_id,
                         regexp_replace(single_line_address, ', [A-Z0-9]+ [0-9][A-Z]{{2}}$', '') AS address_concat,
                         postcode
                  FROM addresses WHERE logical_status IN (1, 6)) TO '{out}/canonical.parquet' (FORMAT parquet);
        """)
        peer = subprocess.run([str(peer_python), str(ROOT / "benchmarks" / "peer_ukam_runner.py"),
                               f"{out}/messy.parquet", f"{out}/canonical.parquet", f"{out}/ukam.parquet"],
                              check=True, capture_output=True, text=True)
        peer_seconds = float(peer.stdout.strip().splitlines()[-1])
        # bx match on the same list, against the same gazetteer given as a plain uprn_addresses file
        con.execute(f"""
            COPY (SELECT uprn, single_line_address AS address, postcode FROM addresses WHERE logical_status IN (1, 6))
                TO '{out}/uprn_addresses.csv' (HEADER);
            COPY (SELECT unique_id, address_concat AS address, postcode FROM read_parquet('{out}/messy.parquet'))
                TO '{out}/messy.csv' (HEADER);
        """)
        (out / "plain.toml").write_text('[council]\nname = "plain"\n\n[[sources]]\nname = "gazetteer"\n'
                                        'kind = "gazetteer"\nformat = "uprn_addresses"\npaths = ["uprn_addresses.csv"]\n')
        build_index(load_settings(out / "plain.toml"), out / "plain.duckdb")
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "bx"), "match", "--index", str(out / "plain.duckdb"),
                        "--input", f"{out}/messy.csv", "--out", f"{out}/bx_match.csv", "--json"],
                       check=True, capture_output=True)
        bx_match_seconds = time.perf_counter() - started
        truth_records = load_truth_records(out / "borough" / "truth" / "records.csv")  # noqa: F841
        con.execute(f"""
            CREATE TEMP TABLE truth AS
            SELECT b.record_id, t.true_uprn FROM business_records b
            JOIN truth_records t ON t.file = parse_filename(b.file) AND t.line = b.line;
            CREATE TEMP VIEW ours AS SELECT record_id, uprn FROM record_links;
            CREATE TEMP VIEW ukam AS SELECT unique_id AS record_id, try_cast(resolved_canonical_id AS BIGINT) AS uprn
                FROM read_parquet('{out}/ukam.parquet');
            CREATE TEMP VIEW bx_match AS SELECT unique_id AS record_id, uprn FROM read_csv('{out}/bx_match.csv')
                WHERE uprn IS NOT NULL;
            CREATE TEMP VIEW all_records AS SELECT record_id FROM business_records;
            CREATE TEMP VIEW no_key AS SELECT record_id FROM business_records
                WHERE record_id NOT IN (SELECT record_id FROM record_links
                                        WHERE link_rule LIKE 'ndr_cross%' OR link_rule LIKE 'source_uprn%');
        """)
        result = {
            "borough": {"properties": args.properties, "seed": args.seed,
                        "business_records": report.counts["business_records"]},
            "business_index": {
                "all_records": _score(con, "ours", "all_records"),
                "no_key": _score(con, "ours", "no_key"),
                "seconds_full_build": round(ours_seconds, 1),
                "seconds_features_and_link_properties": round(
                    report.seconds.get("features", 0) + report.seconds.get("link_properties", 0), 1),
            },
            "bx_match_same_list_as_uk_address_matcher": {
                "all_records": _score(con, "bx_match", "all_records"),
                "no_key": _score(con, "bx_match", "no_key"),
                "seconds_match": round(bx_match_seconds, 1),
            },
            "uk_address_matcher": {
                "version": PEER_VERSION,
                "all_records": _score(con, "ukam", "all_records"),
                "no_key": _score(con, "ukam", "no_key"),
                "seconds_match": peer_seconds,
            },
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
