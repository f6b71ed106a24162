"""The "find your business" journey (the shop-front licence journey): postcode -> address (or "I
cannot find my address", placed by the address matcher) -> the business on record -> "that is my
business", or a name -> check your answers -> confirmation with a reference (a name submission).

A licence application may start the journey with ``?return_url=``; when that URL's origin is
allowed (``BX_RETURN_URL_ORIGINS``), the confirmation links back to it with the UPRN, the business
name and the submission reference. Who may use it follows the API: with ``--anonymous-read`` a
resident needs no token; otherwise they sign in with one (``read`` to look up, ``submit`` to send
a name).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from business_index.api.address_matches import MatcherOfCurrentBuild
from business_index.api.approved_names import ChosenName
from business_index.api.auth import Principal
from business_index.api.common import Services
from business_index.api.schemas import visible_text
from business_index.link.address_lists import AddressInput, NotMatchable
from business_index.postcodes import normalise_postcode
from business_index.store import index_queries
from business_index.store.submissions import PropertyContext
from business_index.web.pages import Pages

BASE = "/find-your-business"
MAX_NAME = 200
MAX_RETURN_URL = 1000  # the session is one cookie, and a browser keeps at most 4 KB of it
JOURNEY_KEYS = ("postcode", "uprn", "address", "name_on_record", "business_name", "reference")


def router_for(services: Services, pages: Pages, matcher: MatcherOfCurrentBuild) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    allowed_origins = {origin.rstrip("/") for origin in services.config.return_url_origins}

    def user(request: Request, session: dict[str, Any], scope: str) -> Principal | None:
        """Who is using the journey: the signed-in token's subject, or (with anonymous use on) a
        resident known by this session only."""
        signed_in = pages.signed_in(session)
        if signed_in is not None:
            return signed_in if pages.allowed(signed_in, scope) else None
        if services.auth.anonymous_read:
            resident = session.setdefault("resident", secrets.token_hex(8))
            return Principal(f"resident:{resident}", frozenset({"read", "submit"}))
        return None

    def entry(request: Request, scope: str = "read") -> tuple[dict[str, Any], Principal | None, Response | None]:
        session = pages.session(request)
        person = user(request, session, scope)
        if person is None:
            return session, None, pages.to_sign_in(request, session, scope)
        return session, person, None

    def step(request: Request, scope: str = "read", *, posted_csrf: str | None = None, needs: tuple[str, ...] = ()
             ) -> tuple[dict[str, Any], Principal | None, Response | None]:
        """What every step checks first: who is asking (``scope``), the form's CSRF token when one
        was posted, and the answers the step ``needs`` from the steps before it. The third value is
        the answer to give instead of the step, when one of them fails."""
        session, person, refused = entry(request, scope)
        if refused:
            return session, None, refused
        if posted_csrf is not None and not pages.csrf_ok(session, posted_csrf):
            return session, None, pages.forged(request, session)
        if any(not session.get(key) for key in needs):
            return session, None, journey_over(request, session)
        return session, person, None

    def journey_over(request: Request, session: dict[str, Any]) -> Response:
        """A step reached without the answers before it (a session that ended, a bookmark)."""
        notice = "Your session ended, so you need to start again." if session.get("ended") else None
        for key in JOURNEY_KEYS:
            session.pop(key, None)
        return pages.redirect(f"{BASE}/postcode", session, notice=notice)

    @router.get(BASE)
    def start(request: Request, return_url: str | None = None) -> Response:
        session = pages.session(request)
        if return_url:
            parts = urlsplit(return_url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if parts.scheme in ("https", "http") and origin in allowed_origins and len(return_url) <= MAX_RETURN_URL:
                session["return_url"] = return_url
        return pages.render(request, session, "start.html", "Find your business")

    @router.get(f"{BASE}/postcode", response_class=HTMLResponse)
    def postcode_form(request: Request) -> Response:
        session, _, refused = step(request)
        if refused:
            return refused
        return pages.render(request, session, "postcode.html", "What is the postcode of your business premises?",
                            postcode=session.get("postcode"), back=BASE)

    @router.post(f"{BASE}/postcode")
    def postcode_answer(request: Request, csrf_token: str = Form(""), postcode: str = Form("")) -> Response:
        session, _, refused = step(request, posted_csrf=csrf_token)
        if refused:
            return refused
        written = postcode.strip()
        normal = normalise_postcode(written)
        if not written or normal is None:
            message = "Enter a postcode" if not written else "Enter a real postcode, like SW1A 2AA"
            return pages.render(request, session, "postcode.html", "What is the postcode of your business premises?",
                                postcode=written, errors={"postcode": message}, status=400, back=BASE)
        session["postcode"] = normal
        return pages.redirect(f"{BASE}/address", session)

    def addresses_at(postcode: str) -> list[dict[str, Any]]:
        con, _ = services.reader.cursor()
        _, rows = index_queries.find_addresses(con, postcode, None, None, None, 500, 0)
        return [{"uprn": r[0], "address": r[1]} for r in rows]

    @router.get(f"{BASE}/address", response_class=HTMLResponse)
    def address_form(request: Request) -> Response:
        session, _, refused = step(request, needs=("postcode",))
        if refused:
            return refused
        postcode = session["postcode"]
        found = addresses_at(postcode)
        if not found:
            return pages.render(request, session, "message.html", "No addresses found", heading=f"No addresses found for {postcode}",
                                paragraphs=["We hold no addresses at this postcode. Check it is the postcode of your "
                                            "business premises, or enter the address yourself."],
                                link=(f"{BASE}/manual-address", "Enter the address yourself"),
                                back=f"{BASE}/postcode", status=404)
        return pages.render(request, session, "address.html", "Select your business premises", postcode=postcode,
                            addresses=found, back=f"{BASE}/postcode")

    @router.post(f"{BASE}/address")
    def address_answer(request: Request, csrf_token: str = Form(""), uprn: str = Form("")) -> Response:
        session, _, refused = step(request, posted_csrf=csrf_token, needs=("postcode",))
        if refused:
            return refused
        postcode = session["postcode"]
        found = addresses_at(postcode)
        chosen = next((a for a in found if str(a["uprn"]) == uprn), None)
        if chosen is None:
            return pages.render(request, session, "address.html", "Select your business premises", postcode=postcode,
                                addresses=found, errors={"uprn": "Select the address of your business premises"},
                                status=400, back=f"{BASE}/postcode")
        return choose_property(session, int(chosen["uprn"]))

    def choose_property(session: dict[str, Any], uprn: int, notice: str | None = None) -> Response:
        con, index = services.reader.cursor()
        found = index_queries.live_property(con, uprn)
        if found is None:
            return pages.redirect(f"{BASE}/postcode", session, notice="That address is no longer in the gazetteer.")
        address, _, derived, kind, establishment_id = found
        shown = services.approved.choose(uprn, ChosenName(derived, kind, None, None, establishment_id),
                                         index.name_precedence)
        session.update(uprn=uprn, address=address, name_on_record=shown.business_name)
        session.pop("business_name", None)
        session.pop("reference", None)
        return pages.redirect(f"{BASE}/business", session, notice=notice)

    @router.get(f"{BASE}/manual-address", response_class=HTMLResponse)
    def manual_form(request: Request) -> Response:
        session, _, refused = step(request)
        if refused:
            return refused
        return pages.render(request, session, "manual_address.html", "What is the address of your business premises?",
                            form={"postcode": session.get("postcode") or ""}, back=f"{BASE}/address")

    @router.post(f"{BASE}/manual-address")
    def manual_answer(request: Request, csrf_token: str = Form(""), line1: str = Form(""), line2: str = Form(""),
                      town: str = Form(""), postcode: str = Form("")) -> Response:
        session, _, refused = step(request, posted_csrf=csrf_token)
        if refused:
            return refused
        form = {"line1": line1.strip(), "line2": line2.strip(), "town": town.strip(), "postcode": postcode.strip()}
        errors = {}
        if not form["line1"]:
            errors["line1"] = "Enter the building and street"
        if form["postcode"] and normalise_postcode(form["postcode"]) is None:
            errors["postcode"] = "Enter a real postcode, like SW1A 2AA"
        for field, value in form.items():
            try:
                visible_text(value, newlines=False)
            except ValueError:
                errors[field] = "Remove the invisible characters"
        if errors:
            return pages.render(request, session, "manual_address.html", "What is the address of your business premises?",
                                form=form, errors=errors, status=400, back=f"{BASE}/address")
        limited = pages.limited(request, session, "address_matches")
        if limited:
            return limited
        try:
            answers = matcher.match([AddressInput([form["line1"], form["line2"], form["town"]], form["postcode"] or None)])
        except NotMatchable:
            answers = None
        answer = answers[0] if answers else None
        if answer is None or answer.uprn is None:
            return pages.render(request, session, "message.html", "We could not find that address",
                                heading="We could not find that address",
                                paragraphs=["Check the address and postcode and try again. If your premises are new, "
                                            "the council may not have added them yet: contact the council's "
                                            "address team to add them."],
                                link=(f"{BASE}/manual-address", "Enter the address again"), status=404,
                                back=f"{BASE}/manual-address")
        return choose_property(session, answer.uprn, notice=f"We found your address: {answer.address}")

    def business_page(request: Request, session: dict[str, Any], **extra: Any) -> Response:
        return pages.render(request, session, "business.html", "The business at this address",
                            address=session["address"], business_name=session.get("name_on_record"),
                            back=f"{BASE}/address", **extra)

    @router.get(f"{BASE}/business", response_class=HTMLResponse)
    def business_form(request: Request) -> Response:
        session, _, refused = step(request, needs=("uprn",))
        if refused:
            return refused
        return business_page(request, session)

    @router.post(f"{BASE}/business")
    def business_answer(request: Request, csrf_token: str = Form(""), answer: str = Form("")) -> Response:
        session, _, refused = step(request, posted_csrf=csrf_token, needs=("uprn",))
        if refused:
            return refused
        if answer == "yes" and session.get("name_on_record"):
            session.update(business_name=session["name_on_record"], reference=None)
            return pages.redirect(f"{BASE}/confirmation", session)
        if answer == "no":
            return pages.redirect(f"{BASE}/name", session)
        return business_page(request, session, status=400, errors={"answer": "Select whether this is your business"})

    @router.get(f"{BASE}/name", response_class=HTMLResponse)
    def name_form(request: Request) -> Response:
        session, _, refused = step(request, "submit", needs=("uprn",))
        if refused:
            return refused
        return pages.render(request, session, "name.html", "What is the name of your business?", address=session["address"],
                            business_name=session.get("business_name"), back=f"{BASE}/business")

    @router.post(f"{BASE}/name")
    def name_answer(request: Request, csrf_token: str = Form(""), business_name: str = Form("")) -> Response:
        session, _, refused = step(request, "submit", posted_csrf=csrf_token, needs=("uprn",))
        if refused:
            return refused
        name = " ".join(business_name.split())
        error = None
        if not name:
            error = "Enter the name of your business"
        elif len(name) > MAX_NAME:
            error = f"The business name must be {MAX_NAME} characters or fewer"
        else:
            try:
                visible_text(name, newlines=False)
            except ValueError:
                error = "Remove the invisible characters from the name"
        if error is None and session.get("name_on_record") and name.casefold() == session["name_on_record"].casefold():
            error = "This is already the name we hold; go back and choose 'Yes, that is my business'"
        if error:
            return pages.render(request, session, "name.html", "What is the name of your business?", address=session["address"],
                                business_name=name, errors={"business_name": error}, status=400, back=f"{BASE}/business")
        session.update(business_name=name, reference=None)
        return pages.redirect(f"{BASE}/check", session)

    @router.get(f"{BASE}/check", response_class=HTMLResponse)
    def check_form(request: Request) -> Response:
        session, _, refused = step(request, "submit", needs=("uprn", "business_name"))
        if refused:
            return refused
        # one key for what this page shows: pressing Send twice sends once, sending again later sends anew
        session["send_key"] = secrets.token_hex(8)
        return pages.render(request, session, "check.html", "Check your answers", address=session["address"],
                            business_name=session["business_name"], back=f"{BASE}/name")

    @router.post(f"{BASE}/check")
    def check_answer(request: Request, csrf_token: str = Form("")) -> Response:
        session, person, refused = step(request, "submit", posted_csrf=csrf_token, needs=("uprn", "business_name"))
        if refused or person is None:
            return refused or pages.forged(request, session)
        if session.get("reference"):  # sent already: a second press of Send sends nothing more
            return pages.redirect(f"{BASE}/confirmation", session)
        if person.subject.startswith("resident:"):
            limited = pages.limited(request, session, "page_submissions")
            if limited:
                return limited
        con, index = services.reader.cursor()
        found = index_queries.live_property(con, int(session["uprn"]))
        if found is None:
            return journey_over(request, session)
        address, organisation, _, _, _ = found
        submission, _ = services.store.submit(
            uprn=int(session["uprn"]), business_name=session["business_name"], note="sent from the find-your-business pages",
            submitted_by=person.subject, context=PropertyContext(address, session.get("name_on_record"), organisation,
                                                                 index.build_id),
            idempotency_key=f"web:{session.get('send_key') or secrets.token_hex(8)}")
        session["reference"] = submission.submission_id
        return pages.redirect(f"{BASE}/confirmation", session)

    @router.get(f"{BASE}/confirmation", response_class=HTMLResponse)
    def confirmation(request: Request) -> Response:
        session, _, refused = step(request, needs=("uprn", "business_name"))
        if refused:
            return refused
        return_to = None
        if session.get("return_url"):
            answer = {"uprn": session["uprn"], "business_name": session["business_name"]}
            if session.get("reference"):
                answer["submission_reference"] = session["reference"]
            parts = urlsplit(session["return_url"])
            return_to = urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *answer.items()])))
        return pages.render(request, session, "confirmation.html",
                            "Name sent" if session.get("reference") else "Business confirmed",
                            address=session["address"], uprn=session["uprn"], business_name=session["business_name"],
                            reference=session.get("reference"), return_to=return_to)

    return router
