"""Per-client request limits, shared by every worker of one server.

A client is its token's subject, else its address. Each limited kind of request (``auth_failures``,
``search``, ``screening``) allows so many requests a window (fixed windows of ``seconds``); past
that the answer is 429 with ``Retry-After``. Counts live in an SQLite file that ``bx serve`` puts
beside its other per-run state, so N workers share one count; a single process (and the tests)
may keep them in memory.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: int


WHAT = {"auth_failures": "failed authentications", "search": "searches", "screening": "screenings",
        "address_matches": "address-match batches", "page_submissions": "names sent"}


class RateLimited(Exception):
    def __init__(self, retry_after: int, what: str):
        super().__init__(f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after
        self.what = what


class RateLimiter:
    def __init__(self, limits: dict[str, Limit], path: Path | None = None):
        self.limits = limits
        self.path = path
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}
        self._noted: dict[str, set[tuple[str, int]]] = {}
        if path is not None:
            with self._connect() as con:
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("""CREATE TABLE IF NOT EXISTS hits (
                    kind TEXT, client TEXT, window INTEGER, n INTEGER, PRIMARY KEY (kind, client, window))""")

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, timeout=5, isolation_level=None)

    def _window(self, limit: Limit, now: float) -> int:
        return int(now // limit.seconds)

    def count(self, kind: str, client: str, add: int = 1) -> int:
        """Add ``add`` to the client's count in the current window; returns the count."""
        limit = self.limits[kind]
        window = self._window(limit, time.time())
        if add:
            noted = self._noted.setdefault(kind, set())
            if len(noted) > 100_000:
                noted.clear()
            noted.add((client, window))
        if self.path is None:
            with self._lock:
                key = (kind, client, window)
                self._counts[key] = self._counts.get(key, 0) + add
                if len(self._counts) > 100_000:  # forget past windows
                    self._counts = {k: v for k, v in self._counts.items() if k[2] >= window}
                return self._counts[key]
        with self._connect() as con:
            if not add:
                found = con.execute("SELECT n FROM hits WHERE kind = ? AND client = ? AND window = ?",
                                    (kind, client, window)).fetchone()
                return int(found[0]) if found else 0
            row = con.execute("""INSERT INTO hits VALUES (?, ?, ?, ?)
                                 ON CONFLICT (kind, client, window) DO UPDATE SET n = n + excluded.n
                                 RETURNING n""", (kind, client, window, add)).fetchone()
            if window % 16 == 0:
                con.execute("DELETE FROM hits WHERE window < ?", (window - 1,))
            return int(row[0])

    def check(self, kind: str, client: str, add: int = 1) -> None:
        """Count one request of ``kind``; raise ``RateLimited`` once the client is past its limit."""
        limit = self.limits.get(kind)
        if limit is None:
            return
        if self.count(kind, client, add) > limit.requests:
            raise RateLimited(self.retry_after(kind), WHAT.get(kind, kind))

    def noted(self, kind: str, client: str) -> bool:
        """Whether this process has counted a request of ``kind`` from ``client`` in the current
        window: only then can it be over its limit, so the shared count is asked only then (the
        busy path of a well-behaved client never touches it)."""
        limit = self.limits.get(kind)
        return limit is not None and (client, self._window(limit, time.time())) in self._noted.get(kind, set())

    def over(self, kind: str, client: str) -> bool:
        limit = self.limits.get(kind)
        return limit is not None and self.noted(kind, client) and self.count(kind, client, add=0) >= limit.requests

    def retry_after(self, kind: str) -> int:
        limit = self.limits[kind]
        now = time.time()
        return max(1, math.ceil((self._window(limit, now) + 1) * limit.seconds - now))
