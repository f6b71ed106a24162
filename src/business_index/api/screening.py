"""Supplier screening: every organisation a name could be, with all its establishments, every
spelling its records use and how many records each source holds. Needs ``read``; names of
individuals only with ``review`` or ``admin``."""

from fastapi import APIRouter, Request

from business_index.api import schemas
from business_index.api.business_search import (
    ESTABLISHMENT_REF_COLUMNS,
    establishment_ref,
    query_name_key,
    search_sql,
)
from business_index.api.common import Services, caller, error_responses, guarded, query_postcode


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
        con, _ = reader.cursor()
        candidates = search_sql("organisation_id", personal, config.search_min_similarity)
        rows = con.execute(f"""
            SELECT organisation_id, name, score FROM ({candidates})
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
                units.setdefault(e[0], []).append(establishment_ref(e[1:]))
        return schemas.ScreeningResult(query=request_body.name, candidates=[
            schemas.ScreeningCandidate(organisation_id=r[0], name=r[1], score=r[2], recorded_names=names.get(r[0], []),
                                       establishments=units.get(r[0], []), records_by_source=counts.get(r[0], {}))
            for r in rows])

    return router
