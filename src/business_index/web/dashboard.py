"""The data-quality dashboard (``review`` or ``admin``), and the same as one self-contained HTML
file for people without the server (`bx report`): per source rows read, loaded and quarantined
with the reasons (and the rows behind each), records placed by each linking rule, where the
derived names come from, records left unmatched with their best candidates, the businesses whose
name is spelt the most ways, and the build's facts. Charts are server-drawn SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from business_index.api.common import Services
from business_index.store import index_queries
from business_index.web.pages import HERE, STATIC, Pages

BASE = "/dashboard"
SAMPLE = 25


def dashboard_values(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Everything the dashboard shows, read from a published index."""
    sources = index_queries.source_quality(con)
    return {
        "sources": sources,
        "reasons": index_queries.quarantine_reasons(con),
        "links": index_queries.links_by_rule(con),
        "names": index_queries.name_sources(con),
        "unmatched": index_queries.unmatched_sample(con, SAMPLE),
        "spelled": index_queries.most_spelled(con, 10),
        "facts": index_queries.build_facts(con),
    }


def report_html(index: Path) -> str:
    """The dashboard of ``index`` as one HTML file: styles inline, no links to a server."""
    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    with duckdb.connect(str(index), read_only=True) as con:
        values = dashboard_values(con)
    css = (STATIC / "govuk-frontend.min.css").read_text(encoding="utf-8") if (STATIC / "govuk-frontend.min.css").exists() else ""
    css += (STATIC / "business-index.css").read_text(encoding="utf-8")
    return environment.get_template("report.html").render(
        title="Data quality", service="Business Index", council=values["facts"].get("council", ""), inline_css=css,
        standalone=True, **values)


def router_for(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def team(request: Request) -> tuple[dict[str, Any], Response | None]:
        session, _, refused = pages.person(request, "review")
        return session, refused

    @router.get(BASE, response_class=HTMLResponse)
    def dashboard(request: Request) -> Response:
        session, refused = team(request)
        if refused:
            return refused
        con, _ = services.reader.cursor()
        return pages.render(request, session, "dashboard.html", "Data quality", standalone=False, wide=True,
                            **dashboard_values(con))

    @router.get(f"{BASE}/quarantine", response_class=HTMLResponse)
    def quarantine(request: Request, source: str = "", reason: str = "") -> Response:
        session, refused = team(request)
        if refused:
            return refused
        con, _ = services.reader.cursor()
        rows = index_queries.quarantined_rows(con, source, reason, 500)
        return pages.render(request, session, "quarantine.html", "Quarantined rows", source=source, reason=reason,
                            rows=rows, back=BASE)

    return router
