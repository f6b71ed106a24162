"""Runs uk_address_matcher (MoJ) in its own virtual environment; called by bench_address_matchers.py.

    .venv-peer/bin/python benchmarks/peer_ukam_runner.py MESSY.parquet CANONICAL.parquet OUT.parquet

Prints the seconds the match took. Kept apart because uk_address_matcher pins splink<5 and duckdb<2.
"""

import sys
import time

import duckdb
from uk_address_matcher import AddressMatcher


def main() -> None:
    messy_path, canonical_path, out_path = sys.argv[1:4]
    con = duckdb.connect()
    started = time.perf_counter()
    matcher = AddressMatcher(
        canonical_addresses=con.read_parquet(canonical_path),
        addresses_to_match=con.read_parquet(messy_path),
        con=con,
        show_progress="off",
    )
    result = matcher.match()
    matches = result.matches()
    con.register("ukam_matches", matches)
    con.execute(f"COPY (SELECT unique_id, resolved_canonical_id FROM ukam_matches) TO '{out_path}' (FORMAT parquet)")
    print(round(time.perf_counter() - started, 2))


if __name__ == "__main__":
    main()
