"""Every field of every format, fed hostile values: a value a parser cannot hold is quarantined with
its field and reason, never a crash, and the build still publishes (read == loaded + quarantined)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from business_index.build import build_index
from business_index.config import load_settings
from business_index.sources import SourceFileError
from tests.conftest import FIXTURES

HOSTILE = ["inf", "Infinity", "-inf", "NaN", "1e30", "1e308", "99999999999999999999", "1.2.0", "x.0",
           "99999999999", "-1", "0", "", " ", "9" * 25, "-0", "\u0663", "2026-13-45", "31/02/2020", "00/00/0000",
           "1.5", "x", "'", "\"", "2999-12-31", "0001-01-01", "99999-01-01", "£", "(1)", "\u202e", "12.0",
           "=HYPERLINK(\"x\")"]
# (format, fixture, delimiter, rows before the data that are left alone)
FORMATS = [
    ("dtf73", "dtf73_full.csv", ",", 1),
    ("abp", "abp_split_blpu.csv", ",", 1),
    ("ndr_csv", "ndr_export.csv", ",", 1),
    ("voa_list_entries", "voa_list_entries.csv", "*", 0),
    ("licensing_csv", "civica_licences.csv", ",", 1),
    ("lga_premises_licences", "lga_premises_licences.csv", ",", 1),
    ("fhrs_csv", "fhrs.csv", ",", 1),
]
KIND = {"dtf73": "gazetteer", "abp": "gazetteer", "ndr_csv": "rates", "voa_list_entries": "rates",
        "licensing_csv": "licensing", "lga_premises_licences": "licensing", "fhrs_csv": "licensing"}


def _rows(path: Path, delimiter: str) -> list[list[str]]:
    text = path.read_text(encoding="latin-1")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _write(path: Path, rows: list[list[str]], delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.mark.parametrize(("fmt", "fixture", "delimiter", "skip"), FORMATS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_values_in_any_field_are_quarantined_not_fatal(
        tmp_path_factory: pytest.TempPathFactory, fmt: str, fixture: str, delimiter: str, skip: int,
        data: st.DataObject) -> None:
    rows = _rows(FIXTURES / fixture, delimiter)
    body = range(skip, len(rows))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.sampled_from(list(body)))
        if not rows[i]:
            continue
        j = data.draw(st.integers(0, len(rows[i]) - 1))
        rows[i][j] = data.draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))
    folder = tmp_path_factory.mktemp(fmt)
    _write(folder / fixture, rows, delimiter)
    if fmt == "dtf73":  # its change-only update goes with it
        shutil.copy(FIXTURES / "dtf73_change.csv", folder / "dtf73_change.csv")
    paths = f'["{fixture}", "dtf73_change.csv"]' if fmt == "dtf73" else f'["{fixture}"]'
    (folder / "sources.toml").write_text(
        f'[[sources]]\nname = "s"\nkind = "{KIND[fmt]}"\nformat = "{fmt}"\npaths = {paths}\n', encoding="utf-8")
    try:
        report = build_index(load_settings(folder / "sources.toml"), folder / "index.duckdb")
    except SourceFileError as exc:  # a file left with no row of its format at all: one clear error
        assert fixture in str(exc)
        assert not (folder / "index.duckdb").exists()
        return
    for source in report.sources:
        assert source.read == source.loaded + source.quarantined
