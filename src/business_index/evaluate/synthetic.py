"""``bx evaluate --truth DIR``: score a build of a synthetic borough against the generator's truth.

Record -> UPRN: precision (links that name the true UPRN / links made) and recall (true UPRNs found /
records that have one). Establishments and organisations: pairwise precision, recall and F1 over
records with a true business (its establishment is the business at the record's true property).
The 18-way supplier: all its records in one organisation, and nothing else in it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa

from business_index.evaluate.metrics import check_paired, pairwise_clustering, prf


def load_truth_records(records_csv: Path) -> pa.Table:
    """The generator's truth/records.csv as an Arrow table (file, line, true_uprn, true_business_id,
    true_establishment_id, true_organisation_id)."""
    with records_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    def establishment(r: dict[str, str]) -> str | None:  # truth written before establishments existed
        if not r["true_business_id"]:
            return None
        return r.get("true_establishment_id") or \
            f"{r['true_business_id']}@{r['true_uprn'] or r['source'] + ':' + r['source_record_id']}"

    return pa.table({
        "file": [r["file"] for r in rows], "line": [int(r["line"]) for r in rows],
        "true_uprn": pa.array([int(r["true_uprn"]) if r["true_uprn"] else None for r in rows], pa.int64()),
        "true_business_id": [r["true_business_id"] or None for r in rows],
        "true_establishment_id": [establishment(r) for r in rows],
        "true_organisation_id": [r.get("true_organisation_id") or r["true_business_id"] or None for r in rows],
    })


def evaluate_against_truth(index: Path, truth_dir: Path) -> dict[str, object]:
    records_csv = truth_dir / "records.csv"
    if not records_csv.exists():
        raise FileNotFoundError(f"{records_csv}: no truth here (expected the truth folder of `bx generate`)")
    truth_table = load_truth_records(records_csv)  # noqa: F841 - read by DuckDB by name
    with duckdb.connect(str(index), read_only=True) as con:
        con.execute("""
            CREATE TEMP TABLE truth AS SELECT * FROM truth_table;
            CREATE TEMP TABLE scored AS
            SELECT b.record_id, b.source, t.true_uprn, t.true_business_id, t.true_establishment_id,
                   t.true_organisation_id, l.uprn, l.link_rule,
                   coalesce(re.establishment_id, 'unassigned-' || b.record_id) AS establishment_id,
                   coalesce(re.organisation_id, 'unassigned-' || b.record_id) AS organisation_id
            FROM business_records b
            JOIN truth t ON t.file = parse_filename(b.file) AND t.line = b.line
            LEFT JOIN record_links l USING (record_id)
            LEFT JOIN record_establishments re USING (record_id);
        """)
        truth_rows = con.execute("SELECT count(*) FROM truth").fetchall()[0][0]
        paired = con.execute("SELECT count(*) FROM scored").fetchall()[0][0]
        index_records = con.execute("SELECT count(*) FROM business_records").fetchall()[0][0]
        unmatched_truth = truth_rows - paired
        check_paired(paired, index_records, "records of the index", 0.9)
        check_paired(paired, truth_rows, "records of the truth", 0.9)
        tp, predicted, actual = con.execute("""
            SELECT count(*) FILTER (WHERE uprn IS NOT NULL AND uprn = true_uprn),
                   count(*) FILTER (WHERE uprn IS NOT NULL),
                   count(*) FILTER (WHERE true_uprn IS NOT NULL)
            FROM scored""").fetchall()[0]
        by_rule = {rule: {"links": n, "wrong": wrong} for rule, n, wrong in con.execute("""
            SELECT coalesce(link_rule, 'unlinked'), count(*), count(*) FILTER (WHERE uprn IS DISTINCT FROM true_uprn)
            FROM scored GROUP BY 1 ORDER BY 2 DESC""").fetchall()}
        establishments = con.execute("SELECT establishment_id, true_establishment_id FROM scored "
                                     "WHERE true_business_id IS NOT NULL").fetchall()
        organisations = con.execute("SELECT organisation_id, true_organisation_id FROM scored "
                                    "WHERE true_business_id IS NOT NULL").fetchall()
        result: dict[str, object] = {
            "records": len(establishments) + con.execute(
                "SELECT count(*) FROM scored WHERE true_business_id IS NULL").fetchall()[0][0],
            "paired": {"index_records": index_records, "truth_records": truth_rows, "paired": paired},
            "truth_rows_not_in_index": unmatched_truth,
            "record_to_uprn": {**prf(tp, predicted, actual), "by_rule": by_rule},
            "establishments": pairwise_clustering(establishments),
            "organisations": pairwise_clustering(organisations),
        }
        properties_csv = truth_dir / "properties.csv"
        if properties_csv.exists():
            result["derived_names"] = _derived_name_check(con, properties_csv)
        cases_file = truth_dir / "cases.json"
        if cases_file.exists():
            cases = json.loads(cases_file.read_text())
            result["eighteen_way_supplier"] = _supplier_check(con, cases)
    return result


def _derived_name_check(con: duckdb.DuckDBPyConnection, properties_csv: Path) -> dict[str, object]:
    """How often a property's derived name belongs to the business the truth says occupies it now.

    Each built establishment stands for the true business most of its records belong to. The default
    rule puts the LLPG organisation name first, and the generator leaves some of those stale on
    purpose, so this is below 1 by design: it measures the rule as much as the linking.
    """
    with properties_csv.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["current_business_id"] and r["deleted_by_update"] == "False"]
    truth_properties = pa.table({  # noqa: F841 - read by DuckDB by name
        "uprn": pa.array([int(r["uprn"]) for r in rows], pa.int64()),
        "current_business_id": [r["current_business_id"] for r in rows],
    })
    right, named, occupied = con.execute("""
        WITH stands_for AS (
            SELECT establishment_id, mode(true_business_id) AS true_business_id
            FROM scored WHERE true_business_id IS NOT NULL GROUP BY establishment_id)
        SELECT count(*) FILTER (WHERE s.true_business_id = t.current_business_id),
               count(p.uprn), count(*)
        FROM truth_properties t
        LEFT JOIN property_names p ON p.uprn = t.uprn
        LEFT JOIN stands_for s ON s.establishment_id = p.establishment_id
    """).fetchall()[0]
    return {"occupied_properties": occupied, "with_a_derived_name": named,
            "name_of_current_occupier": right,
            "accuracy": round(right / occupied, 5) if occupied else 1.0}


def _supplier_check(con: duckdb.DuckDBPyConnection, cases: dict) -> dict[str, object]:
    supplier = cases.get("eighteen_way_supplier", {}).get("business_id")
    rows = con.execute("SELECT organisation_id FROM scored WHERE true_business_id = ?", [supplier]).fetchall()
    ids = sorted({r[0] for r in rows})
    intruders = con.execute(
        "SELECT count(*) FROM scored WHERE organisation_id IN (SELECT unnest(?::VARCHAR[])) "
        "AND true_business_id IS DISTINCT FROM ?", [ids, supplier]).fetchall()[0][0]
    spellings = con.execute("""
        SELECT count(DISTINCT coalesce(b.name, b.trading_name)) FROM scored s JOIN business_records b USING (record_id)
        WHERE s.true_business_id = ?""", [supplier]).fetchall()[0][0]
    return {"records": len(rows), "distinct_spellings": spellings, "organisations": len(ids), "intruders": intruders,
            "passed": len(rows) > 0 and len(ids) == 1 and intruders == 0}
