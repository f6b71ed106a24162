"""The FastAPI application: versioned paths under /api/v1, camelCase JSON, snake_case query
parameters, 400 with ``{"errors": [...]}`` for bad input (unknown parameters included), page and
page_size pagination with totals, 404 for a missing item. Every data endpoint needs the ``read``
scope (or anonymous read, when configured); personal data needs ``review`` or ``admin``.
"""


import json
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from business_index.api import schemas
from business_index.api.auth import AuthError, AuthSettings, Principal, require
from business_index.clean.names import name_key
from business_index.clean.postcodes import normalise_postcode
from business_index.store.index_reader import IndexReader

MAX_PAGE_SIZE = 100
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
DEFAULT_PAGE_SIZE = 25


class BadRequest(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _errors(status: int, field: str | None, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"errors": [{"field": field, "message": message}]})


def create_app(index: Path, auth: AuthSettings) -> FastAPI:
    reader = IndexReader(index)
    app = FastAPI(title="Business Index", version="1", openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None)

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        response = _errors(exc.status, None, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return _errors(400, exc.field, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"][1:]) or None, "message": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=400, content={"errors": errors})

    def reader_scope(scope: str):  # type: ignore[no-untyped-def]
        def dependency(request: Request) -> Principal:
            return require(request, auth, scope)
        return dependency

    def only(*allowed: str):  # type: ignore[no-untyped-def]
        def dependency(request: Request) -> None:
            for name in request.query_params:
                if name not in allowed:
                    raise BadRequest(name, f"unknown query parameter; this endpoint takes {', '.join(allowed) or 'none'}")
        return dependency

    read = Depends(reader_scope("read"))

    @app.get("/health", response_model=schemas.Health, response_model_by_alias=True)
    def health() -> schemas.Health:
        current = reader.current()
        return schemas.Health(status="ok", index_version=current.build_id, index_built_at=current.built_at)

    @app.get("/api/v1/addresses", response_model=schemas.AddressList, response_model_by_alias=True,
             dependencies=[Depends(only("postcode", "uprn", "query", "classification", "page", "page_size"))])
    def addresses(
        principal: Annotated[Principal, read],
        postcode: str | None = None,
        uprn: Annotated[int | None, Query(ge=1, le=999_999_999_999)] = None,
        query: Annotated[str | None, Query(max_length=200)] = None,
        classification: Annotated[str | None, Query(max_length=6)] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> schemas.AddressList:
        conditions: list[str] = ["a.logical_status IN (1, 6)"]
        params: list[object] = []
        if postcode is not None:
            normal = normalise_postcode(postcode)
            if normal is None:
                raise BadRequest("postcode", f"{postcode!r} is not a UK postcode")
            conditions.append("a.postcode = ?")
            params.append(normal)
        if uprn is not None:
            conditions.append("a.uprn = ?")
            params.append(uprn)
        if classification:
            conditions.append("starts_with(a.classification, ?)")
            params.append(classification.upper())
        if query:
            conditions.append("a.uprn IN (SELECT uprn FROM address_aliases WHERE contains(single_line_address, ?))")
            params.append(" ".join(query.upper().split()))
        if len(params) == 0:
            raise BadRequest(None, "give at least one of postcode, uprn, query or classification")
        con, _ = reader.cursor()
        where = " AND ".join(conditions)
        total = con.execute(f"SELECT count(*) FROM addresses a WHERE {where}", params).fetchall()[0][0]
        rows = con.execute(f"""
            SELECT a.uprn, a.single_line_address, a.postcode, a.classification, p.business_name, p.business_id
            FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE {where}
            ORDER BY a.street_description, a.pao_start_number, a.pao_text, a.sao_start_number, a.sao_text, a.uprn
            LIMIT ? OFFSET ?""", [*params, page_size, (page - 1) * page_size]).fetchall()
        return schemas.AddressList(
            addresses=[schemas.Address(uprn=r[0], single_line_address=r[1], postcode=r[2], classification=r[3],
                                       business_name=r[4], business_id=r[5]) for r in rows],
            pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @app.get("/api/v1/properties/{uprn}", response_model=schemas.Property, response_model_by_alias=True,
             response_model_exclude_none=False, dependencies=[Depends(only())],
             responses={404: {"model": schemas.Errors}})
    def property_detail(uprn: int, principal: Annotated[Principal, read]) -> schemas.Property | JSONResponse:
        con, _ = reader.cursor()
        rows = con.execute("""
            SELECT a.uprn, a.parent_uprn, a.single_line_address, a.postcode, a.classification, p.business_name,
                   p.name_source_kind, p.name_source, p.name_date, p.business_id, to_json(p.other_candidates)
            FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE a.uprn = ?""", [uprn]).fetchall()
        if not rows:
            return _errors(404, "uprn", f"no property with UPRN {uprn}")
        row = rows[0]
        candidates = [schemas.NameCandidate(name=c["name"], source_kind=c["sourceKind"], source=c["source"],
                                            date=c["date"], business_id=c["businessId"])
                      for c in json.loads(row[10] or "null") or []]
        records = con.execute("""
            SELECT b.source, b.record_type, b.source_record_id, f.public_name, l.link_rule, l.match_probability,
                   rb.business_id, b.holder_name, b.account_ref
            FROM record_links l JOIN business_records b USING (record_id)
            JOIN record_features f ON f.unique_id = b.record_id
            LEFT JOIN record_businesses rb USING (record_id)
            WHERE l.uprn = ? ORDER BY b.source, b.record_id""", [uprn]).fetchall()
        personal = principal.sees_personal_data
        linked = [schemas.LinkedRecord(
            source=r[0], record_type=r[1], source_record_id=r[2] if personal or r[1] != "ndr_account" else "withheld",
            name=r[3], link_rule=r[4], match_probability=round(r[5], 4), business_id=r[6],
            holder_name=r[7] if personal else None, account_ref=r[8] if personal else None) for r in records]
        return schemas.Property(
            uprn=row[0], parent_uprn=row[1], single_line_address=row[2], postcode=row[3], classification=row[4],
            business_name=row[5], name_source_kind=row[6], name_source=row[7], name_date=row[8], business_id=row[9],
            other_candidates=candidates, linked_records=linked)

    @app.get("/api/v1/businesses", response_model=schemas.BusinessList, response_model_by_alias=True,
             dependencies=[Depends(only("name", "postcode", "page", "page_size"))])
    def businesses(
        principal: Annotated[Principal, read],
        name: Annotated[str, Query(min_length=2, max_length=200)],
        postcode: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> schemas.BusinessList:
        key = name_key(name)
        if not key:
            raise BadRequest("name", "the name has no letters or digits to search on")
        normal = normalise_postcode(postcode) if postcode else None
        if postcode and normal is None:
            raise BadRequest("postcode", f"{postcode!r} is not a UK postcode")
        con, _ = reader.cursor()
        scored = SEARCH_SQL
        params = [key, key, normal, normal]
        total = con.execute(f"SELECT count(*) FROM ({scored})", params).fetchall()[0][0]
        rows = con.execute(f"{scored} ORDER BY score DESC, record_count DESC, business_id LIMIT ? OFFSET ?",
                           [*params, page_size, (page - 1) * page_size]).fetchall()
        return schemas.BusinessList(
            businesses=[schemas.BusinessSummary(business_id=r[0], name=r[1], score=r[2], record_count=r[3],
                                                uprns=list(r[4])) for r in rows],
            pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @app.get("/api/v1/businesses/{business_id}", response_model=schemas.Business, response_model_by_alias=True,
             dependencies=[Depends(only())], responses={404: {"model": schemas.Errors}})
    def business_detail(business_id: str, principal: Annotated[Principal, read]) -> schemas.Business | JSONResponse:
        con, _ = reader.cursor()
        rows = con.execute("""SELECT business_id, name, coalesce(name_variants, []), coalesce(uprns, []), first_seen,
                                     last_seen FROM businesses WHERE business_id = ?""", [business_id]).fetchall()
        if not rows:
            return _errors(404, "business_id", f"no business {business_id}")
        row = rows[0]
        counts = dict(con.execute("SELECT source, records FROM business_source_counts WHERE business_id = ?",
                                  [business_id]).fetchall())
        return schemas.Business(business_id=row[0], name=row[1], name_variants=list(row[2]), uprns=list(row[3]),
                                records_by_source=counts, first_seen=row[4], last_seen=row[5])

    @app.post("/api/v1/screening", response_model=schemas.ScreeningResult, response_model_by_alias=True,
              dependencies=[Depends(only())])
    def screening(request_body: schemas.ScreeningRequest,
                  principal: Annotated[Principal, read]) -> schemas.ScreeningResult:
        """Supplier screening: every business a name could be, with all its recorded variants, its
        properties and how many records each source holds for it."""
        key = name_key(request_body.name)
        if not key:
            raise BadRequest("name", "the name has no letters or digits to search on")
        normal = normalise_postcode(request_body.postcode) if request_body.postcode else None
        if request_body.postcode and normal is None:
            raise BadRequest("postcode", f"{request_body.postcode!r} is not a UK postcode")
        con, _ = reader.cursor()
        rows = con.execute(f"{SEARCH_SQL} ORDER BY score DESC, record_count DESC, business_id LIMIT ?",
                           [key, key, normal, normal, request_body.limit]).fetchall()
        counts: dict[str, dict[str, int]] = {}
        names: dict[str, list[str]] = {}
        if rows:
            ids = [[r[0] for r in rows]]
            spelled = "b.name, b.trading_name" if principal.sees_personal_data else "f.public_name"
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

    return app
