"""Address routes: addresses by postcode, UPRN, words or classification (the shop-front licence
journey), and one property with its name's provenance, the establishment and organisation trading
there, the other candidates and the premises' history. They need ``read``; holders' names and
account references need ``review`` or ``admin``."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from business_index.api import schemas
from business_index.api.approved_names import ChosenName
from business_index.api.business_search import organisation_ref
from business_index.api.common import (
    BadRequest,
    Services,
    caller,
    error_response,
    error_responses,
    guarded,
    query_postcode,
)
from business_index.records import MAX_UPRN
from business_index.store import index_queries


def router_for(services: Services) -> APIRouter:
    router = APIRouter()
    reader, config = services.reader, services.config
    PageSize = Annotated[int, Query(ge=1, le=config.max_page_size)]  # noqa: N806 - a type alias
    Page = Annotated[int, Query(ge=1, le=1_000_000)]  # noqa: N806

    def shown_name(uprn: int, indexed: ChosenName, precedence: list[str]) -> ChosenName:
        return services.approved.choose(uprn, indexed, precedence)

    @router.get("/api/v1/addresses", response_model=schemas.AddressList, response_model_by_alias=True,
             responses=error_responses(),
             **guarded(services, "read",
                          params=("postcode", "uprn", "query", "classification", "page", "page_size")))
    async def addresses(
        postcode: Annotated[str | None, Query(max_length=16)] = None,
        uprn: Annotated[int | None, Query(ge=1, le=MAX_UPRN)] = None,
        query: Annotated[str | None, Query(max_length=200)] = None,
        classification: Annotated[str | None, Query(max_length=6)] = None,
        page: Page = 1,
        page_size: PageSize = config.default_page_size,
    ) -> Response:
        """Addresses with their UPRN, classification and ONE derived business name: by postcode (any
        case and spacing), UPRN, words of the address, or classification code prefix."""
        normal = query_postcode("postcode", postcode)
        index = reader.current()
        offset = (page - 1) * page_size
        if normal is not None and uprn is None and not query and not classification \
                and index.addresses_by_postcode is not None:
            # the busy path: a postcode alone, answered from memory without leaving the event loop
            at_postcode = index.addresses_by_postcode.get(normal, [])
            total, rows = len(at_postcode), at_postcode[offset:offset + page_size]
        else:
            total, rows = await run_in_threadpool(find_addresses, normal, uprn, query, classification, page_size,
                                                  offset)
        approved = services.approved.current()
        found = []
        for r in rows:
            name_, establishment_id = r[4], r[5]
            if r[0] in approved:
                chosen = shown_name(r[0], ChosenName(r[4], r[6], None, None, r[5]), index.name_precedence)
                name_, establishment_id = chosen.business_name, chosen.establishment_id
            found.append({"uprn": r[0], "singleLineAddress": r[1], "postcode": r[2], "classification": r[3],
                          "businessName": name_, "establishmentId": establishment_id})
        # the busiest answer is written straight to JSON in the schemas.AddressList shape (building
        # and re-validating models cost more than the lookup); the contract test checks the shape
        body = {"addresses": found, "pagination": {"page": page, "pageSize": page_size, "total": total}}
        return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json")

    def find_addresses(postcode: str | None, uprn: int | None, query: str | None, classification: str | None,
                       limit: int, offset: int) -> tuple[int, list[tuple[Any, ...]]]:
        if postcode is None and uprn is None and not (query and query.strip()) and not classification:
            raise BadRequest(None, "give at least one of postcode, uprn, query or classification")
        con, _ = reader.cursor()
        return index_queries.find_addresses(con, postcode, uprn, query, classification, limit, offset)

    @router.get("/api/v1/properties/{uprn}", response_model=schemas.Property, response_model_by_alias=True,
             responses=error_responses(404), **guarded(services, "read"))
    def property_detail(request: Request, uprn: Annotated[int, Path(ge=1, le=MAX_UPRN)]
                        ) -> schemas.Property | JSONResponse:
        """One property: its derived business name with source and date, the establishment trading
        there and its operating organisation, the other candidates the name was chosen over, every
        establishment seen there (its history), and the records linked to it (holders' names and
        account references only with ``review`` or ``admin``)."""
        con, index = reader.cursor()
        row = index_queries.property_row(con, uprn)
        if row is None:
            return error_response(404, "uprn", f"no property with UPRN {uprn}")
        candidates = [schemas.NameCandidate(name=c["name"], source_kind=c["sourceKind"], source=c["source"],
                                            date=c["date"], establishment_id=c["establishmentId"])
                      for c in json.loads(row.other_candidates_json or "null") or []]
        indexed = ChosenName(row.business_name, row.name_source_kind, row.name_source, row.name_date,
                             row.establishment_id)
        chosen = shown_name(uprn, indexed, index.name_precedence)
        if chosen is not indexed and indexed.business_name is not None and indexed.source_kind != "approved":
            # an approval since the build outranks the index's choice, which becomes a candidate
            candidates.insert(0, schemas.NameCandidate(name=indexed.business_name, source_kind=str(indexed.source_kind),
                                                       source=indexed.source, date=row.name_date,
                                                       establishment_id=indexed.establishment_id))
        history = [schemas.PremisesHistoryEntry(
            establishment_id=h.establishment_id, name=h.name,
            organisation=organisation_ref(h.organisation_id, h.organisation_name), first_seen=h.first_seen,
            last_seen=h.last_seen, still_open=bool(h.still_open), current=bool(h.current))
            for h in index_queries.premises_history(con, uprn)]
        personal = caller(request).sees_personal_data
        linked = [schemas.LinkedRecord(
            source=r.source, record_type=r.record_type,
            source_record_id=r.source_record_id if personal or r.record_type != "ndr_account" else "withheld",
            name=r.public_name, link_rule=r.link_rule, match_probability=round(r.match_probability, 4),
            establishment_id=r.establishment_id, organisation_id=r.organisation_id,
            holder_name=r.holder_name if personal else None, account_ref=r.account_ref if personal else None)
            for r in index_queries.linked_records(con, uprn)]
        # an approved name since the build may belong to no establishment; then no operator is claimed
        same_establishment = chosen.establishment_id == indexed.establishment_id
        return schemas.Property(
            uprn=row.uprn, parent_uprn=row.parent_uprn, single_line_address=row.single_line_address,
            postcode=row.postcode, classification=row.classification,
            business_name=chosen.business_name, name_source_kind=chosen.source_kind, name_source=chosen.source,
            name_date=chosen.date, establishment_id=chosen.establishment_id,
            organisation=organisation_ref(row.organisation_id, row.organisation_name) if same_establishment else None,
            other_candidates=candidates, history=history, linked_records=linked)
    return router
