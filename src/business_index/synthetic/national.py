"""``bx generate --boroughs N``: many boroughs as one dataset, for builds bigger than one council.

Each borough is generated and written on its own (``generate_borough``, one borough in memory at a
time) into ``borough-NN-<town>/`` with its own ``sources.toml`` and truth; borough 0 is exactly the
borough ``bx generate`` makes for the same seed and size, so its figures stay comparable. Boroughs
1 and up are placed elsewhere in England (``places.py``) with ids, postcodes and file names of their
own; a quarter of their chains are branches of national chains (one company, id and name in every
borough that has a branch), so organisations span boroughs as Tesco's do; and no two boroughs'
companies share a registered name (a later borough's takes its town: ``LEEDS X LIMITED``).
The dataset's ``sources.toml`` lists every borough's files under one source of each kind, and its
``truth/`` joins the boroughs' truths (so ``bx evaluate`` scores the whole build).
``write_selection`` writes the same for the first k boroughs only, for builds at smaller scales.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from business_index.synthetic.borough import national_chains
from business_index.synthetic.generate import borough_files, generate_borough, sources_toml
from business_index.synthetic.places import PLACES, place_of

MANIFEST = "dataset.json"


@dataclass
class DatasetBorough:
    folder: str  # relative to the dataset
    number: int
    seed: int
    properties: int
    custodian_code: str
    ndr_source_code: str
    business_records: int
    businesses: int
    seconds: float


@dataclass
class DatasetReport:
    out_dir: Path
    seed: int
    properties_per_borough: int
    boroughs: list[DatasetBorough] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def properties(self) -> int:
        return sum(b.properties for b in self.boroughs)

    @property
    def business_records(self) -> int:
        return sum(b.business_records for b in self.boroughs)

    def as_dict(self) -> dict[str, object]:
        return {"out_dir": str(self.out_dir), "seed": self.seed, "properties_per_borough": self.properties_per_borough,
                "properties": self.properties, "business_records": self.business_records,
                "seconds": round(self.seconds, 1), "boroughs": [asdict(b) for b in self.boroughs]}


def borough_seed(seed: int, number: int) -> int:
    """Borough 0 keeps the dataset's seed (it is ``bx generate``'s borough); the others get seeds
    of their own derived from it."""
    return seed if number == 0 else seed * 1000 + number


def generate_dataset(
    out_dir: Path,
    seed: int,
    boroughs: int,
    properties_per_borough: int,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> DatasetReport:
    """Write ``boroughs`` boroughs of ``properties_per_borough`` properties each as one dataset."""
    if not 1 <= boroughs <= len(PLACES):
        raise ValueError(f"--boroughs {boroughs}: the generator places 1 to {len(PLACES)} boroughs")
    say = progress or (lambda message: None)
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = DatasetReport(out_dir, seed, properties_per_borough)
    chains = national_chains(seed)
    registered: set[str] = set()  # company names are unique nationally, as on the register
    for number in range(boroughs):
        place = place_of(number)
        folder = f"borough-{number:02d}-{place.slug}"
        say(f"borough {number + 1} of {boroughs} ({place.post_town.title()})")
        target = out_dir / folder
        if target.exists():  # a borough left from a larger or older dataset must not keep stale files
            shutil.rmtree(target)
        # borough 0 stays exactly `bx generate`'s borough, so it keeps its own chains
        one = generate_borough(target, borough_seed(seed, number), properties_per_borough, workers=workers,
                               number=number, national=chains if number else (), registered=registered)
        report.boroughs.append(DatasetBorough(folder, number, one.seed, one.properties, place.custodian_code,
                                              f"{place.custodian_code}ND", one.business_records, one.businesses,
                                              round(one.seconds, 1)))
    say("joining the truth")
    write_selection(out_dir, report.boroughs, sources_name="sources.toml", truth_name="truth")
    report.seconds = time.perf_counter() - started
    (out_dir / MANIFEST).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return report


def read_manifest(dataset: Path) -> list[DatasetBorough]:
    """The boroughs of a dataset written by ``generate_dataset``."""
    raw = json.loads((dataset / MANIFEST).read_text(encoding="utf-8"))
    return [DatasetBorough(**b) for b in raw["boroughs"]]


def write_selection(dataset: Path, boroughs: list[DatasetBorough], sources_name: str | None = None,
                    truth_name: str | None = None) -> tuple[Path, Path]:
    """A ``sources.toml`` and a truth folder for ``boroughs`` of the dataset (by default named for
    how many: ``sources-first-05.toml``, ``truth-first-05/``); returns their paths."""
    k = len(boroughs)
    sources = dataset / (sources_name or f"sources-first-{k:02d}.toml")
    truth = dataset / (truth_name or f"truth-first-{k:02d}")
    sources.write_text(dataset_sources_toml(boroughs), encoding="utf-8")
    _join_truths([dataset / b.folder / "truth" for b in boroughs], truth)
    return sources, truth


def dataset_sources_toml(boroughs: list[DatasetBorough], gazetteer_format: str = "dtf73") -> str:
    """One source of each kind, listing every borough's files; each borough's change-only update
    follows its own full supply (its keys are its own, so the order between boroughs is free)."""
    files = [(f"{b.folder}/", borough_files(b.number, b.custodian_code)) for b in boroughs]
    return sources_toml(
        f"a synthetic dataset of {len(boroughs)} borough(s) made by `bx generate --boroughs`",
        "Every borough's files are one source of each kind.",
        {"name": f"Synthetic national dataset ({len(boroughs)} boroughs)"},
        gazetteer_format, files, [b.ndr_source_code for b in boroughs])


def _join_truths(folders: list[Path], out: Path) -> None:
    """The boroughs' truth files end to end (one header each, a national chain listed once),
    streamed; ``cases.json`` is the first borough's (the 18-way supplier that ``bx evaluate``
    checks) with every borough's cases under ``boroughs``."""
    out.mkdir(parents=True, exist_ok=True)
    national_seen: set[str] = set()
    for name in ("records.csv", "businesses.csv", "properties.csv"):
        with (out / name).open("w", encoding="utf-8", newline="") as target:
            for i, folder in enumerate(folders):
                with (folder / name).open(encoding="utf-8", newline="") as part:
                    header = part.readline()
                    if i == 0:
                        target.write(header)
                    if name != "businesses.csv":
                        shutil.copyfileobj(part, target)
                        continue
                    for line in part:  # ids of national chains start with N, every other with B
                        if line.startswith("N"):
                            if line[:7] in national_seen:
                                continue
                            national_seen.add(line[:7])
                        target.write(line)
    cases = [json.loads((folder / "cases.json").read_text(encoding="utf-8")) for folder in folders]
    joined = {**cases[0], "boroughs": {folder.parent.name: c for folder, c in zip(folders, cases, strict=True)}}
    (out / "cases.json").write_text(json.dumps(joined, indent=1) + "\n", encoding="utf-8")
