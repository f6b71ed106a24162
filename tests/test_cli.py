"""The ``bx`` command line, run as a user would (through Typer's runner, in this process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from business_index.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["generate"], ["build"]])
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
    assert summary["counts"]["addresses"] > 0


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
