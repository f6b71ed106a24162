"""``bx evaluate --labels DIR``: score a build of real Basildon NDR and FHRS records against the
hand-made labels in shared/data/labels-basildon (read its LABELS.md).

The question the labels answer: is this NDR record the same business at the same premises as this
FHRS establishment? We predict "yes" for a pair when the build puts both records in one business
and they are at one premises (the same UPRN when a gazetteer linked them, else the same postcode and
building number). Precision and recall are over the labelled pairs of the sampled records; pairs
labelled uncertain are left out, as LABELS.md recommends.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from business_index.evaluate.metrics import prf


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
        predicted_rows = con.execute("""
            WITH r AS (
                SELECT b.source, b.source_record_id, rb.business_id, l.uprn, f.postcode, f.number
                FROM business_records b
                JOIN record_features f ON f.unique_id = b.record_id
                LEFT JOIN record_businesses rb USING (record_id)
                LEFT JOIN record_links l USING (record_id)
                WHERE b.source IN (?, ?))
            SELECT n.source_record_id, x.source_record_id
            FROM r n JOIN r x ON n.business_id = x.business_id
            WHERE n.source = ? AND x.source = ?
              AND (n.uprn = x.uprn OR (n.postcode = x.postcode AND n.number IS NOT DISTINCT FROM x.number))
        """, [ndr_source, fhrs_source, ndr_source, fhrs_source]).fetchall()
    predicted = {(n, f) for n, f in predicted_rows if n in sampled_ndr or f in sampled_fhrs} - uncertain
    tp = len(predicted & positives)
    result: dict[str, object] = {**prf(tp, len(predicted), len(positives))}
    result["false_positives"] = sorted(predicted - positives)[:50]
    result["missed"] = sorted(positives - predicted)[:50]
    result["uncertain_pairs_left_out"] = len(uncertain)
    return result
