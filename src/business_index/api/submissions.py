"""Write routes: propose a business name for a property (``submit``), approve or reject it
(``review``), the approved names as a CSV for the gazetteer custodian (``review``), and the audit
log (``admin``).

A submitter sees only their own submissions; a reviewer sees all. A submission carrying an
``Idempotency-Key`` header is created once per submitter and key: a retry gets the same
submission back (201, ``Idempotent-Replayed: true``); the same key with a different body gets 422.
"""


import csv
import io
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic.alias_generators import to_camel

from business_index.api import schemas
from business_index.api.approved_names import ChosenName
from business_index.api.common import (
    BadRequest,
    Services,
    caller,
    error_response,
    error_responses,
    guarded,
)
from business_index.api.middleware import SUBMISSIONS
from business_index.records import MAX_UPRN
from business_index.store import index_queries
from business_index.store.csv_cells import spreadsheet_safe
from business_index.store.submissions import (
    AlreadyDecided,
    IdempotencyConflict,
    NotFound,
    PropertyContext,
    Submission,
    rfc3339,
)

LLPG_UPDATE_COLUMNS = [
    "uprn", "single_line_address", "llpg_organisation_now", "llpg_organisation_at_submission",
    "proposed_organisation", "submission_id", "submitted_at", "approved_at", "approved_by", "decision_reason", "note",
]
IDEMPOTENCY_KEY_MAX = 255


def record_decision(services: Services, submission_id: str, decision: Literal["approve", "reject"], reason: str,
                    decided_by: str) -> Submission:
    """Approve or reject a submission (the API and the review pages alike); ``NotFound`` or
    ``AlreadyDecided`` when it cannot be."""
    submission, changed = services.store.decide(submission_id, decision, reason, decided_by)
    if changed:
        SUBMISSIONS.labels(submission.status).inc()
        services.approved.invalidate()
    return submission


def llpg_updates_csv(services: Services, since: str | None, include_applied: bool) -> Response:
    """The approved names the gazetteer does not yet carry, as the LLPG update CSV download."""
    approved = services.store.approved_since(since)
    con, _ = services.reader.cursor()
    current = index_queries.gazetteer_organisations(con, [s.uprn for s in approved])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LLPG_UPDATE_COLUMNS)
    for s in approved:
        now = current.get(s.uprn)
        if not include_applied and now and now.casefold() == s.business_name.casefold():
            continue
        writer.writerow([spreadsheet_safe(cell) for cell in (
            s.uprn, s.single_line_address, now or "", s.gazetteer_name_at_submission or "", s.business_name,
            s.submission_id, s.submitted_at, s.decided_at, s.decided_by, s.decision_reason, s.note or "")])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="llpg-updates.csv"'})


def _public(submission: Submission) -> schemas.NameSubmission:
    values = asdict(submission)
    fields = schemas.NameSubmission.model_fields
    return schemas.NameSubmission(**{k: v for k, v in values.items() if k in fields})


def _camel(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """An audited item's fields in the API's camelCase."""
    return {to_camel(k): v for k, v in item.items()} if item is not None else None


def router_for(services: Services) -> APIRouter:
    router = APIRouter()
    store, reader, config = services.store, services.reader, services.config
    PageSize = Annotated[int, Query(ge=1, le=config.max_page_size)]  # noqa: N806 - a type alias
    Page = Annotated[int, Query(ge=1, le=1_000_000)]  # noqa: N806

    def visible(request: Request, submission: Submission | None) -> Submission | None:
        principal = caller(request)
        if submission is None or principal.scopes & {"review", "admin"}:
            return submission
        return submission if submission.submitted_by == principal.subject else None

    @router.post("/api/v1/business-name-submissions", status_code=201, response_model=schemas.NameSubmission,
              response_model_by_alias=True, responses=error_responses(409, 422), **guarded(services, "submit"))
    def submit_name(
        request: Request, response: Response, body: schemas.NameSubmissionRequest,
        idempotency_key: Annotated[str | None, Header(max_length=IDEMPOTENCY_KEY_MAX)] = None,
    ) -> schemas.NameSubmission | JSONResponse:
        """Propose the business name of a property (for example, the name over a shop front with
        none on record). It waits, ``pending``, for the data team's decision."""
        name = " ".join(body.business_name.split())
        if not name:
            raise BadRequest("businessName", "the name is blank")
        note = body.note.strip() or None if body.note else None
        con, index = reader.cursor()
        found = index_queries.live_property(con, body.uprn)
        if found is None:
            raise BadRequest("uprn", f"no live property with UPRN {body.uprn}")
        address, organisation, derived, kind, establishment_id = found
        shown = services.approved.choose(body.uprn, ChosenName(derived, kind, None, None, establishment_id),
                                         index.name_precedence)
        submitter = caller(request).subject
        retry = idempotency_key is not None and store.by_idempotency_key(submitter, idempotency_key) is not None
        if not retry and shown.business_name and shown.business_name.casefold() == name.casefold():
            return error_response(409, "businessName", f"the property already has this business name "
                                                       f"({shown.business_name}, from {shown.source_kind})")
        try:
            submission, replayed = store.submit(
                uprn=body.uprn, business_name=name, note=note, submitted_by=caller(request).subject,
                context=PropertyContext(address, shown.business_name, organisation, index.build_id),
                idempotency_key=idempotency_key)
        except IdempotencyConflict as exc:
            return error_response(422, "Idempotency-Key", str(exc))
        response.headers["Location"] = f"/api/v1/business-name-submissions/{submission.submission_id}"
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        else:
            SUBMISSIONS.labels("created").inc()
        return _public(submission)

    @router.get("/api/v1/business-name-submissions", response_model=schemas.NameSubmissionList,
             response_model_by_alias=True, responses=error_responses(),
             **guarded(services, "submit", "review", params=("status", "uprn", "page", "page_size")))
    def list_submissions(
        request: Request,
        status: Literal["pending", "approved", "rejected"] | None = None,
        uprn: Annotated[int | None, Query(ge=1, le=MAX_UPRN)] = None,
        page: Page = 1,
        page_size: PageSize = config.default_page_size,
    ) -> schemas.NameSubmissionList:
        """Submissions, newest first: a reviewer's queue (``status=pending``), or a submitter's own."""
        principal = caller(request)
        mine = None if principal.scopes & {"review", "admin"} else principal.subject
        found, total = store.find(status=status, uprn=uprn, submitted_by=mine, page=page, page_size=page_size)
        return schemas.NameSubmissionList(submissions=[_public(s) for s in found],
                                          pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @router.get("/api/v1/business-name-submissions/{submission_id}", response_model=schemas.NameSubmission,
             response_model_by_alias=True, responses=error_responses(404),
             **guarded(services, "submit", "review"))
    def get_submission(request: Request, submission_id: Annotated[str, Path(max_length=64)]
                       ) -> schemas.NameSubmission | JSONResponse:
        submission = visible(request, store.get(submission_id))
        if submission is None:
            return error_response(404, "submission_id", f"no submission {submission_id}")
        return _public(submission)

    @router.post("/api/v1/business-name-submissions/{submission_id}/decision", response_model=schemas.NameSubmission,
              response_model_by_alias=True, responses=error_responses(404, 409), **guarded(services, "review"))
    def decide(request: Request, submission_id: Annotated[str, Path(max_length=64)],
               body: schemas.DecisionRequest) -> schemas.NameSubmission | JSONResponse:
        """Approve or reject a pending submission, with the reason. An approved name becomes the
        property's business name (ranked as ``approved`` in ``[derive] name_precedence``), now and
        after every rebuild, and is listed in ``/api/v1/llpg-updates``. Repeating the same decision
        returns it unchanged; contradicting a decision already made is 409."""
        reason = body.reason.strip()
        if not reason:
            raise BadRequest("reason", "give the reason for the decision")
        try:
            submission = record_decision(services, submission_id, body.decision, reason, caller(request).subject)
        except NotFound:
            return error_response(404, "submission_id", f"no submission {submission_id}")
        except AlreadyDecided as exc:
            return error_response(409, "decision", str(exc))
        return _public(submission)

    @router.get("/api/v1/llpg-updates", response_class=Response, responses={
        200: {"description": "One row per approved name the gazetteer does not yet carry (CSV, UTF-8, header row)",
              "content": {"text/csv": {"schema": {"type": "string"}}}}, **error_responses()},
        **guarded(services, "review", params=("since", "include_applied")))
    def llpg_updates(since: datetime | None = None, include_applied: bool = False) -> Response:
        """Approved business names for the LLPG custodian, oldest decision first, as CSV:
        ``uprn, single_line_address, llpg_organisation_now, llpg_organisation_at_submission,
        proposed_organisation, submission_id, submitted_at, approved_at, approved_by,
        decision_reason, note``. A name the gazetteer already carries (the current index's LLPG
        organisation, ignoring case) is left out unless ``include_applied=true``; ``since`` (RFC
        3339) keeps only decisions after it, for incremental pulls."""
        return llpg_updates_csv(services, rfc3339(since) if since else None, include_applied)

    @router.get("/api/v1/audit-log", response_model=schemas.AuditLog, response_model_by_alias=True,
             responses=error_responses(), **guarded(services, "admin", params=("entity_id", "page", "page_size")))
    def audit_log(entity_id: Annotated[str | None, Query(max_length=64)] = None, page: Page = 1,
                  page_size: PageSize = config.default_page_size) -> schemas.AuditLog:
        """Every write, newest first: who, when, what, and the item before and after."""
        entries, total = store.audit_log(entity_id=entity_id, page=page, page_size=page_size)
        return schemas.AuditLog(entries=[schemas.AuditEntry(**{**asdict(e), "before": _camel(e.before),
                                                               "after": _camel(e.after)}) for e in entries],
                                pagination=schemas.Page(page=page, page_size=page_size, total=total))

    return router
