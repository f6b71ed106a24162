"""``bx build --engine spark``: the business names scored and clustered by Splink on Spark (local
mode, two cores) give the same name clusters, establishments and organisations as on DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from business_index.build import build_index
from business_index.cli import app
from business_index.config import ConfigError, load_settings, with_engine
from business_index.link.engine_agreement import KeepNameClusters, index_groupings, pairwise_agreement
from business_index.link.engines import engine_problem, name_engine_for
from business_index.link.spark_engine import SparkNameEngine


def test_both_engines_group_the_same_records(small_borough: Path, spark_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(small_borough / "sources.toml")
    on_duckdb, on_spark = KeepNameClusters(), KeepNameClusters(spark_engine)
    duck = build_index(settings, tmp_path / "duckdb.duckdb", name_engine=on_duckdb)
    spark = build_index(settings, tmp_path / "spark.duckdb", name_engine=on_spark)
    assert spark.linking["businesses"]["pairs_scored"] == duck.linking["businesses"]["pairs_scored"] > 1000
    assert {"spark_session", "to_spark", "score_pairs", "cluster_names"} <= spark.linking["businesses"]["seconds"].keys()
    groupings = {"name clusters": (on_duckdb.kept, on_spark.kept)}
    by_duckdb, by_spark = index_groupings(duck.index), index_groupings(spark.index)
    groupings.update({kind: (by_duckdb[kind], by_spark[kind]) for kind in ("establishments", "organisations")})
    report = {kind: pairwise_agreement(a, b).as_dict() for kind, (a, b) in groupings.items()}
    print(json.dumps(report, indent=1))
    for kind, (a, b) in groupings.items():
        assert len(a) == len(b) > 500, kind
        agreement = pairwise_agreement(a, b)
        assert agreement.pairs_a > 500, kind  # records are put together: the comparison says something
        assert agreement.agreement == 1.0, (kind, agreement.as_dict())


def test_the_engine_is_a_setting_and_a_flag(small_borough: Path, tmp_path: Path) -> None:
    settings = load_settings(small_borough / "sources.toml")
    assert settings.link.engine == "duckdb"
    spark = with_engine(settings, "spark", "local[1]")
    assert (spark.link.engine, spark.link.spark_master) == ("spark", "local[1]")
    assert settings.link.engine == "duckdb"  # a copy
    with pytest.raises(ConfigError, match="add --engine spark"):
        with_engine(settings, None, "local[1]")
    with pytest.raises(ConfigError, match="use duckdb or spark"):
        with_engine(settings, "postgres", None)
    toml = (small_borough / "sources.toml").read_text()
    (tmp_path / "sources.toml").write_text(toml.replace("[[sources]]", '[link]\nengine = "sparky"\n\n[[sources]]', 1))
    with pytest.raises(ConfigError, match="link.engine"):
        load_settings(tmp_path / "sources.toml")


def test_a_cluster_without_a_checkpoint_folder_is_refused_before_any_work(small_borough: Path) -> None:
    settings = with_engine(load_settings(small_borough / "sources.toml"), "spark", "spark://cluster:7077")
    assert "spark_checkpoint_dir" in (engine_problem(settings.link) or "")
    settings.link.spark_checkpoint_dir = "hdfs:///tmp/bx"
    assert engine_problem(settings.link) is None
    assert engine_problem(with_engine(settings, "spark", "local[2]").link) is None


def test_bx_build_refuses_a_spark_master_without_spark(small_borough: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--config", str(small_borough / "sources.toml"), "--index",
                                      str(tmp_path / "i.duckdb"), "--spark-master", "local[2]"])
    assert result.exit_code != 0 and "add --engine spark" in result.output
    assert not (tmp_path / "i.duckdb").exists()


def test_the_configured_engine_is_the_one_used(small_borough: Path) -> None:
    settings = with_engine(load_settings(small_borough / "sources.toml"), "spark", "local[1]")
    with name_engine_for(settings.link) as engine:
        assert isinstance(engine, SparkNameEngine)
        assert (engine.master, engine.session) == ("local[1]", None)  # started only when names are scored
    with name_engine_for(load_settings(small_borough / "sources.toml").link) as engine:
        assert engine is None  # DuckDB's, in resolve_businesses


def test_a_given_session_gets_the_functions_too(spark_engine) -> None:  # type: ignore[no-untyped-def]
    given = SparkNameEngine(session=spark_engine.spark())
    assert given.jaro_winkler_function == "bx_jaro_winkler"
    given.stop()  # not its session: still running
    assert spark_engine.spark().sql("SELECT bx_jaro_winkler('DALSTONE CAFE', 'DALSTON CAFE')").first()[0] > 0.95
