"""A Spark engine in local mode, shared by the tests that run the business model on Spark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[object]:
    """Two cores and two shuffle partitions: other work shares this machine, and the data is small."""
    from business_index.link.spark_engine import SparkNameEngine

    engine = SparkNameEngine(master="local[2]", shuffle_partitions=2, conf={"spark.driver.memory": "2g"})
    yield engine
    engine.stop()
