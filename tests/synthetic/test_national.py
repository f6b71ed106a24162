"""Many boroughs in one dataset: each with ids, postcodes and files of its own, the first the same as
``bx generate``'s borough, and the whole built and scored as one."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from business_index.postcodes import normalise_postcode
from business_index.sources.gazetteer_layouts import DTF73
from business_index.synthetic import generate_borough
from business_index.synthetic.borough import _register_company_names, build_borough, national_chains
from business_index.synthetic.generate import borough_files
from business_index.synthetic.national import DatasetBorough, generate_dataset, read_manifest, write_selection
from business_index.synthetic.places import PLACES, place_of


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate_dataset(out, seed=4, boroughs=3, properties_per_borough=300, workers=1)
    return out


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_default_borough_is_byte_for_byte_what_it_was(tmp_path: Path) -> None:
    # measured before boroughs could be placed: `bx generate --seed 5 --properties 600` must not change,
    # so figures measured on generated boroughs stay comparable
    generate_borough(tmp_path / "b", seed=5, n_properties=600, workers=1)
    assert _digest(tmp_path / "b") == "fc7beef2a53e439dcc1b25b2e34511550b41e7145e385bf9def9364ace17f3d4"


def test_borough_zero_of_a_dataset_is_the_borough_of_its_seed(dataset: Path, tmp_path: Path) -> None:
    generate_borough(tmp_path / "alone", seed=4, n_properties=300, workers=1)
    assert _digest(dataset / "borough-00-hackney") == _digest(tmp_path / "alone")


def test_only_earlier_boroughs_names_are_taken() -> None:
    # a large borough repeats a few company names of its own (as `bx generate` has always made
    # it); those stay, or borough 0 would no longer be `bx generate`'s borough
    borough = build_borough(9, 300, number=1)
    companies = [b for b in borough.businesses if b.legal_name][:3]
    companies[0].legal_name = companies[1].legal_name = "ALBION ESTATES LIMITED"
    registered = {companies[2].legal_name or ""}
    _register_company_names(borough, registered)
    assert companies[0].legal_name == companies[1].legal_name == "ALBION ESTATES LIMITED"
    assert companies[2].legal_name.startswith("LEEDS ")  # type: ignore[union-attr]
    assert "ALBION ESTATES LIMITED" in registered


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _lpi_postcodes(borough: Path, custodian: str) -> set[str]:
    names = [name for name, _ in DTF73[24].fields]
    at = names.index("POSTCODE")
    postcodes: set[str] = set()
    for name in (f"{custodian}_20261101_01.csv", f"{custodian}_20261115_01.csv"):
        with (borough / "llpg" / "dtf73" / name).open(newline="", encoding="utf-8") as handle:
            postcodes.update(row[at] for row in csv.reader(handle) if row[0] == "24")
    return postcodes


def test_boroughs_share_no_uprn_reference_id_or_postcode(dataset: Path) -> None:
    boroughs = read_manifest(dataset)
    assert [b.custodian_code for b in boroughs] == ["5360", "9901", "9902"]
    uprns: Counter[str] = Counter()
    businesses: Counter[str] = Counter()
    record_ids: Counter[tuple[str, str]] = Counter()
    ndr_refs: Counter[str] = Counter()
    postcodes: list[set[str]] = []
    for b in boroughs:
        folder = dataset / b.folder
        uprns.update(r["uprn"] for r in _rows(folder / "truth" / "properties.csv"))
        ndr_refs.update(r["ndr_property_ref"] for r in _rows(folder / "truth" / "properties.csv")
                        if r["ndr_property_ref"])
        # national chains (N...) are one business in every borough that has a branch
        businesses.update(r["business_id"] for r in _rows(folder / "truth" / "businesses.csv")
                          if not r["business_id"].startswith("N"))
        # NDR accounts, VOA UARNs and licence numbers: what linking keys each record by
        record_ids.update((r["source"], r["source_record_id"]) for r in _rows(folder / "truth" / "records.csv"))
        postcodes.append(_lpi_postcodes(folder, b.custodian_code))
    for counter in (uprns, businesses, ndr_refs):
        assert counter and counter.most_common(1)[0][1] == 1, counter.most_common(3)
    # one record id per account, licence or list entry, across every borough (an NDR account may
    # hold several liabilities of one premises in its own borough; none crosses boroughs)
    by_borough = [{(r["source"], r["source_record_id"]) for r in _rows(dataset / b.folder / "truth" / "records.csv")}
                  for b in boroughs]
    assert sum(len(ids) for ids in by_borough) == len(record_ids)
    for i, mine in enumerate(postcodes):
        assert mine and all(normalise_postcode(pc) == pc for pc in mine), sorted(mine)[:5]
        for theirs in postcodes[i + 1:]:
            assert not mine & theirs
    assert {pc.split(" ")[0].rstrip("0123456789") for pc in postcodes[1]} == {"LS"}
    joined = _rows(dataset / "truth" / "businesses.csv")
    assert Counter(r["business_id"] for r in joined).most_common(1)[0][1] == 1
    # the register never repeats a company name across boroughs: a later borough's takes its town
    legal = [{r["legal_name"] for r in _rows(dataset / b.folder / "truth" / "businesses.csv")
              if r["legal_name"] and not r["business_id"].startswith("N")} for b in boroughs]
    assert not legal[0] & legal[1] and not legal[0] & legal[2] and not legal[1] & legal[2]
    assert any(name.startswith("LEEDS ") for name in legal[1])


def test_national_chains_are_one_business_across_boroughs() -> None:
    chains = national_chains(seed=3, n=4)
    boroughs = [build_borough(3000 + n, 12000, number=n, national=chains) for n in (1, 2)]
    alone = build_borough(3001, 12000, number=1)
    national = [set(b.cases["national_chains"]) for b in boroughs]  # type: ignore[arg-type]
    shared = sorted(national[0] & national[1])
    assert shared  # a brand with branches in both
    brand = next(c for c in chains if c.business_id == shared[0])
    for borough in boroughs:
        branches = [o for o in borough.occupancies if o.business.business_id == brand.business_id]
        assert branches and {o.business.legal_name for o in branches} == {brand.legal_name}
    # the gazetteer names a branch by its fascia, never the local brand it replaced
    local = [b for b in boroughs[0].businesses if b.case == "chain"]
    replaced = {before.trading_name.upper() for before, after in
                zip([b for b in alone.businesses if b.case == "chain"], local, strict=True)
                if after.business_id.startswith("N")}
    assert replaced and not replaced & {p.organisation for p in boroughs[0].properties}
    assert any(p.organisation == brand.trading_name.upper() for p in boroughs[0].properties)
    # the rest of the borough is what it would have been without them
    assert [p.uprn for p in boroughs[0].properties] == [p.uprn for p in alone.properties]
    assert [o.account_ref for o in boroughs[0].occupancies] == [o.account_ref for o in alone.occupancies]


def test_each_borough_has_its_own_files_usrns_and_place(dataset: Path) -> None:
    boroughs = read_manifest(dataset)
    names = [Path(f).name for b in boroughs for f in vars(borough_files(b.number, b.custodian_code)).values()]
    assert len(names) == len(set(names))
    usrns: list[set[str]] = []
    for b in boroughs:
        with (dataset / b.folder / "llpg" / "dtf73" / f"{b.custodian_code}_20261101_01.csv").open() as handle:
            rows = list(csv.reader(handle))
        usrns.append({r[3] for r in rows if r[0] == "11"})
        assert rows[0][2] == b.custodian_code
        towns = {r[6] for r in rows if r[0] == "15"}
        assert towns == {place_of(b.number).post_town}
    assert not usrns[0] & usrns[1] and not usrns[1] & usrns[2]


def test_the_dataset_builds_and_scores_as_one(dataset: Path, tmp_path: Path) -> None:
    from business_index.build import build_index
    from business_index.config import load_settings
    from business_index.evaluate.synthetic import evaluate_against_truth

    settings = load_settings(dataset / "sources.toml")
    assert [len(s.paths) for s in settings.sources] == [6, 3, 3, 3]
    report = build_index(settings, tmp_path / "index.duckdb")
    boroughs = read_manifest(dataset)
    assert report.counts["business_records"] == sum(b.business_records for b in boroughs)
    scores = evaluate_against_truth(tmp_path / "index.duckdb", dataset / "truth")
    assert scores["paired"]["paired"] == scores["paired"]["truth_records"]  # type: ignore[index]
    assert scores["record_to_uprn"]["precision"] >= 0.99  # type: ignore[index]
    assert scores["record_to_uprn"]["recall"] >= 0.98  # type: ignore[index]
    assert scores["establishments"]["f1"] >= 0.97  # type: ignore[index]
    assert scores["eighteen_way_supplier"]["passed"]  # type: ignore[index]


def test_a_selection_of_the_first_boroughs(dataset: Path) -> None:
    from business_index.config import load_settings

    boroughs = read_manifest(dataset)
    sources, truth = write_selection(dataset, boroughs[:2])
    assert sources.name == "sources-first-02.toml" and truth.name == "truth-first-02"
    settings = load_settings(sources)
    assert all(settings.resolve(p).exists() for s in settings.sources for p in s.paths)
    assert len(settings.sources[0].paths) == 4
    records = _rows(truth / "records.csv")
    assert len(records) == sum(len(_rows(dataset / b.folder / "truth" / "records.csv")) for b in boroughs[:2])


def test_more_boroughs_than_places_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="places"):
        generate_dataset(tmp_path, seed=1, boroughs=len(PLACES) + 1, properties_per_borough=100)
    with pytest.raises(ValueError):
        place_of(len(PLACES))


def test_bx_generate_boroughs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from business_index.cli import app

    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "d"), "--seed", "2", "--properties", "100",
                                      "--boroughs", "2", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    boroughs = read_manifest(tmp_path / "d")
    assert [b.folder for b in boroughs] == ["borough-00-hackney", "borough-01-leeds"]
    assert isinstance(boroughs[0], DatasetBorough) and (tmp_path / "d" / "truth" / "records.csv").exists()
