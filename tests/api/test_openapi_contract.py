"""Schemathesis over the published OpenAPI: generated requests to every operation, with a token
holding every scope, must never get a server error or a response that breaks the schema."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"
TOKEN = issue_token(SECRET, "contract-test", ["read", "submit", "review", "admin"])
EXAMPLES_PER_OPERATION = 60
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def _operations(index: Path, store_dir: Path) -> list:  # type: ignore[type-arg]
    store = SubmissionStore(f"sqlite:///{store_dir / 'submissions.sqlite3'}")
    spec = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(index, AuthSettings(secret=SECRET), store))
    return [result.ok() for result in spec.get_all_operations()]


def test_no_server_error_and_every_response_fits_the_schema(small_index: Path, tmp_path: Path) -> None:
    operations = _operations(small_index, tmp_path)
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fits_the_schema(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

        fits_the_schema()
