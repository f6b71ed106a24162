"""`bx report`: the dashboard as one self-contained HTML file."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from business_index.cli import app


def test_the_report_needs_no_server(small_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--index", str(small_index), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<h1 class=\"govuk-heading-l\">Data quality</h1>" in html and "<style>" in html
    assert "Businesses spelt the most ways" in html and html.count("<svg") == 2
    # nothing fetched from anywhere: no stylesheet, script or image links, no links to the server
    assert not re.search(r"<(link|script)\b", html) and 'href="/' not in html and "src=" not in html
    bad = CliRunner().invoke(app, ["report", "--index", str(tmp_path / "missing.duckdb"), "--out", str(out)])
    assert bad.exit_code == 2 and "no such index" in bad.output
