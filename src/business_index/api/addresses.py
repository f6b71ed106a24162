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
from business_index.store.index_reader import ADDRESS_ORDER, ADDRESS_ROW_COLUMNS, LIVE


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
        conditions: list[str] = [LIVE]
        params: list[object] = []
        if postcode is not None:
            conditions.append("a.postcode = ?")
            params.append(postcode)
        if uprn is not None:
            conditions.append("a.uprn = ?")
            params.append(uprn)
        if classification:
            conditions.append("starts_with(a.classification, ?)")
            params.append(classification.upper())
        if query and query.strip():
            conditions.append("a.uprn IN (SELECT uprn FROM address_aliases WHERE contains(single_line_address, ?))")
            params.append(" ".join(query.upper().split()))
        if len(params) == 0:
            raise BadRequest(None, "give at least one of postcode, uprn, query or classification")
        con, _ = reader.cursor()
        where = " AND ".join(conditions)
        total = con.execute(f"SELECT count(*) FROM addresses a WHERE {where}", params).fetchall()[0][0]
        rows = con.execute(f"""
            SELECT {ADDRESS_ROW_COLUMNS} FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE {where}
            ORDER BY {ADDRESS_ORDER} LIMIT ? OFFSET ?""", [*params, limit, offset]).fetchall()
        return int(total), rows

    @router.get("/api/v1/properties/{uprn}", response_model=schemas.Property, response_model_by_alias=True,
             responses=error_responses(404), **guarded(services, "read"))
    def property_detail(request: Request, uprn: Annotated[int, Path(ge=1, le=MAX_UPRN)]
                        ) -> schemas.Property | JSONResponse:
        """One property: its derived business name with source and date, the establishment trading
        there and its operating organisation, the other candidates the name was chosen over, every
        establishment seen there (its history), and the records linked to it (holders' names and
        account references only with ``review`` or ``admin``)."""
        con, index = reader.cursor()
        rows = con.execute("""
            SELECT a.uprn, a.parent_uprn, a.single_line_address, a.postcode, a.classification, p.business_name,
                   p.name_source_kind, p.name_source, p.name_date, p.establishment_id, to_json(p.other_candidates),
                   p.organisation_id, p.organisation_name
            FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE a.uprn = ?""", [uprn]).fetchall()
        if not rows:
            return error_response(404, "uprn", f"no property with UPRN {uprn}")
        row = rows[0]
        candidates = [schemas.NameCandidate(name=c["name"], source_kind=c["sourceKind"], source=c["source"],
                                            date=c["date"], establishment_id=c["establishmentId"])
                      for c in json.loads(row[10] or "null") or []]
        indexed = ChosenName(row[5], row[6], row[7], row[8], row[9])
        chosen = shown_name(uprn, indexed, index.name_precedence)
        if chosen is not indexed and indexed.business_name is not None and indexed.source_kind != "approved":
            # an approval since the build outranks the index's choice, which becomes a candidate
            candidates.insert(0, schemas.NameCandidate(name=indexed.business_name, source_kind=str(indexed.source_kind),
                                                       source=indexed.source, date=row[8],
                                                       establishment_id=indexed.establishment_id))
        history = [schemas.PremisesHistoryEntry(
            establishment_id=h[0], name=h[1], organisation=organisation_ref(h[2], h[3]), first_seen=h[4],
            last_seen=h[5], still_open=bool(h[6]), current=bool(h[7])) for h in con.execute("""
                SELECT h.establishment_id, h.name, h.organisation_id, o.name, h.first_seen, h.last_seen,
                       h.still_open, h.current
                FROM premises_history h LEFT JOIN organisations o USING (organisation_id)
                WHERE h.uprn = ? ORDER BY h.current DESC, h.last_seen DESC NULLS LAST, h.establishment_id""",
                [uprn]).fetchall()]
        records = con.execute("""
            SELECT b.source, b.record_type, b.source_record_id, f.public_name, l.link_rule, l.match_probability,
                   re.establishment_id, re.organisation_id, b.holder_name, b.account_ref
            FROM record_links l JOIN business_records b USING (record_id)
            JOIN record_names f USING (record_id)
            LEFT JOIN record_establishments re USING (record_id)
            WHERE l.uprn = ? ORDER BY b.source, b.record_id""", [uprn]).fetchall()
        personal = caller(request).sees_personal_data
        linked = [schemas.LinkedRecord(
            source=r[0], record_type=r[1], source_record_id=r[2] if personal or r[1] != "ndr_account" else "withheld",
            name=r[3], link_rule=r[4], match_probability=round(r[5], 4), establishment_id=r[6], organisation_id=r[7],
            holder_name=r[8] if personal else None, account_ref=r[9] if personal else None) for r in records]
        # an approved name since the build may belong to no establishment; then no operator is claimed
        same_establishment = chosen.establishment_id == indexed.establishment_id
        return schemas.Property(
            uprn=row[0], parent_uprn=row[1], single_line_address=row[2], postcode=row[3], classification=row[4],
            business_name=chosen.business_name, name_source_kind=chosen.source_kind, name_source=chosen.source,
            name_date=chosen.date, establishment_id=chosen.establishment_id,
            organisation=organisation_ref(row[11], row[12]) if same_establishment else None,
            other_candidates=candidates, history=history, linked_records=linked)
    return router
