from datetime import date
from pathlib import Path

import pytest

from business_index.sources.base import SourceFileError
from business_index.sources.licensing import read_fhrs_csv, read_fhrs_xml, read_licensing
from tests.conftest import fixture, source_config


def test_civica_export() -> None:
    path = fixture("civica_licences.csv")
    result = read_licensing(source_config("licensing_csv", path), [path])
    assert result.read == 4 and result.loaded == 3 and result.quarantined == 1
    cafe, hardware, owl = result.business_records
    assert cafe.uprn == 10008000001 and cafe.trading_name == "Joe's Cafe" and cafe.licence_ref == "21/00001/PL"
    assert cafe.last_seen_date == date(2026, 5, 6) and not cafe.holder_is_individual
    assert hardware.uprn == 100021000002 and hardware.holder_is_individual  # UPRN written as a float
    assert owl.uprn is None
    (bad,) = result.quarantine
    assert bad.field == "UPRN" and bad.lineage.line == 5


def test_lga_premises_licences_keep_every_history_row() -> None:
    path = fixture("lga_premises_licences.csv")
    result = read_licensing(source_config("lga_premises_licences", path), [path])
    first, second = result.business_records
    assert first.licence_ref == second.licence_ref == "PREM/0042"
    assert first.source_record_id != second.source_record_id
    assert first.trading_name == "The Red Lion" and first.start_date == date(2015, 3, 12)
    assert first.extra["activities"] == "Live music"


def test_fhrs_xml_with_line_numbers() -> None:
    path = fixture("fhrs.xml")
    result = read_fhrs_xml(source_config("fhrs_xml", path), [path])
    assert result.read == 3 and result.loaded == 2 and result.quarantined == 1
    rio, cat = result.business_records
    assert rio.name == '"Rio Cinema"' and rio.postcode == "E8 2PB" and rio.lineage.line == 5
    assert rio.address_lines == ("Rio Cinema Dalston", "103-107 Kingsland High Street", "London")
    assert rio.extra["extract_date"] == "2020-11-14" and rio.last_seen_date == date(2019, 1, 11)
    assert cat.address_lines == () and cat.postcode is None
    assert result.quarantine[0].field == "rating_date" and result.quarantine[0].lineage.line == 7


def test_fhrs_csv_matches_the_xml_reading() -> None:
    path = fixture("fhrs.csv")
    result = read_fhrs_csv(source_config("fhrs_csv", path), [path])
    rio = result.business_records[0]
    assert rio.name == '"Rio Cinema"' and rio.source_record_id == "468824"


def test_broken_xml_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(fixture("fhrs.xml").read_text().replace("</EstablishmentCollection>", ""))
    with pytest.raises(SourceFileError, match="not well-formed XML at line"):
        read_fhrs_xml(source_config("fhrs_xml", path), [path])
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?><Catalogue><Item/></Catalogue>")
    with pytest.raises(SourceFileError, match="not an FSA FHRS XML"):
        read_fhrs_xml(source_config("fhrs_xml", other), [other])
