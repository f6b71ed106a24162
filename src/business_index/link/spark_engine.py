"""Business names scored and clustered on Spark, through Splink's Spark back-end, with the same
model file as on DuckDB (``[link] engine = "spark"``, ``bx build --engine spark``).

Only the model's work moves: the inputs are prepared by the same SQL in DuckDB
(``business_inputs.py``), ``named_inputs`` goes to Spark as Parquet (written by DuckDB when the
checkpoint folder is local, else from Arrow by Spark), Splink's ``SparkAPI`` scores
the pairs with the model's settings written as Spark SQL (``spark_sql.py``) and clusters them at
the threshold, and the clusters (unique_id, cluster_id) come back as Arrow to make
``name_clusters``, from which establishments and organisations are made in DuckDB as before.

Nothing is downloaded at run time: pyspark brings Spark, Splink's Spark similarity functions
(``damerau_levenshtein``) are a jar inside the Splink wheel, and DuckDB's Jaro-Winkler
(``bx_jaro_winkler``) is a jar inside this package (``spark_udfs/``, its Java source beside it);
both are put on the session's classpath here (or with ``spark-submit --jars``; see the README).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import duckdb

from business_index.duckdb_utils import sql_literal
from business_index.link.businesses import write_name_clusters
from business_index.link.spark_sql import spark_model_settings
from business_index.link.splink_logging import SPLINK_LOG_LEVEL

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from business_index.config import LinkConfig

logger = logging.getLogger(__name__)

DEFAULT_LOCAL_MASTER = "local[2]"
# DuckDB's Jaro-Winkler as a Spark function (spark_udfs/java; rebuilt by spark_udfs/build.sh)
UDF_JAR = Path(__file__).parent / "spark_udfs" / "business-index-udfs.jar"
JARO_WINKLER_FUNCTION = "bx_jaro_winkler"
# and DuckDB's Damerau-Levenshtein, from the same jar
DAMERAU_LEVENSHTEIN_FUNCTION = "bx_damerau_levenshtein"


def spark_problem(master: str | None) -> str | None:
    """Why a Spark engine cannot start here, or None: pyspark missing, or Java missing for a local
    master (a cluster's executors bring their own)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: pip install 'business-index[spark]'"
    local = master is None or master.startswith("local")
    if local and not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return "Spark needs Java 17 or newer and `java` is not on the PATH (apt-get install openjdk-17-jre-headless)"
    return None


@dataclass
class SparkNameEngine:
    """A ``NameEngine`` (``businesses.py``) that runs Splink on Spark. The session is made on first
    use (or given: ``session=``) and kept for the next build in this process; ``stop()`` ends it
    when this engine made it."""

    master: str | None = None
    shuffle_partitions: int = 8
    conf: dict[str, str] = field(default_factory=dict)
    checkpoint_dir: str | None = None
    session: SparkSession | None = None
    _own_session: bool = False
    _scratch: str | None = None
    _jaro_winkler: str | None = None
    _ready: bool = False
    _inputs: list[str] = field(default_factory=list)  # input Parquet files written here, removed after use
    _written: list[str] = field(default_factory=list)  # folders Spark wrote to the checkpoint folder, likewise
    _cached: list[Any] = field(default_factory=list)  # frames kept in memory (no checkpoint folder), likewise

    @classmethod
    def from_settings(cls, link: LinkConfig) -> SparkNameEngine:
        return cls(master=link.spark_master, shuffle_partitions=link.spark_shuffle_partitions,
                   conf=dict(link.spark_conf), checkpoint_dir=link.spark_checkpoint_dir)

    def spark(self) -> SparkSession:
        if self.session is None:
            from pyspark.sql import SparkSession

            running = SparkSession.getActiveSession()
            self.session = self._start()
            self._own_session = running is None  # stop() ends only a session made here
        if not self._ready:
            from splink.backends.spark import SparkAPI

            SparkAPI(spark_session=self.session)  # registers Splink's similarity functions
            self._register_functions(self.session)
            self._ready = True
        # DuckDB's len(NULL list) is NULL; Spark's size(NULL) is too only with this off
        self.session.conf.set("spark.sql.legacy.sizeOfNull", "false")
        self.session.conf.set("spark.sql.shuffle.partitions", str(self.shuffle_partitions))
        return self.session

    @property
    def jaro_winkler_function(self) -> str | None:
        """The Spark function the model's Jaro-Winkler is written as (None: written out in SQL)."""
        self.spark()
        return self._jaro_winkler

    def _start(self) -> SparkSession:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        active = SparkSession.getActiveSession()
        if active is not None and self.master is None:
            return active  # a notebook's or spark-submit's session, as it was made
        master = self.master
        if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
            master = DEFAULT_LOCAL_MASTER  # neither the settings nor spark-submit name one
        builder = SparkSession.builder.appName("business-index")
        if master is not None:
            builder = builder.master(master)
        defaults = {"spark.sql.shuffle.partitions": str(self.shuffle_partitions),
                    "spark.ui.showConsoleProgress": "false"}
        if "PYSPARK_GATEWAY_PORT" not in os.environ:  # under spark-submit, its --jars gives the jars
            defaults["spark.jars"] = f"{similarity_jar_location()},{UDF_JAR}"
        if master is not None and master.startswith("local"):
            defaults.update({"spark.ui.enabled": "false", "spark.driver.memory": "4g"})
        for key, value in {**defaults, **self.conf}.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session

    def _register_functions(self, spark: SparkSession) -> None:
        """``bx_jaro_winkler`` and ``bx_damerau_levenshtein`` from this package's jar: on the
        classpath since the session started (``spark.jars``, ``--jars``), else added now (``ADD
        JAR``); where neither works (Spark Connect, a locked-down cluster) the translation writes
        Jaro-Winkler out in Spark SQL and uses Splink's Damerau-Levenshtein instead, with the same
        values, slower."""
        from pyspark.sql.types import DoubleType, LongType

        def register() -> None:
            spark.udf.registerJavaFunction(JARO_WINKLER_FUNCTION, "uk.gov.businessindex.DuckDBJaroWinkler", DoubleType())
            spark.udf.registerJavaFunction(DAMERAU_LEVENSHTEIN_FUNCTION, "uk.gov.businessindex.DuckDBDamerauLevenshtein",
                                           LongType())

        try:
            register()
        except Exception:  # noqa: BLE001 - pyspark raises what py4j and the JVM give
            try:
                spark.sql(f"ADD JAR '{UDF_JAR}'")
                register()
            except Exception as exc:  # noqa: BLE001
                logger.warning("%s could not be registered (%s); Jaro-Winkler is computed in Spark SQL",
                               JARO_WINKLER_FUNCTION, str(exc).splitlines()[0] if str(exc) else exc)
                self._jaro_winkler = None
                return
        self._jaro_winkler = JARO_WINKLER_FUNCTION

    def _checkpoints(self, spark: SparkSession) -> str | None:
        """Where Splink writes its intermediate tables as Parquet, cutting Spark's lineage (the
        clustering's iterations would otherwise plan ever longer queries): the configured folder,
        the session's checkpoint folder, or a temporary one for a local master; None on Databricks,
        where Splink writes Delta tables."""
        if self.checkpoint_dir:
            spark.sparkContext.setCheckpointDir(self.checkpoint_dir)
            return self.checkpoint_dir
        existing = spark.sparkContext._jsc.sc().getCheckpointDir()
        if not existing.isEmpty():
            return str(existing.get())
        if "DATABRICKS_RUNTIME_VERSION" in os.environ:
            return None
        if not (spark.sparkContext.master or "").startswith("local"):
            raise RuntimeError("[link] spark_checkpoint_dir: a Spark cluster needs a folder every node can "
                               "read (hdfs://, s3a://, dbfs:/) for Splink's intermediate tables")
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="bx-spark-")
        spark.sparkContext.setCheckpointDir(self._scratch)
        return self._scratch

    def stop(self) -> None:
        if self.session is not None and self._own_session:
            self.session.stop()
        self.session = None
        self._own_session = False
        self._ready = False
        self._drop_inputs()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _records(self, spark: SparkSession, con: duckdb.DuckDBPyConnection, checkpoints: str | None) -> DataFrame:
        """``named_inputs`` as a Spark table backed by Parquet in the checkpoint folder. Arrow given to
        ``createDataFrame`` becomes a ``LocalRelation``: every row held in the query plan and shipped
        inside the tasks of each scan, and Splink scans its input once per blocking rule on each side
        (22 scans here) and again to score; from Parquet each scan is a file read. DuckDB writes the
        file itself when the folder is local (much faster than Spark writing the Arrow table)."""
        name = f"bx_named_inputs_{uuid.uuid4().hex}"
        # only a local master's executors see this machine's disk: on a cluster a path without a
        # scheme is the cluster's file system (HDFS), so Spark writes the file there itself
        on_this_machine = (spark.sparkContext.master or "").startswith("local")
        local = _local_folder(checkpoints) if on_this_machine else None
        if local is not None:
            path = os.path.join(local, f"{name}.parquet")
            con.execute(f"COPY named_inputs TO {sql_literal(path)} (FORMAT parquet)")
            self._inputs.append(path)
            return spark.read.parquet(path)
        return self._materialise(spark, spark.createDataFrame(con.sql("SELECT * FROM named_inputs").to_arrow_table()),
                                 checkpoints, name)

    def __call__(self, con: duckdb.DuckDBPyConnection, splink_settings: dict, threshold: float,
                 seconds: dict[str, float]) -> int:
        from splink import Linker
        from splink.backends.spark import SparkAPI

        started = time.perf_counter()
        spark = self.spark()
        seconds["spark_session"] = time.perf_counter() - started
        started = time.perf_counter()
        lists = [name for name, kind in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'named_inputs'"
        ).fetchall() if kind.endswith("[]")]
        checkpoints = self._checkpoints(spark)
        splink_tables: list[Any] = []  # what Splink made, dropped (and the files written here removed) however it ends
        try:
            records = self._records(spark, con, checkpoints)
            db_api = SparkAPI(spark_session=spark, break_lineage_method="parquet" if checkpoints else None,
                              num_partitions_on_repartition=self.shuffle_partitions)
            linker = Linker(db_api.register(records), spark_model_settings(
                splink_settings, lists, self._jaro_winkler,
                DAMERAU_LEVENSHTEIN_FUNCTION if self._jaro_winkler else None),  # one jar gives both, or neither
                            log_level=SPLINK_LOG_LEVEL)
            seconds["to_spark"] = time.perf_counter() - started
            started = time.perf_counter()
            # Every blocked pair is scored and written, and the threshold applied after. Given the threshold,
            # Splink filters on the sum of the match weights in the same query, and Spark's optimizer pushes
            # that filter below the projections into the join, writing each weight's CASE out in full: the
            # name comparison (lambdas over lists, Jaro-Winkler of every pair of keys) was evaluated some
            # sixteen times per pair. The filter is Splink's own (match_weight >= the threshold's weight).
            scored = linker.inference.predict()
            splink_tables.append(scored)
            at_least = _match_weight(threshold)
            kept = scored.as_spark_dataframe()
            if at_least is not None:  # written, so that clustering reads these pairs only, not every pair scored
                kept = self._materialise(spark, kept.where(kept["match_weight"] >= at_least), checkpoints,
                                         f"bx_predictions_{uuid.uuid4().hex}")
            predictions = db_api.register(kept, table_name=f"bx_predictions_{uuid.uuid4().hex}")
            splink_tables.append(predictions)
            pairs = kept.count()
            seconds["score_pairs"] = time.perf_counter() - started
            started = time.perf_counter()
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold)
            splink_tables.append(clusters)
            found = clusters.as_spark_dataframe().select("unique_id", "cluster_id").toArrow()
            con.register("spark_name_clusters", found)
            try:
                write_name_clusters(con, "spark_name_clusters")
            finally:
                con.unregister("spark_name_clusters")
        finally:
            for table in reversed(splink_tables):
                with contextlib.suppress(Exception):  # a table Spark never wrote
                    table.drop_table_from_database_and_remove_from_cache()
            self._drop_inputs(spark)
        seconds["cluster_names"] = time.perf_counter() - started
        return int(pairs)

    def _materialise(self, spark: SparkSession, frame: DataFrame, checkpoints: str | None, name: str) -> DataFrame:
        """``frame`` written as Parquet to ``checkpoints`` and read back, where Splink writes its own
        tables (so that queries after read it rather than compute it again); kept in memory without
        one. Either is undone by ``_drop_inputs``."""
        if checkpoints is None:  # Databricks without a folder
            kept = frame.persist()
            self._cached.append(kept)
            return kept
        path = f"{checkpoints.rstrip('/')}/{name}"
        frame.write.mode("overwrite").parquet(path)
        self._written.append(path)
        return spark.read.parquet(path)

    def _drop_inputs(self, spark: SparkSession | None = None) -> None:
        """Remove what this engine wrote for one build: DuckDB's Parquet files here, Spark's folders
        on the checkpoint file system (through Hadoop's, whatever its scheme), cached frames."""
        for path in self._inputs:
            Path(path).unlink(missing_ok=True)
        self._inputs.clear()
        for frame in self._cached:
            with contextlib.suppress(Exception):
                frame.unpersist()
        self._cached.clear()
        jvm = spark.sparkContext._jvm if spark is not None else None
        if spark is not None and jvm is not None:
            for written in self._written:
                with contextlib.suppress(Exception):  # already gone, or the session ended
                    hadoop_path = jvm.org.apache.hadoop.fs.Path(written)
                    hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(hadoop_path, True)
        self._written.clear()


def _match_weight(probability: float) -> float | None:
    """The match weight of a match probability, as Splink's threshold filter takes it (None at 0:
    every pair)."""
    if probability <= 0:
        return None
    if probability >= 1:
        return math.inf
    return math.log2(probability / (1 - probability))


def _local_folder(folder: str | None) -> str | None:
    """``folder`` as a path on this machine when it is one (no scheme, or ``file:``), else None."""
    if folder is None:
        return None
    parsed = urlparse(folder)
    if parsed.scheme == "file":
        return parsed.path
    return folder if parsed.scheme == "" else None
