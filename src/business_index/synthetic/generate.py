"""``bx generate``: imagine a borough and write every file a council would hand us, plus the truth."""

from __future__ import annotations

import csv
import json
import multiprocessing
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from business_index.synthetic.borough import AS_OF, CHANGE_DATE, Borough, Business, build_borough
from business_index.synthetic.places import place_of
from business_index.synthetic.writers import (
    EighteenWays,
    write_csv,
    write_gazetteer,
    write_licensing,
    write_ndr,
    write_voa,
)

DTF_FULL = "llpg/dtf73/5360_20261101_01.csv"
DTF_CHANGE = "llpg/dtf73/5360_20261115_01.csv"
ABP_FULL = "llpg/abp/AddressBasePremium_FULL_2026-11-01_001.csv"
ABP_CHANGE = "llpg/abp/AddressBasePremium_COU_2026-11-15_001.csv"
NDR_FILE = "rates/ndr_accounts_2026-11-01.csv"
VOA_FILE = "rates/uk-englandwales-ndr-2023-listentries-compiled-epoch-0031-baseline-csv.csv"
LICENSING_FILE = "licensing/civica_app_licences_2026-11-01.csv"

MIN_PROPERTIES = 50


@dataclass(frozen=True)
class BoroughFiles:
    """Where one borough's files go, relative to its folder."""

    dtf_full: str
    dtf_change: str
    abp_full: str
    abp_change: str
    ndr: str
    voa: str
    licensing: str

    def business_files(self) -> tuple[str, str, str]:
        return self.ndr, self.voa, self.licensing


def borough_files(number: int = 0, custodian_code: str | None = None) -> BoroughFiles:
    """The file names of borough ``number``. Borough 0 keeps the names ``bx generate`` has always
    used; the others carry their custodian code (or their chunk number, as the national AddressBase
    and VOA files come in chunks), because scoring finds a record's truth by file name and line, so no
    two boroughs of one dataset may share a file name."""
    if number == 0:
        return BoroughFiles(DTF_FULL, DTF_CHANGE, ABP_FULL, ABP_CHANGE, NDR_FILE, VOA_FILE, LICENSING_FILE)
    cc = custodian_code or place_of(number).custodian_code
    chunk = f"{number + 1:03d}"
    return BoroughFiles(
        f"llpg/dtf73/{cc}_20261101_01.csv", f"llpg/dtf73/{cc}_20261115_01.csv",
        ABP_FULL.replace("_001.csv", f"_{chunk}.csv"), ABP_CHANGE.replace("_001.csv", f"_{chunk}.csv"),
        f"rates/ndr_accounts_{cc}_2026-11-01.csv", VOA_FILE.replace("-csv.csv", f"-csv-{chunk}.csv"),
        f"licensing/civica_app_licences_{cc}_2026-11-01.csv")
TRUTH_HEADER = ["source", "file", "line", "source_record_id", "true_uprn", "true_business_id",
                "true_establishment_id", "true_organisation_id"]


@dataclass
class GenerationReport:
    out_dir: Path
    seed: int
    properties: int
    business_records: int
    businesses: int
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.business_records / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"out_dir": str(self.out_dir), "seed": self.seed, "properties": self.properties,
                "business_records": self.business_records, "businesses": self.businesses,
                "files": self.files, "seconds": round(self.seconds, 2),
                "business_records_per_second": round(self.records_per_second)}


# The borough is built once in the parent; forked workers read it from here without pickling it.
_BOROUGH: Borough | None = None

_BUSINESS_WRITERS = {
    "ndr": write_ndr,
    "voa": write_voa,
    "licensing": write_licensing,
}


def _files_of(borough: Borough) -> BoroughFiles:
    return borough_files(borough.number, borough.custodian_code)


def _task_gazetteer(out_dir: str, fmt: str) -> dict[str, int]:
    assert _BOROUGH is not None
    files = _files_of(_BOROUGH)
    full, change = (files.dtf_full, files.dtf_change) if fmt == "dtf73" else (files.abp_full, files.abp_change)
    counts = write_gazetteer(_BOROUGH, fmt, Path(out_dir) / full, Path(out_dir) / change)
    return {full: counts["full_rows"], change: counts["change_rows"]}


def _task_business_source(out_dir: str, writer: str) -> dict[str, int]:
    """Write one business source and its part of the truth (``truth/records.<writer>.part``)."""
    borough = _BOROUGH
    assert borough is not None
    write = _BUSINESS_WRITERS[writer]
    relative = getattr(_files_of(borough), writer)
    out = Path(out_dir)
    truth = write(borough, out / relative, random.Random(f"{borough.seed}-{writer}"), EighteenWays(borough, writer))
    with (out / "truth" / f"records.{writer}.part").open("w", encoding="utf-8", newline="") as handle:
        rows = csv.writer(handle)
        for r in truth:
            # the borough's businesses are legal entities (organisations); each trades at a property
            # as one establishment, and each place with no property (an advertising right, a market
            # pitch) is an establishment of its own
            place = r.true_uprn or f"{r.source}:{r.source_record_id}"
            establishment = f"{r.true_business_id}@{place}" if r.true_business_id else ""
            rows.writerow([r.source, r.file, r.line, r.source_record_id,
                           "" if r.true_uprn is None else r.true_uprn, r.true_business_id or "", establishment,
                           r.true_business_id or ""])
    return {relative: len(truth)}


def _join_truth_parts(folder: Path) -> None:
    with (folder / "records.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerow(TRUTH_HEADER)
        for writer in _BUSINESS_WRITERS:
            part = folder / f"records.{writer}.part"
            out.write(part.read_text(encoding="utf-8"))
            part.unlink()


def _write_truth(borough: Borough, folder: Path) -> None:
    write_csv(folder / "businesses.csv",
              ["business_id", "trading_name", "legal_name", "proprietor", "kind", "former_trading_name", "case"],
              ([b.business_id, b.trading_name, b.legal_name, b.proprietor, b.kind, b.former_trading_name, b.case]
               for b in borough.businesses))
    write_csv(folder / "properties.csv",
              ["uprn", "parent_uprn", "classification", "logical_status", "in_full_supply", "deleted_by_update",
               "llpg_organisation", "current_business_id", "ndr_property_ref"],
              ([p.uprn, p.parent_uprn, p.classification, p.logical_status, p.in_full_supply, p.deleted_by_update,
                p.organisation, _current_business(p), p.ndr_ref] for p in borough.properties))
    cases = {k: v for k, v in borough.cases.items() if isinstance(v, (list, dict, str, int))}
    (folder / "cases.json").write_text(json.dumps(cases, indent=2) + "\n", encoding="utf-8")


def _current_business(prop) -> str | None:  # type: ignore[no-untyped-def]
    current = [o for o in prop.occupancies if o.end is None]
    return current[-1].business.business_id if current else None


def generate_borough(
    out_dir: Path,
    seed: int,
    n_properties: int,
    ndr_source_code: str | None = None,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
    number: int = 0,
    national: Sequence[Business] = (),
    registered: set[str] | None = None,
) -> GenerationReport:
    """Write a synthetic borough of ``n_properties`` gazetteer properties to ``out_dir``; ``number``
    places it and gives it ids and file names of its own (``synthetic/national.py``), 0 being the
    Hackney-like borough of ``bx generate``; ``national`` chains take over some of its chains, and
    ``registered`` holds the company names of the dataset's boroughs so far (``build_borough``)."""
    global _BOROUGH
    if n_properties < MIN_PROPERTIES:
        raise ValueError(f"a borough needs at least {MIN_PROPERTIES} properties to hold its adversarial cases")
    started = time.perf_counter()
    say = progress or (lambda message: None)
    for sub in ("llpg/dtf73", "llpg/abp", "rates", "licensing", "truth"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    say("imagining the borough")
    borough = build_borough(seed, n_properties, ndr_source_code=ndr_source_code, number=number, national=national,
                            registered=registered)
    _BOROUGH = borough
    say("writing files")
    files: dict[str, int] = {}
    try:
        # longest first, so two workers finish together
        tasks: list[tuple[Callable[..., dict[str, int]], tuple]] = [
            (_task_gazetteer, (str(out_dir), "abp")),
            (_task_gazetteer, (str(out_dir), "dtf73")),
            (_task_business_source, (str(out_dir), "licensing")),
            (_task_business_source, (str(out_dir), "ndr")),
            (_task_business_source, (str(out_dir), "voa")),
        ]
        if workers > 1:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = [pool.submit(fn, *args) for fn, args in tasks]
                for future in futures:
                    files.update(future.result())
        else:
            for fn, args in tasks:
                files.update(fn(*args))
    finally:
        _BOROUGH = None
    _join_truth_parts(out_dir / "truth")
    _write_truth(borough, out_dir / "truth")
    _write_sources_toml(out_dir, borough)
    _write_readme(out_dir, borough)
    records = sum(v for k, v in files.items() if k in _files_of(borough).business_files())
    return GenerationReport(out_dir, seed, n_properties, records, len(borough.businesses), files,
                            time.perf_counter() - started)


def sources_toml_text(borough_seed: int, ndr_source_code: str, gazetteer_format: str, number: int = 0,
                      custodian_code: str | None = None) -> str:
    """The ``sources.toml`` of one generated borough."""
    place = place_of(number)
    files = borough_files(number, custodian_code)
    return sources_toml(
        f"a synthetic borough made by `bx generate` (seed {borough_seed})", "See the README for every key.",
        {"name": place.council_name, "custodian_code": custodian_code or place.custodian_code},
        gazetteer_format, [("", files)], [ndr_source_code])


def sources_toml(made: str, note: str, council: dict[str, str], gazetteer_format: str,
                 boroughs: list[tuple[str, BoroughFiles]], ndr_source_codes: list[str]) -> str:
    """A ``sources.toml`` reading the files of ``boroughs`` (each borough's folder, relative to the
    file, and its files) as one source of each kind: the gazetteer (each borough's full supply, then
    its change-only update), rates accounts, the VOA list and licences."""

    def paths(pick: Callable[[BoroughFiles], list[str]]) -> str:
        listed = [f'"{folder}{path}"' for folder, files in boroughs for path in pick(files)]
        if len(boroughs) == 1:
            return "[" + ", ".join(listed) + "]"
        return "[\n    " + ",\n    ".join(listed) + ",\n]"

    gazetteer = paths((lambda f: [f.dtf_full, f.dtf_change]) if gazetteer_format == "dtf73" else
                      (lambda f: [f.abp_full, f.abp_change]))
    if len(boroughs) == 1:
        gazetteer += "   # the full supply, then the change-only update"
    council_lines = "\n".join(f'{key} = "{value}"' for key, value in council.items())
    codes = ", ".join(f'"{code}"' for code in ndr_source_codes)
    custodians = "custodian" if len(ndr_source_codes) == 1 else "custodians"
    return f'''# Sources of {made}.
# Paths are relative to this file. {note}

[council]
{council_lines}

[derive]
# The business name of a property: the first kind here that has one wins ("approved": names the
# data team approved through the API).
name_precedence = ["approved", "gazetteer", "licensing", "rates"]

[[sources]]
name = "llpg"
kind = "gazetteer"
format = "{gazetteer_format}"
paths = {gazetteer}
ndr_xref_sources = [{codes}]
owner = "Address Management (LLPG {custodians})"
lawful_basis = "Public task (UK GDPR Art. 6(1)(e)); gazetteer data is not personal data"
refreshed = {AS_OF.isoformat()}

[[sources]]
name = "ndr"
kind = "rates"
format = "ndr_csv"
paths = {paths(lambda f: [f.ndr])}
owner = "Revenues (business rates)"
lawful_basis = "Public task (UK GDPR Art. 6(1)(e)); Local Government Finance Act 1988"
refreshed = {AS_OF.isoformat()}
retention = "Account life plus 6 years"

[[sources]]
name = "voa"
kind = "rates"
format = "voa_list_entries"
paths = {paths(lambda f: [f.voa])}
owner = "Valuation Office Agency (published rating list)"
lawful_basis = "Open data under the Open Government Licence"
refreshed = 2023-04-01

[[sources]]
name = "licensing"
kind = "licensing"
format = "licensing_csv"
paths = {paths(lambda f: [f.licensing])}
owner = "Licensing and Regulatory Services (Civica APP)"
lawful_basis = "Public task (UK GDPR Art. 6(1)(e)); Licensing Act 2003 s.8 public register"
refreshed = {CHANGE_DATE.isoformat()}
'''


def _write_sources_toml(out_dir: Path, borough: Borough) -> None:
    for name, fmt in (("sources.toml", "dtf73"), ("sources-abp.toml", "abp")):
        (out_dir / name).write_text(sources_toml_text(borough.seed, borough.ndr_source_code, fmt, borough.number,
                                                      borough.custodian_code), encoding="utf-8")


def _write_readme(out_dir: Path, borough: Borough) -> None:
    f = _files_of(borough)
    where = "" if borough.number == 0 else \
        f" This one is borough {borough.number} of a dataset of many, placed in {borough.place.post_town.title()}."
    (out_dir / "README.md").write_text(f"""# Synthetic borough (seed {borough.seed})

Made by `bx generate`. Nothing here is real; it is shaped like Hackney and as messy as real council data.{where}

| file | what it is |
|---|---|
| `sources.toml` | the sources of this borough, for `bx build --config sources.toml` (gazetteer in DTF 7.3) |
| `sources-abp.toml` | the same, with the gazetteer in AddressBase Premium layout |
| `{f.dtf_full}` | LLPG full supply, NLPG DTF 7.3 (records 10, 11, 15, 21, 23, 24, 99) |
| `{f.dtf_change}` | LLPG change-only update (I/U/D) to apply on top of the full supply |
| `{f.abp_full}` | the same LLPG in AddressBase Premium CSV layout (records 10, 29, 11, 15, 21, 23, 24, 28, 31, 32, 99) |
| `{f.abp_change}` | its change-only update |
| `{f.ndr}` | council business-rates (NDR) account export: one row per liability |
| `{f.voa}` | VOA rating-list entries for the same hereditaments ('*'-delimited, no header) |
| `{f.licensing}` | Civica APP style licensing export |
| `truth/records.csv` | every business record (source, file, line, id) -> its true UPRN, business, establishment (the business at that property) and organisation |
| `truth/businesses.csv` | every business, with its kind and the adversarial case it belongs to |
| `truth/properties.csv` | every property, its LLPG organisation name and its current business |
| `truth/cases.json` | the adversarial cases: the 18-way supplier, near-identical names, busy premises, chains |

The truth folder is for scoring only (`bx evaluate`); a build never reads it.
""", encoding="utf-8")
