"""The real open data in ../shared/data, when it is there: FHRS London and Basildon business rates."""

from __future__ import annotations

from pathlib import Path

import pytest

from business_index.build import build_index
from business_index.config import load_settings
from tests.conftest import SHARED_DATA

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not present"),
]


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_basildon_rates_and_food_hygiene(tmp_path: Path) -> None:
    config = _config(tmp_path, f'''
[[sources]]
name = "basildon-ndr"
kind = "rates"
format = "ndr_csv"
paths = ["{SHARED_DATA}/ndr-basildon/basildon_ndr_E07000066.csv"]
date_order = "mdy"

[[sources]]
name = "basildon-fhrs"
kind = "licensing"
format = "fhrs_xml"
paths = ["{SHARED_DATA}/ndr-basildon/FHRS109en-GB_basildon_2020-11-15.xml.gz"]
''')
    report = build_index(load_settings(config), tmp_path / "index.duckdb")
    ndr, fhrs = report.sources
    assert ndr.read == 5583 and ndr.read == ndr.loaded + ndr.quarantined
    assert ndr.loaded >= 5500
    assert fhrs.read == 1268 and fhrs.loaded == 1268


def test_fhrs_london_csv_and_hackney_xml(tmp_path: Path) -> None:
    config = _config(tmp_path, f'''
[[sources]]
name = "fhrs-london"
kind = "licensing"
format = "fhrs_csv"
paths = ["{SHARED_DATA}/fhrs-london-2020/fhrs_london_2020-11-15.csv.gz"]

[[sources]]
name = "fhrs-hackney"
kind = "licensing"
format = "fhrs_xml"
paths = ["{SHARED_DATA}/fhrs-london-2020/raw/FHRS512en-GB_hackney_gh-pages-2020-11-15.xml.gz"]
''')
    report = build_index(load_settings(config), tmp_path / "index.duckdb")
    london, hackney = report.sources
    assert london.read == 66761 and london.read == london.loaded + london.quarantined
    assert hackney.read == 2493 and hackney.loaded == 2493


def test_basildon_labels_same_establishment(tmp_path: Path) -> None:
    """The shipped model and default configuration on real Basildon rates and food hygiene, scored
    against the hand-made labels (measured: precision 1.000, recall 0.911; floors a little below)."""
    from business_index.evaluate.basildon import evaluate_against_basildon_labels

    labels = SHARED_DATA / "labels-basildon"
    if not (labels / "pairs.csv").exists():
        pytest.skip("the Basildon labels are not present")
    index = tmp_path / "basildon.duckdb"
    build_index(load_settings(Path(__file__).parent.parent / "examples" / "basildon" / "sources.toml"), index)
    scores = evaluate_against_basildon_labels(index, labels, "basildon-ndr", "basildon-fhrs")
    assert scores["precision"] >= 0.97, scores
    assert scores["recall"] >= 0.88, scores
