"""The FastAPI application: versioned paths under /api/v1, camelCase JSON, snake_case query
parameters, 400 with ``{"errors": [...]}`` for bad input (unknown parameters included), page and
page_size pagination with totals, 404 for a missing item. Every route states its scopes in the
OpenAPI (``security`` and ``x-scopes``); personal data needs ``review`` or ``admin``.

The routes live in one ``APIRouter`` module per resource (``addresses``, ``businesses``,
``screening``, ``submissions``, ``health``); this module wires them to the index, the submissions
store, auth, limits and metrics.
"""


from pathlib import Path
from typing import Any

import duckdb
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from swagger_ui_bundle import swagger_ui_path

from business_index import __version__
from business_index.api import (
    address_matches,
    addresses,
    businesses,
    exports,
    health,
    reconcile,
    screening,
    submissions,
)
from business_index.api.approved_names import ApprovedNames
from business_index.api.auth import AuthError, AuthSettings
from business_index.api.common import (
    SECURITY_SCHEME,
    BadRequest,
    Services,
    error_response,
)
from business_index.api.middleware import LimitsAndMetrics
from business_index.api.rate_limits import Limit, RateLimited, RateLimiter
from business_index.config import ServeConfig
from business_index.store.index_reader import IndexReader, IndexUnavailable, Reader
from business_index.store.postgres_index import PostgresIndexReader, is_database_url
from business_index.store.submissions import (
    AlreadyDecided,
    IdempotencyConflict,
    NotFound,
    StoreError,
    SubmissionStore,
    default_store_url,
)
from business_index.web import dashboard, find_your_business, look_up, review
from business_index.web.pages import STATIC, Pages
from business_index.web.sessions import Sessions, session_secret

DOCS_ASSETS = "/api/v1/docs-assets"
RETRY_AFTER_SECONDS = 30  # what a 503 asks a client to wait before trying again

DESCRIPTION = """One register of the businesses at a council's addresses.

Send `Authorization: Bearer <JWT>`; each operation names the scope it needs (`read`, `submit`,
`review`, `admin`; `admin` holds them all). Names of individuals and account references appear only
with `review` or `admin`. Errors are `{"errors": [{"field": ..., "message": ...}]}`."""


def create_app(index: Path | str, auth: AuthSettings, store: SubmissionStore | None = None,
               config: ServeConfig | None = None, rate_limit_file: Path | None = None) -> Any:
    """The ASGI app over a published index (wrapped in the limits-and-metrics middleware): a file
    built by ``bx build``, or a ``postgresql://`` database ``bx publish`` loaded. Rate limits are
    counted in ``rate_limit_file`` when given (shared by workers), else in memory."""
    config = config or ServeConfig()
    reader: Reader
    if is_database_url(index):
        reader = PostgresIndexReader(str(index), config.postcode_lookup_max_rows, config.name_index_max_rows)
        store = store or SubmissionStore(str(index))
    else:
        reader = IndexReader(Path(index), config.postcode_lookup_max_rows, config.name_index_max_rows)
        store = store or SubmissionStore(default_store_url(Path(index)))
    limits = {kind: Limit(per_minute, 60) for kind, per_minute in (
        ("auth_failures", config.auth_failures_per_minute), ("search", config.searches_per_minute),
        ("screening", config.screenings_per_minute), ("address_matches", config.address_match_batches_per_minute))
        if per_minute > 0}
    if config.page_submissions_per_hour > 0:
        limits["page_submissions"] = Limit(config.page_submissions_per_hour, 3600)
    services = Services(reader=reader, store=store,
                        approved=ApprovedNames(store, config.approved_names_refresh_seconds), auth=auth, config=config,
                        limiter=RateLimiter(limits, rate_limit_file))
    app = FastAPI(title="Business Index", version=__version__, description=DESCRIPTION,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    # the interactive docs, with Swagger UI served from the package: a council network may have no
    # internet, and a page that fetches its code from a CDN shows nothing there
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/api/v1/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="Business Index API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        response = error_response(exc.status, None, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        response = error_response(429, None, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return error_response(exc.status, exc.field, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": None, "message": "the body is not valid JSON"} if e["type"] == "json_invalid" else
                  {"field": ".".join(str(p) for p in e["loc"][1:]) or None, "message": e["msg"]}
                  for e in exc.errors()]
        return JSONResponse(status_code=400, content={"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404 for an unknown path, 405 for a method a path does not take: the documented shape too
        response = error_response(exc.status_code, None, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError) -> JSONResponse:
        response = error_response(503, None, "the submissions store is unavailable; try again shortly")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, None, str(exc))

    @app.exception_handler(AlreadyDecided)
    async def _already_decided(request: Request, exc: AlreadyDecided) -> JSONResponse:
        return error_response(409, None, str(exc))

    @app.exception_handler(IdempotencyConflict)
    async def _key_reused(request: Request, exc: IdempotencyConflict) -> JSONResponse:
        return error_response(422, "Idempotency-Key", str(exc))

    @app.exception_handler(IndexUnavailable)
    async def _index_down(request: Request, exc: IndexUnavailable) -> JSONResponse:
        response = error_response(503, None, "the index is unavailable; try again shortly")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(duckdb.Error)
    async def _index_broken(request: Request, exc: duckdb.Error) -> JSONResponse:
        response = error_response(503, None, "the index could not be read; try again shortly")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for routes in (health, addresses, businesses, screening, submissions, exports):
        app.include_router(routes.router_for(services))
    matcher = address_matches.MatcherOfCurrentBuild(services.reader)
    app.include_router(address_matches.router_for(services, matcher))
    app.include_router(reconcile.router_for(services, matcher))
    # the pages, beside the API
    pages = Pages(services, Sessions(session_secret(config.session_secret.get_secret_value() if config.session_secret
                                                    else None, auth.secret), config.session_minutes,
                           config.session_cookie_secure),
                  config)
    app.mount("/assets", StaticFiles(directory=str(STATIC)), name="assets")
    app.include_router(pages.router())
    app.include_router(find_your_business.router_for(services, pages, matcher))
    app.include_router(review.router_for(services, pages))
    app.include_router(look_up.router_for(services, pages))
    app.include_router(dashboard.router_for(services, pages))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            spec.setdefault("components", {})["securitySchemes"] = {
                SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                  "description": "A JWT whose `scope` claim lists read, submit, review or admin"}}
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.services = services
    app.router.on_shutdown.append(store.close)  # the PostgreSQL connections this worker holds
    if isinstance(reader, PostgresIndexReader):
        app.router.on_shutdown.append(reader.close)
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type",
                                                                          "Idempotency-Key"],
                           max_age=600)
    return LimitsAndMetrics(app, config)
