"""Approved names in answers before the next build.

A build copies the approved names of the submissions store into the index, where derivation ranks
them by ``[derive] name_precedence``. Between builds the API lays the store's approved names over
the index's answers by the same rank, so an approval shows at once and a rebuild changes nothing
about it. Each worker keeps the approved names in memory and re-reads them at most every
``approved_names_refresh_seconds``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date

from business_index.records import NameSourceKind
from business_index.store.submissions import ApprovedName, SubmissionStore

UNRANKED = 1000


@dataclass(frozen=True)
class ChosenName:
    business_name: str | None
    source_kind: str | None
    source: str | None
    date: date | None
    establishment_id: str | None


class ApprovedNames:
    def __init__(self, store: SubmissionStore, refresh_seconds: float):
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._names: dict[int, ApprovedName] = {}
        self._read_at = float("-inf")

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = float("-inf")

    def current(self) -> dict[int, ApprovedName]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.refresh_seconds:
                self._names = {a.uprn: a for a in self.store.approved_names()}
                self._read_at = time.monotonic()
            return self._names

    def choose(self, uprn: int, indexed: ChosenName, precedence: list[str]) -> ChosenName:
        """The name to show for ``uprn``: the index's choice, unless an approved name outranks it."""
        approved = self.current().get(uprn)
        if approved is None:
            return indexed
        rank = {kind: i for i, kind in enumerate(precedence)}
        if rank.get(NameSourceKind.APPROVED, UNRANKED) > rank.get(indexed.source_kind or "", UNRANKED):
            return indexed
        same = (indexed.business_name or "").casefold() == approved.business_name.casefold()
        return ChosenName(approved.business_name, NameSourceKind.APPROVED.value,
                          f"submission {approved.submission_id}", date.fromisoformat(approved.decided_at[:10]),
                          indexed.establishment_id if same else None)
