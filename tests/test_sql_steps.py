"""The named-SQL-step runner: plans are checked before any SQL runs, each step is timed, and a
step that does not write what it declares fails naming itself."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from business_index.derive.establishments import APPROVED_NAME_SEARCH_STEPS, SUMMARY_STEPS
from business_index.derive.name_index import NAME_INDEX_STEPS
from business_index.link.business_inputs import BUSINESS_INPUT_STEPS
from business_index.sql_steps import SqlStep, StepError, check_plan, plan, run_steps

COUNT_PUBS = SqlStep("pub_counts", reads=("premises",), writes=("pub_counts",), sql="""
    CREATE TABLE pub_counts AS SELECT street, count(*) AS pubs FROM premises WHERE use = 'pub' GROUP BY street""")
BUSY_STREETS = SqlStep("busy_streets", reads=("pub_counts",), writes=("busy_streets",), sql="""
    CREATE TABLE busy_streets AS SELECT street FROM pub_counts WHERE pubs >= 2""")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE premises AS SELECT * FROM (VALUES ('High Street', 'pub'), ('High Street', 'pub'), "
                "('Mill Lane', 'pub'), ('Mill Lane', 'cafe')) t(street, use)")
    return con


def test_steps_run_in_order_each_timed(con: duckdb.DuckDBPyConnection) -> None:
    timings: dict[str, float] = {"earlier": 1.0}
    seconds = run_steps(con, (COUNT_PUBS, BUSY_STREETS), timings)
    assert list(seconds) == ["pub_counts", "busy_streets"] and all(s >= 0 for s in seconds.values())
    assert timings.keys() == {"earlier", "pub_counts", "busy_streets"}
    assert con.execute("SELECT street FROM busy_streets").fetchall() == [("High Street",)]


def test_a_plan_reading_what_nothing_wrote_fails_before_any_sql(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(StepError, match="step busy_streets reads pub_counts"):
        run_steps(con, (BUSY_STREETS, COUNT_PUBS))
    # nothing ran: the first step's table was never made
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'busy_streets'").fetchone() == (0,)


def test_a_step_that_does_not_write_what_it_declares_fails_naming_it(con: duckdb.DuckDBPyConnection) -> None:
    misnamed = SqlStep("pub_counts", reads=("premises",), writes=("pub_counts",),
                       sql="CREATE TABLE pub_count AS SELECT 1 AS pubs")
    with pytest.raises(StepError, match="step pub_counts did not write pub_counts"):
        run_steps(con, (misnamed,))


def test_plan_says_what_each_step_reads_and_writes() -> None:
    assert plan((COUNT_PUBS, BUSY_STREETS)) == ["pub_counts: premises -> pub_counts",
                                                "busy_streets: pub_counts -> busy_streets"]
    check_plan((COUNT_PUBS, BUSY_STREETS), available={"premises"})


def test_the_readme_shows_every_plan() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for line in plan((*BUSINESS_INPUT_STEPS, *SUMMARY_STEPS, *APPROVED_NAME_SEARCH_STEPS, *NAME_INDEX_STEPS)):
        assert line in readme, line
