"""``bx evaluate --labels DIR``: score a build of real Basildon NDR and FHRS records against the
hand-made labels in shared/data/labels-basildon (read its LABELS.md).

The question the labels answer: is this NDR record the same business at the same premises as this
FHRS establishment? That is exactly what an establishment is, so we predict "yes" for a pair when
the build puts both records in one establishment, and nothing else. Precision and recall are over
the labelled pairs of the sampled records; pairs labelled uncertain are left out, as LABELS.md
recommends.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from business_index.evaluate.metrics import check_paired, prf


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def evaluate_against_basildon_labels(index: Path, labels_dir: Path, ndr_source: str, fhrs_source: str) -> dict[str, object]:
    pairs = _read(labels_dir / "pairs.csv")
    manifest = _read(labels_dir / "sample_manifest.csv")
    sampled_ndr = {r["record_id"] for r in manifest if r["direction"].startswith("ndr")}
    sampled_fhrs = {r["record_id"] for r in manifest if r["direction"].startswith("fhrs")}
    positives = {(p["ndr_record_id"], p["fhrs_id"]) for p in pairs if p["pair_label"] == "match"}
    uncertain = {(p["ndr_record_id"], p["fhrs_id"]) for p in pairs if p["pair_label"] == "uncertain"}
    with duckdb.connect(str(index), read_only=True) as con:
        found = {(s, r) for s, r in con.execute(
            "SELECT source, source_record_id FROM business_records WHERE source IN (?, ?)",
            [ndr_source, fhrs_source]).fetchall()}
        paired_ndr = len({r for s, r in found if s == ndr_source} & sampled_ndr)
        paired_fhrs = len({r for s, r in found if s == fhrs_source} & sampled_fhrs)
        check_paired(paired_ndr, len(sampled_ndr), f"labelled NDR records (source {ndr_source!r})", 0.95)
        check_paired(paired_fhrs, len(sampled_fhrs), f"labelled FHRS records (source {fhrs_source!r})", 0.95)
        predicted_rows = con.execute("""
            WITH records AS (
                SELECT b.source, b.source_record_id, re.establishment_id
                FROM business_records b JOIN record_establishments re USING (record_id)
                WHERE b.source IN (?, ?))
            SELECT l.source_record_id, r.source_record_id
            FROM records l JOIN records r USING (establishment_id)
            WHERE l.source = ? AND r.source = ?
        """, [ndr_source, fhrs_source, ndr_source, fhrs_source]).fetchall()
    predicted = {(n, f) for n, f in predicted_rows if n in sampled_ndr or f in sampled_fhrs} - uncertain
    tp = len(predicted & positives)
    result: dict[str, object] = {**prf(tp, len(predicted), len(positives))}
    result["false_positives"] = sorted(predicted - positives)[:50]
    result["missed"] = sorted(positives - predicted)[:50]
    result["uncertain_pairs_left_out"] = len(uncertain)
    result["paired"] = {"ndr": f"{paired_ndr} of {len(sampled_ndr)}", "fhrs": f"{paired_fhrs} of {len(sampled_fhrs)}"}
    return result
