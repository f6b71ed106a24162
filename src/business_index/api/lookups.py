"""Read routes: addresses by postcode (the shop-front licence journey), one property with its
name's provenance and history, establishment and organisation search and detail, and supplier
screening. All need ``read`` (or anonymous read, when switched on); personal data (names of
individuals, account references) needs ``review`` or ``admin``."""


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
from business_index.postcodes import normalise_postcode
from business_index.records import MAX_UPRN
from business_index.store.index_reader import ADDRESS_ORDER, ADDRESS_ROW_COLUMNS, LIVE

NAME_MATCH = 0.85  # the least Jaro-Winkler similarity between a query and a recorded name to list it


def search_sql(unit: str, personal: bool) -> str:
    """Typo-tolerant search of establishments or organisations (``unit``): the best similarity
    between the query and any name their records carry (names of individuals only when the caller
    may see personal data), optionally only those with a record at a postcode. Parameters: the
    name key twice, the postcode twice."""
    table = "establishments" if unit == "establishment_id" else "organisations"
    personal_filter = "" if personal else "AND NOT s.personal"
    return f"""
        WITH keys AS (
            SELECT s.{unit}, max(jaro_winkler_similarity(s.key, ?)) AS score
            FROM name_search s
            WHERE s.{unit} IS NOT NULL {personal_filter}
            GROUP BY s.{unit} HAVING max(jaro_winkler_similarity(s.key, ?)) >= {NAME_MATCH})
        SELECT u.*, round(k.score, 4) AS score
        FROM keys k JOIN {table} u USING ({unit})
        WHERE ? IS NULL OR u.{unit} IN (
            SELECT c.{unit} FROM record_establishments c
            JOIN business_records b USING (record_id)
            LEFT JOIN addresses a ON a.uprn = (SELECT l.uprn FROM record_links l WHERE l.record_id = b.record_id)
            WHERE replace(coalesce(a.postcode, b.postcode), ' ', '') = replace(?, ' ', ''))"""


ESTABLISHMENT_REF_COLUMNS = "establishment_id, name, uprn, address, first_seen, last_seen, still_open"


def _establishment_ref(row: tuple[Any, ...]) -> schemas.EstablishmentRef:
    return schemas.EstablishmentRef(establishment_id=row[0], name=row[1], uprn=row[2], address=row[3],
                                    first_seen=row[4], last_seen=row[5], still_open=bool(row[6]))


def _organisation_ref(organisation_id: str | None, name: str | None) -> schemas.OrganisationRef | None:
    return None if organisation_id is None else schemas.OrganisationRef(organisation_id=organisation_id, name=name)


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

    @app.get("/api/v1/properties/{uprn}", response_model=schemas.Property, response_model_by_alias=True,
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
            establishment_id=h[0], name=h[1], organisation=_organisation_ref(h[2], h[3]), first_seen=h[4],
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
            organisation=_organisation_ref(row[11], row[12]) if same_establishment else None,
            other_candidates=candidates, history=history, linked_records=linked)

    def search_page(request: Request, unit: str, name: str, postcode: str | None, page: int, page_size: int,
                    columns: str, order: str) -> tuple[int, list[tuple[Any, ...]]]:
        """One page of a name search over establishments or organisations (``unit``), and the total."""
        key = _name_key("name", name)
        normal = _postcode("postcode", postcode)
        con, _ = reader.cursor()
        sql = search_sql(unit, caller(request).sees_personal_data)
        params = [key, key, normal, normal]
        total = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]
        rows = con.execute(f"SELECT {columns} FROM ({sql}) ORDER BY {order} LIMIT ? OFFSET ?",
                           [*params, page_size, (page - 1) * page_size]).fetchall()
        return int(total), rows

    @app.get("/api/v1/establishments", response_model=schemas.EstablishmentList, response_model_by_alias=True,
             responses=error_responses(429),
             **guarded(services, "read", params=("name", "postcode", "page", "page_size"), limit="search"))
    def establishments(
        request: Request,
        name: Annotated[str, Query(min_length=2, max_length=200)],
        postcode: Annotated[str | None, Query(max_length=16)] = None,
        page: Page = 1,
        page_size: PageSize = config.default_page_size,
    ) -> schemas.EstablishmentList:
        """Typo-tolerant search of establishments (a business at one premises over one period), best
        first, with the similarity score of each."""
        total, rows = search_page(request, "establishment_id", name, postcode, page, page_size,
                                  "establishment_id, name, score, uprn, address, still_open, organisation_id, "
                                  "record_count", "score DESC, still_open DESC, record_count DESC, establishment_id")
        return schemas.EstablishmentList(
            establishments=[schemas.EstablishmentSummary(
                establishment_id=r[0], name=r[1], score=r[2], uprn=r[3], address=r[4], still_open=bool(r[5]),
                organisation_id=r[6], record_count=r[7]) for r in rows],
            pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @app.get("/api/v1/establishments/{establishment_id}", response_model=schemas.Establishment,
             response_model_by_alias=True, responses=error_responses(404), **guarded(services, "read"))
    def establishment_detail(establishment_id: Annotated[str, Path(max_length=64)]
                             ) -> schemas.Establishment | JSONResponse:
        """One establishment: every public name its records carry, its premises and period, its
        operating organisation, and how many records each source holds for it."""
        con, _ = reader.cursor()
        rows = con.execute("""
            SELECT e.establishment_id, e.name, e.name_variants, e.uprn, e.address, e.postcode, e.first_seen,
                   e.last_seen, e.still_open, e.organisation_id, o.name
            FROM establishments e LEFT JOIN organisations o USING (organisation_id)
            WHERE e.establishment_id = ?""", [establishment_id]).fetchall()
        if not rows:
            return error_response(404, "establishment_id", f"no establishment {establishment_id}")
        r = rows[0]
        counts = dict(con.execute("SELECT source, records FROM establishment_source_counts WHERE establishment_id = ?",
                                  [establishment_id]).fetchall())
        return schemas.Establishment(
            establishment_id=r[0], name=r[1], name_variants=list(r[2]), uprn=r[3], address=r[4], postcode=r[5],
            first_seen=r[6], last_seen=r[7], still_open=bool(r[8]), organisation=_organisation_ref(r[9], r[10]),
            records_by_source=counts)

    @app.get("/api/v1/organisations", response_model=schemas.OrganisationList, response_model_by_alias=True,
             responses=error_responses(429),
             **guarded(services, "read", params=("name", "postcode", "page", "page_size"), limit="search"))
    def organisations(
        request: Request,
        name: Annotated[str, Query(min_length=2, max_length=200)],
        postcode: Annotated[str | None, Query(max_length=16)] = None,
        page: Page = 1,
        page_size: PageSize = config.default_page_size,
    ) -> schemas.OrganisationList:
        """Typo-tolerant search of organisations (the operator behind establishments), best first."""
        total, rows = search_page(request, "organisation_id", name, postcode, page, page_size,
                                  "organisation_id, name, score, establishment_count, record_count",
                                  "score DESC, record_count DESC, organisation_id")
        return schemas.OrganisationList(
            organisations=[schemas.OrganisationSummary(organisation_id=r[0], name=r[1], score=r[2],
                                                       establishment_count=r[3], record_count=r[4]) for r in rows],
            pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @app.get("/api/v1/organisations/{organisation_id}", response_model=schemas.Organisation,
             response_model_by_alias=True, responses=error_responses(404), **guarded(services, "read"))
    def organisation_detail(organisation_id: Annotated[str, Path(max_length=64)]
                            ) -> schemas.Organisation | JSONResponse:
        """One organisation: every public name its records carry, each of its establishments, and
        how many records each source holds for it."""
        con, _ = reader.cursor()
        rows = con.execute("""SELECT organisation_id, name, name_variants, first_seen, last_seen
                              FROM organisations WHERE organisation_id = ?""", [organisation_id]).fetchall()
        if not rows:
            return error_response(404, "organisation_id", f"no organisation {organisation_id}")
        r = rows[0]
        units = [_establishment_ref(e) for e in con.execute(
            f"SELECT {ESTABLISHMENT_REF_COLUMNS} FROM establishments WHERE organisation_id = ? "
            "ORDER BY still_open DESC, name, establishment_id",
            [organisation_id]).fetchall()]
        counts = dict(con.execute("SELECT source, records FROM organisation_source_counts WHERE organisation_id = ?",
                                  [organisation_id]).fetchall())
        return schemas.Organisation(organisation_id=r[0], name=r[1], name_variants=list(r[2]), establishments=units,
                                    records_by_source=counts, first_seen=r[3], last_seen=r[4])

    @app.post("/api/v1/screening", response_model=schemas.ScreeningResult, response_model_by_alias=True,
              responses=error_responses(429), **guarded(services, "read", limit="screening"))
    def screening(request: Request, request_body: schemas.ScreeningRequest) -> schemas.ScreeningResult:
        """Supplier screening: every organisation a name could be, with all its establishments,
        every spelling its records use, and how many records each source holds for it (names of
        individuals only with ``review`` or ``admin``)."""
        key = _name_key("name", request_body.name)
        normal = _postcode("postcode", request_body.postcode)
        personal = caller(request).sees_personal_data
        con, _ = reader.cursor()
        rows = con.execute(f"""
            SELECT organisation_id, name, score FROM ({search_sql("organisation_id", personal)})
            ORDER BY score DESC, record_count DESC, organisation_id LIMIT ?""",
                           [key, key, normal, normal, request_body.limit]).fetchall()
        counts: dict[str, dict[str, int]] = {}
        names: dict[str, list[str]] = {}
        units: dict[str, list[schemas.EstablishmentRef]] = {}
        if rows:
            ids = [[r[0] for r in rows]]
            spelled = "b.name, b.trading_name" if personal else "f.public_name"
            for organisation_id, recorded in con.execute(f"""
                    SELECT re.organisation_id, list(DISTINCT n ORDER BY n) FROM record_establishments re
                    JOIN business_records b USING (record_id) JOIN record_names f USING (record_id),
                    unnest([{spelled}]) AS t(n)
                    WHERE re.organisation_id IN (SELECT unnest(?::VARCHAR[])) AND n IS NOT NULL
                    GROUP BY 1""", ids).fetchall():
                names[organisation_id] = list(recorded)
            for organisation_id, source, n in con.execute(
                    "SELECT organisation_id, source, records FROM organisation_source_counts "
                    "WHERE organisation_id IN (SELECT unnest(?::VARCHAR[]))", ids).fetchall():
                counts.setdefault(organisation_id, {})[source] = n
            for e in con.execute(f"""
                    SELECT organisation_id, {ESTABLISHMENT_REF_COLUMNS} FROM establishments
                    WHERE organisation_id IN (SELECT unnest(?::VARCHAR[]))
                    ORDER BY still_open DESC, name, establishment_id""", ids).fetchall():
                units.setdefault(e[0], []).append(_establishment_ref(e[1:]))
        return schemas.ScreeningResult(query=request_body.name, candidates=[
            schemas.ScreeningCandidate(organisation_id=r[0], name=r[1], score=r[2], recorded_names=names.get(r[0], []),
                                       establishments=units.get(r[0], []), records_by_source=counts.get(r[0], {}))
            for r in rows])


def _name_key(field: str, written: str) -> str:
    key = name_key(written)
    if not key:
        raise BadRequest(field, "the name has no letters or digits to search on")
    return key
