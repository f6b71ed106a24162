"""Look-up pages for officers: search a business or supplier by any spelling, then one business
(the organisation) with every name its records use, its premises on a small map drawn from the
gazetteer's coordinates (inline SVG: no map tiles, works offline) and its records per source.
Needs ``read`` (signed in, or anonymous use switched on); names of individuals only with
``review`` or ``admin``, as in the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from business_index.api.auth import Principal
from business_index.api.common import Services
from business_index.clean.names import name_key
from business_index.postcodes import normalise_postcode
from business_index.store import index_queries, name_lookup
from business_index.web.pages import Pages

BASE = "/businesses"
RESULTS = 20
MAP_SIZE = 320


def router_for(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def officer(request: Request) -> tuple[dict[str, Any], Principal | None, Response | None]:
        return pages.person(request, "read", "review", anonymous=True)  # review reads too, as in the API

    @router.get(BASE, response_class=HTMLResponse)
    def search(request: Request, name: str = "", postcode: str = "") -> Response:
        session, person, refused = officer(request)
        if refused or person is None:
            return refused or pages.forged(request, session)
        values: dict[str, Any] = {"name": name, "postcode": postcode, "results": None}
        errors = {}
        if name or postcode:
            key = name_key(name) if name else None
            normal = normalise_postcode(postcode) if postcode.strip() else None
            if not key:
                errors["name"] = "Enter a business name with letters or numbers in it"
            if postcode.strip() and normal is None:
                errors["postcode"] = "Enter a real postcode, like SW1A 2AA, or leave it empty"
            limited = None if errors else pages.limited(request, session, "search")
            if limited:
                return limited
            if not errors:
                con, index = services.reader.cursor()
                matches = name_lookup.name_matches(con, "organisation_id", str(key), normal,
                                                   person.sees_personal_data, services.config.search_min_similarity, held=index.names)
                values["results"] = name_lookup.matched_rows(
                    con, "organisation_id", matches, "organisation_id, name, score, establishment_count",
                    "score DESC, record_count DESC, organisation_id", RESULTS, 0)
        return pages.render(request, session, "look_up.html", "Find a business or supplier", errors=errors,
                            status=400 if errors else 200, **values)

    @router.get(BASE + "/{organisation_id}", response_class=HTMLResponse)
    def business(request: Request, organisation_id: str) -> Response:
        session, person, refused = officer(request)
        if refused or person is None:
            return refused or pages.forged(request, session)
        con, _ = services.reader.cursor()
        row = index_queries.organisation_row(con, organisation_id[:64])
        if row is None:
            return pages.render(request, session, "message.html", "No such business", heading="No such business",
                                paragraphs=["It may have been merged into another since the last build."],
                                link=(BASE, "Search again"), status=404)
        ids = [row.organisation_id]
        premises = index_queries.establishments_of(con, ids).get(row.organisation_id, [])
        points = index_queries.property_points(con, [p.uprn for p in premises if p.uprn is not None])
        return pages.render(
            request, session, "business_detail.html", row.name or "A business", business=row, premises=premises,
            names=index_queries.recorded_names(con, ids, person.sees_personal_data).get(row.organisation_id, []),
            by_source=index_queries.records_by_source(con, "organisation_id", ids).get(row.organisation_id, {}),
            plotted=_plot(premises, points), map_size=MAP_SIZE, back=BASE,
            companies=index_queries.companies_of(con, ids).get(row.organisation_id, []))

    return router


def _plot(premises: list[index_queries.EstablishmentRefRow], points: dict[int, tuple[float, float]]
          ) -> list[dict[str, Any]]:
    """Each premises with coordinates as a point in a MAP_SIZE square, north up, scaled to fit."""
    located = [(p, points[p.uprn]) for p in premises if p.uprn is not None and p.uprn in points]
    if not located:
        return []
    xs, ys = [xy[0] for _, xy in located], [xy[1] for _, xy in located]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 200.0)  # at least 200 m across
    margin = 20
    scale = (MAP_SIZE - 2 * margin) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return [{"x": round(MAP_SIZE / 2 + (x - cx) * scale, 1), "y": round(MAP_SIZE / 2 - (y - cy) * scale, 1),
             "name": p.name or "Unnamed", "address": p.address, "open": p.still_open} for p, (x, y) in located]
