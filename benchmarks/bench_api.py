"""Postcode lookups against `bx serve --workers 2` on loopback, driven by wrk: requests per second
and latency percentiles (p50, p90, p99), with every request carrying a bearer token and asking for
a different postcode of the index in turn.

    apt-get install wrk          # Debian's wrk, once
    .venv/bin/python benchmarks/bench_api.py --properties 20000
    .venv/bin/python benchmarks/bench_api.py --index sample/index.duckdb --duration 30

wrk and the server share the machine's cores, so the figure is what one 2-core box serves while
also generating the load. The load runs for a bounded time against 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
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

import duckdb

WRK_SCRIPT = """
local postcodes = {%s}
local token = "%s"
local i = 0
request = function()
  i = i + 1
  local postcode = postcodes[(i %% #postcodes) + 1]
  return wrk.format("GET", "/api/v1/addresses?postcode=" .. postcode, {["Authorization"] = "Bearer " .. token})
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
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


def _wait_until_ready(url: str, server: subprocess.Popen, seconds: float = 60) -> None:  # type: ignore[type-arg]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="a built index (default: generate and build one)")
    parser.add_argument("--properties", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        index = args.index or _build_sample(args.properties, args.seed, folder)
        with duckdb.connect(str(index), read_only=True) as con:
            postcodes = [p for (p,) in con.execute(
                "SELECT DISTINCT postcode FROM addresses WHERE postcode IS NOT NULL AND logical_status IN (1, 6) "
                "ORDER BY hash(postcode) LIMIT 2000").fetchall()]
        secret = "benchmark-secret-" + os.urandom(8).hex()
        from business_index.api.auth import issue_token

        token = issue_token(secret, "benchmark", ["read"])
        script = folder / "postcodes.lua"
        script.write_text(WRK_SCRIPT % (", ".join(json.dumps(p.replace(" ", "%20")) for p in postcodes), token))
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "BX_JWT_SECRET": secret}
        bx = Path(sys.executable).with_name("bx")
        server = subprocess.Popen(
            [str(bx), "serve", "--index", str(index), "--port", str(port), "--workers", str(args.workers),
             "--store", f"sqlite:///{folder / 'submissions.sqlite3'}"],
            env=env, start_new_session=True)
        try:
            _wait_until_ready(url, server)
            subprocess.run(["wrk", "-t1", "-c4", "-d3s", "-s", str(script), url], check=True,
                           capture_output=True)  # warm up every worker
            output = subprocess.run(
                ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                 "-s", str(script), url], check=True, capture_output=True, text=True).stdout
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures = {
        "workers": args.workers, "connections": args.connections, "duration_s": args.duration,
        "postcodes": len(postcodes),
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _milliseconds(latency["50"]), "p90_ms": _milliseconds(latency["90"]),
        "p99_ms": _milliseconds(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }
    print(json.dumps(figures, indent=2) if args.json else output + "\n" + json.dumps(figures))


if __name__ == "__main__":
    main()
