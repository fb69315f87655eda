"""The board's public pages in a real browser (tests/pages/test_browser.py's Chromium and server), in Dutch and
English at desktop and phone widths: a person goes from the partners to a partner, to the decision that approved
it, to the register and back, by links only. Screenshots: test-results/screenshots/<page>-<lang>-<width>.png."""

from __future__ import annotations

from typing import Any

import pytest

from service.hub import Hub
from tests.pages.browser_kit import submit
from tests.pages.test_browser import (  # noqa: F401 - fixtures, registered by importing them here
    Server,
    api,
    browser,
    desktop,
    horizontal_overflow,
    issued,
    phone,
    requests_seen,
    screenshot,
    server,
)

WORDS = {
    "en": {
        "partners": "Approved partners",
        "approved": "Approved since",
        "decision": "Approved by the board",
        "register": "Board decision register",
        "seat": "Seat 1",
        "decided": "Decided",
    },
    "nl": {
        "partners": "Erkende partners",
        "approved": "Erkend sinds",
        "decision": "Erkend door het bestuur",
        "register": "Besluitenregister van het bestuur",
        "seat": "Zetel 1",
        "decided": "Besloten",
    },
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_partners_decision_and_register_by_links_in_both_languages(
    desktop: Any, phone: Any, server: Server, issued: dict[str, Any], hub: Hub, lang: str
) -> None:
    hub.indexer.catch_up()  # the accreditation behind `issued` was a board decision
    words = WORDS[lang]
    for page, width in ((desktop, "desktop"), (phone, "phone")):
        page.goto(f"{server.url}/partners?lang={lang}")  # the switch; remembered for the next pages
        assert page.locator("html").get_attribute("lang") == lang
        assert page.get_by_role("heading", level=1).inner_text() == words["partners"]
        partner = page.locator("li.partner")
        assert partner.count() == 1 and words["approved"] in partner.locator(".badge").inner_text()
        key = partner.locator("code.key").first
        full = key.get_attribute("title") or ""
        head, tail = key.inner_text().removeprefix("hash ").split("…")  # the Multikey, or the hash on chain
        assert full.startswith(head) and full.endswith(tail) and len(full) > len(head) + len(tail)
        width_px, viewport = horizontal_overflow(page)
        assert width_px <= viewport, f"/partners is {width_px}px wide in a {viewport}px window"
        screenshot(page, f"partners-{lang}-{width}")

        submit(page, page.get_by_role("link", name="Hanzehogeschool Groningen"))
        assert page.url.endswith("/partners/hanzehogeschool-groningen")
        assert page.get_by_role("heading", level=1).inner_text() == "Hanzehogeschool Groningen"
        screenshot(page, f"partner-{lang}-{width}")

        decision = page.locator("li.decision--accredit-issuer")
        assert words["decision"] in decision.inner_text()
        submit(page, decision.get_by_role("link"))
        assert page.url.endswith("/board/register/proposals/1")
        assert page.locator("html").get_attribute("lang") == lang
        assert words["decided"] in page.locator(".badge").inner_text()
        width_px, viewport = horizontal_overflow(page)
        assert width_px <= viewport, f"the proposal page is {width_px}px wide in a {viewport}px window"
        screenshot(page, f"proposal-{lang}-{width}")

        submit(page, page.get_by_role("link", name=words["register"]).first)
        assert page.get_by_role("heading", level=1).inner_text() == words["register"]
        assert words["seat"] in page.locator("li.seat").first.inner_text()
        width_px, viewport = horizontal_overflow(page)
        assert width_px <= viewport, f"the register is {width_px}px wide in a {viewport}px window"
        screenshot(page, f"register-{lang}-{width}")
