"""Operations routes: health (public liveness and readiness, naming what is down but never where
it lives) and Prometheus metrics (``admin``)."""

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from business_index.api import schemas
from business_index.api.common import Services, error_responses, guarded
from business_index.api.middleware import metrics_text
from business_index.store.index_reader import IndexUnavailable


def router_for(services: Services) -> APIRouter:
    router = APIRouter()
    store, auth = services.store, services.auth

    @router.get("/health", response_model=schemas.Health, response_model_by_alias=True,
             responses={503: {"model": schemas.Health, "description": "Not ready"}})
    def health() -> JSONResponse:
        """Liveness and readiness: 200 when the index and the submissions store both answer, with
        the index version; 503 naming what failed otherwise. Public."""
        checks: dict[str, str] = {}
        version = built_at = None
        # what is down, never where it lives: a public answer carries no paths or URLs
        try:
            current = services.reader.current()
            version, built_at = current.build_id, current.built_at
            checks["index"] = "ok"
        except IndexUnavailable as exc:
            checks["index"] = f"unavailable: {exc}"
        except Exception:  # noqa: BLE001 - any failure means not ready
            checks["index"] = "unavailable"
        try:
            store.ping()
            checks["submissions_store"] = "ok"
        except Exception:  # noqa: BLE001
            checks["submissions_store"] = "unavailable"
        if not auth.configured:
            checks["auth"] = ("no token secret or key configured: only anonymous reads are answered"
                              if auth.anonymous_read else "unavailable: no token secret or key configured")
        else:
            checks["auth"] = "ok"
        ready = all(v == "ok" or not v.startswith("unavailable") for v in checks.values())
        body = schemas.Health(status="ok" if ready else "unavailable", index_version=version,
                              index_built_at=built_at, checks=checks)
        return JSONResponse(body.model_dump(by_alias=True), status_code=200 if ready else 503)

    @router.get("/metrics", response_class=Response, responses={
        200: {"description": "Prometheus text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}},
        **error_responses()}, **guarded(services, "admin"))
    def metrics() -> Response:
        """Request counts and durations by route and status, and submissions written (Prometheus)."""
        return Response(metrics_text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return router
