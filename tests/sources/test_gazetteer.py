from pathlib import Path

import pytest

from business_index.sources.base import SourceFileError
from business_index.sources.gazetteer import read_gazetteer
from tests.conftest import fixture, source_config


def _read(*paths: Path, **options: object):  # type: ignore[no-untyped-def]
    return read_gazetteer(source_config("dtf73", *paths, **options), list(paths))


def test_full_supply_builds_addresses_by_bs7666() -> None:
    result = _read(fixture("dtf73_full.csv"))
    assert result.read == result.loaded == 20 and result.quarantined == 0
    by_uprn = {a.uprn: a for a in result.addresses}
    cafe = by_uprn[10008000001]
    assert cafe.single_line_address == "GROUND FLOOR, 12A MARE STREET, HACKNEY, LONDON, E8 1AB"
    assert cafe.organisation == "JOE'S CAFE" and cafe.classification == "CR07"
    assert cafe.parent_uprn == 100021000001 and cafe.lineage.line == 7
    # the alternative LPI is kept as an alias, not used for display
    aliases = {a.lpi_key: a for a in result.aliases if a.uprn == 10008000001}
    assert aliases["5360L000000004"].logical_status == 3
    assert aliases["5360L000000004"].single_line_address.startswith("SHOP, 12A MARE STREET")
    # a historical property shows its historical address
    assert by_uprn[100021000002].logical_status == 8
    assert by_uprn[100021000002].single_line_address == "14 MARE STREET, HACKNEY, LONDON, E8 1AB"
    # type 9 street and "ACCESS ROAD ..." descriptors are flagged as descriptive
    assert by_uprn[100021000003].descriptive_street
    xrefs = {x.xref_key: x for x in result.cross_references}
    assert xrefs["5360X000000001"].reference == "000120145" and xrefs["5360X000000001"].source_code == "5360ND"
    assert result.warnings == []


def test_change_only_update_inserts_updates_and_deletes_with_cascade() -> None:
    result = _read(fixture("dtf73_full.csv"), fixture("dtf73_change.csv"))
    assert result.quarantined == 0 and result.read == result.loaded == 27
    by_uprn = {a.uprn: a for a in result.addresses}
    assert by_uprn[100021000003].organisation == "REGENT DESIGN STUDIO"  # U replaced the whole record
    assert by_uprn[100021000009].single_line_address == "16-18 MARE STREET, HACKNEY, LONDON, E8 1AC"  # I
    assert 10008000002 not in by_uprn  # D
    assert all(a.uprn != 10008000002 for a in result.aliases)  # its LPI went with it (no D sent for it)
    assert all(x.uprn != 10008000002 for x in result.cross_references)


def test_change_file_before_full_supply_quarantines_what_cannot_apply(tmp_path: Path) -> None:
    result = _read(fixture("dtf73_change.csv"))
    reasons = [q.reason for q in result.quarantine]
    assert any("delete of record 23" in r for r in reasons)
    assert result.read == result.loaded + result.quarantined


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_bad_rows_are_quarantined_with_line_field_and_reason(tmp_path: Path) -> None:
    good = fixture("dtf73_full.csv").read_text().splitlines()
    bad_rows = [
        '21,"I",90,1234567890123,1,2,2000-01-01,"CR07",,1.00,1.00,1,5360,2000-01-01,,2020-01-01,2000-01-01,,,,,,',
        '21,"I",91,100021000090,1,2,2000-01-01,"CR07",,1.00,1.00,1,5360,2000-02-30,,2020-01-01,2000-01-01,,,,,,',
        '21,"I",92,100021000091,1,2',
        '21,"X",93,100021000092,1,2,2000-01-01,"CR07",,1.00,1.00,1,5360,2000-01-01,,2020-01-01,2000-01-01,,,,,,',
        '21,"I",94,100021000093,7,2,2000-01-01,"CR07",,1.00,1.00,1,5360,2000-01-01,,2020-01-01,2000-01-01,,,,,,',
        "ABC,1,2",
    ]
    path = _write(tmp_path, "bad.csv", "\n".join(good[:-1] + bad_rows + [good[-1]]) + "\n")
    result = _read(path)
    assert result.read == result.loaded + result.quarantined
    quarantined = {q.lineage.line: q for q in result.quarantine}
    assert len(quarantined) == 6
    first = len(good)  # bad rows start after the good ones (trailer moved to the end)
    assert quarantined[first].field == "UPRN" and "12 digits" in quarantined[first].reason
    assert quarantined[first + 1].field == "START_DATE"
    assert "6 fields" in quarantined[first + 2].reason
    assert quarantined[first + 3].field == "CHANGE_TYPE"
    assert quarantined[first + 4].field == "LOGICAL_STATUS" and "rejected" in quarantined[first + 4].reason
    assert quarantined[first + 5].field == "RECORD_IDENTIFIER"
    assert all(q.lineage.file == str(path) for q in result.quarantine)
    assert any("trailer says 18" in w for w in result.warnings)


def test_windows_1252_file_is_read_and_undecodable_lines_quarantined(tmp_path: Path) -> None:
    text = fixture("dtf73_full.csv").read_text().replace("JOE'S CAFE", "CAFÉ ROUGE")
    path = _write(tmp_path, "cp1252.csv", text, encoding="cp1252")
    result = _read(path)
    assert {a.organisation for a in result.addresses} >= {"CAFÉ ROUGE"}
    assert result.files[0].encoding == "cp1252"
    # a UTF-8 file with one corrupt line: that line is quarantined, the rest load
    utf8 = fixture("dtf73_full.csv").read_bytes().replace(b"JOE'S CAFE", "CAFÉ".encode()).replace(b"PP", b"P\xff")
    path = tmp_path / "corrupt.csv"
    path.write_bytes(utf8)
    result = _read(path)
    assert result.quarantined == 1 and "not valid utf-8" in result.quarantine[0].reason
    assert result.quarantine[0].lineage.line == 6  # the first BLPU, after header, 2 streets, 2 descriptors


def test_missing_trailer_warns_or_fails_when_strict(tmp_path: Path) -> None:
    lines = fixture("dtf73_full.csv").read_text().splitlines()[:-1]
    path = _write(tmp_path, "truncated.csv", "\n".join(lines) + "\n")
    assert any("no trailer" in w for w in _read(path).warnings)
    with pytest.raises(SourceFileError, match="no trailer"):
        _read(path, strict_trailer=True)


def test_abp_split_file_with_header_row_is_read_by_position() -> None:
    source = source_config("abp", fixture("abp_split_blpu.csv"))
    result = read_gazetteer(source, [fixture("abp_split_blpu.csv")])
    assert result.read == 1 and result.loaded == 1  # the header row is not data
    (address,) = result.addresses
    assert address.uprn == 10091471884 and address.postcode == "EX1 1TL" and address.latitude == 50.7223255
    assert any("no trailer" in w for w in result.warnings)


def test_dtf23_in_abp_field_order_is_recovered_with_a_warning(tmp_path: Path) -> None:
    text = fixture("dtf73_full.csv").read_text().replace(
        '23,"I",10,10008000001,"5360X000000001",2000-01-01,2020-01-01,2000-01-01,,"000120145","5360ND"',
        '23,"I",10,10008000001,"5360X000000001","000120145",,"5360ND",2000-01-01,,2020-01-01')
    result = _read(_write(tmp_path, "xref.csv", text))
    xref = next(x for x in result.cross_references if x.xref_key == "5360X000000001")
    assert xref.reference == "000120145" and xref.source_code == "5360ND"
    assert any("ABP-style" in w for w in result.warnings)


def test_a_file_that_is_not_an_llpg_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "notes.csv", "hello,world\nthis,is not a gazetteer\n")
    with pytest.raises(SourceFileError, match="is this an LLPG file"):
        _read(path)


def test_postcodes_written_compact_or_in_lower_case_are_one_postcode(tmp_path: Path) -> None:
    """An LLPG supplied with "e81ab" or "E81AB" answers lookups for "E8 1AB" like one that writes it so."""
    import re

    text = fixture("dtf73_full.csv").read_text(encoding="utf-8")
    compact = re.sub(r'"E8 ([0-9][A-Z]{2})"', lambda m: f'"e8{m[1].lower()}"', text)
    assert compact != text
    path = tmp_path / "compact.csv"
    path.write_text(compact, encoding="utf-8")
    postcodes = {a.postcode for a in _read(path).addresses} - {None}
    expected = {a.postcode for a in _read(fixture("dtf73_full.csv")).addresses} - {None}
    assert postcodes == expected and all(" " in p for p in postcodes)


def test_an_abp_classification_row_without_a_code_leaves_the_coded_one(tmp_path: Path) -> None:
    blpu = fixture("abp_split_blpu.csv").read_text().splitlines()[1]
    scheme = '"AddressBase Premium Classification Scheme",1.0'
    rows = [blpu,
            f'32,"I",30652,10091471884,"1110C000001","CR07",{scheme},2015-11-04,,2016-02-10,2015-11-02',
            f'32,"I",30653,10091471884,"1110C000002",,{scheme},2016-01-04,,2016-02-10,2016-01-04']
    path = _write(tmp_path, "abp.csv", "\n".join(rows) + "\n")
    result = read_gazetteer(source_config("abp", path), [path])
    assert result.quarantined == 0
    assert [a.classification for a in result.addresses] == ["CR07"]


def test_an_lpi_s_address_parts_are_the_address_record_s_fields() -> None:
    from dataclasses import fields

    from business_index.records import AddressRecord
    from business_index.sources.gazetteer import ADDRESS_PART_FIELDS, _address_parts

    assert tuple(_address_parts({}, {})) == ADDRESS_PART_FIELDS
    assert set(ADDRESS_PART_FIELDS) <= {f.name for f in fields(AddressRecord)}
