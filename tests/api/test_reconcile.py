"""OpenRefine reconciliation (v0.2): requests shaped like OpenRefine's, answers checked against the
specification's JSON Schemas (copied beside this file, with their licence notice)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings
from business_index.store.submissions import SubmissionStore
from tests.api.test_api import SECRET, bearer

SCHEMAS = Path(__file__).parent / "reconciliation_schemas"
_loaded = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
REGISTRY = Registry().with_resources(
    # the schemas name the generic meta-schema; they are Draft 7, resolved here without a network
    (schema["$id"], Resource(contents=schema, specification=DRAFT7)) for schema in _loaded.values() if "$id" in schema)


def valid(schema: str, instance: Any) -> None:
    errors = list(Draft7Validator(_loaded[schema], registry=REGISTRY).iter_errors(instance))
    assert not errors, [e.message for e in errors[:3]]


@pytest.fixture(scope="module")
def client(small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    store = SubmissionStore(f"sqlite:///{tmp_path_factory.mktemp('store') / 'submissions.sqlite3'}")
    return TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))


@pytest.fixture(scope="module")
def supplier(small_borough: Path, small_index: Path) -> dict[str, Any]:
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())["eighteen_way_supplier"]
    with duckdb.connect(str(small_index), read_only=True) as con:
        spellings = [r[0] for r in con.execute("""
            SELECT DISTINCT coalesce(b.trading_name, b.name) FROM business_records b
            JOIN record_links l USING (record_id) WHERE l.uprn IN (SELECT unnest(?::BIGINT[]))
              AND lower(coalesce(b.trading_name, b.name)) LIKE lower(?) || '%'""",
            [cases["uprns"], cases["trading_name"].split()[0]]).fetchall()]
    return {**cases, "spellings": spellings}


def reconcile(client: TestClient, queries: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    if method == "POST":
        answer = client.post("/reconcile", data={"queries": json.dumps(queries)}, headers=bearer("read"))
    else:
        answer = client.get("/reconcile", params={"queries": json.dumps(queries)}, headers=bearer("read"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    body: dict[str, Any] = answer.json()
    valid("reconciliation-result-batch.json", body)
    return body


def test_the_manifest(client: TestClient) -> None:
    answer = client.get("/reconcile", headers=bearer("read"))
    assert answer.headers["access-control-allow-origin"] == "*"
    valid("manifest.json", answer.json())
    assert {t["id"] for t in answer.json()["defaultTypes"]} == {"business"}
    assert client.get("/reconcile").status_code == 401  # scopes as for the API
    preflight = client.options("/reconcile", headers={"Origin": "https://example.org",
                                                       "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"


def test_the_supplier_reconciles_to_one_business_from_any_spelling(client: TestClient, supplier: dict[str, Any]) -> None:
    spellings = supplier["spellings"]
    assert len(spellings) >= 10
    queries = {f"q{i}": {"query": s, "type": "business", "limit": 3} for i, s in enumerate(spellings)}
    valid("reconciliation-query-batch.json", queries)
    answers = reconcile(client, queries)
    tops = {answers[k]["result"][0]["id"] for k in queries}
    assert len(tops) == 1  # one business, whatever the spelling
    for key in queries:  # every spelling is on record: an exact name, auto-matched
        assert answers[key]["result"][0]["match"] is True, queries[key]
    # a spelling nobody wrote finds it too, but is not auto-matched
    typo = reconcile(client, {"q0": {"query": supplier["trading_name"].replace("a", "e", 1) + " Limted"}}, method="GET")
    assert typo["q0"]["result"][0]["id"] in tops and typo["q0"]["result"][0]["match"] is False
    # an id as the query is that business
    by_id = reconcile(client, {"q0": {"query": tops.pop()}})
    assert by_id["q0"]["result"][0]["match"] is True and by_id["q0"]["result"][0]["score"] == 100


def test_properties_move_the_score(client: TestClient, supplier: dict[str, Any], small_index: Path) -> None:
    with duckdb.connect(str(small_index), read_only=True) as con:
        postcode = con.execute("SELECT postcode FROM addresses WHERE uprn = ?", [supplier["uprns"][0]]).fetchone()[0]
    name = supplier["trading_name"]
    plain = reconcile(client, {"q0": {"query": name}})["q0"]["result"][0]
    near = reconcile(client, {"q0": {"query": name, "properties": [{"pid": "postcode", "v": postcode.lower()}]}})
    far = reconcile(client, {"q0": {"query": name, "properties": [{"pid": "postcode", "v": "ZZ99 9ZZ"},
                                                                  {"pid": "company_number", "v": "01234567"}]}})
    assert near["q0"]["result"][0]["id"] == plain["id"]
    assert far["q0"]["result"][0]["score"] < near["q0"]["result"][0]["score"]
    assert far["q0"]["result"][0]["match"] is False


def test_addresses_reconcile_to_properties(client: TestClient, small_index: Path) -> None:
    with duckdb.connect(str(small_index), read_only=True) as con:
        uprn, line, postcode = con.execute("""
            SELECT uprn, regexp_replace(single_line_address, ', [A-Z0-9 ]+$', ''), postcode FROM addresses
            WHERE logical_status = 1 AND NOT starts_with(classification, 'P') ORDER BY uprn LIMIT 1""").fetchone()
    answers = reconcile(client, {"q0": {"query": line.lower(), "type": "property",
                                        "properties": [{"pid": "postcode", "v": postcode}]},
                                 "q1": {"query": "1 Nowhere Road", "type": "property"}})
    assert answers["q0"]["result"][0]["id"] == str(uprn) and answers["q0"]["result"][0]["match"] is True
    assert all(not c["match"] for c in answers["q1"]["result"])


def test_suggest_preview_and_extend(client: TestClient, supplier: dict[str, Any]) -> None:
    first_word = supplier["trading_name"].split()[0]
    entities = client.get("/reconcile/suggest/entity", params={"prefix": first_word}, headers=bearer("read")).json()
    valid("suggest-entities-response.json", entities)
    business = next(e["id"] for e in entities["result"] if e["name"].lower() == supplier["trading_name"].lower())
    assert client.get("/reconcile/suggest/entity", params={"prefix": business},
                      headers=bearer("read")).json()["result"][0]["id"] == business
    valid("suggest-types-response.json", client.get("/reconcile/suggest/type", params={"prefix": "b"},
                                                    headers=bearer("read")).json())
    valid("suggest-properties-response.json", client.get("/reconcile/suggest/property", params={"prefix": "post"},
                                                         headers=bearer("read")).json())
    proposals = client.get("/reconcile/propose_properties", params={"type": "business"}, headers=bearer("read")).json()
    valid("data-extension-property-proposal.json", proposals)
    request = {"ids": [business, str(supplier["uprns"][0])],
               "properties": [{"id": p} for p in ("name", "uprn", "address", "rateable_value", "licence_count",
                                                   "spellings", "company_number")]}
    valid("data-extension-query.json", request)
    answer = client.post("/reconcile", data={"extend": json.dumps(request)}, headers=bearer("read"))
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    valid("data-extension-response.json", answer.json())
    row = answer.json()["rows"][business]
    assert sorted(int(c["str"]) for c in row["uprn"]) == sorted(supplier["uprns"])
    assert row["spellings"][0]["int"] >= 10 and row["company_number"] == []
    card = client.get("/reconcile/preview", params={"id": business}, headers=bearer("read"))
    assert card.status_code == 200 and supplier["trading_name"].upper() in card.text.upper()
    assert "frame-ancestors *" in card.headers["content-security-policy"]
    assert client.get("/reconcile/preview", params={"id": "ONOPE"}, headers=bearer("read")).status_code == 404


def test_anonymous_only_when_switched_on(small_index: Path, tmp_path: Path) -> None:
    store = SubmissionStore(f"sqlite:///{tmp_path / 'submissions.sqlite3'}")
    open_client = TestClient(create_app(small_index, AuthSettings(secret=SECRET, anonymous_read=True), store))
    assert open_client.get("/reconcile").status_code == 200
