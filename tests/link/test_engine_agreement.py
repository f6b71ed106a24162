"""Agreement of two runs over pairs of records, counted from group sizes."""

from __future__ import annotations

import itertools
import random

from business_index.link.engine_agreement import pairwise_agreement


def _pairs(grouping: dict[str, str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in itertools.combinations(sorted(grouping), 2) if grouping[a] == grouping[b]}


def test_a_split_and_a_merge_are_counted_and_shown() -> None:
    a = {"r1": "A", "r2": "A", "r3": "A", "r4": "B"}
    b = {"r1": "x", "r2": "x", "r3": "y", "r4": "y"}
    agreement = pairwise_agreement(a, b)
    assert (agreement.pairs_a, agreement.pairs_b, agreement.pairs_both) == (3, 2, 1)
    assert agreement.agreement == 1 / 4
    assert agreement.only_a == [("r1", "r3")] and agreement.only_b == [("r3", "r4")]


def test_identical_groupings_and_groupings_without_pairs_agree() -> None:
    a = {"r1": "A", "r2": "A", "r3": "B"}
    assert pairwise_agreement(a, {"r1": "z", "r2": "z", "r3": "q"}).agreement == 1.0
    assert pairwise_agreement({"r1": "A"}, {"r1": "B"}).agreement == 1.0


def test_a_record_missing_from_one_run_is_in_no_pair_there() -> None:
    agreement = pairwise_agreement({"r1": "A", "r2": "A"}, {"r1": "A"})
    assert (agreement.pairs_a, agreement.pairs_b, agreement.agreement) == (1, 0, 0.0)
    assert agreement.only_a == [("r1", "r2")]


def test_counts_match_listing_every_pair() -> None:
    rng = random.Random(4)
    for _ in range(50):
        keys = [f"r{i}" for i in range(rng.randint(2, 40))]
        a = {k: rng.choice("ABCD") for k in keys}
        b = {k: rng.choice("wxyz") for k in keys if rng.random() < 0.9}
        pa, pb = _pairs(a), _pairs(b)
        agreement = pairwise_agreement(a, b)
        assert (agreement.pairs_a, agreement.pairs_b, agreement.pairs_both) == (len(pa), len(pb), len(pa & pb))
        assert all(pair in pa - pb for pair in agreement.only_a)
