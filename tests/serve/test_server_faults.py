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
