"""`bx serve` as a real server on loopback: what a killed master leaves behind. Bounded in time."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SECRET = "test-secret-that-is-long-enough-for-hs256"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def _serve(index: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BX_JWT_SECRET": SECRET}
    return subprocess.Popen([str(Path(sys.executable).parent / "bx"), "serve", "--index", str(index),
                             "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_healthy(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not become healthy")


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find the workers")
def test_workers_leave_when_the_master_is_killed(small_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.duckdb"
    shutil.copy(small_index, index)
    port = _free_port()
    master = _serve(index, port, workers=2)
    try:
        _wait_healthy(port)
        deadline = time.monotonic() + 30
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = {p for p in _children(master.pid) if "spawn" in Path(f"/proc/{p}/cmdline").read_text()}
            time.sleep(0.2)
        assert workers, "no worker processes found"
        os.kill(master.pid, signal.SIGKILL)
        master.wait()
        deadline = time.monotonic() + 20
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "workers kept serving after their master died"
        # the port is free again: a restart does not fail with "address already in use"
        again = _serve(index, port, workers=1)
        try:
            _wait_healthy(port)
        finally:
            again.terminate()
            again.wait(timeout=20)
    finally:
        if master.poll() is None:
            os.killpg(master.pid, signal.SIGKILL)
            master.wait()


def _raw(port: int, payload: bytes, pause: float = 0.0, chunks: int = 1, read_timeout: float = 20) -> bytes:
    """Send ``payload`` (in ``chunks`` pieces, ``pause`` seconds apart) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        step = max(1, len(payload) // chunks)
        try:
            for i in range(0, len(payload), step):
                s.sendall(payload[i:i + step])
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


def test_http_limits_on_a_real_server(small_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.duckdb"
    shutil.copy(small_index, index)
    port = _free_port()
    env = {**os.environ, "BX_JWT_SECRET": SECRET}
    server = subprocess.Popen([str(Path(sys.executable).parent / "bx"), "serve", "--index", str(index), "--port",
                               str(port), "--header-timeout", "2"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_healthy(port)
        # a slowloris: headers a few bytes at a time, never finished
        started = time.monotonic()
        answer = _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40, pause=0.5, chunks=40)
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 15
        # a connection that sends nothing at all is closed too
        assert _raw(port, b"", read_timeout=10).startswith(b"HTTP/1.1 408")
        # headers of 60 KB
        answer = _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 60_000 + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 431")
        # a chunked body past the limit: 413 in the documented JSON shape
        body = b"a" * 70_000
        request = (b"POST /api/v1/screening HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        answer = _raw(port, request)
        assert answer.startswith(b"HTTP/1.1 413") and b'"errors"' in answer
        # and ordinary requests still work
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert response.status == 200 and "server" not in {k.lower() for k in response.headers}
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_no_submission_lost_or_doubled_when_workers_and_master_are_killed(small_index: Path, tmp_path: Path) -> None:
    """A burst of submissions, each retried with its Idempotency-Key until answered, while a worker
    and then the master are killed with SIGKILL (the master is started again): every submission is
    stored exactly once."""
    import json
    import sqlite3
    import threading

    import duckdb

    from business_index.api.auth import issue_token

    index = tmp_path / "index.duckdb"
    shutil.copy(small_index, index)
    with duckdb.connect(str(index), read_only=True) as con:
        uprns = [u for (u,) in con.execute(
            "SELECT uprn FROM addresses WHERE logical_status = 1 ORDER BY uprn LIMIT 40").fetchall()]
    store = tmp_path / "submissions.sqlite3"
    port = _free_port()

    def start() -> subprocess.Popen[bytes]:
        env = {**os.environ, "BX_JWT_SECRET": SECRET, "BX_STORE": str(store)}
        return subprocess.Popen([str(Path(sys.executable).parent / "bx"), "serve", "--index", str(index), "--port",
                                 str(port), "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    token = issue_token(SECRET, "officer-1", ["submit"])
    answered: dict[int, int] = {}
    deadline = time.monotonic() + 120

    def submit(n: int, uprn: int) -> None:
        body = json.dumps({"uprn": uprn, "businessName": f"Shop {n}"}).encode()
        while time.monotonic() < deadline:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/business-name-submissions", data=body, method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                         "Idempotency-Key": f"burst-{n}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    answered[n] = response.status
                    return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    answered[n] = exc.code
                    return
            except OSError:
                pass
            time.sleep(0.2)

    master = start()
    try:
        _wait_healthy(port)
        threads = [threading.Thread(target=submit, args=(n, uprns[n % len(uprns)])) for n in range(60)]
        for thread in threads[:20]:
            thread.start()
        workers = {p for p in _children(master.pid) if "spawn" in Path(f"/proc/{p}/cmdline").read_text()}
        if workers:
            os.kill(next(iter(workers)), signal.SIGKILL)  # a worker dies mid-burst
        for thread in threads[20:40]:
            thread.start()
        os.killpg(master.pid, signal.SIGKILL)  # then the whole server
        master.wait()
        time.sleep(1)
        master = start()  # and is started again, while clients retry
        for thread in threads[40:]:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.killpg(master.pid, signal.SIGKILL)
        master.wait()
    assert len(answered) == 60 and set(answered.values()) <= {200, 201}, answered
    with sqlite3.connect(store) as con:
        rows = con.execute("SELECT idempotency_key, count(*) FROM name_submissions GROUP BY 1").fetchall()
        audit = con.execute("SELECT count(*) FROM audit_log").fetchall()[0][0]
    assert len(rows) == 60 and all(n == 1 for _, n in rows)
    assert audit == 60
