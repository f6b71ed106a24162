"""What every group of routes shares: the services a request may use, the scope guard (which also
documents the scope in the OpenAPI), the unknown-parameter check and the error shape
``{"errors": [{"field": ..., "message": ...}]}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from business_index.api.approved_names import ApprovedNames
from business_index.api.auth import ANONYMOUS, AuthError, AuthSettings, Principal, require
from business_index.api.rate_limits import RateLimited, RateLimiter
from business_index.api.schemas import Errors
from business_index.config import ServeConfig
from business_index.postcodes import normalise_postcode
from business_index.store.index_reader import Reader
from business_index.store.submissions import SubmissionStore

SECURITY_SCHEME = "bearerAuth"


class BadRequest(Exception):
    def __init__(self, field: str | None, message: str, status: int = 400):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def error_response(status: int, field: str | None, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"errors": [{"field": field, "message": message}]})


@dataclass(frozen=True)
class Services:
    reader: Reader
    store: SubmissionStore
    approved: ApprovedNames
    auth: AuthSettings
    config: ServeConfig
    limiter: RateLimiter


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def guarded(services: Services, *scopes: str, params: tuple[str, ...] = (), limit: str | None = None) -> dict[str, Any]:
    """Route keyword arguments that require one of ``scopes``, say so in the OpenAPI (``x-scopes``
    is what the auth-matrix test reads), refuse any query parameter not in ``params`` and count the
    request against the caller's ``limit`` (a kind of ``rate_limits.RateLimiter``). One dependency
    does all three: each level of dependencies costs time on every request."""

    def check_params(request: Request) -> None:
        for name in request.query_params:
            if name not in params:
                raise BadRequest(name, f"unknown query parameter; this endpoint takes {', '.join(params) or 'none'}")

    limiter = services.limiter

    def authenticated(request: Request) -> Principal:
        address = client_address(request)
        if limiter.over("auth_failures", address):
            raise RateLimited(limiter.retry_after("auth_failures"), "failed authentications")
        try:
            return require(request, services.auth, *scopes)
        except AuthError as exc:
            if exc.status == 401 and request.headers.get("authorization"):
                limiter.check("auth_failures", address)
            raise

    async def dependency(request: Request) -> Principal:
        # checking a token is CPU work done in the event loop, except when the keys may have to be
        # fetched from a JWKS URL, or the shared count of an address that has failed asked
        shared_count = limiter.path is not None and limiter.noted("auth_failures", client_address(request))
        if services.auth.jwks_url is None and not shared_count:
            principal = authenticated(request)
        else:
            principal = await run_in_threadpool(authenticated, request)
        check_params(request)
        if limit is not None:
            client = principal.subject if principal is not ANONYMOUS else client_address(request)
            if limiter.path is None:
                limiter.check(limit, client)
            else:
                await run_in_threadpool(limiter.check, limit, client)
        request.state.principal = principal
        return principal

    return {"dependencies": [Depends(dependency)],
            "openapi_extra": {"security": [{SECURITY_SCHEME: list(scopes)}], "x-scopes": list(scopes)}}


def query_postcode(field: str, written: str | None) -> str | None:
    """A postcode a caller wrote, in the one normal form (``postcodes``); 400 naming ``field`` when
    it is not a UK postcode, None when it was not given."""
    if not written:
        return None
    normal = normalise_postcode(written)
    if normal is None:
        raise BadRequest(field, f"{written!r} is not a UK postcode")
    return normal


def caller(request: Request) -> Principal:
    """The principal the route's guard authenticated."""
    principal: Principal = request.state.principal
    return principal


def error_responses(*extra: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route documents: always 400, 401 and 403, plus ``extra``."""
    described = {400: "Bad input", 401: "No token, or an invalid one", 403: "The token lacks the scope",
                 404: "No such item", 409: "The request conflicts with the item's state",
                 429: "Too many requests from this client; see Retry-After",
                 413: "The request body is too large", 422: "The Idempotency-Key was used for another request",
                 503: "Busy or unavailable; see Retry-After"}
    return {code: {"model": Errors, "description": described[code]} for code in (400, 401, 403, 413, *extra)}
