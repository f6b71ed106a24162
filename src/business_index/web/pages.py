"""What every page shares: its session, rendering in the GOV.UK layout, redirects with a notice,
CSRF checks, and signing in with a token (bound to the session, never stored in the browser
other than inside the signed, HTTP-only cookie's claims: subject and scopes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from business_index.api.auth import ANONYMOUS, AuthError, Principal, verify_token
from business_index.api.common import Services, client_address
from business_index.api.rate_limits import RateLimited
from business_index.config import ServeConfig
from business_index.web.sessions import Sessions, csrf_ok, csrf_token

HERE = Path(__file__).parent
STATIC = HERE / "static"
SERVICE_NAME = "Find your business"


class Pages:
    def __init__(self, services: Services, sessions: Sessions, config: ServeConfig):
        self.services, self.sessions, self.config = services, sessions, config
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

    def session(self, request: Request) -> dict[str, Any]:
        return self.sessions.load(request)

    def render(self, request: Request, session: dict[str, Any], template: str, title: str, *, status: int = 200,
               errors: dict[str, str] | None = None, **values: Any) -> Response:
        council = self.services.reader.current().council
        response = self.templates.TemplateResponse(request, template, {
            "title": title, "service": SERVICE_NAME, "council": council or "the council", "errors": errors or {},
            "csrf": csrf_token(session), "notice": session.pop("notice", None), **values}, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        self.sessions.save(response, session)
        return response

    def redirect(self, path: str, session: dict[str, Any], notice: str | None = None) -> Response:
        if notice:
            session["notice"] = notice
        response = RedirectResponse(path, status_code=303)
        self.sessions.save(response, session)
        return response

    def csrf_ok(self, session: dict[str, Any], posted: str | None) -> bool:
        return csrf_ok(session, posted)

    def forged(self, request: Request, session: dict[str, Any]) -> Response:
        """A form posted without this session's token: forged, or sent from a page older than the
        session."""
        return self.render(request, session, "message.html", "This form could not be sent",
                           heading="This form could not be sent", status=403,
                           paragraphs=["The page it came from has expired or was not one of ours. Go back, reload the "
                                       "page and try again."], link=("/find-your-business", "Start again"))

    def signed_in(self, session: dict[str, Any]) -> Principal | None:
        """Who signed in with a token, while that token is still valid (a session never outlives
        its token)."""
        user = session.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("sub"), str):
            return None
        if float(user.get("token_expires", 0)) < time.time():
            session.pop("user", None)
            session["ended"] = True
            return None
        return Principal(user["sub"], frozenset(user.get("scopes", [])))

    def allowed(self, person: Principal | None, *scopes: str) -> bool:
        """Whether ``person`` holds one of ``scopes`` (``admin`` holds every scope, as in the API)."""
        return person is not None and bool(person.scopes & {*scopes, "admin"})

    def person(self, request: Request, *scopes: str, anonymous: bool = False
               ) -> tuple[dict[str, Any], Principal | None, Response | None]:
        """The session and who signed in with one of ``scopes`` (or, when ``anonymous`` and the
        server allows anonymous reading, anyone); else the sign-in page to answer with."""
        session = self.session(request)
        person = self.signed_in(session)
        if person is None and anonymous and self.services.auth.anonymous_read:
            person = ANONYMOUS
        if person is None or not self.allowed(person, *scopes):
            return session, None, self.to_sign_in(request, session, scopes[0])
        return session, person, None

    def limited(self, request: Request, session: dict[str, Any], kind: str) -> Response | None:
        """The page answering that this client is past its limit of ``kind``, or None."""
        try:
            self.services.limiter.check(kind, client_address(request))
        except RateLimited as exc:
            response = self.render(request, session, "message.html", "Too many requests", heading="Too many requests",
                                   paragraphs=[f"Try again in {exc.retry_after} seconds."], status=429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return None

    def to_sign_in(self, request: Request, session: dict[str, Any], scope: str) -> Response:
        signed_in = self.signed_in(session)
        if signed_in is not None:
            notice = f"Your account cannot do this (it needs the {scope} permission)."
        elif session.get("ended"):
            notice = f"You were signed out after {self.config.session_minutes:g} minutes without activity."
        else:
            notice = None
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return self.redirect(f"/sign-in?next={quote(here, safe='')}", session, notice=notice)

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.get("/", response_class=HTMLResponse)
        def home(request: Request) -> Response:
            return self.render(request, self.session(request), "start.html", SERVICE_NAME)

        @router.get("/sign-in", response_class=HTMLResponse)
        def sign_in_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the usual name
            session = self.session(request)
            return self.render(request, session, "sign_in.html", "Sign in", next=_local(next))

        @router.post("/sign-in")
        def sign_in(request: Request, csrf_token: str = Form(""), token: str = Form(""),
                    next: str = Form("/")) -> Response:  # noqa: A002
            session = self.session(request)
            if not csrf_ok(session, csrf_token):
                return self.forged(request, session)
            address = client_address(request)
            if self.services.limiter.over("auth_failures", address):
                return self.limited(request, session, "auth_failures") or self.forged(request, session)
            try:
                principal = verify_token(self.services.auth, token.strip())
                expires = float(jwt.decode(token.strip(), options={"verify_signature": False})["exp"])
            except (AuthError, jwt.PyJWTError, KeyError, TypeError, ValueError):
                refused = self.limited(request, session, "auth_failures")
                return refused or self.render(request, session, "sign_in.html", "Sign in", next=_local(next),
                                              status=401, errors={"token": "Enter a valid access token"})
            # a new session on signing in (nothing an attacker planted carries over), keeping only
            # where a licence application asked to be sent back to
            kept = {k: session[k] for k in ("return_url",) if k in session}
            session.clear()
            session.update(kept)
            session["user"] = {"sub": principal.subject, "scopes": sorted(principal.scopes), "token_expires": expires}
            return self.redirect(_local(next), session)

        @router.post("/sign-out")
        def sign_out(request: Request, csrf_token: str = Form("")) -> Response:
            session = self.session(request)
            if not csrf_ok(session, csrf_token):
                return self.forged(request, session)
            return self.redirect("/", {}, notice="You have signed out.")

        return router


def _local(path: str) -> str:
    """``path`` if it is a path on this site, else the home page: no open redirects."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"
