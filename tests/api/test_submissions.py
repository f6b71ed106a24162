"""Name submissions through the API: submit, retry safely, review, see the approved name at once,
export it for the gazetteer custodian, and find every write in the audit log."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"


def as_(subject: str, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject, list(scopes))}"}


OFFICER = as_("licensing-officer", "submit")
OTHER_OFFICER = as_("another-officer", "submit")
REVIEWER = as_("data-team", "read", "review")
ADMIN = as_("admin-1", "admin")


@pytest.fixture
def client(small_index: Path, store_url: str) -> Iterator[TestClient]:
    """The app over the small index, with its submissions in SQLite, then in PostgreSQL."""
    store = SubmissionStore(store_url)
    yield TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))
    store.close()


@pytest.fixture(scope="module")
def named_property(small_index: Path) -> dict[str, object]:
    """A live property whose derived name comes from the gazetteer, with its postcode."""
    with duckdb.connect(str(small_index), read_only=True) as con:
        uprn, postcode, name = con.execute("""
            SELECT a.uprn, a.postcode, p.business_name FROM addresses a JOIN property_names p USING (uprn)
            WHERE p.name_source_kind = 'gazetteer' AND a.logical_status = 1 ORDER BY a.uprn LIMIT 1""").fetchall()[0]
    return {"uprn": uprn, "postcode": postcode, "name": name}


def propose(client: TestClient, uprn: object, name: str, key: str | None = None, headers=OFFICER):  # type: ignore[no-untyped-def]
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/business-name-submissions", json={"uprn": uprn, "businessName": name},
                       headers={**headers, **extra})


def shown_name(client: TestClient, prop: dict[str, object]) -> str | None:
    body = client.get("/api/v1/addresses", params={"uprn": prop["uprn"]}, headers=REVIEWER).json()
    return body["addresses"][0]["businessName"]


def test_submit_review_and_see_the_approved_name(client: TestClient, named_property: dict) -> None:
    response = propose(client, named_property["uprn"], "  Rosie's   Bakery ")
    assert response.status_code == 201, response.text
    submission = response.json()
    assert submission["status"] == "pending" and submission["businessName"] == "Rosie's Bakery"
    assert submission["nameAtSubmission"] == named_property["name"]
    assert response.headers["Location"].endswith(submission["submissionId"])
    assert shown_name(client, named_property) == named_property["name"]  # pending changes nothing

    decided = client.post(f"/api/v1/business-name-submissions/{submission['submissionId']}/decision",
                          json={"decision": "approve", "reason": "checked on site"}, headers=REVIEWER)
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert decided.json()["decidedBy"] == "data-team"
    # the approved name is the property's name at once, before any rebuild
    assert shown_name(client, named_property) == "Rosie's Bakery"
    detail = client.get(f"/api/v1/properties/{named_property['uprn']}", headers=REVIEWER).json()
    assert detail["nameSourceKind"] == "approved" and detail["nameSource"] == f"submission {submission['submissionId']}"
    assert detail["otherCandidates"][0]["name"] == named_property["name"]

    # repeating the decision is harmless; contradicting it is a conflict
    path = f"/api/v1/business-name-submissions/{submission['submissionId']}/decision"
    assert client.post(path, json={"decision": "approve", "reason": "checked on site"},
                       headers=REVIEWER).status_code == 200
    assert client.post(path, json={"decision": "reject", "reason": "oops"}, headers=REVIEWER).status_code == 409

    audit = client.get("/api/v1/audit-log", params={"entity_id": submission["submissionId"]}, headers=ADMIN).json()
    assert [e["action"] for e in audit["entries"]] == ["submission.approved", "submission.created"]
    assert audit["entries"][0]["before"]["status"] == "pending" and audit["entries"][0]["actor"] == "data-team"
    assert audit["entries"][0]["after"]["decisionReason"] == "checked on site"


def test_llpg_updates_csv(client: TestClient, named_property: dict) -> None:
    approved = propose(client, named_property["uprn"], "Rosie's Bakery").json()
    rejected = propose(client, named_property["uprn"], "Not A Business").json()
    for submission, decision in ((approved, "approve"), (rejected, "reject")):
        client.post(f"/api/v1/business-name-submissions/{submission['submissionId']}/decision",
                    json={"decision": decision, "reason": "checked"}, headers=REVIEWER)
    response = client.get("/api/v1/llpg-updates", headers=REVIEWER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["uprn"], r["proposed_organisation"]) for r in rows] == [(str(named_property["uprn"]), "Rosie's Bakery")]
    assert rows[0]["llpg_organisation_now"] == named_property["name"] and rows[0]["approved_by"] == "data-team"
    later = client.get("/api/v1/llpg-updates", params={"since": rows[0]["approved_at"]}, headers=REVIEWER)
    assert len(list(csv.DictReader(io.StringIO(later.text)))) == 0
    assert client.get("/api/v1/llpg-updates", headers=OFFICER).status_code == 403


def test_an_approved_name_the_llpg_already_carries_is_not_exported_again(
        client: TestClient, named_property: dict) -> None:
    # another name is approved first, then the LLPG's own name is approved back
    for name in ("A Passing Name", str(named_property["name"]).upper()):
        submission = propose(client, named_property["uprn"], name).json()
        client.post(f"/api/v1/business-name-submissions/{submission['submissionId']}/decision",
                    json={"decision": "approve", "reason": "confirmed"}, headers=REVIEWER)
    llpg_name = str(named_property["name"]).upper()

    def proposed(params: dict[str, str]) -> list[str]:
        text = client.get("/api/v1/llpg-updates", params=params, headers=REVIEWER).text
        return [r["proposed_organisation"] for r in csv.DictReader(io.StringIO(text))]

    assert llpg_name not in proposed({}) and "A Passing Name" in proposed({})
    assert llpg_name in proposed({"include_applied": "true"})


def test_idempotency_key(client: TestClient, named_property: dict) -> None:
    first = propose(client, named_property["uprn"], "Rosie's Bakery", key="retry-1")
    again = propose(client, named_property["uprn"], "Rosie's Bakery", key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    different = propose(client, named_property["uprn"], "Something Else", key="retry-1")
    assert different.status_code == 422 and different.json()["errors"][0]["field"] == "Idempotency-Key"
    listed = client.get("/api/v1/business-name-submissions", headers=REVIEWER).json()
    assert listed["pagination"]["total"] == 1


def test_concurrent_retries_with_one_key_create_exactly_one(client: TestClient, named_property: dict) -> None:
    barrier = threading.Barrier(6)

    def attempt(_: int) -> tuple[int, str]:
        barrier.wait()
        response = propose(client, named_property["uprn"], "Rosie's Bakery", key="same-key")
        return response.status_code, response.json()["submissionId"]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert {status for status, _ in results} == {201} and len({i for _, i in results}) == 1
    assert client.get("/api/v1/business-name-submissions", headers=REVIEWER).json()["pagination"]["total"] == 1


def test_submitters_see_only_their_own(client: TestClient, named_property: dict) -> None:
    mine = propose(client, named_property["uprn"], "Rosie's Bakery").json()
    theirs = propose(client, named_property["uprn"], "Other Name", headers=OTHER_OFFICER).json()
    listed = client.get("/api/v1/business-name-submissions", headers=OFFICER).json()
    assert [s["submissionId"] for s in listed["submissions"]] == [mine["submissionId"]]
    assert client.get(f"/api/v1/business-name-submissions/{theirs['submissionId']}",
                      headers=OFFICER).status_code == 404
    assert client.get(f"/api/v1/business-name-submissions/{theirs['submissionId']}",
                      headers=REVIEWER).status_code == 200
    queue = client.get("/api/v1/business-name-submissions", params={"status": "pending"}, headers=REVIEWER).json()
    assert queue["pagination"]["total"] == 2


def test_bad_submissions(client: TestClient, named_property: dict) -> None:
    assert propose(client, 999_999_999_999, "Somewhere").json()["errors"][0]["field"] == "uprn"
    assert propose(client, named_property["uprn"], "   ").status_code == 400
    assert propose(client, named_property["uprn"], "x" * 201).status_code == 400
    response = client.post("/api/v1/business-name-submissions", json={"uprn": named_property["uprn"],
                           "businessName": "A", "note": "x" * 70_000}, headers=OFFICER)
    assert response.status_code == 413  # over the request size limit
    assert client.post("/api/v1/business-name-submissions/nope/decision", json={"decision": "approve", "reason": "x"},
                       headers=REVIEWER).status_code == 404
    assert client.post("/api/v1/business-name-submissions/nope/decision", json={"decision": "maybe", "reason": "x"},
                       headers=REVIEWER).status_code == 400


def test_request_line_limit_and_metrics(client: TestClient, named_property: dict) -> None:
    assert client.get("/api/v1/addresses", params={"query": "A" * 5000}, headers=REVIEWER).status_code == 414
    client.get("/api/v1/addresses", params={"postcode": named_property["postcode"]}, headers=REVIEWER)
    client.get(f"/api/v1/properties/{named_property['uprn']}", headers=REVIEWER)
    metrics = client.get("/metrics", headers=ADMIN)
    assert metrics.status_code == 200
    assert 'bx_http_requests_total{method="GET",route="/api/v1/addresses",status="200"}' in metrics.text
    # routes are labelled by their template, so UPRNs never become label values
    assert 'route="/api/v1/properties/{uprn}"' in metrics.text and str(named_property["uprn"]) not in metrics.text


def test_submitting_the_name_a_property_already_has_says_so(client: TestClient, named_property: dict) -> None:
    shown = shown_name(client, named_property)
    assert shown
    response = propose(client, named_property["uprn"], shown.upper())
    assert response.status_code == 409
    assert "already has this business name" in response.json()["errors"][0]["message"]
