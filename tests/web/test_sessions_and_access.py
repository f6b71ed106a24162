"""The pages' sessions and who may see what, through FastAPI's test client (no browser needed)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings, issue_token
from business_index.config import ServeConfig
from business_index.store.submissions import SubmissionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"


def _client(index: Path, tmp_path: Path, anonymous: bool = False, **settings: object) -> TestClient:
    store = SubmissionStore(f"sqlite:///{tmp_path / 'submissions.sqlite3'}")
    config = ServeConfig(**settings)  # type: ignore[arg-type]
    app = create_app(index, AuthSettings(secret=SECRET, anonymous_read=anonymous), store, config)
    return TestClient(app, base_url="https://testserver")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]  # type: ignore[index]


def _sign_in(client: TestClient, scopes: list[str], hours: float = 1) -> None:
    page = client.get("/sign-in")
    answer = client.post("/sign-in", data={"csrf_token": _csrf(page.text), "next": "/",
                                           "token": issue_token(SECRET, "someone", scopes, hours=hours)},
                         follow_redirects=False)
    assert answer.status_code == 303


def test_odd_cookies_and_tokens_never_break_a_page(small_index: Path, tmp_path: Path) -> None:
    client = _client(small_index, tmp_path, anonymous=True)
    raw = {"cookie": "bx_session=abc.\u00e9".encode("latin-1")}  # not ASCII, as a browser may send
    assert client.get("/find-your-business/postcode", headers=raw).status_code == 200  # type: ignore[arg-type]
    client.cookies.set("bx_session", "eyJ1c2VyIjogeyJzdWIiOiAieCIsICJzY29wZXMiOiBbImFkbWluIl19fQ.forged")
    assert "Sign in" in client.get("/review").text  # a forged signature is no session
    assert client.post("/find-your-business/postcode", data={"csrf_token": "\u00e9", "postcode": "E8 1AB"}
                       ).status_code == 403


def test_who_may_see_and_do_what(small_index: Path, tmp_path: Path) -> None:
    client = _client(small_index, tmp_path)
    for path in ("/find-your-business/postcode", "/businesses", "/review", "/dashboard", "/review/llpg-updates.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next="), path
    _sign_in(client, ["read"])
    assert client.get("/find-your-business/postcode").status_code == 200
    assert "Sign in" in client.get("/find-your-business/name").text  # sending a name needs submit
    assert "needs the review permission" in client.get("/review").text
    _sign_in(client, ["admin"])  # admin holds every scope
    for path in ("/review", "/dashboard", "/businesses", "/find-your-business/postcode"):
        assert client.get(path).status_code == 200, path
    for odd in ("/review?uprn=%C2%B2", "/review?uprn=" + "9" * 30, "/review?page=100000000000000000000"):
        assert client.get(odd).status_code in (200, 422), odd


def test_a_session_never_outlives_its_token(small_index: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from business_index.web import pages

    client = _client(small_index, tmp_path)
    _sign_in(client, ["review"], hours=1)
    first = client.get("/review")
    assert first.status_code == 200 and "Sign in" not in first.text
    # an hour and a minute later by the pages' clock (the session's own idle clock is not moved,
    # so it is the token's end that signs the person out), however loaded the machine
    later = time.time() + 3660
    monkeypatch.setattr(pages, "time", types.SimpleNamespace(time=lambda: later))
    answer = client.get("/review")
    assert "Sign in" in answer.text and "signed out" in answer.text


def test_the_return_url_keeps_its_own_query_and_fragment(small_index: Path, tmp_path: Path) -> None:
    import duckdb

    with duckdb.connect(str(small_index), read_only=True) as con:
        postcode, uprn = con.execute("""SELECT a.postcode, a.uprn FROM addresses a JOIN property_names p USING (uprn)
            WHERE a.logical_status = 1 AND p.business_name IS NOT NULL ORDER BY a.uprn LIMIT 1""").fetchone()
    client = _client(small_index, tmp_path, anonymous=True, return_url_origins=("https://apply.example.org",))
    client.get("/find-your-business", params={"return_url": "https://apply.example.org/form?id=7%23x#part"})
    token = _csrf(client.get("/find-your-business/postcode").text)
    client.post("/find-your-business/postcode", data={"csrf_token": token, "postcode": postcode})
    client.post("/find-your-business/address", data={"csrf_token": token, "uprn": str(uprn)})
    client.post("/find-your-business/business", data={"csrf_token": token, "answer": "yes"})
    page = client.get("/find-your-business/confirmation").text
    back = re.search(r'href="(https://apply[^"]+)"', page)[1].replace("&amp;", "&")  # type: ignore[index]
    assert back.startswith("https://apply.example.org/form?id=7%23x&uprn=") and back.endswith("#part")
    assert client.get("/find-your-business?return_url=https://apply.example.org/" + "x" * 2000).status_code == 200


def test_a_short_session_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        ServeConfig(session_secret="short")  # type: ignore[arg-type]
