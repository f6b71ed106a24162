"""``bx build`` end to end: counts add up, both LLPG layouts agree, publishing is atomic."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from business_index.build import build_index
from business_index.config import load_settings
from business_index.sources import SourceFileError
from business_index.store.index_writer import SCHEMA_VERSION
from business_index.synthetic.generate import NDR_FILE


def test_every_row_is_loaded_or_quarantined(small_borough: Path, small_index: Path) -> None:
    with duckdb.connect(str(small_index), read_only=True) as db:
        files = db.execute("SELECT source, read, loaded, quarantined FROM source_files").fetchall()
        assert files and all(read == loaded + quarantined for _, read, loaded, quarantined in files)
        assert db.execute("SELECT count(*) FROM business_records").fetchone()[0] > 1000
        truth_rows = sum(1 for _ in (small_borough / "truth" / "records.csv").open()) - 1
        assert db.execute("SELECT count(*) FROM business_records").fetchone()[0] == truth_rows
        info = dict(db.execute("SELECT key, value FROM build_info").fetchall())
        assert info["schema_version"] == str(SCHEMA_VERSION) and len(info["build_id"]) == 12
        # the linker's working tables are not published
        assert not db.execute("SELECT table_name FROM duckdb_tables() "
                              "WHERE starts_with(table_name, '__splink__')").fetchall()


def test_dtf73_and_abp_give_the_same_index(small_borough: Path, small_index: Path, tmp_path: Path) -> None:
    abp_index = tmp_path / "abp.duckdb"
    build_index(load_settings(small_borough / "sources-abp.toml"), abp_index)
    columns = ("uprn, parent_uprn, usrn, lpi_key, logical_status, single_line_address, postcode, classification, "
               "organisation, local_custodian_code, x_coordinate, y_coordinate")
    with duckdb.connect(str(small_index), read_only=True) as db:
        # every property carries the council that keeps it (the custodian of the generated borough)
        assert db.execute("SELECT list(DISTINCT local_custodian_code) FROM addresses").fetchone()[0] == [5360]
        db.execute(f"ATTACH '{abp_index}' AS abp (READ_ONLY)")
        for table, cols in (("addresses", columns),
                            ("address_aliases", "uprn, lpi_key, logical_status, single_line_address, postcode"),
                            ("cross_references", "uprn, xref_key, source_code, reference")):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
            for left, right in ((table, f"abp.{table}"), (f"abp.{table}", table)):
                diff = db.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {left} EXCEPT SELECT {cols} FROM {right})")
                assert diff.fetchone()[0] == 0, (table, left)


def test_a_failed_build_leaves_the_published_index_untouched(small_borough: Path, tmp_path: Path) -> None:
    borough = tmp_path / "borough"
    shutil.copytree(small_borough, borough)
    index = tmp_path / "index.duckdb"
    build_index(load_settings(borough / "sources.toml"), index)
    before = index.read_bytes()
    (borough / NDR_FILE).unlink()
    with pytest.raises(SourceFileError, match="file not found"):
        build_index(load_settings(borough / "sources.toml"), index)
    assert index.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["borough", "index.duckdb"]  # no half-built file left


def test_a_file_of_the_wrong_format_is_an_error_and_nothing_is_published(small_borough: Path, tmp_path: Path) -> None:
    borough = tmp_path / "borough"
    shutil.copytree(small_borough, borough)
    (borough / NDR_FILE).write_text("Licence Number,Trading Name\nL1,Cafe\n")
    index = tmp_path / "index.duckdb"
    with pytest.raises(SourceFileError, match="no column for property_ref"):
        build_index(load_settings(borough / "sources.toml"), index)
    assert not index.exists()


def _corrupt(lines: list[bytes], rng: random.Random, n: int) -> list[bytes]:
    lines = list(lines)
    for _ in range(n):
        i = rng.randrange(1, len(lines))
        kind = rng.randrange(5)
        line = lines[i]
        if kind == 0:
            lines[i] = line.rsplit(b",", 1)[0]  # a field short
        elif kind == 1:
            lines[i] = line + b',"extra"'  # a field too many
        elif kind == 2:
            lines[i] = line.replace(b"20", b"2x", 1)  # a garbled number or date
        elif kind == 3:
            lines[i] = line[: len(line) // 2] + b"\xff\xfe" + line[len(line) // 2:]  # bad bytes
        else:
            lines.insert(i, b"")  # a blank line: not a row at all
    return lines


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), damage=st.integers(1, 40))
def test_corrupted_files_never_lose_a_row(small_borough: Path, tmp_path_factory: pytest.TempPathFactory,
                                          seed: int, damage: int) -> None:
    """read == loaded + quarantined, whatever the damage, in every file of every source."""
    rng = random.Random(seed)
    borough = tmp_path_factory.mktemp("corrupt")
    shutil.copytree(small_borough, borough, dirs_exist_ok=True)
    for path in [*sorted((borough / "llpg" / "dtf73").glob("*.csv")), borough / NDR_FILE,
                 *sorted((borough / "licensing").glob("*.csv")), *sorted((borough / "rates").glob("uk-*.csv"))]:
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join(_corrupt(lines, rng, damage)))
    index = borough / "index.duckdb"
    report = build_index(load_settings(borough / "sources.toml"), index)
    for source in report.sources:
        assert source.read == source.loaded + source.quarantined, source
        for f in source.files:
            assert f["read"] == f["loaded"] + f["quarantined"]
    with duckdb.connect(str(index), read_only=True) as db:
        quarantined = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        assert quarantined == sum(s.quarantined for s in report.sources)
        assert db.execute("SELECT count(*) FROM quarantine WHERE line IS NULL OR reason IS NULL").fetchone()[0] == 0


def test_quarantine_reasons_group_by_a_stable_code_with_a_real_example() -> None:
    from business_index.build import reason_code

    assert reason_code("UPRN", "'12x' is not a UPRN (1 to 12 digits)") == \
        reason_code("UPRN", "'9.5' is not a UPRN (1 to 12 digits)") == "UPRN: … is not a UPRN (1 to 12 digits)"
    assert reason_code(None, "row has 7 fields; the header has 21") == "row has N fields; the header has N"


def test_a_build_reports_every_step_as_it_goes(small_borough: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    build_index(load_settings(small_borough / "sources.toml"), tmp_path / "index.duckdb",
                progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = [s for s, _, _ in seen]
    for step in ("reading llpg", "writing the index", "comparable forms", "records to properties",
                 "establishments and organisations", "deriving names", "publishing"):
        assert any(s.startswith(step) for s in stages), step
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen) and len({t for _, _, t in seen}) == 1
