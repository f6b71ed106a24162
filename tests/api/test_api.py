"""The REST API over a small built borough, through FastAPI's test client (a real app, real index)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.config import ServeConfig
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"


def bearer(*scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'tester', list(scopes))}"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SubmissionStore:
    return SubmissionStore(f"sqlite:///{tmp_path_factory.mktemp('store') / 'submissions.sqlite3'}")


@pytest.fixture(scope="module")
def client(small_index: Path, store: SubmissionStore) -> TestClient:
    return TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))


@pytest.fixture(scope="module")
def sample(small_index: Path) -> dict[str, object]:
    with duckdb.connect(str(small_index), read_only=True) as con:
        uprn, postcode = con.execute("""SELECT a.uprn, a.postcode FROM addresses a JOIN property_names p USING (uprn)
                                        WHERE p.establishment_id IS NOT NULL ORDER BY a.uprn LIMIT 1""").fetchall()[0]
        ndr_uprn = con.execute("""SELECT l.uprn FROM record_links l JOIN business_records b USING (record_id)
                                  WHERE b.record_type = 'ndr_account' AND b.holder_name IS NOT NULL
                                  ORDER BY l.uprn LIMIT 1""").fetchall()[0][0]
    return {"uprn": uprn, "postcode": postcode, "ndr_uprn": ndr_uprn}


def test_health_names_the_index_version(client: TestClient, small_index: Path) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and len(body["indexVersion"]) == 12
    assert body["checks"] == {"index": "ok", "submissions_store": "ok", "auth": "ok"}


def test_health_is_503_when_the_store_is_unreachable(small_index: Path, tmp_path: Path) -> None:
    store = SubmissionStore(f"sqlite:///{tmp_path / 'gone' / 'submissions.sqlite3'}")
    client = TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))
    (tmp_path / "gone" / "submissions.sqlite3").unlink()
    (tmp_path / "gone").rmdir()
    (tmp_path / "gone").write_text("not a folder")  # the store's folder is now a file: it cannot open
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["checks"]["submissions_store"].startswith("unavailable")


def test_postcode_lookup_in_any_case_and_spacing(client: TestClient, sample: dict) -> None:
    postcode = str(sample["postcode"])
    for written in (postcode, postcode.lower(), postcode.replace(" ", ""), f"  {postcode.lower()} "):
        response = client.get("/api/v1/addresses", params={"postcode": written}, headers=bearer("read"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pagination"]["total"] >= 1 and all(a["postcode"] == postcode for a in body["addresses"])
        assert {"uprn", "singleLineAddress", "businessName", "establishmentId"} <= set(body["addresses"][0])


def test_bad_input_is_400_with_errors(client: TestClient) -> None:
    response = client.get("/api/v1/addresses", params={"postcode": "NOT A POSTCODE"}, headers=bearer("read"))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "postcode"
    response = client.get("/api/v1/addresses", params={"postcode": "E8 1AB", "colour": "red"}, headers=bearer("read"))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "colour"
    response = client.get("/api/v1/addresses", params={"postcode": "E8 1AB", "page_size": 5000},
                          headers=bearer("read"))
    assert response.status_code == 400


def test_tokens_and_scopes(client: TestClient, sample: dict, small_index: Path, store: SubmissionStore) -> None:
    path = f"/api/v1/properties/{sample['uprn']}"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    assert client.get(path, headers=bearer("submit")).status_code == 403
    assert client.get(path, headers=bearer("read")).status_code == 200
    other = issue_token("another-secret-that-is-long-enough-for-hs256", "x", ["read"])
    assert client.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 401
    open_client = TestClient(create_app(small_index, AuthSettings(secret=SECRET, anonymous_read=True), store))
    assert open_client.get(path).status_code == 200


def test_property_detail_hides_personal_data_without_review(client: TestClient, sample: dict) -> None:
    path = f"/api/v1/properties/{sample['ndr_uprn']}"
    public = client.get(path, headers=bearer("read")).json()
    reviewer = client.get(path, headers=bearer("read", "review")).json()
    assert public["uprn"] == sample["ndr_uprn"] and public["linkedRecords"]
    assert all(r["holderName"] is None and r["accountRef"] is None for r in public["linkedRecords"])
    assert any(r["holderName"] for r in reviewer["linkedRecords"])
    assert client.get("/api/v1/properties/1", headers=bearer("read")).status_code == 404


def test_property_detail_gives_the_establishment_its_operator_and_the_history(
        client: TestClient, small_borough: Path, small_index: Path) -> None:
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    busy = cases["busy_premises"][0]  # four businesses over the years
    body = client.get(f"/api/v1/properties/{busy}", headers=bearer("read")).json()
    history = body["history"]
    assert len(history) >= 3 and sum(h["current"] for h in history) == 1
    assert history[0]["current"] and history[0]["establishmentId"] == body["establishmentId"]
    assert len({h["establishmentId"] for h in history}) == len(history)
    if body["organisation"] is not None:
        assert body["organisation"]["organisationId"] == history[0]["organisation"]["organisationId"]


def test_search_finds_the_supplier_by_any_spelling(client: TestClient, small_borough: Path) -> None:
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    trading = cases["eighteen_way_supplier"]["trading_name"]
    found = set()
    for spelling in (f"{trading} Ltd", trading.upper() + " LIMITED", trading.lower(), trading.replace("ies", "y")):
        body = client.get("/api/v1/organisations", params={"name": spelling}, headers=bearer("read")).json()
        assert body["organisations"], spelling
        found.add(body["organisations"][0]["organisationId"])
    assert len(found) == 1
    organisation = client.get(f"/api/v1/organisations/{found.pop()}", headers=bearer("read")).json()
    # one organisation, an establishment at each of its three premises
    assert sorted(e["uprn"] for e in organisation["establishments"]) == sorted(cases["eighteen_way_supplier"]["uprns"])
    assert sum(organisation["recordsBySource"].values()) >= 18
    establishments = client.get("/api/v1/establishments", params={"name": trading},
                                headers=bearer("read")).json()["establishments"]
    first = establishments[0]
    assert first["organisationId"] == organisation["organisationId"]
    detail = client.get(f"/api/v1/establishments/{first['establishmentId']}", headers=bearer("read")).json()
    assert detail["uprn"] in cases["eighteen_way_supplier"]["uprns"]
    assert detail["organisation"]["organisationId"] == organisation["organisationId"]
    for path in ("/api/v1/organisations/ONOPE", "/api/v1/establishments/ENOPE"):
        assert client.get(path, headers=bearer("read")).status_code == 404


def test_the_least_search_similarity_is_a_setting(small_index: Path, store: SubmissionStore,
                                                  small_borough: Path) -> None:
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    trading = cases["eighteen_way_supplier"]["trading_name"]
    slip = trading[:-2] + trading[-1] + trading[-2]  # the last two letters swapped
    found = {}
    for least in (0.85, 1.0):
        strict = TestClient(create_app(small_index, AuthSettings(secret=SECRET), store,
                                       ServeConfig(search_min_similarity=least)))
        for path in ("/api/v1/organisations", "/api/v1/establishments"):
            body = strict.get(path, params={"name": slip}, headers=bearer("read")).json()
            found[least, path] = [u["score"] for u in body[path.rsplit("/", 1)[1]]]
        screened = strict.post("/api/v1/screening", json={"name": slip}, headers=bearer("read")).json()
        found[least, "screening"] = [c["score"] for c in screened["candidates"]]
    for kind in ("/api/v1/organisations", "/api/v1/establishments", "screening"):
        assert found[0.85, kind] and min(found[0.85, kind]) >= 0.85, kind
        assert all(score == 1.0 for score in found[1.0, kind]), kind
        assert len(found[1.0, kind]) < len(found[0.85, kind]), kind


def test_openapi_is_published(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/api/v1/addresses" in spec["paths"]


def test_screening_returns_the_supplier_with_all_eighteen_spellings(
        client: TestClient, small_borough: Path, small_index: Path) -> None:
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    trading = cases["eighteen_way_supplier"]["trading_name"]
    for spelling in (f"{trading} Ltd", f"The {trading.lower()} co"):
        body = client.post("/api/v1/screening", json={"name": spelling}, headers=bearer("read", "review")).json()
        best = body["candidates"][0]
        with duckdb.connect(str(small_index), read_only=True) as con:
            spellings = {n for (n,) in con.execute("""SELECT DISTINCT b.name FROM business_records b
                JOIN record_establishments re USING (record_id) WHERE re.organisation_id = ?""",
                [best["organisationId"]]).fetchall()}
        assert len(spellings) == 18 and spellings <= set(best["recordedNames"]), best["recordedNames"]
        assert len(best["establishments"]) == 3 and sum(best["recordsBySource"].values()) == 18
    public = client.post("/api/v1/screening", json={"name": trading}, headers=bearer("read")).json()
    assert not any(" t/a " in n for n in public["candidates"][0]["recordedNames"])  # no proprietor's name
    assert client.post("/api/v1/screening", json={"name": "x"}, headers=bearer("read")).status_code == 400
    assert client.post("/api/v1/screening", json={"name": trading, "postcode": "nope"},
                       headers=bearer("read")).status_code == 400


PATH_EXAMPLES = {"{uprn}": "1", "{establishment_id}": "E1", "{organisation_id}": "O1", "{submission_id}": "S1"}


def _routes(app) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    """Every route of the app with a concrete path and the scopes it declares (none: public),
    including those of the routers the app includes."""
    routes = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", "")
        scopes = (getattr(route, "openapi_extra", None) or {}).get("x-scopes", [])
        for name, example in PATH_EXAMPLES.items():
            path = path.replace(name, example)
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, path, scopes))
    return routes


def test_auth_matrix_every_protected_route(small_index: Path, store: SubmissionStore) -> None:
    asgi = create_app(small_index, AuthSettings(secret=SECRET), store)
    client = TestClient(asgi)
    # the pages check their sign-in in the session (tests/web); here, the API's routes
    routes = [r for r in _routes(asgi.app) if r[1].startswith(("/api/", "/health", "/metrics"))]
    protected = [r for r in routes if r[2]]
    public = {path for _, path, scopes in routes if not scopes}
    # only the health check and the documentation are open
    assert public == {"/health", "/api/v1/openapi.json", "/api/v1/docs"}  # and the docs page's static assets
    assert len(protected) >= 12
    for method, path, scopes in protected:
        assert client.request(method, path).status_code == 401, (method, path)
        wrong = [s for s in ("read", "submit", "review") if s not in scopes][0]
        response = client.request(method, path, headers=bearer(wrong))
        assert response.status_code == 403, (method, path, wrong, response.text)
        # the right scope gets past the guard (to 2xx, or a 4xx about the request itself)
        right = client.request(method, path, headers=bearer(scopes[0]))
        assert right.status_code not in (401, 403, 500), (method, path, right.text)
