"""The find-your-business pages in a real browser: Debian's Chromium driven by Playwright (never a
downloaded browser) against `bx serve` on loopback. Every page is checked with axe-core (WCAG 2.2
AA, no violations) and photographed into screenshots/ (not committed)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from business_index.api.auth import issue_token

playwright_sync = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "screenshots"
SECRET = "test-secret-that-is-long-enough-for-hs256"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORT = {"width": 800, "height": 600}  # small screenshots; the pages are responsive

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not AXE.exists(),
                                reason="needs Debian's chromium and node_modules/axe-core (scripts/setup.sh installs both)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, index: Path, *options: str, env: dict[str, str] | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "BX_JWT_SECRET": SECRET, **(env or {})}
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "bx"), "serve", "--index", str(index),
                                         "--port", str(self.port), *options], env=environment,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("bx serve did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def index(small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("web") / "index.duckdb"
    shutil.copy(small_index, copy)
    return copy


@pytest.fixture(scope="module")
def open_server(index: Path) -> Iterator[Server]:
    server = Server(index, "--anonymous-read", env={"BX_RETURN_URL_ORIGINS": "https://licensing.example.org"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):  # type: ignore[no-untyped-def]
    # axe is injected as a script of the page, which the pages' CSP would (rightly) refuse
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORT)
    yield context.new_page()
    context.close()


def checked(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """No WCAG 2.2 AA violation on this page, and its screenshot."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == [], f"{name}: {violations}"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def place(index: Path) -> dict[str, object]:
    """A postcode with a few live addresses, one of them with a business name on record."""
    with duckdb.connect(str(index), read_only=True) as con:
        postcode, uprn = con.execute("""
            SELECT a.postcode, a.uprn FROM addresses a JOIN property_names p USING (uprn)
            WHERE a.logical_status = 1 AND p.business_name IS NOT NULL
              AND (SELECT count(*) FROM addresses b WHERE b.postcode = a.postcode AND b.logical_status = 1) BETWEEN 2 AND 30
            ORDER BY a.uprn LIMIT 1""").fetchone()
        address = con.execute("SELECT single_line_address FROM addresses WHERE uprn = ?", [uprn]).fetchone()[0]
    return {"postcode": postcode, "uprn": uprn, "address": address}


def keyboard_to(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until ``selector`` has the focus (as a keyboard user would)."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({json.dumps(selector)})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _to_business(page, server: Server, place: dict[str, object], shots: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/find-your-business")
    if shots:
        checked(page, f"{shots}-1-start")
    page.get_by_role("button", name="Start now").click()
    if shots:
        checked(page, f"{shots}-2-postcode")
    page.get_by_label("What is the postcode of your business premises?").fill(str(place["postcode"]).lower())
    page.get_by_role("button", name="Find address").click()
    if shots:
        checked(page, f"{shots}-3-address")
    page.locator(f"input[name=uprn][value='{place['uprn']}']").check()
    page.get_by_role("button", name="Continue").click()
    if shots:
        checked(page, f"{shots}-4-business")


def test_a_resident_sends_a_name_and_it_is_shown_once_approved(page, browser, open_server: Server, place) -> None:  # type: ignore[no-untyped-def]
    _to_business(page, open_server, place, shots="journey")
    page.get_by_label("No, the name is wrong or my business is not listed").check()
    page.get_by_role("button", name="Continue").click()
    checked(page, "journey-5-name")
    page.get_by_label("What is the name of your business?").fill("Hilltop Bakery")
    page.get_by_role("button", name="Continue").click()
    checked(page, "journey-6-check")
    assert "Hilltop Bakery" in page.content()
    page.get_by_role("button", name="Send").click()
    checked(page, "journey-7-confirmation")
    reference = page.locator("#reference").inner_text()
    assert page.locator("#uprn").inner_text() == str(place["uprn"])

    # the data team approves it in the review queue (signed in with a review token) ...
    team = browser.new_context(bypass_csp=True, viewport=VIEWPORT)
    reviewer = team.new_page()
    try:
        reviewer.goto(f"{open_server.url}/review")
        assert reviewer.get_by_role("heading", name="Sign in").is_visible()  # never anonymous
        reviewer.get_by_label("Sign in").fill(issue_token(SECRET, "data.team@council", ["review"]))
        reviewer.get_by_role("button", name="Sign in").click()
        reviewer.wait_for_url("**/review")
        checked(reviewer, "review-1-queue")
        reviewer.get_by_role("link", name="Hilltop Bakery").click()
        assert str(place["address"]) in reviewer.content() and reference in reviewer.url
        checked(reviewer, "review-2-item")
        reviewer.get_by_role("button", name="Record decision").click()
        assert "Enter the reason for your decision" in reviewer.locator(".govuk-error-summary").inner_text()
        checked(reviewer, "review-3-item-errors")
        reviewer.get_by_label("Approve").check()
        reviewer.get_by_label("Reason").fill("Seen on the fascia")
        reviewer.get_by_role("button", name="Record decision").click()
        reviewer.wait_for_url("**/review")
        assert "Hilltop Bakery approved." in reviewer.content()
        reviewer.goto(f"{open_server.url}/review?status=approved")
        assert "Seen on the fascia" in reviewer.content()
        checked(reviewer, "review-4-decided")
        csv_text = team.request.get(f"{open_server.url}/review/llpg-updates.csv").text()
        assert "Hilltop Bakery" in csv_text and str(place["uprn"]) in csv_text
    finally:
        team.close()
    # ... and the next lookup shows the approved name
    time.sleep(2.5)  # each worker re-reads approved names every 2 s (a decision in another worker)
    _to_business(page, open_server, place)
    assert "Hilltop Bakery" in page.locator(".govuk-summary-list").inner_text()


def test_that_is_my_business_returns_to_the_licence_application(page, open_server: Server, place) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{open_server.url}/find-your-business?return_url=https://licensing.example.org/apply?id=7")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("What is the postcode of your business premises?").fill(str(place["postcode"]))
    page.get_by_role("button", name="Find address").click()
    page.locator(f"input[name=uprn][value='{place['uprn']}']").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Yes, that is my business").check()
    page.get_by_role("button", name="Continue").click()
    checked(page, "confirmed")
    back = page.get_by_role("button", name="Continue with your application").get_attribute("href")
    assert back.startswith("https://licensing.example.org/apply?id=7&") and f"uprn={place['uprn']}" in back


def test_a_return_url_that_is_not_allowed_is_ignored(page, open_server: Server, place) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{open_server.url}/find-your-business?return_url=https://evil.example.com/")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("What is the postcode of your business premises?").fill(str(place["postcode"]))
    page.get_by_role("button", name="Find address").click()
    page.locator(f"input[name=uprn][value='{place['uprn']}']").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Yes, that is my business").check()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="Business confirmed").is_visible()
    # the confirmation offers no way back to a site that is not allowed
    assert page.get_by_role("button", name="Continue with your application").count() == 0
    assert "evil.example.com" not in page.content()


def test_a_bad_postcode_and_a_postcode_with_no_addresses_say_what_to_do(page, open_server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{open_server.url}/find-your-business/postcode")
    page.get_by_role("button", name="Find address").click()
    assert page.locator(".govuk-error-summary").inner_text().count("Enter a postcode") == 1
    checked(page, "postcode-missing")
    page.get_by_label("What is the postcode of your business premises?").fill("not a postcode")
    page.get_by_role("button", name="Find address").click()
    assert "Enter a real postcode" in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error:")
    checked(page, "postcode-invalid")
    page.get_by_label("What is the postcode of your business premises?").fill("ZZ99 9ZZ")
    page.get_by_role("button", name="Find address").click()
    assert page.get_by_role("heading", name="No addresses found for ZZ99 9ZZ").is_visible()
    checked(page, "postcode-no-addresses")
    page.get_by_role("link", name="Enter the address yourself").click()
    checked(page, "manual-address")


def test_i_cannot_find_my_address_uses_the_address_matcher(page, open_server: Server, place) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{open_server.url}/find-your-business/manual-address")
    line = ", ".join(str(place["address"]).split(",")[:2])  # "GROUND FLOOR, 34 MARE STREET"
    page.get_by_label("Building and street", exact=True).fill(line)
    page.get_by_label("Postcode").fill(str(place["postcode"]))
    page.get_by_role("button", name="Find this address").click()
    # the page's text is read once the answer has loaded, not while the browser is between pages
    page.wait_for_url("**/find-your-business/business")
    page.wait_for_load_state()
    assert "We found your address" in page.content()
    assert page.get_by_role("heading", name="The business at this address").is_visible()
    page.goto(f"{open_server.url}/find-your-business/manual-address")
    page.get_by_label("Building and street", exact=True).fill("1 Nowhere Road")
    page.get_by_label("Postcode").fill("ZZ99 9ZZ")
    page.get_by_role("button", name="Find this address").click()
    assert page.get_by_role("heading", name="We could not find that address").is_visible()
    checked(page, "manual-address-not-found")


def test_a_forged_form_is_refused(page, open_server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{open_server.url}/find-your-business/postcode")
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    page.get_by_label("What is the postcode of your business premises?").fill("SS14 1DL")
    page.get_by_role("button", name="Find address").click()
    assert page.get_by_role("heading", name="This form could not be sent").is_visible()
    checked(page, "forged-form")


def test_the_journey_by_keyboard_alone(page, open_server: Server, place) -> None:  # type: ignore[no-untyped-def]
    def tab_to(selector: str) -> None:
        keyboard_to(page, selector)

    page.goto(f"{open_server.url}/find-your-business")
    tab_to("a.govuk-button--start")
    page.keyboard.press("Enter")
    page.wait_for_url("**/postcode")
    tab_to("#postcode")
    page.keyboard.type(str(place["postcode"]))
    page.keyboard.press("Enter")
    page.wait_for_url("**/address")
    tab_to("input[name=uprn]")
    for _ in range(40):  # arrow keys move through a radio group
        if page.evaluate(f"document.activeElement.value === '{place['uprn']}'"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/business")
    tab_to("input[name=answer]")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/confirmation")
    assert page.locator("#uprn").inner_text() == str(place["uprn"])


def test_without_anonymous_use_a_token_is_needed_and_the_session_ends(browser, index: Path, place) -> None:  # type: ignore[no-untyped-def]
    server = Server(index, env={"BX_SESSION_MINUTES": "0.05"})  # three seconds
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/find-your-business/postcode")
        assert page.get_by_role("heading", name="Sign in").is_visible()
        checked(page, "sign-in")
        page.get_by_label("Sign in").fill("not a token")
        page.get_by_role("button", name="Sign in").click()
        assert "Enter a valid access token" in page.locator(".govuk-error-summary").inner_text()
        page.get_by_label("Sign in").fill(issue_token(SECRET, "officer@council", ["read"]))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/find-your-business/postcode")
        cookie = next(c for c in context.cookies() if c["name"] == "bx_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["secure"]
        time.sleep(3.5)
        page.get_by_label("What is the postcode of your business premises?").fill(str(place["postcode"]))
        page.get_by_role("button", name="Find address").click()
        assert page.get_by_role("heading", name="Sign in").is_visible()
        assert "signed out after" in page.content()
        checked(page, "session-ended")
    finally:
        context.close()
        server.stop()


def test_the_review_queue_needs_the_review_scope(page, open_server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{open_server.url}/sign-in?next=/review")
    page.get_by_label("Sign in").fill(issue_token(SECRET, "officer@council", ["read", "submit"]))
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert "needs the review permission" in page.content()
    assert page.request.get(f"{open_server.url}/review/llpg-updates.csv", max_redirects=0).status == 303


def test_an_officer_finds_the_supplier_by_any_spelling(page, open_server: Server, small_borough: Path) -> None:  # type: ignore[no-untyped-def]
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    trading = cases["eighteen_way_supplier"]["trading_name"]
    page.goto(f"{open_server.url}/businesses")
    checked(page, "look-up-1-search")
    page.get_by_label("Business or supplier name").fill(trading.upper() + " LIMITED")
    page.get_by_role("button", name="Search").click()
    checked(page, "look-up-2-results")
    page.locator("main ul.govuk-list a").first.click()
    assert page.get_by_role("heading", name="Every name its records use").is_visible()
    spellings = page.locator("main ul.govuk-list--bullet").first.locator("li").count()
    assert spellings >= 10  # the supplier's many spellings, on one business
    assert page.locator("svg[role=img] circle").count() == len(cases["eighteen_way_supplier"]["uprns"])
    checked(page, "look-up-3-business")
    page.goto(f"{open_server.url}/businesses?name=%21%21")
    assert "Enter a business name with letters or numbers" in page.locator(".govuk-error-summary").inner_text()


def test_the_data_quality_dashboard(browser, open_server: Server, small_borough: Path) -> None:  # type: ignore[no-untyped-def]
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{open_server.url}/dashboard")
        assert page.get_by_role("heading", name="Sign in").is_visible()  # the data team's only
        page.get_by_label("Sign in").fill(issue_token(SECRET, "data.team@council", ["review"]))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard")
        for heading in ("Rows read, loaded and quarantined", "Records placed at properties, by rule",
                        "Where the business names come from", "Records left unmatched", "Businesses spelt the most ways"):
            assert page.get_by_role("heading", name=heading).is_visible(), heading
        first = page.locator("table").nth(2).locator("tbody tr").first.inner_text()
        assert cases["eighteen_way_supplier"]["trading_name"].upper() in first.upper()  # the 18-way supplier stands out
        assert page.locator("svg[role=img]").count() == 2
        checked(page, "dashboard")
        page.goto(f"{open_server.url}/dashboard/quarantine?source=ndr&reason=no+such+reason")
        assert page.get_by_role("heading", name="Quarantined rows").is_visible()
        checked(page, "dashboard-quarantine")
    finally:
        context.close()


def test_look_up_and_review_by_keyboard_alone(page, open_server: Server, place, small_borough: Path) -> None:  # type: ignore[no-untyped-def]
    cases = json.loads((small_borough / "truth" / "cases.json").read_text())
    # an officer's look-up
    page.goto(f"{open_server.url}/businesses")
    keyboard_to(page, "#name")
    page.keyboard.type(cases["eighteen_way_supplier"]["trading_name"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/businesses?name=*")
    keyboard_to(page, "main ul.govuk-list a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/businesses/O*")
    assert page.get_by_role("heading", name="Every name its records use").is_visible()
    # a resident sends a name, and the data team rejects it, all by keyboard
    _to_business(page, open_server, place)
    page.get_by_label("No, the name is wrong or my business is not listed").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("What is the name of your business?").fill("Keyboard Kitchen")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send").click()
    reference = page.locator("#reference").inner_text()
    page.goto(f"{open_server.url}/sign-in?next=/review/{reference}")
    keyboard_to(page, "#token")
    page.keyboard.type(issue_token(SECRET, "data.team@council", ["review"]))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Keyboard Kitchen").wait_for()
    keyboard_to(page, "#decision")
    page.keyboard.press("ArrowRight")  # to Reject
    keyboard_to(page, "#reason")
    page.keyboard.type("Not the name on the fascia")
    keyboard_to(page, "main form button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/review")
    assert "Keyboard Kitchen rejected." in page.content()
