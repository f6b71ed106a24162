"""`bx match`: every row out, in order, with its input columns as they were and the answer columns;
CSV, Parquet and JSON lines; columns named or guessed; the same answers however it is chunked or
parsed; and at least the build's own accuracy on the borough's records with their keys withheld."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import business_index.match as match_module
from business_index.cli import app
from business_index.evaluate.synthetic import load_truth_records
from business_index.match import ANSWER_COLUMNS, MatchInputError, guess_columns, match_list


def _some_addresses(index: Path, n: int = 30) -> list[tuple[int, str, str]]:
    with duckdb.connect(str(index), read_only=True) as con:
        return con.execute(f"""
            SELECT uprn, regexp_replace(single_line_address, ', [A-Z0-9 ]+$', ''), postcode FROM addresses
            WHERE logical_status = 1 AND postcode IS NOT NULL AND NOT starts_with(classification, 'P')
            ORDER BY uprn LIMIT {n}""").fetchall()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_every_row_comes_out_in_order_with_its_columns(small_index: Path, tmp_path: Path) -> None:
    known = _some_addresses(small_index)
    rows = [[f"r{i}", address, postcode, 'a "quoted", odd value'] for i, (_, address, postcode) in enumerate(known)]
    rows += [["blank", "", "", ""], ["nowhere", "1 Nowhere Road", "ZZ99 9ZZ", ""], ["pitch", "Market Pitch 4", "", ""]]
    _write_csv(tmp_path / "in.csv", ["Reference", "Address", "Postcode", "Notes"], rows)
    summary = match_list(small_index, tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=7, parsers=0)
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as handle:
        out = list(csv.reader(handle))
    assert out[0] == ["Reference", "Address", "Postcode", "Notes", *ANSWER_COLUMNS]
    assert [row[:4] for row in out[1:]] == rows
    assert summary.rows == len(rows) and summary.columns["address"] == ["Address"]
    answers = {row[0]: dict(zip(ANSWER_COLUMNS, row[4:], strict=True)) for row in out[1:]}
    placed = sum(answers[f"r{i}"]["uprn"] == str(uprn) for i, (uprn, _, _) in enumerate(known))
    assert placed >= len(known) - 1
    assert answers["r0"]["matched_address"] and float(answers["r0"]["match_probability"]) >= 0.9
    assert answers["r0"]["decided_by"].startswith("address_match")
    assert answers["nowhere"]["uprn"] == "" and answers["nowhere"]["reason"] == "no candidate address"
    assert answers["pitch"]["reason"].startswith("describes a place that is not a property")
    assert answers["blank"]["uprn"] == "" and answers["blank"]["reason"]


def test_parquet_and_json_lines_keep_their_types(small_index: Path, tmp_path: Path) -> None:
    known = _some_addresses(small_index, 5)
    table = pa.table({"id": pa.array(range(5), pa.int32()), "line_1": [a for _, a, _ in known],
                      "post_code": [p for _, _, p in known], "amount": [1.5, 2.0, None, 4.25, 0.0]})
    pq.write_table(table, tmp_path / "in.parquet")
    match_list(small_index, tmp_path / "in.parquet", tmp_path / "out.parquet", address_columns=["line_1"], parsers=0)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("id").type == pa.int32() and out.schema.field("uprn").type == pa.int64()
    assert out.column("amount").to_pylist() == [1.5, 2.0, None, 4.25, 0.0]
    assert out.column("uprn").to_pylist() == [u for u, _, _ in known]

    lines = [json.dumps({"ref": i, "address": a, "postcode": p, "nested": {"k": [i]}}) for i, (_, a, p) in enumerate(known)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    match_list(small_index, tmp_path / "in.jsonl", tmp_path / "out.jsonl", parsers=0)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["nested"] for r in rows] == [{"k": [i]} for i in range(5)]
    assert [r["uprn"] for r in rows] == [u for u, _, _ in known]


def test_columns_are_guessed_from_the_header() -> None:
    lines = guess_columns(["Ref", "Address Line 2", "Address Line 1", "Town", "Post Code", "Business Name"])
    assert lines.address == ("Address Line 1", "Address Line 2", "Town")
    assert (lines.postcode, lines.name) == ("Post Code", "Business Name")
    assert guess_columns(["id", "Full Address", "postcode"]).address == ("Full Address",)
    with pytest.raises(MatchInputError, match="--address-column.*id, where"):
        guess_columns(["id", "where"])
    with pytest.raises(MatchInputError, match="no column 'Adress'"):
        guess_columns(["Address"], address=["Adress"])


def test_the_answer_never_overwrites_an_input_column(small_index: Path, tmp_path: Path) -> None:
    _write_csv(tmp_path / "in.csv", ["address", "uprn"], [["1 High Street", "123"]])
    with pytest.raises(MatchInputError, match="already has column"):
        match_list(small_index, tmp_path / "in.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_ragged_row_names_its_line_and_leaves_no_output(small_index: Path, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("address,postcode\n1 High Street,AB1 1AA\n2 High Street\n", encoding="utf-8")
    with pytest.raises(MatchInputError, match=r"in.csv: line 3: 1 fields where the header has 2"):
        match_list(small_index, tmp_path / "in.csv", tmp_path / "out.csv", parsers=0)
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob(".out.csv*"))


def test_parser_processes_give_the_same_answers(small_index: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    known = _some_addresses(small_index, 40)
    rows = [[a, p] for _, a, p in known] * 3  # repeated addresses are matched once and answered for every row
    _write_csv(tmp_path / "in.csv", ["address", "postcode"], rows)
    match_list(small_index, tmp_path / "in.csv", tmp_path / "here.csv", chunk_rows=25, parsers=0)
    monkeypatch.setattr(match_module, "PARALLEL_FROM_BYTES", 0)
    match_list(small_index, tmp_path / "in.csv", tmp_path / "parallel.csv", chunk_rows=25, parsers=2)
    assert (tmp_path / "here.csv").read_text() == (tmp_path / "parallel.csv").read_text()


def test_bx_match_does_at_least_as_well_as_the_build_on_records_without_keys(
        small_borough: Path, small_index: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{small_index}' AS i (READ_ONLY)")
    con.execute(f"""COPY (SELECT record_id, CASE WHEN len(address_lines) > 0 THEN array_to_string(address_lines, ', ')
                                                 ELSE address_text END AS address, postcode,
                                 coalesce(trading_name, name) AS name
                          FROM i.business_records ORDER BY record_id) TO '{tmp_path}/records.csv' (HEADER)""")
    match_list(small_index, tmp_path / "records.csv", tmp_path / "matched.csv", parsers=0)
    truth_records = load_truth_records(small_borough / "truth" / "records.csv")  # noqa: F841
    con.execute(f"""
        CREATE TABLE truth AS SELECT b.record_id, t.true_uprn FROM i.business_records b
            JOIN truth_records t ON t.file = parse_filename(b.file) AND t.line = b.line;
        CREATE VIEW listed AS SELECT record_id, uprn FROM read_csv('{tmp_path}/matched.csv') WHERE uprn IS NOT NULL;
        CREATE VIEW built AS SELECT record_id, uprn FROM i.record_links WHERE link_rule LIKE 'address_match%';
        CREATE VIEW no_key AS SELECT record_id FROM i.business_records WHERE record_id NOT IN (
            SELECT record_id FROM i.record_links WHERE link_rule NOT LIKE 'address_match%');
    """)

    def scores(predictions: str, subset: str) -> tuple[float, float]:
        tp, predicted, actual = con.execute(f"""
            SELECT count(*) FILTER (WHERE p.uprn = t.true_uprn), count(p.uprn), count(t.true_uprn)
            FROM truth t LEFT JOIN {predictions} p USING (record_id)
            WHERE t.record_id IN (SELECT record_id FROM {subset})""").fetchall()[0]
        return tp / predicted, tp / actual

    # a runner-up is always another place than the match
    assert con.execute(f"SELECT count(*) FROM read_csv('{tmp_path}/matched.csv') WHERE uprn = runner_up_uprn"
                       ).fetchall()[0][0] == 0
    listed_p, listed_r = scores("listed", "no_key")
    built_p, built_r = scores("built", "no_key")
    assert listed_p >= built_p - 1e-9 and listed_r >= built_r - 1e-9
    every_p, every_r = scores("listed", "truth")  # every record, no key used at all
    assert every_p >= 0.99 and every_r >= 0.95


def test_the_command_line(small_index: Path, tmp_path: Path) -> None:
    known = _some_addresses(small_index, 3)
    _write_csv(tmp_path / "in.csv", ["first", "second", "pc"], [[a.split(",")[0], ", ".join(a.split(",")[1:]), p]
                                                                for _, a, p in known])
    result = CliRunner().invoke(app, ["match", "--index", str(small_index), "--input", str(tmp_path / "in.csv"),
                                      "--out", str(tmp_path / "out.csv"), "--address-column", "first",
                                      "--address-column", "second", "--postcode-column", "pc", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 3 and summary["matched"] == 3 and summary["columns"]["address"] == ["first", "second"]
    result = CliRunner().invoke(app, ["match", "--index", str(small_index), "--input", str(tmp_path / "in.csv"),
                                      "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 2 and "--address-column" in result.output


def test_json_lines_must_keep_their_fields_and_may_go_to_parquet(small_index: Path, tmp_path: Path) -> None:
    (tmp_path / "later.jsonl").write_text('{"address": "1 High Street"}\n{"address": "2 High Street", "uprn": 5}\n',
                                          encoding="utf-8")
    with pytest.raises(MatchInputError, match="line 2: already has uprn"):
        match_list(small_index, tmp_path / "later.jsonl", tmp_path / "out.jsonl", parsers=0)
    (tmp_path / "extra.jsonl").write_text('{"address": "1 High Street"}\n{"address": "2 High St", "note": "x"}\n',
                                          encoding="utf-8")
    with pytest.raises(MatchInputError, match="line 2: has note"):
        match_list(small_index, tmp_path / "extra.jsonl", tmp_path / "out.csv", parsers=0)
    assert not list(tmp_path.glob("out.*")) and not list(tmp_path.glob(".out.*"))
    (tmp_path / "mixed.jsonl").write_text('{"address": "1 High Street", "n": 1, "tags": ["a"]}\n'
                                          '{"address": "2 High Street", "n": "two", "tags": null}\n', encoding="utf-8")
    match_list(small_index, tmp_path / "mixed.jsonl", tmp_path / "mixed.parquet", parsers=0)
    out = pq.read_table(tmp_path / "mixed.parquet")
    assert out.column("n").to_pylist() == ["1", "two"] and out.column("tags").to_pylist() == ['["a"]', None]


def test_blank_lines_are_no_rows_and_thresholds_can_be_given(small_index: Path, tmp_path: Path) -> None:
    [(_, address, postcode)] = _some_addresses(small_index, 1)
    (tmp_path / "in.csv").write_text(f'address,postcode\n"{address}",{postcode}\n\n"{address}",{postcode}\n',
                                     encoding="utf-8")
    summary = match_list(small_index, tmp_path / "in.csv", tmp_path / "out.csv", parsers=0)
    assert summary.rows == 2 and summary.matched == 2
    strict = match_list(small_index, tmp_path / "in.csv", tmp_path / "strict.csv", parsers=0, min_probability=1.0)
    assert strict.matched == 0 and strict.reasons == {"best candidate below the threshold": 2}
