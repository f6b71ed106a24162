"""The one-row-per-property gazetteers: ``uprn_addresses`` (UPRN and a single-line address) and
``abplus`` (OS AddressBase Plus)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from business_index.build import build_index
from business_index.config import SourceConfig, load_settings
from business_index.link.features import build_address_features
from business_index.records import SourceKind
from business_index.sources import READERS, SourceFileError, read_source
from business_index.sources.base import ReadResult
from business_index.sources.plain_gazetteers import read_abplus, read_uprn_addresses
from tests.conftest import fixture

README = Path(__file__).parents[2] / "README.md"


def _config(fmt: str, *paths: Path, **options: object) -> SourceConfig:
    return SourceConfig(name="gaz", kind=SourceKind.GAZETTEER, format=fmt, paths=list(paths), **options)  # type: ignore[arg-type]


def _abplus(*paths: Path, **options: object) -> ReadResult:
    return read_abplus(_config("abplus", *paths, **options), list(paths))


def _uprn_addresses(*paths: Path, **options: object) -> ReadResult:
    return read_uprn_addresses(_config("uprn_addresses", *paths, **options), list(paths))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_alias_each(result: ReadResult) -> None:
    """Every address has exactly one alias, approved and English, keyed U<uprn>."""
    assert sorted(a.uprn for a in result.aliases) == sorted(a.uprn for a in result.addresses)
    for alias in result.aliases:
        assert alias.lpi_key == f"U{alias.uprn}" and alias.logical_status == 1 and alias.language == "ENG"
    lines = {a.uprn: (a.single_line_address, a.postcode) for a in result.addresses}
    assert all(lines[a.uprn] == (a.single_line_address, a.postcode) for a in result.aliases)
    assert all(a.logical_status == 1 for a in result.addresses)


# --- AddressBase Plus ---------------------------------------------------------------------------

def test_abplus_rows_become_addresses_with_llpg_style_lines() -> None:
    result = _abplus(fixture("abplus.csv"))
    assert result.read == result.loaded == 5 and result.quarantined == 0 and result.warnings == []
    _one_alias_each(result)
    by_uprn = {a.uprn: a for a in result.addresses}
    assert all(a.lpi_key == f"U{a.uprn}" for a in result.addresses)  # structured: the matcher reads the fields

    block = by_uprn[100040210001]
    assert block.classification == "PP" and block.single_line_address == "MARLOW HOUSE, 14 HIGH STREET, EXETER, EX4 3LF"
    flat = by_uprn[100040210002]
    assert flat.parent_uprn == 100040210001 and flat.classification == "RD06"
    assert (flat.sao_text, flat.pao_text, flat.pao_start_number) == ("FLAT 2", "MARLOW HOUSE", 14)
    assert flat.single_line_address == "FLAT 2, MARLOW HOUSE, 14 HIGH STREET, EXETER, EX4 3LF"
    assert flat.usrn == 14200047 and flat.x_coordinate == 292455.0 and flat.y_coordinate == 92611.0
    assert flat.lineage.line == 3

    shop = by_uprn[100040210003]
    assert shop.organisation == "JOE'S CAFE"  # the council's name, not Royal Mail's JOES CAFE LTD
    assert (shop.pao_start_number, shop.pao_start_suffix) == (12, "A")
    assert shop.single_line_address == "12A HIGH STREET, EXETER, EX4 3LF"
    assert shop.classification == "CR07" and shop.blpu_state == 2 and shop.start_date == date(2015, 11, 2)
    assert shop.latitude == pytest.approx(50.726183) and shop.longitude == pytest.approx(-3.5253878)

    bakery = by_uprn[100040210004]
    assert bakery.organisation == "ACME DESIGN LTD"  # no LA_ORGANISATION: Royal Mail's
    assert bakery.pao_start_number is None and bakery.pao_text == "THE OLD BAKERY"
    assert bakery.single_line_address == "THE OLD BAKERY, CHURCH LANE, HEAVITREE, EXETER, EX2 5EH"

    ground = by_uprn[100040210005]
    assert ground.town == "EXETER"  # TOWN_NAME empty: POST_TOWN
    assert ground.single_line_address == "GROUND FLOOR, 16-18 HIGH STREET, EXETER, EX4 3LF"
    assert ground.blpu_state == 3 and not ground.descriptive_street


def test_abplus_maps_columns_by_name_whatever_their_order_case_and_set(tmp_path: Path) -> None:
    path = _write(tmp_path, "abplus_other_release.csv",
                  "postcode,street_description,uprn,pao_start_number,Pao_Text,dependent_locality,post_town,"
                  "rm_organisation_name,class\n"
                  '"EX2 5EH","CHURCH LANE",100040210004,,"THE OLD BAKERY","HEAVITREE","EXETER","ACME DESIGN LTD","CO01"\n'
                  '"EX4 3LF","HIGH STREET",100040210009,"7",,,"EXETER",,"CR"\n')
    result = _abplus(path)
    assert result.loaded == 2 and result.quarantined == 0
    by_uprn = {a.uprn: a for a in result.addresses}
    assert by_uprn[100040210004].single_line_address == "THE OLD BAKERY, CHURCH LANE, HEAVITREE, EXETER, EX2 5EH"
    assert by_uprn[100040210009].single_line_address == "7 HIGH STREET, EXETER, EX4 3LF"


def test_abplus_bad_rows_are_quarantined_with_line_column_and_reason(tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO(fixture("abplus.csv").read_text(encoding="utf-8"))))
    header = rows[0]
    at = {name: i for i, name in enumerate(header)}

    def variant(**changes: str) -> list[str]:
        row = list(rows[3])  # the shop
        for name, value in changes.items():
            row[at[name]] = value
        return row

    bad = [
        variant(UPRN="10004021000X"),                               # not a UPRN
        variant(UPRN=""),                                           # no UPRN
        variant(),                                                  # the shop again: a duplicate UPRN
        variant(UPRN="100040210010", X_COORDINATE="east"),          # a coordinate that is not a number
        variant(UPRN="100040210011", LATITUDE="95.1"),              # ... or not on Earth
        variant(UPRN="100040210012", PAO_START_NUMBER="12.5"),      # not a whole number
        variant(UPRN="100040210013", PAO_START_NUMBER="", PAO_START_SUFFIX="", STREET_DESCRIPTION=""),  # no address
        variant(UPRN="100040210014", CHANGE_TYPE="D"),              # a delete: not a current property
        variant(UPRN="100040210015", LA_START_DATE="2015-02-30"),   # not a date
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([*rows, *bad])
    result = _abplus(_write(tmp_path, "abplus_bad.csv", out.getvalue()))
    assert result.read == result.loaded + result.quarantined == 5 + len(bad)
    assert result.loaded == 5
    found = {q.lineage.line: (q.field, q.reason) for q in result.quarantine}
    first = len(rows) + 1
    assert found[first][0] == "UPRN" and "not a UPRN" in found[first][1]
    assert found[first + 1] == ("UPRN", "empty: the row belongs to no property")
    assert found[first + 2][0] == "UPRN" and "appears twice: already loaded from line 4" in found[first + 2][1]
    assert found[first + 3][0] == "X_COORDINATE" and "'east' is not a number" in found[first + 3][1]
    assert found[first + 4][0] == "LATITUDE"
    assert found[first + 5][0] == "PAO_START_NUMBER"
    assert found[first + 6] == ("PAO_TEXT", "no address: SAO, PAO and street are all empty")
    assert found[first + 7][0] == "CHANGE_TYPE"
    assert found[first + 8][0] == "LA_START_DATE"
    assert all(q.raw and q.lineage.file.endswith("abplus_bad.csv") for q in result.quarantine)


def test_abplus_duplicate_uprn_across_files_names_the_first_file(tmp_path: Path) -> None:
    second = _write(tmp_path, "second.csv", fixture("abplus.csv").read_text(encoding="utf-8"))
    result = _abplus(fixture("abplus.csv"), second)
    assert result.loaded == 5 and result.quarantined == 5
    assert all("abplus.csv line" in q.reason for q in result.quarantine)


def test_abplus_without_its_header_row_is_refused(tmp_path: Path) -> None:
    body = "".join(fixture("abplus.csv").read_text(encoding="utf-8").splitlines(keepends=True)[1:])
    with pytest.raises(SourceFileError, match="header"):
        _abplus(_write(tmp_path, "no_header.csv", body))


# --- UPRNs with single-line addresses -----------------------------------------------------------

def test_uprn_addresses_are_split_and_keep_the_line_as_given() -> None:
    result = _uprn_addresses(fixture("uprn_addresses.csv"))
    assert (result.read, result.loaded, result.quarantined) == (5, 4, 1)
    _one_alias_each(result)
    assert all(a.lpi_key is None and not a.descriptive_street for a in result.addresses)  # the matcher re-parses
    by_uprn = {a.uprn: a for a in result.addresses}

    flat = by_uprn[100040210002]  # "Flat 2, Marlow House, 14 High Street, Exeter": a quoted comma-separated line
    assert flat.single_line_address == "FLAT 2, MARLOW HOUSE, 14 HIGH STREET, EXETER, EX4 3LF"  # postcode appended
    assert (flat.sao_text, flat.sao_start_number, flat.pao_text, flat.pao_start_number) == ("FLAT", 2, "MARLOW HOUSE", 14)
    assert (flat.street_description, flat.town) == ("HIGH STREET", "EXETER")
    assert flat.parent_uprn == 100040210001 and flat.classification == "RD06"
    assert flat.x_coordinate == 292455.0 and flat.y_coordinate == 92611.0 and flat.organisation is None

    shop = by_uprn[100040210003]
    assert shop.single_line_address == "12A HIGH STREET, EXETER, EX4 3LF"  # already there: not appended twice
    assert shop.organisation == "Joe's Cafe" and shop.classification == "CR07"

    bakery = by_uprn[100040210004]
    assert bakery.postcode == "EX2 5EH"  # "ex2 5eh" in its written form
    assert bakery.single_line_address == "THE OLD BAKERY, CHURCH LANE, HEAVITREE, EXETER, EX2 5EH"
    assert (bakery.pao_text, bakery.street_description, bakery.locality) == ("THE OLD BAKERY", "CHURCH LANE", "HEAVITREE")

    ground = by_uprn[100040210005]  # no postcode anywhere: none invented
    assert ground.postcode is None and ground.single_line_address == "GROUND FLOOR, 16-18 HIGH STREET EXETER"
    assert (ground.sao_text, ground.pao_start_number, ground.pao_end_number) == ("GROUND FLOOR", 16, 18)

    [bad] = result.quarantine
    assert bad.lineage.line == 5 and bad.field == "UPRN" and "'UPRN-TBC' is not a UPRN" in bad.reason
    assert bad.raw.startswith("UPRN-TBC,")


def test_uprn_addresses_without_a_postcode_column_take_it_from_the_address() -> None:
    result = _uprn_addresses(fixture("uprn_addresses_no_postcode.csv"))
    assert (result.read, result.loaded, result.quarantined) == (3, 2, 1)
    by_uprn = {a.uprn: a for a in result.addresses}
    unit = by_uprn[100040210006]
    assert unit.postcode == "EX4 3LS" and unit.single_line_address == "UNIT 3A, GANDY COURT, 7 GANDY STREET, EXETER EX4 3LS"
    assert (unit.sao_text, unit.sao_start_number, unit.sao_start_suffix, unit.pao_text) == ("UNIT", 3, "A", "GANDY COURT")
    assert unit.organisation == "Gandy Print Works" and unit.latitude == 50.7245 and unit.longitude == -3.5306
    shop = by_uprn[100040210007]  # no commas at all
    assert shop.postcode == "EX4 6NN"
    assert (shop.pao_start_number, shop.street_description, shop.town) == (21, "SIDWELL STREET", "EXETER")
    [bad] = result.quarantine
    assert (bad.lineage.line, bad.field) == (4, "latitude") and "'north' is not a number" in bad.reason


def test_uprn_addresses_refuse_what_is_not_a_property(tmp_path: Path) -> None:
    path = _write(tmp_path, "addresses.csv",
                  "Property UPRN,Address,Postcode\n"
                  '1001,"1 High Street, Exeter",EX4 3LF\n'
                  ',"2 High Street, Exeter",EX4 3LF\n'           # no UPRN
                  '1001,"1 High Street, Exeter",EX4 3LF\n'       # a duplicate
                  '1002,,EX4 3LF\n'                              # no address
                  '1003,"EX4 3LF",\n'                            # only a postcode
                  '1004,"3 High Street, Exeter, EX1 1AA",EX4 3LF\n'  # the address says another postcode
                  '0,"4 High Street",EX4 3LF\n')                 # UPRN 0 is none
    result = _uprn_addresses(path)
    assert (result.read, result.loaded, result.quarantined) == (7, 2, 5)
    found = {q.lineage.line: (q.field, q.reason) for q in result.quarantine}
    assert found[3] == ("Property UPRN", "empty: the row belongs to no property")
    assert found[4][0] == "Property UPRN" and "appears twice: already loaded from line 2" in found[4][1]
    assert found[5] == ("Address", "empty: no address for this UPRN")
    assert found[6][0] == "Address" and "only a postcode" in found[6][1]
    assert found[8][0] == "Property UPRN"
    other = next(a for a in result.addresses if a.uprn == 1004)
    assert other.postcode == "EX4 3LF" and other.single_line_address == "3 HIGH STREET, EXETER, EX1 1AA"
    assert result.warnings == [f"{path}: 1 addresses hold a postcode other than the postcode column's; "
                               "the column's is kept"]


def test_uprn_addresses_need_a_uprn_and_an_address_column_unless_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "addresses.csv", "UPRN,Location\n1001,\"1 High Street, Exeter, EX4 3LF\"\n")
    with pytest.raises(SourceFileError, match="no column for address"):
        _uprn_addresses(path)
    result = _uprn_addresses(path, columns={"address": "Location"})
    assert result.loaded == 1 and result.addresses[0].postcode == "EX4 3LF"


@pytest.mark.parametrize(("header", "line"), [
    ("uprn,address,postcode", '7,"1 High St, Exeter",EX4 3LF'),
    ("UPRN,SINGLE_LINE_ADDRESS,POST_CODE", '7,"1 High St, Exeter",EX4 3LF'),
    ("Uprn,Full Address,Postcode Locator", '7,"1 High St, Exeter",EX4 3LF'),
    ("uprn,full_address", '7,"1 High St, Exeter, EX4 3LF"'),
])
def test_uprn_addresses_header_synonyms(tmp_path: Path, header: str, line: str) -> None:
    result = _uprn_addresses(_write(tmp_path, "a.csv", f"{header}\n{line}\n"))
    [address] = result.addresses
    assert address.single_line_address == "1 HIGH ST, EXETER, EX4 3LF" and address.postcode == "EX4 3LF"


# --- registration, a build with nothing but the gazetteer, the README ---------------------------

def test_both_formats_are_registered_gazetteer_formats(tmp_path: Path) -> None:
    assert READERS["abplus"] is read_abplus and READERS["uprn_addresses"] is read_uprn_addresses
    path = _write(tmp_path, "sources.toml",
                  '[[sources]]\nname = "ab"\nkind = "gazetteer"\nformat = "abplus"\npaths = ["a.csv"]\n'
                  '[[sources]]\nname = "list"\nkind = "gazetteer"\nformat = "uprn_addresses"\npaths = ["b.csv"]\n')
    assert [s.format for s in load_settings(path).sources] == ["abplus", "uprn_addresses"]
    bad = _write(tmp_path, "bad.toml", '[[sources]]\nname = "x"\nkind = "rates"\nformat = "abplus"\npaths = ["a"]\n')
    with pytest.raises(Exception, match="not a rates format"):
        load_settings(bad)


def test_a_header_only_file_is_a_failed_extract_unless_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, "empty.csv", "UPRN,ADDRESS,POSTCODE\n")
    settings = load_settings(_write(tmp_path, "sources.toml", '[[sources]]\nname = "list"\nkind = "gazetteer"\n'
                                    'format = "uprn_addresses"\npaths = ["empty.csv"]\n'))
    with pytest.raises(SourceFileError, match="has no rows"):
        read_source(settings, settings.sources[0])
    assert path.exists()


@pytest.mark.parametrize(("fmt", "name", "addresses"), [
    ("uprn_addresses", "uprn_addresses.csv", 4), ("abplus", "abplus.csv", 5)])
def test_a_build_with_only_this_gazetteer_publishes_its_addresses(
        tmp_path: Path, fmt: str, name: str, addresses: int) -> None:
    (tmp_path / name).write_bytes(fixture(name).read_bytes())
    toml = _write(tmp_path, "sources.toml",
                  f'[council]\nname = "Exeter"\n\n[[sources]]\nname = "gaz"\nkind = "gazetteer"\nformat = "{fmt}"\n'
                  f'paths = ["{name}"]\n')
    index = tmp_path / "index.duckdb"
    report = build_index(load_settings(toml), index)
    assert report.counts["addresses"] == report.counts["address_aliases"] == addresses
    assert report.counts["business_records"] == 0 and report.notes == []
    with duckdb.connect(str(index)) as con:
        keys = con.execute("""SELECT a.uprn, a.lpi_key, l.lpi_key FROM addresses a JOIN address_aliases l USING (uprn)
                              ORDER BY a.uprn""").fetchall()
        assert len(keys) == addresses
        for uprn, address_key, alias_key in keys:
            assert alias_key == f"U{uprn}"
            assert address_key == (None if fmt == "uprn_addresses" else alias_key)
        # the matcher's comparable forms of these addresses, as a build makes them (whether or not the
        # index publishes them): structured fields for abplus, a re-parse of the line for uprn_addresses
        build_address_features(con)
        features = {row[0]: row[1:] for row in con.execute(
            "SELECT uprn, postcode, number, street, kind FROM address_features").fetchall()}
        assert len(features) == addresses  # every address can be matched to
        assert features[100040210003] == ("EX4 3LF", "12A", "HIGH STREET", "commercial")
        assert features[100040210002][:3] == ("EX4 3LF", "14", "HIGH STREET")
        assert con.execute("SELECT count(*) FROM property_names").fetchone() == (2,)  # the shop and the bakery


HOSTILE = ["inf", "NaN", "1e308", "99999999999999999999", "-1", "0", "", " ", "\u0663", "2026-13-45", "x", "'",
           "\"", "12.0", "EX4 3LF", ",", "Flat", "\u202e", "9" * 25]


@pytest.mark.parametrize(("fmt", "name"), [("uprn_addresses", "uprn_addresses.csv"), ("abplus", "abplus.csv")])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_values_are_quarantined_not_fatal(
        tmp_path_factory: pytest.TempPathFactory, fmt: str, name: str, data: st.DataObject) -> None:
    rows = list(csv.reader(io.StringIO(fixture(name).read_text(encoding="utf-8"))))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(1, len(rows) - 1))
        j = data.draw(st.integers(0, len(rows[i]) - 1))
        rows[i][j] = data.draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))
    folder = tmp_path_factory.mktemp(fmt)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (folder / name).write_text(out.getvalue(), encoding="utf-8")
    result = READERS[fmt](_config(fmt, folder / name), [folder / name])
    assert result.read == result.loaded + result.quarantined == len(rows) - 1
    assert len(result.addresses) == len(result.aliases) == result.loaded
    assert len({a.uprn for a in result.addresses}) == result.loaded


def test_the_readme_lists_both_formats() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "| `uprn_addresses` | gazetteer |" in readme and "| `abplus` | gazetteer |" in readme
    assert 'format = "uprn_addresses"' in readme and 'format = "abplus"' in readme
