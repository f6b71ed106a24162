"""OpenRefine reconciliation (Reconciliation Service API v0.2) at ``/reconcile``: match a column of
business names or addresses to the index's businesses (organisations), establishments or
properties, preview one, suggest by prefix, and pull columns with data extension.

- Queries come as a form field ``queries`` (POST) or a query parameter (GET): a JSON object of
  queries keyed "q0", "q1", ... each with ``query``, optional ``type``, ``limit`` and
  ``properties`` ([{pid, v}]: ``postcode``, ``uprn``, ``company_number``).
- Names are scored by the search the API uses (the best Jaro-Winkler similarity to any name the
  records carry, as 0-100); a ``postcode`` or ``uprn`` property the candidate shares adds to the
  score, one it does not share takes away. Addresses (type ``property``) are placed by the address
  matcher. ``match`` is true only for a candidate that is unambiguous: an exact name (or an address
  the matcher placed) with no rival as good.
- ``company_number`` moves the score of a business whose registered company is on record (with a
  Companies House source): up when it agrees, down when it does not.
- Every answer carries ``Access-Control-Allow-Origin: *`` (CORS is part of v0.2); the scope is
  ``read``, anonymous only when ``--anonymous-read`` is on (OpenRefine sends no token).
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from business_index.api.address_matches import MatcherOfCurrentBuild
from business_index.api.common import BadRequest, Services, caller, error_responses, guarded
from business_index.clean.names import name_key
from business_index.link.address_lists import AddressInput, NotMatchable
from business_index.postcodes import normalise_postcode
from business_index.store import index_queries, name_lookup

BASE = "/reconcile"
IDENTIFIER_SPACE = "https://business-index.example/ns/id"
SCHEMA_SPACE = "https://business-index.example/ns/schema"
TYPES = {"business": ("Business (organisation)", "organisation_id"),
         "establishment": ("Establishment (a business at one premises)", "establishment_id"),
         "property": ("Property (UPRN)", "uprn")}
PROPERTIES = {"postcode": "Postcode", "uprn": "UPRN", "company_number": "Company number"}
EXTENSIONS = {"name": "Business name", "uprn": "UPRN", "address": "Address", "rateable_value": "Rateable value",
              "licence_count": "Licences", "spellings": "Recorded spellings", "company_number": "Company number"}
BATCH_SIZE = 50
MAX_LIMIT = 25
CORS = {"Access-Control-Allow-Origin": "*"}
EXACT = 100.0
AGREES, DISAGREES = 5.0, -10.0


def _answer(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=CORS)


def router_for(services: Services, matcher: MatcherOfCurrentBuild) -> APIRouter:
    router = APIRouter()
    config = services.config

    def manifest(request: Request) -> dict[str, Any]:
        root = str(request.base_url).rstrip("/") + BASE
        return {
            "versions": ["0.2"], "name": "Business Index", "identifierSpace": IDENTIFIER_SPACE,
            "schemaSpace": SCHEMA_SPACE, "batchSize": BATCH_SIZE,
            "defaultTypes": [{"id": "business", "name": TYPES["business"][0]}],
            "view": {"url": str(request.base_url).rstrip("/") + "/businesses/{{id}}"},
            "preview": {"url": root + "/preview?id={{id}}", "width": 400, "height": 180},
            "suggest": {"entity": {"service_url": root, "service_path": "/suggest/entity"},
                        "type": {"service_url": root, "service_path": "/suggest/type"},
                        "property": {"service_url": root, "service_path": "/suggest/property"}},
            "extend": {"propose_properties": {"service_url": root, "service_path": "/propose_properties"},
                       "property_settings": []},
            "documentation": str(request.base_url).rstrip("/") + "/api/v1/docs",
        }

    @router.get(BASE, responses=error_responses(413, 429),
                **guarded(services, "read", params=("queries", "extend"), limit="search"))
    async def reconcile_get(request: Request) -> Response:
        """The service manifest (no parameters), a batch of match queries (``queries``) or a data
        extension (``extend``), as the Reconciliation Service API v0.2 says."""
        return await reconcile(request)

    @router.post(BASE, responses=error_responses(413, 429),
                 **guarded(services, "read", params=("queries", "extend"), limit="search"))
    async def reconcile_post(request: Request) -> Response:
        """A batch of match queries or a data extension, as the form field ``queries`` or ``extend``
        (``application/x-www-form-urlencoded``), as OpenRefine sends them."""
        return await reconcile(request)

    async def reconcile(request: Request) -> Response:
        form: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            form.update((await request.form()).items())
        # the answer reads the index: on a worker thread, as the other routes do, not on the event
        # loop, where every other request of this worker would wait for it
        return await run_in_threadpool(answer, request, form)

    def answer(request: Request, form: dict[str, Any]) -> Response:
        if "queries" in form:
            batch = _json(form["queries"], "queries")
            if not isinstance(batch, dict):
                raise BadRequest("queries", "a JSON object of queries keyed q0, q1, ...")
            if len(batch) > BATCH_SIZE:
                return _answer({"errors": [{"field": "queries", "message": f"at most {BATCH_SIZE} a batch"}]}, 413)
            return _answer({key: {"result": _match(request, query)} for key, query in batch.items()})
        if "extend" in form:
            return _answer(_extend(_json(form["extend"], "extend")))
        return _answer(manifest(request))

    def _match(request: Request, query: Any) -> list[dict[str, Any]]:
        if not isinstance(query, dict):
            raise BadRequest("queries", "each query is an object")
        text = str(query.get("query") or "").strip()
        kind = query.get("type") or "business"
        kind = kind[0] if isinstance(kind, list) and kind else kind
        if kind not in TYPES:
            raise BadRequest("type", f"unknown type {kind!r}: use one of {', '.join(TYPES)}")
        limit = min(max(int(query.get("limit") or 5), 1), MAX_LIMIT)
        given = {str(p.get("pid")): _value(p.get("v")) for p in query.get("properties") or [] if isinstance(p, dict)}
        if kind == "property":
            return _match_address(text, given, limit)
        return _match_name(request, kind, text, given, limit)

    def _match_name(request: Request, kind: str, text: str, given: dict[str, str], limit: int) -> list[dict[str, Any]]:
        unit = TYPES[kind][1]
        con, index = services.reader.cursor()
        named = index_queries.extension_rows(con, unit, [text]) if text[:1].upper() in ("O", "E") else {}  # type: ignore[arg-type]
        if text in named:  # an id as the query is that entity
            return [_candidate(text, named[text].name, kind, EXACT, True, "the id given")]
        key = name_key(text)
        if not key:
            return []
        postcode = normalise_postcode(given.get("postcode") or "")
        personal = caller(request).sees_personal_data
        matches = name_lookup.name_matches(con, unit, key, None, personal, config.search_min_similarity, held=index.names)  # type: ignore[arg-type]
        rows = name_lookup.matched_rows(con, unit, matches, f"{unit}, name, score",  # type: ignore[arg-type]
                                        f"score DESC, record_count DESC, {unit}", limit * 3, 0)
        places = index_queries.extension_rows(con, unit, [str(r[0]) for r in rows]) if rows else {}  # type: ignore[arg-type]
        numbers = ({i: {c.company_number for c in found} for i, found in
                    index_queries.companies_of(con, [str(r[0]) for r in rows]).items()}
                   if rows and unit == "organisation_id" and given.get("company_number") else {})
        scored = []
        for unit_id, name, similarity in rows:
            score, why = 100.0 * float(similarity), [f"name {100 * float(similarity):.0f}"]
            place = places.get(str(unit_id))
            if postcode and place is not None:
                shares = any(a.endswith(postcode) for a in place.addresses)
                score += AGREES if shares else DISAGREES
                why.append("postcode agrees" if shares else "postcode differs")
            if given.get("uprn") and place is not None:
                shares = given["uprn"] in {str(u) for u in place.uprns}
                score += AGREES if shares else DISAGREES
                why.append("UPRN agrees" if shares else "UPRN differs")
            if str(unit_id) in numbers:  # a registered company on record: its number agrees or not
                shares = given["company_number"].upper() in numbers[str(unit_id)]
                score += AGREES if shares else DISAGREES
                why.append("company number agrees" if shares else "company number differs")
            scored.append((round(min(score, EXACT), 2), str(unit_id), name, "; ".join(why)))
        scored.sort(key=lambda s: (-s[0], s[1]))
        scored = scored[:limit]
        # auto-match only an exact name with no rival as good
        unambiguous = bool(scored) and scored[0][0] >= EXACT and (len(scored) == 1 or scored[1][0] < scored[0][0] - 5)
        return [_candidate(i, n, kind, s, unambiguous and rank == 0, why)
                for rank, (s, i, n, why) in enumerate(scored)]

    def _match_address(text: str, given: dict[str, str], limit: int) -> list[dict[str, Any]]:
        if not text:
            return []
        try:
            answers = matcher.match([AddressInput([text], given.get("postcode"))])
        except NotMatchable:
            return []
        if not answers:
            return []
        found = answers[0]
        out = []
        if found.uprn is not None:
            out.append(_candidate(str(found.uprn), found.address, "property", round(100 * (found.match_probability or 0), 2),
                                  True, found.decided_by or ""))
        if found.runner_up_uprn is not None:
            out.append(_candidate(str(found.runner_up_uprn), found.runner_up_address, "property",
                                  round(100 * (found.runner_up_probability or 0), 2), False,
                                  found.reason or "the runner-up"))
        return out[:limit]

    def _extend(request_body: Any) -> dict[str, Any]:
        if not isinstance(request_body, dict) or not isinstance(request_body.get("ids"), list):
            raise BadRequest("extend", "an object with ids and properties")
        ids = [str(i) for i in request_body["ids"]][:BATCH_SIZE * 10]
        wanted = [str(p.get("id")) for p in request_body.get("properties") or [] if isinstance(p, dict)]
        unknown = [w for w in wanted if w not in EXTENSIONS]
        if unknown:
            raise BadRequest("extend", f"unknown properties {', '.join(unknown)}: use {', '.join(EXTENSIONS)}")
        con, _ = services.reader.cursor()
        rows: dict[str, index_queries.ExtensionRow] = {}
        for unit, pick in (("organisation_id", lambda i: i.startswith("O")),
                           ("establishment_id", lambda i: i.startswith("E")), ("uprn", str.isdigit)):
            chosen = [i for i in ids if pick(i)]
            if chosen:
                rows.update(index_queries.extension_rows(con, unit, chosen))  # type: ignore[arg-type]
        numbers = index_queries.companies_of(con, [i for i in ids if i.startswith("O")]) if "company_number" in wanted else {}
        values: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for entity in ids:
            row = rows.get(entity)
            values[entity] = {w: _cells(w, row) for w in wanted}
            if "company_number" in wanted:
                values[entity]["company_number"] = [{"str": c.company_number} for c in numbers.get(entity, [])]
        return {"meta": [{"id": w, "name": EXTENSIONS[w]} for w in wanted], "rows": values}

    @router.get(f"{BASE}/propose_properties", responses=error_responses(), **guarded(services, "read", params=("type", "limit")))
    def propose_properties(type: str = "business", limit: int = 10) -> Response:  # noqa: A002 - the spec's name
        """The columns data extension can add, for a type."""
        return _answer({"type": type, "properties": [{"id": k, "name": v} for k, v in EXTENSIONS.items()][:max(limit, 1)],
                        "limit": limit})

    @router.get(f"{BASE}/suggest/entity", responses=error_responses(), **guarded(services, "read", params=("prefix", "cursor", "type")))
    def suggest_entity(request: Request, prefix: str = "", cursor: int = 0, type: str = "business") -> Response:  # noqa: A002
        """Businesses (or establishments) whose name starts with ``prefix``, or the one ``prefix`` names."""
        unit = "establishment_id" if type == "establishment" else "organisation_id"
        con, _ = services.reader.cursor()
        text = prefix.strip()
        found = []
        if text:
            by_id = index_queries.extension_rows(con, unit, [text])  # type: ignore[arg-type]
            found = [(text, by_id[text].name or text)] if text in by_id else \
                index_queries.name_prefix(con, unit, text, 10 + max(cursor, 0))[max(cursor, 0):]  # type: ignore[arg-type]
        return _answer({"result": [{"id": i, "name": n} for i, n in found]})

    @router.get(f"{BASE}/suggest/type", responses=error_responses(), **guarded(services, "read", params=("prefix", "cursor")))
    def suggest_type(prefix: str = "", cursor: int = 0) -> Response:
        """The types whose id or name starts with ``prefix``."""
        return _answer({"result": [{"id": k, "name": v[0]} for k, v in TYPES.items()
                                   if k.startswith(prefix.lower()) or v[0].lower().startswith(prefix.lower())]})

    @router.get(f"{BASE}/suggest/property", responses=error_responses(), **guarded(services, "read", params=("prefix", "cursor")))
    def suggest_property(prefix: str = "", cursor: int = 0) -> Response:
        """The properties a query may give (postcode, uprn, company_number)."""
        return _answer({"result": [{"id": k, "name": v} for k, v in PROPERTIES.items()
                                   if k.startswith(prefix.lower()) or v.lower().startswith(prefix.lower())]})

    @router.get(f"{BASE}/preview", response_class=HTMLResponse, responses=error_responses(404), **guarded(services, "read", params=("id",)))
    def preview(id: str = "") -> Response:  # noqa: A002 - the spec's name
        """A small HTML card of one business, establishment or property, for OpenRefine's preview."""
        unit = "organisation_id" if id.startswith("O") else "establishment_id" if id.startswith("E") else "uprn"
        con, _ = services.reader.cursor()
        row = index_queries.extension_rows(con, unit, [id[:64]]).get(id[:64])  # type: ignore[arg-type]
        if row is None:
            return HTMLResponse("<p>Not in the index.</p>", status_code=404, headers=CORS)
        places = "".join(f"<li>{html.escape(a)}</li>" for a in row.addresses[:5])
        more = f"<li>and {len(row.addresses) - 5} more</li>" if len(row.addresses) > 5 else ""
        body = (f"<div style=\"font-family: arial, sans-serif; font-size: 14px\"><strong>{html.escape(row.name or id)}</strong>"
                f" <small>{html.escape(id)}</small><ul>{places}{more}</ul>"
                f"<p>{row.spellings} recorded spelling(s); {row.licences} licence(s)"
                + (f"; rateable value £{row.rateable_value:,.0f}" if row.rateable_value else "") + "</p></div>")
        # OpenRefine shows the card in a frame of its own page
        return HTMLResponse(body, headers={**CORS, "Content-Security-Policy":
                                           "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *"})

    @router.options(BASE + "{rest:path}", include_in_schema=False)
    def preflight(rest: str) -> Response:
        """CORS preflight for the reconciliation endpoints (a browser asking before sending a token)."""
        return Response(status_code=204, headers={**CORS, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                                                  "Access-Control-Allow-Headers": "Authorization, Content-Type",
                                                  "Access-Control-Max-Age": "600"})

    return router


def _json(text: Any, field: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise BadRequest(field, "not JSON") from None


def _value(v: Any) -> str:
    """A property value as text: a string, a reconciled {id, name}, or the first of a list."""
    if isinstance(v, list):
        v = v[0] if v else ""
    if isinstance(v, dict):
        v = v.get("id") or v.get("name") or ""
    return str(v).strip()


def _candidate(entity_id: str, name: str | None, kind: str, score: float, match: bool, why: str) -> dict[str, Any]:
    return {"id": entity_id, "name": name or entity_id, "type": [{"id": kind, "name": TYPES[kind][0]}],
            "score": score, "match": match, "description": why}


def _cells(prop: str, row: index_queries.ExtensionRow | None) -> list[dict[str, Any]]:
    if row is None:
        return []
    if prop == "name":
        return [{"str": row.name}] if row.name else []
    if prop == "uprn":
        return [{"str": str(u)} for u in row.uprns]
    if prop == "address":
        return [{"str": a} for a in row.addresses]
    if prop == "rateable_value":
        return [{"float": float(row.rateable_value)}] if row.rateable_value is not None else []
    if prop == "licence_count":
        return [{"int": row.licences}]
    if prop == "spellings":
        return [{"int": row.spellings}]
    return []  # company_number: from the organisation's registered companies (filled by the caller)
