"""Named SQL steps and the one small runner that runs them.

A step is a name, the tables it reads, the tables it writes and its SQL. Declaring the reads and
writes lets the runner check, before any SQL runs, that every table a step reads was written by an
earlier step or is already in the database, show the plan (``plan``), and time each step; after a
step it checks that the step wrote what it declared, so a renamed table fails at the step that
lost it, naming it, rather than three steps later as "table not found".
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb


class StepError(RuntimeError):
    """A plan that reads a table nothing writes, or a step that did not write what it declared."""


@dataclass(frozen=True)
class SqlStep:
    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    sql: str


def plan(steps: Sequence[SqlStep]) -> list[str]:
    """One line per step, in order: its name, what it reads and what it writes."""
    return [f"{step.name}: {', '.join(step.reads) or 'nothing'} -> {', '.join(step.writes)}" for step in steps]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def check_plan(steps: Sequence[SqlStep], available: Iterable[str]) -> None:
    """Refuse a plan in which a step reads a table that is neither ``available`` nor written by an
    earlier step."""
    known = set(available)
    for step in steps:
        missing = [table for table in step.reads if table not in known]
        if missing:
            raise StepError(f"step {step.name} reads {', '.join(missing)}, which no earlier step writes "
                            "and the database does not hold")
        known.update(step.writes)


def run_steps(con: duckdb.DuckDBPyConnection, steps: Sequence[SqlStep],
              timings: dict[str, float] | None = None) -> dict[str, float]:
    """Run ``steps`` in order on ``con`` after checking the plan; the seconds each took, by name
    (also added to ``timings`` when given)."""
    check_plan(steps, _tables(con))
    seconds: dict[str, float] = {}
    for step in steps:
        started = time.perf_counter()
        con.execute(step.sql)
        seconds[step.name] = time.perf_counter() - started
        missing = [table for table in step.writes if table not in _tables(con)]
        if missing:
            raise StepError(f"step {step.name} did not write {', '.join(missing)}")
    if timings is not None:
        timings.update(seconds)
    return seconds
