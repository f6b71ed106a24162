"""Nobody in, nothing out that should not be: tokens, headers, input hygiene, error shapes, CSV
cells, a broken index or store under a running server, and personal data on read-scope routes."""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.cli import app as cli
from business_index.config import ServeConfig
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"
AUDIENCE = "business-index"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.fixture
def index(small_index: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "index.duckdb"
    shutil.copy(small_index, copy)
    return copy


@pytest.fixture
def client(index: Path, tmp_path: Path) -> TestClient:
    return TestClient(create_app(index, AuthSettings(secret=SECRET), SubmissionStore(f"sqlite:///{tmp_path}/s.db")))


def test_tokens_must_expire_name_someone_and_not_live_too_long(client: TestClient) -> None:
    now = int(time.time())
    path = "/api/v1/establishments?name=cafe"
    good = {"sub": "app", "scope": "read", "aud": AUDIENCE, "iat": now, "exp": now + 600}
    assert client.get(path, headers=bearer(signed(good))).status_code == 200
    for bad in ({k: v for k, v in good.items() if k != "exp"},  # never expires
                {**good, "exp": str(now + 600)},  # a string, not a number of seconds
                {k: v for k, v in good.items() if k != "sub"},  # nobody
                {**good, "sub": " "},
                {**good, "exp": now + 400 * 24 * 3600},  # a year and more
                {**good, "exp": now - 5}):  # expired
        response = client.get(path, headers=bearer(signed(bad)))
        assert response.status_code == 401, bad
        assert response.json()["errors"][0]["message"].startswith("invalid token")


def test_an_expired_token_is_not_served_from_the_cache(client: TestClient) -> None:
    now = int(time.time())
    token = signed({"sub": "app", "scope": "read", "aud": AUDIENCE, "iat": now, "exp": now + 2})
    assert client.get("/api/v1/establishments?name=cafe", headers=bearer(token)).status_code == 200
    time.sleep(2.2)
    assert client.get("/api/v1/establishments?name=cafe", headers=bearer(token)).status_code == 401


def test_short_secrets_and_useless_tokens_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        AuthSettings(secret="x")
    with pytest.raises(ValueError, match="--hours"):
        issue_token(SECRET, "me", ["read"], hours=-5)
    monkeypatch.setenv("BX_JWT_SECRET", SECRET)
    result = CliRunner().invoke(cli, ["token", "--scope", "read", "--sub", "me", "--hours", "-5"])
    assert result.exit_code == 2 and "--hours" in result.output


def test_serve_refuses_what_it_cannot_serve(index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    not_an_index = tmp_path / "notes.duckdb"
    not_an_index.write_text("not an index")
    monkeypatch.setenv("BX_JWT_SECRET", SECRET)
    result = runner.invoke(cli, ["serve", "--index", str(not_an_index)])
    assert result.exit_code == 2 and "not a Business Index index" in result.output
    monkeypatch.delenv("BX_JWT_SECRET")
    result = runner.invoke(cli, ["serve", "--index", str(index)])
    assert result.exit_code == 2 and "no token secret or key" in result.output
    monkeypatch.setenv("BX_JWT_SECRET", "short")
    result = runner.invoke(cli, ["serve", "--index", str(index)])
    assert result.exit_code == 2 and "at least 32" in result.output


def test_health_says_what_is_down_never_where(index: Path, tmp_path: Path) -> None:
    no_key = TestClient(create_app(index, AuthSettings(), SubmissionStore(f"sqlite:///{tmp_path}/s.db")))
    body = no_key.get("/health")
    assert body.status_code == 503 and body.json()["checks"]["auth"].startswith("unavailable")
    client = TestClient(create_app(index, AuthSettings(secret=SECRET), SubmissionStore(f"sqlite:///{tmp_path}/s.db")))
    index.unlink()
    response = client.get("/health")
    assert response.status_code == 503 and str(tmp_path) not in response.text
    assert response.json()["checks"]["index"] == "unavailable: the index file is missing"


def test_a_vanished_or_broken_index_answers_503_in_the_documented_shape(index: Path, client: TestClient) -> None:
    token = issue_token(SECRET, "app", ["read"])
    assert client.get("/api/v1/establishments?name=cafe", headers=bearer(token)).status_code == 200
    index.unlink()
    response = client.get("/api/v1/establishments?name=cafe", headers=bearer(token))
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json()["errors"][0]["message"].startswith("the index is unavailable")
    index.write_text("garbage where the index was")
    response = client.get("/api/v1/properties/1", headers=bearer(token))
    assert response.status_code == 503 and response.headers["content-type"] == "application/json"


def test_security_headers_on_every_answer(client: TestClient) -> None:
    token = issue_token(SECRET, "app", ["read", "review"])
    for response in (client.get("/health"), client.get("/api/v1/establishments?name=cafe", headers=bearer(token)),
                     client.get("/api/v1/nowhere", headers=bearer(token))):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_errors_always_have_the_documented_shape(client: TestClient) -> None:
    token = issue_token(SECRET, "app", ["read", "submit"])
    for response in (client.get("/api/v1/nowhere", headers=bearer(token)),
                     client.delete("/api/v1/addresses", headers=bearer(token)),
                     client.post("/api/v1/screening", content=b"{not json", headers={
                         **bearer(token), "Content-Type": "application/json"})):
        body = response.json()
        assert response.status_code in (400, 404, 405) and "detail" not in body, body
        assert body["errors"] and all(set(e) == {"field", "message"} for e in body["errors"])
    invalid = client.post("/api/v1/screening", content=b"{not json",
                          headers={**bearer(token), "Content-Type": "application/json"}).json()
    assert invalid["errors"][0]["field"] is None


@pytest.mark.parametrize("body", [
    {"uprn": 1, "businessName": "Mare Street\u202eTailors"},  # a right-to-left override
    {"uprn": 1, "businessName": "Tailors\x00"},
    {"uprn": 1, "businessName": "Tailors", "note": "see \x1b[31m"},
    {"uprn": 1, "business_name": "Tailors"},  # snake case is not the API's name for it
    {"uprn": 1, "businessName": "Tailors", "colour": "red"},  # a field the API does not know
])
def test_submissions_refuse_hidden_characters_and_unknown_fields(client: TestClient, body: dict) -> None:
    token = issue_token(SECRET, "officer", ["submit"])
    response = client.post("/api/v1/business-name-submissions", json=body, headers=bearer(token))
    assert response.status_code == 400, response.text


def test_cors_only_for_configured_origins(index: Path, tmp_path: Path) -> None:
    config = ServeConfig(cors_origins=("https://licensing.example.gov.uk",))
    client = TestClient(create_app(index, AuthSettings(secret=SECRET), SubmissionStore(f"sqlite:///{tmp_path}/s.db"),
                                   config))
    asked = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    allowed = client.options("/api/v1/addresses", headers={"Origin": "https://licensing.example.gov.uk", **asked})
    assert allowed.headers.get("access-control-allow-origin") == "https://licensing.example.gov.uk"
    other = client.options("/api/v1/addresses", headers={"Origin": "https://evil.example", **asked})
    assert "access-control-allow-origin" not in other.headers


def test_csv_cells_that_a_spreadsheet_would_run_are_text(client: TestClient, small_index: Path,
                                                        tmp_path: Path) -> None:
    import duckdb

    with duckdb.connect(str(small_index), read_only=True) as con:
        uprn = con.execute("SELECT uprn FROM addresses WHERE logical_status = 1 ORDER BY uprn LIMIT 1").fetchall()[0][0]
    officer, reviewer = issue_token(SECRET, "o", ["submit"]), issue_token(SECRET, "r", ["review"])
    created = client.post("/api/v1/business-name-submissions", headers=bearer(officer), json={
        "uprn": uprn, "businessName": "=HYPERLINK(\"http://x\",\"y\")", "note": "+1+1"}).json()
    client.post(f"/api/v1/business-name-submissions/{created['submissionId']}/decision", headers=bearer(reviewer),
                json={"decision": "approve", "reason": "@SUM(A1)"})
    text = client.get("/api/v1/llpg-updates", headers=bearer(reviewer)).text
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["submission_id"] == created["submissionId"])
    assert row["proposed_organisation"].startswith("'=") and row["note"] == "'+1+1"
    assert row["decision_reason"] == "'@SUM(A1)"


def test_read_scope_never_finds_or_shows_a_personal_name(small_borough: Path, index: Path, tmp_path: Path) -> None:
    """Every proprietor and partner of the borough (sole traders' and partnerships' own names):
    no read-scope route finds a business by them or shows them; review scope finds them."""
    unlimited = ServeConfig(searches_per_minute=0, screenings_per_minute=0)
    client = TestClient(create_app(index, AuthSettings(secret=SECRET), SubmissionStore(f"sqlite:///{tmp_path}/s.db"),
                                   unlimited))
    with (small_borough / "truth" / "businesses.csv").open(newline="", encoding="utf-8") as handle:
        people = sorted({name for row in csv.DictReader(handle) if row["proprietor"]
                         for name in row["proprietor"].split(" & ")})
    assert len(people) > 50
    reader, reviewer = issue_token(SECRET, "app", ["read"]), issue_token(SECRET, "team", ["read", "review"])
    found_by_review = 0
    for person in people[:80]:
        for path in ("/api/v1/establishments", "/api/v1/organisations"):
            body = client.get(path, params={"name": person}, headers=bearer(reader)).json()
            units = body.get("establishments") or body.get("organisations") or []
            assert all(u["score"] < 1.0 for u in units), (person, units[:1])
            assert person.upper() not in str(body).upper()
        screened = client.post("/api/v1/screening", json={"name": person}, headers=bearer(reader)).json()
        assert "candidates" in screened, (person, screened)
        assert all(c["score"] < 1.0 for c in screened["candidates"])
        assert person.upper() not in str(screened["candidates"]).upper()
        reviewed = client.post("/api/v1/screening", json={"name": person}, headers=bearer(reviewer)).json()
        found_by_review += any(c["score"] == 1.0 for c in reviewed["candidates"])
    assert found_by_review > 10  # the review scope screens by every recorded name


def test_names_a_source_publishes_are_public(tmp_path: Path) -> None:
    """A food hygiene register publishes "W H Smith" and "K Superstore" as business names; rates
    withhold individuals, so the same words there stay private."""
    from business_index.link.features import public_name

    assert public_name("food_establishment", "W H Smith", "W H Smith", published=True) == "W H Smith"
    assert public_name("food_establishment", "K Superstore", "K Superstore", published=True) == "K Superstore"
    assert public_name("ndr_account", "W H Smith", None, published=False) is None
    assert public_name("ndr_account", "John Smith t/a Smith's Hardware", None) == "Smith's Hardware"


def test_rate_limits_answer_429_with_retry_after(index: Path, tmp_path: Path) -> None:
    config = ServeConfig(auth_failures_per_minute=5, searches_per_minute=3, screenings_per_minute=2)
    client = TestClient(create_app(index, AuthSettings(secret=SECRET), SubmissionStore(f"sqlite:///{tmp_path}/s.db"),
                                   config))
    token = issue_token(SECRET, "app", ["read"])
    searches = [client.get("/api/v1/organisations?name=cafe", headers=bearer(token)) for _ in range(4)]
    assert [r.status_code for r in searches] == [200, 200, 200, 429]
    assert int(searches[-1].headers["Retry-After"]) >= 1 and searches[-1].json()["errors"]
    # another client has its own count; postcode lookups are not limited
    other = issue_token(SECRET, "other-app", ["read"])
    assert client.get("/api/v1/organisations?name=cafe", headers=bearer(other)).status_code == 200
    assert all(client.get("/api/v1/addresses?postcode=E8 1AA", headers=bearer(token)).status_code == 200
               for _ in range(10))
    # forged tokens: after the limit, the address gets 429 even before its token is checked
    forged = jwt.encode({"sub": "x", "scope": "admin", "aud": AUDIENCE, "exp": int(time.time()) + 60}, "w" * 40)
    statuses = [client.get("/api/v1/establishments?name=cafe", headers=bearer(forged)).status_code for _ in range(8)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}


def test_rate_limits_are_shared_by_workers(tmp_path: Path) -> None:
    from business_index.api.rate_limits import Limit, RateLimited, RateLimiter

    shared = tmp_path / "rate-limits.sqlite3"
    first, second = (RateLimiter({"search": Limit(3, 60)}, shared) for _ in range(2))
    first.check("search", "app")
    second.check("search", "app")
    first.check("search", "app")
    with pytest.raises(RateLimited):
        second.check("search", "app")


def test_the_docs_page_works_offline(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text  # nothing fetched from elsewhere
    script = client.get("/api/v1/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/api/v1/docs-assets/swagger-ui.css").status_code == 200
    assert "'self'" in page.headers["content-security-policy"]
