"""Which engine scores and clusters business names (``[link] engine``): Splink on DuckDB in the
build's own database (the default), or Splink on Spark (``spark_engine.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from business_index.config import LinkConfig
from business_index.link.businesses import NameEngine


def engine_problem(link: LinkConfig) -> str | None:
    """Why the configured engine cannot run here, or None."""
    if link.engine == "spark":
        from business_index.link.spark_engine import spark_problem

        problem = spark_problem(link.spark_master)
        if problem is None and link.spark_master and not link.spark_master.startswith("local") \
                and not link.spark_checkpoint_dir:
            problem = (f"master {link.spark_master} needs [link] spark_checkpoint_dir, a folder every node "
                       "can read (hdfs://, s3a://, dbfs:/), for Splink's intermediate tables")
        return problem
    return None


@contextmanager
def name_engine_for(link: LinkConfig, given: NameEngine | None = None) -> Iterator[NameEngine | None]:
    """``given`` if any, else the configured engine (None: DuckDB's). A Spark session started here
    is stopped on leaving."""
    if given is not None or link.engine == "duckdb":
        yield given
        return
    from business_index.link.spark_engine import SparkNameEngine

    engine = SparkNameEngine.from_settings(link)
    try:
        yield engine
    finally:
        engine.stop()
