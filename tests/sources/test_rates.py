from datetime import date
from pathlib import Path

import pytest

from business_index.sources.base import SourceFileError
from business_index.sources.rates import is_withheld, read_ndr, read_voa
from tests.conftest import fixture, source_config


def test_ndr_export_quirks() -> None:
    path = fixture("ndr_export.csv")
    result = read_ndr(source_config("ndr_csv", path), [path])
    assert result.read == 6 and result.loaded == 3 and result.quarantined == 3
    by_ref = {r.property_ref: r for r in result.business_records}
    cafe = by_ref["000120145"]  # the apostrophe is gone, the zeros stay
    assert cafe.name == "JOES CAFE LIMITED" and cafe.trading_name == "Joe's Cafe"
    assert cafe.rateable_value == 12500 and cafe.start_date == date(2018, 8, 1)
    assert cafe.address_lines == ("Ground Floor", "12a Mare Street", "Hackney") and cafe.postcode == "E8 1AB"
    assert cafe.source_record_id == "080048530" and cafe.lineage.line == 2
    withheld = by_ref["000120150"]
    assert withheld.name is None and withheld.name_withheld and withheld.holder_is_individual
    assert withheld.start_date == date(2017, 4, 1)
    assert by_ref["000120160"].start_date == date(2018, 8, 1)  # Excel serial 43313
    problems = {q.lineage.line: q for q in result.quarantine}
    assert problems[5].field == "Account Start date" and "calendar date" in problems[5].reason
    assert problems[6].field == "Property Reference Number"
    assert "fields" in problems[7].reason


def test_ndr_columns_can_be_named_in_sources_toml(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Hereditament,Occupier,Addr,PC\n'0001,ACME LTD,1 High St,E8 1AA\n")
    source = source_config("ndr_csv", path, columns={"property_ref": "Hereditament", "ratepayer": "Occupier",
                                                     "address_full": "Addr", "postcode": "PC"})
    (record,) = read_ndr(source, [path]).business_records
    assert (record.property_ref, record.name, record.address_text, record.postcode) == \
        ("0001", "ACME LTD", "1 High St", "E8 1AA")
    assert record.source_record_id == "0001:1"  # no account number: reference and row
    with pytest.raises(SourceFileError, match="no such column"):
        read_ndr(source_config("ndr_csv", path, columns={"property_ref": "Nope"}), [path])


def test_a_file_without_a_property_reference_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "licences.csv"
    path.write_text("Licence Number,Trading Name\nL1,Cafe\n")
    with pytest.raises(SourceFileError, match="not an NDR .* no column for property_ref"):
        read_ndr(source_config("ndr_csv", path), [path])


def test_withheld_markers() -> None:
    assert is_withheld("") and is_withheld(None) and is_withheld("Personal details not supplied")
    assert not is_withheld("J Smith")


def test_voa_list_entries() -> None:
    path = fixture("voa_list_entries.csv")
    result = read_voa(source_config("voa_list_entries", path), [path])
    assert result.read == 3 and result.loaded == 2 and result.quarantined == 1
    first, second = result.business_records
    assert first.property_ref == "000120145" and first.name == "JOES CAFE" and first.source_record_id == "1207955418"
    assert first.start_date == date(2023, 4, 1) and first.rateable_value == 12500
    assert first.extra["scat_code"] == "227G"
    assert second.name is None  # the firm's name is often blank
    assert "5 '*'-separated fields" in result.quarantine[0].reason
