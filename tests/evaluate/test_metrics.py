from business_index.evaluate.metrics import pairwise_clustering, prf


def test_prf() -> None:
    assert prf(8, 10, 16) == {"precision": 0.8, "recall": 0.5, "f1": 0.61538, "true_positives": 8, "predicted": 10,
                              "actual": 16}
    assert prf(0, 0, 0)["precision"] == 1.0


def test_pairwise_clustering_counts_pairs() -> None:
    # truth: {a,b,c} {d}; predicted: {a,b} {c,d}
    scores = pairwise_clustering([("p1", "t1"), ("p1", "t1"), ("p2", "t1"), ("p2", "t2")])
    assert (scores["true_positives"], scores["predicted"], scores["actual"]) == (1, 2, 3)
    perfect = pairwise_clustering([("p1", "t1"), ("p1", "t1"), ("p2", "t2")])
    assert perfect["f1"] == 1.0
