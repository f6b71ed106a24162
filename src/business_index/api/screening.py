"""Supplier screening: every organisation a name could be, with all its establishments, every
spelling its records use and how many records each source holds. Needs ``read``; names of
individuals only with ``review`` or ``admin``."""

from fastapi import APIRouter, Request

from business_index.api import schemas
from business_index.api.business_search import establishment_ref, query_name_key
from business_index.api.common import Services, caller, error_responses, guarded, query_postcode
from business_index.store import index_queries, name_lookup


def router_for(services: Services) -> APIRouter:
    router = APIRouter()
    reader, config = services.reader, services.config

    @router.post("/api/v1/screening", response_model=schemas.ScreeningResult, response_model_by_alias=True,
              responses=error_responses(429), **guarded(services, "read", limit="screening"))
    def screening(request: Request, request_body: schemas.ScreeningRequest) -> schemas.ScreeningResult:
        """Supplier screening: every organisation a name could be, with all its establishments,
        every spelling its records use, and how many records each source holds for it (names of
        individuals only with ``review`` or ``admin``)."""
        key = query_name_key("name", request_body.name)
        normal = query_postcode("postcode", request_body.postcode)
        personal = caller(request).sees_personal_data
        con, index = reader.cursor()
        matches = name_lookup.name_matches(con, "organisation_id", key, normal, personal,
                                           config.search_min_similarity, held=index.names)
        rows = name_lookup.matched_rows(con, "organisation_id", matches, "organisation_id, name, score",
                                        "score DESC, record_count DESC, organisation_id", request_body.limit, 0)
        ids = [r[0] for r in rows]
        names = index_queries.recorded_names(con, ids, personal) if ids else {}
        counts = index_queries.records_by_source(con, "organisation_id", ids) if ids else {}
        units = {organisation_id: [establishment_ref(e) for e in found] for organisation_id, found in
                 (index_queries.establishments_of(con, ids) if ids else {}).items()}
        companies = index_queries.companies_of(con, ids) if ids else {}
        return schemas.ScreeningResult(query=request_body.name, candidates=[
            schemas.ScreeningCandidate(organisation_id=r[0], name=r[1], score=r[2], recorded_names=names.get(r[0], []),
                                       establishments=units.get(r[0], []), records_by_source=counts.get(r[0], {}),
                                       companies=[schemas.RegisteredCompany(
                                           company_number=c.company_number, name=c.name, status=c.status,
                                           previous_names=c.previous_names) for c in companies.get(r[0], [])])
            for r in rows])

    return router
