"""Generation rate of the synthetic borough: business records per second, and peak memory.

    .venv/bin/python benchmarks/bench_generate.py --records 1000000

Sizes the borough (from a small pilot) to hold about ``--records`` business records.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from business_index.synthetic import generate_borough


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="keep the borough here (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pilot = generate_borough(Path(tmp) / "pilot", args.seed, 20_000, workers=args.workers)
        per_property = pilot.business_records / pilot.properties
    properties = int(args.records / per_property)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "borough"
        started = time.perf_counter()
        report = generate_borough(out, args.seed, properties, workers=args.workers)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "properties": properties, "business_records": report.business_records, "businesses": report.businesses,
        "files": report.files, "seconds": round(seconds, 1),
        "business_records_per_second": round(report.business_records / seconds),
        "bytes_written": size, "peak_rss_mib_parent": round(peak_mib),
    }, indent=2))


if __name__ == "__main__":
    main()
