"""The graduate's own page in a real browser (Chromium, as tests/pages/test_browser.py drives it), in Dutch and
English at desktop and phone widths: she opens her holder link, makes a share link that shows her name, checks
the "Add to LinkedIn" link, downloads the certificate PDF, and withdraws the link. Screenshots go to
test-results/screenshots/holder-<lang>-<desktop|phone>.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader

from tests.pages.browser_kit import submit
from tests.pages.conftest import HANZE
from tests.pages.test_browser import (  # noqa: F401 - fixtures, registered by importing them here
    DESKTOP,
    PHONE,
    UNLABELLED_CONTROLS,
    Requests,
    Server,
    api,
    browser,
    horizontal_overflow,
    issued,
    requests_seen,
    screenshot,
    server,
)

WORDS = {
    "en": {
        "title": "Your credential: Make IT Work: Data Analytics",
        "label": "Name of the link (optional)",
        "name": "Your name",
        "make": "Make the link",
        "ready": "Your new share link is ready.",
        "pdf": "Certificate (PDF, English)",
        "linkedin": "Add to LinkedIn",
        "withdraw": "Withdraw this link",
        "confirm": "Yes, withdraw this link",
        "withdrawn": "The link is withdrawn",
        "gone": "This share link was withdrawn",
        "month": "July 2026",
    },
    "nl": {
        "title": "Jouw credential: Make IT Work: Data Analytics",
        "label": "Naam van de link (niet verplicht)",
        "name": "Je naam",
        "make": "Link maken",
        "ready": "Je nieuwe deellink is klaar.",
        "pdf": "Certificaat (pdf, Nederlands)",
        "linkedin": "Toevoegen aan LinkedIn",
        "withdraw": "Intrekken",
        "confirm": "Ja, deze link intrekken",
        "withdrawn": "De link is ingetrokken",
        "gone": "Deze deellink is ingetrokken",
        "month": "juli 2026",
    },
}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, readable (the context bypasses the page's CSP
    for this script only: the page itself loads none)."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert len(results["passes"]) > 10, "axe-core checked (almost) nothing"
    return [
        f"{item['id']} ({item['impact']}): {item['help']} at {[node['target'] for node in item['nodes']]}"
        for item in results["violations"]
        if item["impact"] in ("serious", "critical")
    ]


@pytest.fixture(params=["nl", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["desktop", "phone"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tab(browser: Any, requests_seen: Requests, language: str, width: str) -> Iterator[Any]:  # noqa: F811
    """A page in a browser that asks for `language` (Accept-Language), at `width`."""
    context = browser.new_context(
        viewport=VIEWPORTS[width],
        locale="nl-NL" if language == "nl" else "en-GB",
        timezone_id="Europe/Amsterdam",
        accept_downloads=True,
        bypass_csp=True,  # for axe-core's script only (serious_violations)
    )
    context.on("request", lambda request: requests_seen.urls.append(request.url))
    yield context.new_page()
    context.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def test_the_holder_flow(
    tab: Any,
    server: Server,  # noqa: F811
    issued: dict[str, Any],  # noqa: F811
    language: str,
    width: str,
    tmp_path: Path,
) -> None:
    words = WORDS[language]
    # the holder link: the page opens at /holder, without the token
    response = tab.goto(server.url + urlsplit(issued["holder_url"]).path)
    assert response.status == 200 and tab.url == server.url + "/holder"
    assert issued["holder_token"] not in tab.url
    assert tab.evaluate("document.documentElement.lang") == language
    assert tab.title().startswith(words["title"])
    assert tab.evaluate(UNLABELLED_CONTROLS) == []

    # a link with her name: nothing is ticked until she ticks it
    name_box = tab.get_by_label(words["name"], exact=True)
    assert not name_box.is_checked()
    tab.get_by_label(words["label"]).fill("Werkgever Acme")
    name_box.check()
    submit(tab, tab.get_by_role("button", name=words["make"]))
    assert words["ready"] in tab.get_by_role("status").inner_text()
    card = tab.locator(".share-link").first
    assert card.get_by_role("heading", name="Werkgever Acme").is_visible()
    share_url = card.locator(".copy-field").input_value()
    assert share_url.startswith(server.url + "/share/")
    tab.wait_for_load_state("load")  # the QR code is an image of the page: loaded with it, from the server
    assert card.locator("img.share-link__qr").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(tab, f"holder-{language}-{width}")
    assert serious_violations(tab) == []
    if width == "phone":
        scrolled, viewport = horizontal_overflow(tab)
        assert scrolled <= viewport, f"the holder page is {scrolled}px wide on a {viewport}px phone"

    # Add to LinkedIn: LinkedIn's Add to Profile link for a certification, with this share link
    linkedin = urlsplit(card.get_by_role("link", name=words["linkedin"]).get_attribute("href"))
    assert (linkedin.netloc, linkedin.path) == ("www.linkedin.com", "/profile/add")
    query = parse_qs(linkedin.query)
    assert query["startTask"] == ["CERTIFICATION_NAME"] and query["certUrl"] == [share_url]
    assert query["organizationName"] == [HANZE] and query["certId"] == [issued["id"]]
    assert query["issueYear"] == ["2026"] and query["issueMonth"] == ["7"]

    # the certificate PDF of this link, in the page's language, with her name
    with tab.expect_download() as download:
        card.get_by_role("link", name=words["pdf"]).click()
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(f"-{language}.pdf")
    text = " ".join(PdfReader(saved).pages[0].extract_text().split())
    assert "Jan de Vries" in text and words["month"] in text

    # the link's page shows her name
    tab.goto(share_url)
    assert "Jan de Vries" in tab.locator("main").inner_text()

    # withdraw it, with a confirmation; the link then says it was withdrawn (410)
    tab.goto(server.url + "/holder")
    submit(tab, tab.locator(".share-link").first.get_by_role("link", name=words["withdraw"]))
    assert serious_violations(tab) == []
    submit(tab, tab.get_by_role("button", name=words["confirm"]))
    assert tab.url.startswith(server.url + "/holder?withdrawn=")
    assert words["withdrawn"] in tab.get_by_role("status").inner_text()
    assert tab.locator(".share-link").count() == 0
    gone = tab.goto(share_url)
    assert gone.status == 410
    assert tab.get_by_role("heading", level=1).inner_text() == words["gone"]
    assert "Jan de Vries" not in tab.locator("main").inner_text()
    assert serious_violations(tab) == []


@pytest.mark.parametrize(("language", "width"), [("en", "desktop")])
def test_a_link_is_made_and_withdrawn_by_keyboard_alone(
    tab: Any,
    server: Server,  # noqa: F811
    issued: dict[str, Any],  # noqa: F811
    language: str,
    width: str,
) -> None:
    tab.goto(server.url + urlsplit(issued["holder_url"]).path)

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            tab.keyboard.press("Tab")
            if tab.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
                outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", f"{selector} has no visible focus"
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("#label")
    tab.keyboard.type("By keyboard")
    tab_to("#claim-name")
    tab.keyboard.press("Space")
    tab_to(".holder-form button[type=submit]")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/holder?made=*")
    assert tab.locator(".share-link").first.get_by_role("heading", name="By keyboard").is_visible()
    tab_to(".share-link a[href$='/withdraw']")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/withdraw")
    tab_to("button.button--danger")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/holder?withdrawn=*")
    assert tab.locator(".share-link").count() == 0
