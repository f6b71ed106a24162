"""A Companies House register as a source: records naming a company by an old name and by its new
one are one organisation with the company's number and status; without the register they are two."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from business_index.build import build_index
from business_index.config import load_settings

REGISTER = Path(__file__).parents[1] / "fixtures" / "companies_house_basic.csv"
LICENCES = """Licence Number,Licence Type,Status,Trading Name,Licence Holder,Holder Type,Premises Address,Postcode,UPRN,Issue Date,Expiry Date,Last Seen Date
L/1,Premises Licence,Current,Columbia Cafe,COLUMBIA CATERING LTD,Company,"1 Columbia Road, London",E2 7RG,,01/03/2017,28/02/2027,01/05/2026
L/2,Premises Licence,Current,Napoleon Kitchen,KINGSLAND CATERING SUPPLIES LIMITED,Company,"Unit 6, Napoleon House, London",E2 9SQ,,01/05/2022,30/04/2032,01/05/2026
L/3,Premises Licence,Current,Mill Bakery,OLD MILL BAKERS LTD,Company,"9 Mill Road, London",E5 8AA,,01/05/2022,30/04/2032,01/05/2026
"""


def _build(folder: Path, with_register: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "licences.csv").write_text(LICENCES, encoding="utf-8")
    toml = '[council]\nname = "Testborough"\n\n[[sources]]\nname = "licensing"\nkind = "licensing"\n' \
           'format = "licensing_csv"\npaths = ["licences.csv"]\n'
    if with_register:
        shutil.copy(REGISTER, folder / "companies.csv")
        toml += '\n[[sources]]\nname = "companies-house"\nkind = "register"\nformat = "companies_house"\n' \
                'paths = ["companies.csv"]\n'
    (folder / "sources.toml").write_text(toml, encoding="utf-8")
    build_index(load_settings(folder / "sources.toml"), folder / "index.duckdb")
    return folder / "index.duckdb"


@pytest.mark.parametrize("with_register", [False, True])
def test_a_company_renamed_is_one_organisation_with_all_its_names(tmp_path: Path, with_register: bool) -> None:
    index = _build(tmp_path / str(with_register), with_register)
    with duckdb.connect(str(index), read_only=True) as con:
        organisations = dict(con.execute("""
            SELECT b.licence_ref, re.organisation_id FROM business_records b JOIN record_establishments re USING (record_id)
            """).fetchall())
        companies = con.execute("SELECT company_number, name, status FROM companies ORDER BY 1").fetchall()
        attached = con.execute("SELECT organisation_id, company_number FROM organisation_companies").fetchall()
        files = con.execute("SELECT source, read, loaded, quarantined FROM source_files ORDER BY source").fetchall()
        quarantined = con.execute("SELECT field, reason FROM quarantine WHERE source = 'companies-house'").fetchall()
    if not with_register:  # nothing changes without the register
        assert organisations["L/1"] != organisations["L/2"] and companies == [] and attached == []
        return
    # COLUMBIA CATERING LTD became KINGSLAND CATERING SUPPLIES LTD: one organisation, the company's
    assert organisations["L/1"] == organisations["L/2"] != organisations["L/3"]
    assert attached == [(organisations["L/1"], "09876543")]
    # kept: the renamed company (named by the records) and none of the others, which they do not name
    # and which are registered elsewhere
    assert companies == [("09876543", "KINGSLAND CATERING SUPPLIES LTD", "Active")]
    assert ("companies-house", 5, 4, 1) in files
    assert quarantined == [("CompanyNumber", "'12-34' is not a company number")]


def test_screening_and_the_business_page_show_the_company(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from business_index.api.app import create_app
    from business_index.api.auth import AuthSettings
    from business_index.store.submissions import SubmissionStore
    from tests.api.test_api import SECRET, bearer

    index = _build(tmp_path / "built", with_register=True)
    store = SubmissionStore(f"sqlite:///{tmp_path / 'submissions.sqlite3'}")
    client = TestClient(create_app(index, AuthSettings(secret=SECRET, anonymous_read=True), store),
                        base_url="https://testserver")
    answer = client.post("/api/v1/screening", json={"name": "Columbia Catering Ltd"}, headers=bearer("read"))
    first = answer.json()["candidates"][0]
    assert first["companies"] == [{"companyNumber": "09876543", "name": "KINGSLAND CATERING SUPPLIES LTD",
                                 "status": "Active",
                                 "previousNames": ["COLUMBIA CATERING LTD", "KINGSLAND FOODS, WHOLESALE LTD"]}]
    page = client.get(f"/businesses/{first['organisationId']}").text
    assert "Registered company" in page and "09876543" in page and "COLUMBIA CATERING LTD" in page
    # reconciliation: the company number moves the score, and data extension gives it
    import json

    def top(properties: list[dict[str, str]]) -> dict[str, object]:
        body = client.post("/reconcile", data={"queries": json.dumps({"q0": {"query": "Columbia Catering Ltd",
                                                                            "properties": properties}})},
                           headers=bearer("read")).json()
        return body["q0"]["result"][0]  # type: ignore[no-any-return]

    agrees = top([{"pid": "company_number", "v": "09876543"}])
    differs = top([{"pid": "company_number", "v": "00000001"}])
    assert agrees["id"] == differs["id"] == first["organisationId"]
    assert agrees["score"] > differs["score"] and differs["match"] is False
    extended = client.post("/reconcile", data={"extend": json.dumps({"ids": [first["organisationId"]],
                                                                      "properties": [{"id": "company_number"}]})},
                           headers=bearer("read")).json()
    assert extended["rows"][first["organisationId"]]["company_number"] == [{"str": "09876543"}]
