"""The data team's review queue: submitted business names with what the index holds at the
property now (its business and where that name comes from, earlier occupiers, businesses nearby),
approve or reject with a reason, filters, the history of decisions, and the LLPG update file.
Needs a signed-in token with ``review`` (never anonymous)."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from business_index.api.approved_names import ChosenName
from business_index.api.common import Services
from business_index.api.schemas import visible_text
from business_index.api.submissions import llpg_updates_csv, record_decision
from business_index.store import index_queries
from business_index.store.submissions import AlreadyDecided, NotFound
from business_index.web.pages import Pages

BASE = "/review"
STATUSES = ("pending", "approved", "rejected")
PAGE_SIZE = 25
MAX_PAGE = 1_000_000


def router_for(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def reviewer(request: Request) -> tuple[dict[str, Any], str | None, Response | None]:
        session, person, refused = pages.person(request, "review")
        return session, person.subject if person else None, refused

    @router.get(BASE, response_class=HTMLResponse)
    def queue(request: Request, status: str = "pending", uprn: str = "", page: int = 1) -> Response:
        session, _, refused = reviewer(request)
        if refused:
            return refused
        chosen: Literal["pending", "approved", "rejected"] = status if status in STATUSES else "pending"  # type: ignore[assignment]
        wanted = int(uprn.strip()) if re.fullmatch(r"[0-9]{1,12}", uprn.strip()) else None
        page = min(max(page, 1), MAX_PAGE)
        found, total = services.store.find(status=chosen, uprn=wanted, page=page, page_size=PAGE_SIZE)
        return pages.render(request, session, "review_queue.html", "Business names to review", submissions=found,
                            total=total, shown=chosen, statuses=STATUSES, uprn=uprn.strip(), page=page,
                            pages=max(1, -(-total // PAGE_SIZE)))

    def item_page(request: Request, session: dict[str, Any], submission_id: str, *, status: int = 200,
                  errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Response:
        submission = services.store.get(submission_id)
        if submission is None:
            return pages.render(request, session, "message.html", "No such submission", heading="No such submission",
                                paragraphs=["It may have been removed."], link=(BASE, "Back to the queue"), status=404)
        con, index = services.reader.cursor()
        row = index_queries.property_row(con, submission.uprn)
        now = None
        if row is not None:
            now = services.approved.choose(submission.uprn, ChosenName(row.business_name, row.name_source_kind,
                                                                        row.name_source, row.name_date,
                                                                        row.establishment_id), index.name_precedence)
        history = index_queries.premises_history(con, submission.uprn)
        nearby = []
        if row is not None and row.postcode:
            _, rows = index_queries.find_addresses(con, row.postcode, None, None, None, 50, 0)
            nearby = [{"address": r[1], "name": r[4]} for r in rows if r[4] and r[0] != submission.uprn][:10]
        return pages.render(request, session, "review_item.html", f"Review: {submission.business_name}",
                            s=submission, property=row, now=now, history=history, nearby=nearby, status=status,
                            errors=errors, form=form or {}, back=BASE)

    @router.get(f"{BASE}/llpg-updates.csv")
    def llpg_updates(request: Request, include_applied: bool = False) -> Response:
        _, _, refused = reviewer(request)
        if refused:
            return refused
        return llpg_updates_csv(services, None, include_applied)

    @router.get(BASE + "/{submission_id}", response_class=HTMLResponse)
    def item(request: Request, submission_id: str) -> Response:
        session, _, refused = reviewer(request)
        if refused:
            return refused
        return item_page(request, session, submission_id[:64])

    @router.post(BASE + "/{submission_id}")
    def decide(request: Request, submission_id: str, csrf_token: str = Form(""), decision: str = Form(""),
               reason: str = Form("")) -> Response:
        session, who, refused = reviewer(request)
        if refused or who is None:
            return refused or pages.forged(request, session)
        if not pages.csrf_ok(session, csrf_token):
            return pages.forged(request, session)
        errors = {}
        if decision not in ("approve", "reject"):
            errors["decision"] = "Select approve or reject"
        text = reason.strip()
        if not text:
            errors["reason"] = "Enter the reason for your decision"
        elif len(text) > 2000:
            errors["reason"] = "The reason must be 2,000 characters or fewer"
        else:
            try:
                visible_text(text, newlines=True)
            except ValueError:
                errors["reason"] = "Remove the invisible characters from the reason"
        if errors:
            return item_page(request, session, submission_id[:64], status=400, errors=errors,
                             form={"decision": decision, "reason": reason})
        try:
            decided = record_decision(services, submission_id[:64], decision, text, who)  # type: ignore[arg-type]
        except NotFound:
            return item_page(request, session, submission_id[:64])
        except AlreadyDecided as exc:
            return item_page(request, session, submission_id[:64], status=409, errors={"decision": str(exc)})
        return pages.redirect(BASE, session, notice=f"{decided.business_name} {decided.status}.")

    return router
