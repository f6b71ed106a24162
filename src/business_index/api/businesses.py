"""Establishment and organisation routes: typo-tolerant search of each, best first, and one of
each in detail with every public name its records carry and how many records each source holds.
They need ``read``; names of individuals are searched only with ``review`` or ``admin``."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from business_index.api import schemas
from business_index.api.business_search import establishment_ref, organisation_ref, query_name_key
from business_index.api.common import (
    Services,
    caller,
    error_response,
    error_responses,
    guarded,
    query_postcode,
)
from business_index.store import index_queries, name_lookup


def router_for(services: Services) -> APIRouter:
    router = APIRouter()
    reader, config = services.reader, services.config
    PageSize = Annotated[int, Query(ge=1, le=config.max_page_size)]  # noqa: N806 - a type alias
    Page = Annotated[int, Query(ge=1, le=1_000_000)]  # noqa: N806

    def search_page(request: Request, unit: index_queries.SearchUnit, name: str, postcode: str | None, page: int, page_size: int,
                    columns: str, order: str) -> tuple[int, list[tuple[Any, ...]]]:
        """One page of a name search over establishments or organisations (``unit``), and the total."""
        key = query_name_key("name", name)
        normal = query_postcode("postcode", postcode)
        con, index = reader.cursor()
        personal, least = caller(request).sees_personal_data, config.search_min_similarity
        matches = name_lookup.name_matches(con, unit, key, normal, personal, least, held=index.names)
        return len(matches), name_lookup.matched_rows(con, unit, matches, columns, order, page_size,
                                                      (page - 1) * page_size)

    @router.get("/api/v1/establishments", response_model=schemas.EstablishmentList, response_model_by_alias=True,
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
                                  "record_count", "score DESC, still_open DESC NULLS LAST, record_count DESC, establishment_id")
        return schemas.EstablishmentList(
            establishments=[schemas.EstablishmentSummary(
                establishment_id=r[0], name=r[1], score=r[2], uprn=r[3], address=r[4], still_open=bool(r[5]),
                organisation_id=r[6], record_count=r[7]) for r in rows],
            pagination=schemas.Page(page=page, page_size=page_size, total=total))

    @router.get("/api/v1/establishments/{establishment_id}", response_model=schemas.Establishment,
             response_model_by_alias=True, responses=error_responses(404), **guarded(services, "read"))
    def establishment_detail(establishment_id: Annotated[str, Path(max_length=64)]
                             ) -> schemas.Establishment | JSONResponse:
        """One establishment: every public name its records carry, its premises and period, its
        operating organisation, and how many records each source holds for it."""
        con, _ = reader.cursor()
        e = index_queries.establishment_row(con, establishment_id)
        if e is None:
            return error_response(404, "establishment_id", f"no establishment {establishment_id}")
        counts = index_queries.records_by_source(con, "establishment_id", [establishment_id])
        return schemas.Establishment(
            establishment_id=e.establishment_id, name=e.name, name_variants=list(e.name_variants), uprn=e.uprn,
            address=e.address, postcode=e.postcode, first_seen=e.first_seen, last_seen=e.last_seen,
            still_open=bool(e.still_open), organisation=organisation_ref(e.organisation_id, e.organisation_name),
            records_by_source=counts.get(establishment_id, {}))

    @router.get("/api/v1/organisations", response_model=schemas.OrganisationList, response_model_by_alias=True,
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

    @router.get("/api/v1/organisations/{organisation_id}", response_model=schemas.Organisation,
             response_model_by_alias=True, responses=error_responses(404), **guarded(services, "read"))
    def organisation_detail(organisation_id: Annotated[str, Path(max_length=64)]
                            ) -> schemas.Organisation | JSONResponse:
        """One organisation: every public name its records carry, each of its establishments, and
        how many records each source holds for it."""
        con, _ = reader.cursor()
        o = index_queries.organisation_row(con, organisation_id)
        if o is None:
            return error_response(404, "organisation_id", f"no organisation {organisation_id}")
        units = [establishment_ref(e) for e in index_queries.establishments_of(con, [organisation_id]).get(
            organisation_id, [])]
        counts = index_queries.records_by_source(con, "organisation_id", [organisation_id])
        return schemas.Organisation(organisation_id=o.organisation_id, name=o.name, name_variants=list(o.name_variants),
                                    establishments=units, records_by_source=counts.get(organisation_id, {}),
                                    first_seen=o.first_seen, last_seen=o.last_seen)
    return router
