"""The business model's inputs are named SQL steps over what earlier stages leave."""

from __future__ import annotations

from business_index.link.business_inputs import BUSINESS_INPUT_STEPS
from business_index.sql_steps import check_plan
from business_index.store.index_schema import PUBLISHED


def test_the_plan_reads_only_the_record_features_and_earlier_published_tables() -> None:
    earlier = {t.name for t in PUBLISHED if t.stage in ("store", "sources")} | {"record_features", "record_links"}
    check_plan(BUSINESS_INPUT_STEPS, earlier)
    assert {"business_inputs", "named_inputs"} <= {table for step in BUSINESS_INPUT_STEPS for table in step.writes}
