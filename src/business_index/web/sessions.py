"""Signed cookie sessions for the pages, and their CSRF tokens.

A session is a small JSON object in one cookie (HTTP-only, SameSite=Lax, Secure), signed with
HMAC-SHA256 so that a browser can read nothing it could change. It ends ``minutes`` after the last
request (each answer renews it); an ended or tampered session is an empty one, which the pages
treat as "start again". Each session carries a random CSRF token that every form posts back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from fastapi import Request, Response

COOKIE = "bx_session"


class Sessions:
    def __init__(self, secret: bytes, minutes: float, secure: bool = True):
        self.secret, self.seconds, self.secure = secret, minutes * 60, secure

    def load(self, request: Request) -> dict[str, Any]:
        """The request's session; ``{"ended": True}`` when one was sent but has run out."""
        raw = request.cookies.get(COOKIE)
        if not raw or "." not in raw:
            return {}
        payload, signature = raw.rsplit(".", 1)
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return {}
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except (ValueError, json.JSONDecodeError):
            return {}
        if not isinstance(data, dict) or float(data.get("expires", 0)) < time.time():
            return {"ended": True}
        return data

    def save(self, response: Response, session: dict[str, Any]) -> None:
        data = {k: v for k, v in session.items() if k != "ended"}
        data["expires"] = time.time() + self.seconds
        payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
        response.set_cookie(COOKIE, f"{payload}.{self._sign(payload)}", max_age=int(self.seconds) + 60,
                            httponly=True, samesite="lax", secure=self.secure, path="/")

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self.secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok(session: dict[str, Any], posted: str | None) -> bool:
    token = session.get("csrf")
    return isinstance(token, str) and isinstance(posted, str) and hmac.compare_digest(token.encode(), posted.encode())


def session_secret(configured: str | None, jwt_secret: str | None) -> bytes:
    """The key sessions are signed with: ``BX_SESSION_SECRET``; else one derived from the JWT
    secret (so every worker agrees); else a random one (sessions then last one process)."""
    if configured:
        return configured.encode()
    if jwt_secret:
        return hmac.new(jwt_secret.encode(), b"business-index page sessions", hashlib.sha256).digest()
    return secrets.token_bytes(32)
