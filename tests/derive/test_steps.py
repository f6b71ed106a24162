"""The derive stage's named SQL steps agree with the published tables."""

from __future__ import annotations

from business_index.derive.establishments import APPROVED_NAME_SEARCH_STEPS, SUMMARY_STEPS
from business_index.derive.name_index import NAME_INDEX_STEPS
from business_index.sql_steps import check_plan
from business_index.store.index_schema import PUBLISHED

# what linking leaves for derive besides the published tables: its working tables of record features
LINK_WORKING_TABLES = {"record_features", "business_inputs"}
WRITTEN_IN_PYTHON = {"name_candidates", "property_names"}  # derive_property_names applies the precedence


def test_the_derive_plan_reads_only_what_earlier_stages_and_steps_write() -> None:
    earlier = {t.name for t in PUBLISHED if t.stage != "derive"} | LINK_WORKING_TABLES
    check_plan(SUMMARY_STEPS, earlier)
    check_plan(APPROVED_NAME_SEARCH_STEPS, earlier | {t.name for t in PUBLISHED})


def test_every_published_derive_table_is_written_by_a_declared_step() -> None:
    written = {table for step in (*SUMMARY_STEPS, *APPROVED_NAME_SEARCH_STEPS, *NAME_INDEX_STEPS)
               for table in step.writes}
    published_by_derive = {t.name for t in PUBLISHED if t.stage == "derive"}
    assert published_by_derive - WRITTEN_IN_PYTHON <= written
    # a step's table is either published or a working table dropped before publishing
    assert written - published_by_derive == {"unit_records"}
