"""Precision, recall and F1, and pairwise clustering scores computed from cluster sizes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def prf(true_positives: int, predicted: int, actual: int) -> dict[str, float | int]:
    precision = true_positives / predicted if predicted else 1.0
    recall = true_positives / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "true_positives": true_positives, "predicted": predicted, "actual": actual}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_clustering(assignments: Iterable[tuple[str, str]]) -> dict[str, float | int]:
    """Pairwise precision/recall/F1 of predicted clusters against true ones.

    ``assignments`` is (predicted cluster, true cluster) per record; a pair of records is predicted
    linked when they share a predicted cluster, and truly linked when they share a true one.
    """
    pairs = list(assignments)
    predicted = sum(_pairs(n) for n in Counter(p for p, _ in pairs).values())
    actual = sum(_pairs(n) for n in Counter(t for _, t in pairs).values())
    both = sum(_pairs(n) for n in Counter(pairs).values())
    return prf(both, predicted, actual)


class CannotScore(Exception):
    """The build and the truth (or labels) share too few records for a score to mean anything."""


def check_paired(paired: int, of: int, what: str, least_share: float) -> None:
    """Refuse to score when fewer than ``least_share`` of ``of`` records could be paired up."""
    if of == 0 or paired < least_share * of:
        raise CannotScore(f"only {paired:,} of {of:,} {what} could be paired up (at least {least_share:.0%} "
                          "needed): is this the index of the same files?")
