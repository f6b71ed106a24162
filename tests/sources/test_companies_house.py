"""The Companies House BasicCompanyData reader, on a small hand-made file in the real layout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from business_index.sources.base import SourceFileError
from business_index.sources.companies_house import CompanyFileStats, read_companies

FIXTURE = Path(__file__).parents[1] / "fixtures" / "companies_house_basic.csv"


def test_layout_quirks() -> None:
    stats = CompanyFileStats(str(FIXTURE))
    companies = {c.number: c for c in read_companies(FIXTURE, lambda c: True, stats)}
    # header names with a leading space, a byte-order mark, quoted commas
    renamed = companies["09876543"]
    assert renamed.name == "KINGSLAND CATERING SUPPLIES LTD" and renamed.postcode == "E2 9SQ"
    assert renamed.address == "UNIT 6, NAPOLEON HOUSE, LONDON"
    assert companies["OC123456"].name == "SMITH, JONES & PARTNERS LLP"
    # dd/mm/yyyy dates, a company renamed twice with the dates each name ended
    assert renamed.incorporated == date(2015, 4, 1)
    assert [(p.name, p.until) for p in renamed.previous_names] == [
        ("COLUMBIA CATERING LTD", date(2021, 2, 14)), ("KINGSLAND FOODS, WHOLESALE LTD", date(2018, 6, 3))]
    # empty and "None Supplied" SIC columns
    assert renamed.sic_codes == ("56290 - Other food services",)
    assert companies["OC123456"].sic_codes == () and companies["SC654321"].sic_codes == ()
    assert companies["SC654321"].status == "Liquidation"
    gone = companies["12345678"]
    assert gone.status == "Dissolved" and gone.dissolved == date(2020, 6, 30) and gone.postcode == "SS15 6AA"
    # every row accounted for: a bad company number is rejected with its line and field
    assert stats.read == 5 and stats.kept == 4
    assert stats.rejected == [(6, "CompanyNumber", "'12-34' is not a company number")]


def test_only_what_the_filter_keeps_is_held() -> None:
    council = {"SS14 1DL", "SS15 6AA"}
    kept = list(read_companies(FIXTURE, lambda c: c.postcode in council))
    assert sorted(c.number for c in kept) == ["12345678", "OC123456"]
    by_old_name = list(read_companies(FIXTURE, lambda c: any(p.name == "COLUMBIA CATERING LTD" for p in c.previous_names)))
    assert [c.number for c in by_old_name] == ["09876543"]


def test_a_file_that_is_not_the_register(tmp_path: Path) -> None:
    (tmp_path / "other.csv").write_text("uprn,address\n1,High Street\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match="not a Companies House"):
        list(read_companies(tmp_path / "other.csv", lambda c: True))
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(SourceFileError, match="empty"):
        list(read_companies(tmp_path / "empty.csv", lambda c: True))
