"""Request limits and Prometheus metrics, as one plain ASGI middleware (Starlette's
BaseHTTPMiddleware costs a task per request, which shows at thousands of requests a second).

Limits: a request line longer than ``max_url_bytes`` gets 414; a body longer than
``max_body_bytes`` gets 413, whether it says so in Content-Length or streams past it.
Metrics: requests and their durations by method, route template (never the raw path, so UPRNs do
not become labels) and status. With several workers ``bx serve`` sets PROMETHEUS_MULTIPROC_DIR and
/metrics adds up every worker's figures.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from business_index.config import ServeConfig

ADDRESS_MATCHES_PATH = "/api/v1/address-matches"

REQUESTS = Counter("bx_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
DURATION = Histogram("bx_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0))
SUBMISSIONS = Counter("bx_name_submissions_total", "Business-name submissions written, by action", ["action"])

Scope = dict[str, Any]


def metrics_text() -> bytes:
    """The Prometheus exposition of this process, or of every worker when running multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class BodyTooLarge(Exception):
    pass


# Every answer: no sniffing, no framing, no referrer. API answers may carry personal data, so
# none is stored by a browser or proxy, and none may run as a page. The interactive docs page
# (Swagger UI) loads its script and style from this server only.
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"no-referrer")]
_API_ANSWER = [(b"cache-control", b"no-store"),
               (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]
# the pages: their own scripts, styles and images only, forms posted only here
_PAGE = [(b"cache-control", b"no-store"),
         (b"content-security-policy",
          b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
          b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")]
_DOCS_PAGE = [(b"content-security-policy",
               b"default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self'; "
               b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")]


def _streamed_body(scope: Scope) -> bool:
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return False
    names = {name for name, _ in scope.get("headers", [])}
    return b"content-length" not in names


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    queue = list(messages)

    async def replayed() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        return await receive()  # http.disconnect, when the client goes

    return replayed


def _with_security_headers(headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    if path.startswith("/api/v1/docs"):
        extra = _ALWAYS + _DOCS_PAGE
    elif path.startswith(("/api/", "/health", "/metrics")):
        extra = _ALWAYS + _API_ANSWER
    else:
        extra = _ALWAYS + _PAGE
    return headers + [(name, value) for name, value in extra if name not in present]


def _json_response(status: int, field: str | None, message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"errors": [{"field": field, "message": message}]}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class LimitsAndMetrics:
    def __init__(self, app: Any, config: ServeConfig):
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = _with_security_headers(list(message.get("headers", [])), scope["path"])
            await send(message)

        refusal = self._refusal(scope)
        if refusal is None and _streamed_body(scope):
            # a body with no declared length (chunked) is read here, up to the limit, so that one too
            # long is refused with 413 rather than failing inside the app's JSON parsing
            buffered, refusal = await self._read_streamed_body(receive, self._body_limit(scope))
            if refusal is None:
                receive = _replay(buffered, receive)
        if refusal is not None:
            for message in _json_response(*refusal):
                await send_and_note(message)
        else:
            received = {"bytes": 0}
            limit = self._body_limit(scope)

            async def counted_receive() -> dict[str, Any]:
                message: dict[str, Any] = await receive()
                if message["type"] == "http.request":
                    received["bytes"] += len(message.get("body", b""))
                    if received["bytes"] > limit:
                        raise BodyTooLarge
                return message

            try:
                await self.app(scope, counted_receive, send_and_note)
            except BodyTooLarge:
                for message in _json_response(413, None, f"the request body is over {limit} bytes"):
                    await send_and_note(message)
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        REQUESTS.labels(method, template, str(status["code"])).inc()
        DURATION.labels(method, template).observe(time.perf_counter() - started)

    def _body_limit(self, scope: Scope) -> int:
        """The largest body a request may send: a batch of addresses to match may be larger."""
        if scope["path"].rstrip("/").endswith(ADDRESS_MATCHES_PATH):
            return self.config.max_address_match_body_bytes
        return self.config.max_body_bytes

    async def _read_streamed_body(self, receive: Any, limit: int) -> tuple[list[dict[str, Any]], tuple[int, None, str] | None]:
        messages: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, None
            size += len(message.get("body", b""))
            if size > limit:
                return messages, (413, None, f"the request body is over {limit} bytes")
            if not message.get("more_body", False):
                return messages, None

    def _refusal(self, scope: Scope) -> tuple[int, str | None, str] | None:
        length = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if length > self.config.max_url_bytes:
            return 414, None, f"the request line is over {self.config.max_url_bytes} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return 400, "Content-Length", "not a number"
                limit = self._body_limit(scope)
                if declared > limit:
                    return 413, None, f"the request body is over {limit} bytes"
        return None
