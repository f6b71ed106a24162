"""Read routes: addresses by postcode (the shop-front licence journey), one property with its
name's provenance, business search, one business, and supplier screening. All need ``read`` (or
anonymous read, when switched on); personal data needs ``review`` or ``admin``."""


import json
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

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
from business_index.clean.names import name_key
from business_index.clean.postcodes import normalise_postcode
from business_index.store.index_reader import ADDRESS_ORDER, ADDRESS_ROW_COLUMNS, LIVE

MAX_UPRN = 999_999_999_999
# typo-tolerant: the best similarity between the query and any name a business's records carry,
# optionally only businesses with a record at a postcode
SEARCH_SQL = """
    WITH keys AS (
        SELECT rb.business_id, max(jaro_winkler_similarity(k.key, ?)) AS score
        FROM record_businesses rb
        JOIN (SELECT unique_id, unnest(name_keys) AS key FROM record_features) k ON k.unique_id = rb.record_id
        WHERE rb.business_id IS NOT NULL
        GROUP BY rb.business_id HAVING max(jaro_winkler_similarity(k.key, ?)) >= 0.85)
    SELECT b.business_id, b.name, round(k.score, 4) AS score, b.record_count, coalesce(b.uprns, []),
           coalesce(b.name_variants, [])
    FROM keys k JOIN businesses b USING (business_id)
    WHERE ? IS NULL OR b.business_id IN (
        SELECT rb.business_id FROM record_businesses rb JOIN record_features f ON f.unique_id = rb.record_id
        WHERE f.postcode = ?)"""


def _postcode(field: str, written: str | None) -> str | None:
    if not written:
        return None
    normal = normalise_postcode(written)
    if normal is None:
        raise BadRequest(field, f"{written!r} is not a UK postcode")
    return normal


def add_lookup_routes(app: FastAPI, services: Services) -> None:
    reader, config = services.reader, services.config
    PageSize = Annotated[int, Query(ge=1, le=config.max_page_size)]  # noqa: N806 - a type alias
    Page = Annotated[int, Query(ge=1, le=1_000_000)]  # noqa: N806

    def shown_name(uprn: int, indexed: ChosenName, precedence: list[str]) -> ChosenName:
        return services.approved.choose(uprn, indexed, precedence)

    @app.get("/api/v1/addresses", response_model=schemas.AddressList, response_model_by_alias=True,
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
        normal = _postcode("postcode", postcode)
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
            name_, business_id = r[4], r[5]
            if r[0] in approved:
                chosen = shown_name(r[0], ChosenName(r[4], r[6], None, None, r[5]), index.name_precedence)
                name_, business_id = chosen.business_name, chosen.business_id
            found.append({"uprn": r[0], "singleLineAddress": r[1], "postcode": r[2], "classification": r[3],
                          "businessName": name_, "businessId": business_id})
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

    @app.get("/api/v1/properties/{uprn}", response_model=schemas.Property, response_model_by_alias=True,
             responses=error_responses(404), **guarded(services, "read"))
    def property_detail(request: Request, uprn: Annotated[int, Path(ge=1, le=MAX_UPRN)]
                        ) -> schemas.Property | JSONResponse:
        """One property: its derived business name with source and date, the other candidates it
        was chosen over, and the records linked to it (holders' names and account references only
        with ``review`` or ``admin``)."""
        con, index = reader.cursor()
        rows = con.execute("""
            SELECT a.uprn, a.parent_uprn, a.single_line_address, a.postcode, a.classification, p.business_name,
                   p.name_source_kind, p.name_source, p.name_date, p.business_id, to_json(p.other_candidates)
            FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE a.uprn = ?""", [uprn]).fetchall()
        if not rows:
            return error_response(404, "uprn", f"no property with UPRN {uprn}")
        row = rows[0]
        candidates = [schemas.NameCandidate(name=c["name"], source_kind=c["sourceKind"], source=c["source"],
                                            date=c["date"], business_id=c["businessId"])
                      for c in json.loads(row[10] or "null") or []]
        indexed = ChosenName(row[5], row[6], row[7], row[8], row[9])
        chosen = shown_name(uprn, indexed, index.name_precedence)
        if chosen is not indexed and indexed.business_name is not None and indexed.source_kind != "approved":
            # an approval since the build outranks the index's choice, which becomes a candidate
            candidates.insert(0, schemas.NameCandidate(name=indexed.business_name, source_kind=str(indexed.source_kind),
                                                       source=indexed.source, date=row[8],
                                                       business_id=indexed.business_id))
        records = con.execute("""
            SELECT b.source, b.record_type, b.source_record_id, f.public_name, l.link_rule, l.match_probability,
                   rb.business_id, b.holder_name, b.account_ref
            FROM record_links l JOIN business_records b USING (record_id)
            JOIN record_features f ON f.unique_id = b.record_id
            LEFT JOIN record_businesses rb USING (record_id)
            WHERE l.uprn = ? ORDER BY b.source, b.record_id""", [uprn]).fetchall()
        personal = caller(request).sees_personal_data
        linked = [schemas.LinkedRecord(
            source=r[0], record_type=r[1], source_record_id=r[2] if personal or r[1] != "ndr_account" else "withheld",
            name=r[3], link_rule=r[4], match_probability=round(r[5], 4), business_id=r[6],
            holder_name=r[7] if personal else None, account_ref=r[8] if personal else None) for r in records]
        return schemas.Property(
            uprn=row[0], parent_uprn=row[1], single_line_address=row[2], postcode=row[3], classification=row[4],
            business_name=chosen.business_name, name_source_kind=chosen.source_kind, name_source=chosen.source,
            name_date=chosen.date, business_id=chosen.business_id, other_candidates=candidates, linked_records=linked)

    @app.get("/api/v1/businesses", response_model=schemas.BusinessList, response_model_by_alias=True,
             responses=error_responses(), **guarded(services, "read", params=("name", "postcode", "page", "page_size")))
    def businesses(
        name: Annotated[str, Query(min_length=2, max_length=200)],
        postcode: Annotated[str | None, Query(max_length=16)] = None,
        page: Page = 1,
        page_size: PageSize = config.default_page_size,
    ) -> schemas.BusinessList:
        """Typo-tolerant business search, best first, with the similarity score of each."""
        key = name_key(name)
        if not key:
            raise BadRequest("name", "the name has no letters or digits to search on")
        normal = _postcode("postcode", postcode)
        con, _ = reader.cursor()
        params = [key, key, normal, normal]
        total = con.execute(f"SELECT count(*) FROM ({SEARCH_SQL})", params).fetchall()[0][0]
        rows = con.execute(f"{SEARCH_SQL} ORDER BY score DESC, record_count DESC, business_id LIMIT ? OFFSET ?",
                           [*params, page_size, (page - 1) * page_size]).fetchall()
        return schemas.BusinessList(
            businesses=[schemas.BusinessSummary(business_id=r[0], name=r[1], score=r[2], record_count=r[3],
                                                uprns=list(r[4])) for r in rows],
            pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @app.get("/api/v1/businesses/{business_id}", response_model=schemas.Business, response_model_by_alias=True,
             responses=error_responses(404), **guarded(services, "read"))
    def business_detail(business_id: Annotated[str, Path(max_length=64)]) -> schemas.Business | JSONResponse:
        """One business: every public name its records carry, its properties, and how many records
        each source holds for it."""
        con, _ = reader.cursor()
        rows = con.execute("""SELECT business_id, name, coalesce(name_variants, []), coalesce(uprns, []), first_seen,
                                     last_seen FROM businesses WHERE business_id = ?""", [business_id]).fetchall()
        if not rows:
            return error_response(404, "business_id", f"no business {business_id}")
        row = rows[0]
        counts = dict(con.execute("SELECT source, records FROM business_source_counts WHERE business_id = ?",
                                  [business_id]).fetchall())
        return schemas.Business(business_id=row[0], name=row[1], name_variants=list(row[2]), uprns=list(row[3]),
                                records_by_source=counts, first_seen=row[4], last_seen=row[5])

    @app.post("/api/v1/screening", response_model=schemas.ScreeningResult, response_model_by_alias=True,
              responses=error_responses(), **guarded(services, "read"))
    def screening(request: Request, request_body: schemas.ScreeningRequest) -> schemas.ScreeningResult:
        """Supplier screening: every business a name could be, with all its recorded variants, its
        properties and how many records each source holds for it (names of individuals only with
        ``review`` or ``admin``)."""
        key = name_key(request_body.name)
        if not key:
            raise BadRequest("name", "the name has no letters or digits to search on")
        normal = _postcode("postcode", request_body.postcode)
        con, _ = reader.cursor()
        rows = con.execute(f"{SEARCH_SQL} ORDER BY score DESC, record_count DESC, business_id LIMIT ?",
                           [key, key, normal, normal, request_body.limit]).fetchall()
        counts: dict[str, dict[str, int]] = {}
        names: dict[str, list[str]] = {}
        if rows:
            ids = [[r[0] for r in rows]]
            spelled = "b.name, b.trading_name" if caller(request).sees_personal_data else "f.public_name"
            for business_id, recorded in con.execute(f"""
                    SELECT rb.business_id, list(DISTINCT n ORDER BY n) FROM record_businesses rb
                    JOIN business_records b USING (record_id) JOIN record_features f ON f.unique_id = b.record_id,
                    unnest([{spelled}]) AS t(n)
                    WHERE rb.business_id IN (SELECT unnest(?::VARCHAR[])) AND n IS NOT NULL
                    GROUP BY 1""", ids).fetchall():
                names[business_id] = list(recorded)
            for business_id, source, n in con.execute(
                    "SELECT business_id, source, records FROM business_source_counts "
                    "WHERE business_id IN (SELECT unnest(?::VARCHAR[]))", ids).fetchall():
                counts.setdefault(business_id, {})[source] = n
        return schemas.ScreeningResult(query=request_body.name, candidates=[
            schemas.ScreeningCandidate(business_id=r[0], name=r[1], score=r[2], uprns=list(r[4]),
                                       recorded_names=names.get(r[0], []), records_by_source=counts.get(r[0], {}))
            for r in rows])
