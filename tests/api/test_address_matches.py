"""POST /api/v1/address-matches: the index's matcher over HTTP, read scope, up to 1,000 a request."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from business_index.api.app import create_app
from business_index.api.auth import AuthSettings
from business_index.store.submissions import SubmissionStore
from tests.api.test_api import SECRET, bearer

PATH = "/api/v1/address-matches"


@pytest.fixture(scope="module")
def client(small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    store = SubmissionStore(f"sqlite:///{tmp_path_factory.mktemp('store') / 'submissions.sqlite3'}")
    return TestClient(create_app(small_index, AuthSettings(secret=SECRET), store))


@pytest.fixture(scope="module")
def known(small_index: Path) -> list[tuple[int, str, str]]:
    with duckdb.connect(str(small_index), read_only=True) as con:
        return con.execute("""
            SELECT uprn, regexp_replace(single_line_address, ', [A-Z0-9 ]+$', ''), postcode FROM addresses
            WHERE logical_status = 1 AND postcode IS NOT NULL AND NOT starts_with(classification, 'P')
            ORDER BY uprn DESC LIMIT 20""").fetchall()


def test_a_batch_is_answered_in_order(client: TestClient, known: list[tuple[int, str, str]]) -> None:
    body = {"addresses": [{"address": a.lower(), "postcode": p, "reference": f"ref-{i}"}
                          for i, (_, a, p) in enumerate(known)] + [{"address": "1 Nowhere Road", "postcode": "ZZ9 9ZZ"}]}
    response = client.post(PATH, json=body, headers=bearer("read"))
    assert response.status_code == 200, response.text
    result = response.json()
    matches = result["matches"]
    assert [m["reference"] for m in matches[:-1]] == [f"ref-{i}" for i in range(len(known))]
    assert sum(m["uprn"] == uprn for m, (uprn, _, _) in zip(matches, known, strict=False)) >= len(known) - 1
    assert result["matched"] == sum(m["uprn"] is not None for m in matches)
    first = matches[0]
    assert first["matchedAddress"] and first["matchProbability"] >= 0.9 and first["decidedBy"].startswith("address_match")
    assert matches[-1]["uprn"] is None and matches[-1]["reason"] == "no candidate address"


def test_needs_read_and_limits_the_batch(client: TestClient) -> None:
    one = {"addresses": [{"address": "1 High Street"}]}
    assert client.post(PATH, json=one).status_code == 401
    assert client.post(PATH, json=one, headers=bearer("submit")).status_code == 403
    too_many = {"addresses": [{"address": f"{i} High Street"} for i in range(1001)]}
    response = client.post(PATH, json=too_many, headers=bearer("read"))
    assert response.status_code == 400 and "addresses" in response.text
    thousand = {"addresses": [{"address": f"{i} High Street, Testborough", "postcode": "AB1 1AA"} for i in range(1000)]}
    assert client.post(PATH, json=thousand, headers=bearer("read")).status_code == 200  # larger than other bodies
    assert client.post(PATH, json={"addresses": [{"address": "1 High St\u202e"}]},
                       headers=bearer("read")).status_code == 400
    assert client.post(PATH, json={"addresses": [{"address": "1 High St", "extra": 1}]},
                       headers=bearer("read")).status_code == 400


def test_an_index_without_a_gazetteer_says_so(tmp_path: Path) -> None:
    from business_index.build import build_index
    from business_index.config import load_settings

    (tmp_path / "licences.csv").write_text("Licence Number,Premises Name,Address,Postcode\nL1,Cafe,1 High St,AB1 1AA\n",
                                           encoding="utf-8")
    (tmp_path / "sources.toml").write_text('[council]\nname = "T"\n\n[[sources]]\nname = "lic"\nkind = "licensing"\n'
                                           'format = "licensing_csv"\npaths = ["licences.csv"]\n', encoding="utf-8")
    build_index(load_settings(tmp_path / "sources.toml"), tmp_path / "index.duckdb")
    store = SubmissionStore(f"sqlite:///{tmp_path / 'submissions.sqlite3'}")
    client = TestClient(create_app(tmp_path / "index.duckdb", AuthSettings(secret=SECRET), store))
    response = client.post(PATH, json={"addresses": [{"address": "1 High St"}]}, headers=bearer("read"))
    assert response.status_code == 409 and "gazetteer" in response.text
