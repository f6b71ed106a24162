"""How far two linkage runs agree (two engines, or two versions): over pairs of records, which pairs
one run puts together and the other does too.

For each grouping (name clusters, establishments, organisations) the pairs of records in one group
are counted for run A, for run B and for both, from the table of group sizes (no pair is listed,
so a chain of a thousand records costs nothing), and agreement is the pairs put together by both
over the pairs put together by either (1.0 when both put no pair together). A record in one run
only, or without a group, is in no pair.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from business_index.link.businesses import NameEngine

Grouping = Mapping[str, str]  # record key -> group id


@dataclass
class Agreement:
    pairs_a: int
    pairs_b: int
    pairs_both: int
    # a few pairs (record keys) that one run puts together and the other does not
    only_a: list[tuple[str, str]] = field(default_factory=list)
    only_b: list[tuple[str, str]] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        either = self.pairs_a + self.pairs_b - self.pairs_both
        return 1.0 if either == 0 else self.pairs_both / either

    def as_dict(self) -> dict[str, object]:
        return {"agreement": self.agreement, "pairs_a": self.pairs_a, "pairs_b": self.pairs_b,
                "pairs_both": self.pairs_both, "only_a": self.only_a, "only_b": self.only_b}


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_agreement(a: Grouping, b: Grouping, examples: int = 5) -> Agreement:
    """The pairs of records ``a`` and ``b`` each put in one group, and both."""
    keys = a.keys() & b.keys()
    both = Counter((a[k], b[k]) for k in keys)
    agreement = Agreement(pairs_a=_pairs(Counter(a.values()).values()),
                          pairs_b=_pairs(Counter(b.values()).values()),
                          pairs_both=_pairs(both.values()))
    agreement.only_a = _split_pairs(a, b, examples)
    agreement.only_b = _split_pairs(b, a, examples)
    return agreement


def _split_pairs(a: Grouping, b: Grouping, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` pairs in one group of ``a`` that ``b`` keeps apart (a record without a group
    in ``b`` is apart from every other)."""
    members: dict[str, list[str]] = defaultdict(list)
    for key, group in sorted(a.items()):
        members[group].append(key)
    found: list[tuple[str, str]] = []
    for keys in members.values():
        first_of: dict[str, str] = {}
        for key in keys:
            first_of.setdefault(b.get(key) or f"\0{key}", key)
        if len(first_of) > 1:
            first, second = list(first_of.values())[:2]
            found.append((first, second))
            if len(found) >= limit:
                break
    return found


class KeepNameClusters:
    """A ``NameEngine`` that runs another (None: DuckDB's) and keeps the name clusters it made, by
    record key (source|source_record_id), in ``kept``."""

    def __init__(self, inner: NameEngine | None = None) -> None:
        self.inner = inner
        self.kept: dict[str, str] = {}

    def __call__(self, con: duckdb.DuckDBPyConnection, splink_settings: dict, threshold: float,
                 seconds: dict[str, float]) -> int:
        from business_index.link.businesses import cluster_names_with_duckdb

        pairs = (self.inner or cluster_names_with_duckdb)(con, splink_settings, threshold, seconds)
        self.kept = dict(con.execute("""
            SELECT b.source || '|' || b.source_record_id, n.cluster_id
            FROM name_clusters n JOIN business_records b USING (record_id)""").fetchall())
        return pairs


def index_groupings(index: Path) -> dict[str, dict[str, str]]:
    """A published index's establishments and organisations, by record key."""
    with duckdb.connect(str(index), read_only=True) as con:
        rows = con.execute("SELECT record_key, establishment_id, organisation_id FROM record_establishments").fetchall()
    return {"establishments": {k: e for k, e, _ in rows if e is not None},
            "organisations": {k: o for k, _, o in rows if o is not None}}
