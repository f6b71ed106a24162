"""The ``bx`` command line, run as a user would (through Typer's runner, in this process)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from business_index.clean.names import name_key
from business_index.cli import app
from business_index.store.submissions import PropertyContext, SubmissionStore, default_store_url

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["generate"], ["build"], ["train"], ["evaluate"], ["export"], ["serve"],
                                     ["token"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_generate_then_build_with_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "b"), "--seed", "3", "--properties", "400",
                                 "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["business_records"] > 0 and report["business_records_per_second"] > 0
    result = runner.invoke(app, ["build", "--config", str(tmp_path / "b" / "sources.toml"),
                                 "--index", str(tmp_path / "index.duckdb"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    for name, source in summary["sources"].items():
        assert source["read"] == source["loaded"] + source["quarantined"], name
        assert source["read"] > 0
    assert summary["counts"]["addresses"] > 0 and summary["counts"]["approved_names"] == 0

    # a name approved through the API (in the store beside the index) survives the next build
    index = tmp_path / "index.duckdb"
    with duckdb.connect(str(index), read_only=True) as con:
        # a property whose name is a record's: the approved name adds a word to it ("... Shop")
        uprn, current = con.execute("""SELECT p.uprn, p.business_name FROM property_names p
            JOIN addresses a USING (uprn) WHERE a.logical_status = 1 AND p.name_record_id IS NOT NULL
            ORDER BY p.uprn LIMIT 1""").fetchall()[0]
    approved = f"{current} Shop"
    store = SubmissionStore(default_store_url(index))
    submission, _ = store.submit(uprn=uprn, business_name=approved, note=None, submitted_by="officer",
                                 context=PropertyContext(None, None, None, None))
    store.decide(submission.submission_id, "approve", "seen on site", "reviewer")
    result = runner.invoke(app, ["build", "--config", str(tmp_path / "b" / "sources.toml"), "--index", str(index),
                                 "--json"])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(index), read_only=True) as con:
        assert con.execute("SELECT business_name, name_source_kind FROM property_names WHERE uprn = ?",
                           [uprn]).fetchall() == [(approved, "approved")]
        # and search finds the establishment there by the approved name
        assert con.execute("""SELECT count(*) FROM name_search s JOIN property_names p USING (establishment_id)
                              WHERE s.key = ? AND p.uprn = ?""", [name_key(approved), uprn]).fetchall()[0][0] == 1
    result = runner.invoke(app, ["build", "--config", str(tmp_path / "b" / "sources.toml"), "--index", str(index),
                                 "--store", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 2 and "No index was published" in result.output


def test_build_errors_name_the_file_and_exit_non_zero(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text('[[sources]]\nname = "ndr"\nkind = "rates"\nformat = "ndr_csv"\npaths = ["missing.csv"]\n')
    result = runner.invoke(app, ["build", "--config", str(config), "--index", str(tmp_path / "i.duckdb")])
    assert result.exit_code == 2
    assert "missing.csv: file not found" in result.output and "No index was published" in result.output
    assert not (tmp_path / "i.duckdb").exists()
    config.write_text('[[sources]]\nname = "ndr"\nkind = "rates"\nformat = "nope"\npaths = ["a.csv"]\n')
    result = runner.invoke(app, ["build", "--config", str(config), "--index", str(tmp_path / "i.duckdb")])
    assert result.exit_code == 2 and "sources[0] (ndr).format" in result.output


def test_evaluate_export_and_train(small_borough: Path, small_index: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--index", str(small_index), "--truth", str(small_borough / "truth"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["eighteen_way_supplier"]["passed"] and scores["record_to_uprn"]["precision"] > 0.9
    result = runner.invoke(app, ["evaluate", "--index", str(small_index), "--truth", str(small_borough / "truth")])
    assert result.exit_code == 0 and "18-way supplier" in result.output
    result = runner.invoke(app, ["evaluate", "--index", str(small_index)])
    assert result.exit_code == 2 and "exactly one of --truth" in result.output
    out = tmp_path / "records.csv"
    result = runner.invoke(app, ["export", "records", "--index", str(small_index), "--out", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("record_id,source,file,line,source_record_id,establishment_id,organisation_id")
    result = runner.invoke(app, ["export", "everything", "--index", str(small_index), "--out", str(out)])
    assert result.exit_code == 2 and "unknown export" in result.output
    model = tmp_path / "model.json"
    result = runner.invoke(app, ["train", "--config", str(small_borough / "sources.toml"), "--out", str(model)])
    assert result.exit_code == 0, result.output
    trained = json.loads(model.read_text())
    assert trained["business_index_model_version"] == "business-resolution/1"
    assert {c["output_column_name"] for c in trained["splink_settings"]["comparisons"]} == \
        {"name", "proprietor", "premises", "period"}


def test_version_and_plain_help() -> None:
    from typer.testing import CliRunner

    from business_index import __version__
    from business_index.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).output.strip() == f"bx (Business Index) {__version__}"
    text = runner.invoke(app, ["build", "--help"]).output
    assert "<bool>" not in text and "[build] shrink_limit" in text


def test_evaluate_refuses_the_wrong_truth(small_index: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from business_index.cli import app
    from business_index.synthetic import generate_borough

    other = tmp_path / "other"
    generate_borough(other, seed=12, n_properties=300, workers=1)
    result = CliRunner().invoke(app, ["evaluate", "--index", str(small_index), "--truth", str(other / "truth")])
    assert result.exit_code == 2 and "could be paired up" in result.output


def test_the_deployment_unit_runs_a_command_bx_has() -> None:
    """deploy/business-index.service names only options `bx serve` takes."""
    import re

    from typer.testing import CliRunner

    from business_index.cli import app

    unit = (Path(__file__).parent.parent / "deploy" / "business-index.service").read_text()
    command = re.search(r"ExecStart=(.+?)\n(?!\s)", unit.replace("\\\n", " "), re.S)
    assert command
    words = command.group(1).split()
    assert words[0].endswith("/bx") and words[1] == "serve"
    help_text = CliRunner().invoke(app, ["serve", "--help"]).output
    for option in (w for w in words if w.startswith("--")):
        assert option in help_text, option


def test_export_to_a_path_that_cannot_be_written_is_one_line(small_index: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from business_index.cli import app

    (tmp_path / "a-file").write_text("not a folder")
    result = CliRunner().invoke(app, ["export", "records", "--index", str(small_index), "--out",
                                      str(tmp_path / "a-file" / "records.csv")])
    assert result.exit_code == 2 and "cannot be written" in result.output and "Traceback" not in result.output
