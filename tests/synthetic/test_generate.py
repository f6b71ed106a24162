"""The generated borough is deterministic, parses with plain readers, and its truth is consistent."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from business_index.synthetic import generate_borough
from business_index.synthetic.generate import LICENSING_FILE, NDR_FILE, VOA_FILE


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_files_different_seed_different_files(tmp_path: Path) -> None:
    generate_borough(tmp_path / "a", seed=5, n_properties=600, workers=1)
    generate_borough(tmp_path / "b", seed=5, n_properties=600, workers=2)  # parallel writing changes nothing
    generate_borough(tmp_path / "c", seed=6, n_properties=600, workers=1)
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def _llpg_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_every_file_parses_with_a_plain_csv_reader(small_borough: Path) -> None:
    for path in (small_borough / "llpg").rglob("*.csv"):
        rows = _llpg_rows(path)
        assert rows[0][0] == "10" and rows[-1][0] == "99"
        assert int(rows[-1][2]) == sum(1 for r in rows if r[0] not in ("10", "29", "99"))
    for name in (NDR_FILE, LICENSING_FILE):
        with (small_borough / name).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len({len(r) for r in rows}) == 1 and len(rows) > 10
    with (small_borough / VOA_FILE).open(newline="", encoding="latin-1") as handle:
        rows = list(csv.reader(handle, delimiter="*", quoting=csv.QUOTE_NONE))
    assert {len(r) for r in rows} == {29} and all(r[-1] == "" for r in rows)


def _live_uprns(borough: Path) -> set[int]:
    """Apply the DTF full supply and change-only update with nothing but the csv module."""
    uprns: set[int] = set()
    for name in ("5360_20261101_01.csv", "5360_20261115_01.csv"):
        for row in _llpg_rows(borough / "llpg" / "dtf73" / name):
            if row[0] == "21":
                (uprns.discard if row[1] == "D" else uprns.add)(int(row[3]))
    return uprns


def _truth(borough: Path) -> list[dict[str, str]]:
    with (borough / "truth" / "records.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_truth_is_consistent_with_the_data(small_borough: Path) -> None:
    live = _live_uprns(small_borough)
    truth = _truth(small_borough)
    with (small_borough / "truth" / "businesses.csv").open(newline="", encoding="utf-8") as handle:
        businesses = {row["business_id"] for row in csv.DictReader(handle)}
    assert truth
    for row in truth:
        if row["true_uprn"]:
            assert int(row["true_uprn"]) in live, row
        if row["true_business_id"]:
            assert row["true_business_id"] in businesses
    # every truth row points at a real line of its file, and that line carries the record's id
    lines = {name: (small_borough / name).read_text(encoding="latin-1").splitlines()
             for name in (NDR_FILE, VOA_FILE, LICENSING_FILE)}
    by_name = {Path(n).name: n for n in lines}
    for row in truth:
        text = lines[by_name[row["file"]]][int(row["line"]) - 1]
        assert row["source_record_id"] in text
    # some records have no property at all (advertising rights, market pitches)
    assert any(not row["true_uprn"] for row in truth)


def test_the_supplier_is_written_eighteen_different_ways(small_borough: Path) -> None:
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    supplier = cases["eighteen_way_supplier"]["business_id"]
    spellings: list[str] = []
    files = {Path(n).name: small_borough / n for n in (NDR_FILE, VOA_FILE, LICENSING_FILE)}
    for row in _truth(small_borough):
        if row["true_business_id"] != supplier:
            continue
        path = files[row["file"]]
        line = path.read_text(encoding="latin-1").splitlines()[int(row["line"]) - 1]
        if row["source"] == "voa":
            spellings.append(line.split("*")[8])
        else:
            fields = next(csv.reader([line]))
            spellings.append(fields[2] if row["source"] == "ndr" else fields[3])
    assert len(spellings) == 18
    assert len(set(spellings)) == 18, spellings
    # and its near-identical decoy is a different business
    assert any(supplier in pair and len(set(pair)) == 2 for pair in cases["near_identical"])


@pytest.mark.parametrize("bad", [0, 10])
def test_generate_refuses_a_borough_too_small_to_hold_its_cases(tmp_path: Path, bad: int) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_borough(tmp_path, seed=1, n_properties=bad, workers=1)
