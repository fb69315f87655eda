"""A Dutch employer and graduate in a real browser (Chromium, locale nl-NL, so Accept-Language asks for Dutch), at
desktop and phone widths: the verify page in Dutch with its how-to, a Dutch certificate PDF uploaded and its print
compared, a tampered credential whose claims stay folded away until asked for, and the share page with the
accreditation link and the certificate in the other language. Screenshots in test-results/screenshots/
(employer-nl-<desktop|phone>.png, tampered-nl-..., share-nl-...). Fixtures from test_browser.py (imported)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pages.conftest import share_path
from tests.pages.test_browser import (  # noqa: F401 - fixtures, registered by importing them here
    DESKTOP,
    PHONE,
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

NAME = "Jan de Vries"


@pytest.fixture(params=["desktop", "phone"])
def page(request: pytest.FixtureRequest, browser: Any, requests_seen: Requests) -> Iterator[Any]:  # noqa: F811
    """A page of a Dutch browser (Accept-Language nl-NL) at desktop or phone width."""
    viewport = DESKTOP if request.param == "desktop" else PHONE
    context = browser.new_context(viewport=viewport, locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.on("request", lambda seen: requests_seen.urls.append(seen.url))
    yield context.new_page()
    context.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def test_a_dutch_employer_verifies_a_certificate_and_a_tampered_file(
    page: Any,
    server: Server,  # noqa: F811
    api: httpx.Client,  # noqa: F811
    issued: dict[str, Any],  # noqa: F811
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    width = request.node.callspec.params["page"]
    shared = api.put(
        f"/credentials/{issued['id']}/sharing",
        headers={"X-Holder-Token": issued["holder_token"]},
        json={"disclose": ["name", "result"]},
    )
    assert shared.status_code == 200, shared.text
    pdf = tmp_path / "certificaat.pdf"
    pdf.write_bytes(api.get(share_path(issued) + "/certificate.pdf?lang=nl").content)

    # the verify page, in Dutch because the browser asks for it, with the how-to for employers
    page.goto(server.url + "/verify")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Een credential controleren"
    how_to = page.locator(".how-to")
    assert how_to.get_by_role("heading", name="Zo controleer je een credential (voor werkgevers)").is_visible()
    assert how_to.locator("li").count() == 5
    screenshot(page, f"employer-nl-{width}")

    # the Dutch certificate PDF: valid, its print beside the credential, in Dutch
    page.locator("#file").set_input_files(str(pdf))
    with page.expect_navigation():
        page.get_by_role("button", name="Credential controleren").click()
    verdict = page.locator(".verdict")
    assert verdict.get_by_role("heading", name="Geldig").is_visible()
    assert "Deze credential is geldig" in verdict.inner_text()
    awarded = page.locator(".printed__table").locator("tr", has_text="Uitgereikt aan").inner_text()
    assert awarded.count(NAME) == 2 and "Gelijk" in awarded
    assert horizontal_overflow(page)[0] <= horizontal_overflow(page)[1]
    screenshot(page, f"employer-pdf-nl-{width}")

    # a tampered copy: not valid, and its claims are folded away, labelled "not confirmed"
    tampered = copy.deepcopy(api.get(share_path(issued) + "/credential.json").json())
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 60
    page.goto(server.url + "/verify")
    page.locator("#credential").fill(json.dumps(tampered))
    with page.expect_navigation():
        page.get_by_role("button", name="Credential controleren").click()
    assert page.locator(".verdict").get_by_role("heading", name="Niet geldig").is_visible()
    block = page.locator(".claims-unconfirmed")
    assert block.get_by_role("heading", name="Wat het bestand beweert — niet bevestigd").is_visible()
    assert page.locator(".certificate").count() == 0
    assert not page.get_by_text(NAME).is_visible()  # folded: nothing forged in view
    block.get_by_text("Toon wat het bestand beweert (niet bevestigd)").click()
    assert block.get_by_text(NAME).is_visible()
    assert horizontal_overflow(page)[0] <= horizontal_overflow(page)[1]
    screenshot(page, f"tampered-nl-{width}")

    # the share page: the board's decision behind "Uitgever erkend", and the certificate in English
    page.goto(server.url + share_path(issued))
    link = page.get_by_role("link", name="Het besluit van het bestuur dat de uitgever erkende")
    href = link.get_attribute("href") or ""
    assert href.startswith("/partners/hanzehogeschool-groningen/accreditation?at=") and href.split("=")[1].isdigit()
    english = page.get_by_role("link", name="Certificate in English (PDF)")
    assert english.get_attribute("hreflang") == "en"
    response = api.get(english.get_attribute("href") or "")
    assert response.status_code == 200 and response.headers["content-language"] == "en"
    assert horizontal_overflow(page)[0] <= horizontal_overflow(page)[1]
    screenshot(page, f"share-nl-{width}")
