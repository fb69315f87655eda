"""The board console in a real browser (Chromium, as tests/pages/test_browser.py drives it): a member proposes a
resolution with its document uploaded, four members vote (each confirming with their password), a fifth
carries the decision out; in Dutch at desktop width and in English on a phone, axe-clean, every control
labelled, no horizontal scroll on the phone. Screenshots go to test-results/screenshots/board-console-*.png."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.hub import Hub
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    anvil,
    chain_state,
    deployments_dir,
    hub,
    settings,
)
from tests.consoles.kit import browser_cookie, make_account
from tests.consoles.test_board_console import ALFA, HANZE, PASSWORD, RUG, TVM, UNIGARANT, address_of, password_hash
from tests.pages.browser_kit import submit
from tests.pages.test_browser import (  # noqa: F401 - fixtures, registered by importing them here
    DESKTOP,
    PHONE,
    UNLABELLED_CONTROLS,
    Requests,
    Server,
    browser,
    horizontal_overflow,
    requests_seen,
    screenshot,
    server,
)
from tests.pages.test_holder_browser import serious_violations

WORDS = {
    "en": {
        "console": "Board console",
        "make": "Make a proposal",
        "resolution": "Resolution",
        "title": "Title",
        "document": "Or the document",
        "password": "Your password",
        "propose": "Propose",
        "proposed": "Your proposal is on the blockchain.",
        "for": "For",
        "reason": "Reason (optional)",
        "cast": "Cast my vote",
        "voted": "Your vote is recorded on the blockchain.",
        "carry": "Carry out",
        "carried": "The decision is carried out on the blockchain.",
        "decided": "Decided",
        "wrong": "That is not your password.",
    },
    "nl": {
        "console": "Bestuursconsole",
        "make": "Een voorstel doen",
        "resolution": "Besluit",
        "title": "Titel",
        "document": "Of het document",
        "password": "Je wachtwoord",
        "propose": "Voorstellen",
        "proposed": "Je voorstel staat op de blockchain.",
        "for": "Voor",
        "reason": "Reden (niet verplicht)",
        "cast": "Mijn stem uitbrengen",
        "voted": "Je stem is vastgelegd op de blockchain.",
        "carry": "Uitvoeren",
        "carried": "Het besluit is uitgevoerd op de blockchain.",
        "decided": "Besloten",
        "wrong": "Dat is niet je wachtwoord.",
    },
}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
DOCUMENT = "Het bestuur stelt de begroting 2026 van de stichting vast.\n"


@pytest.fixture
def members(hub: Hub) -> dict[str, int]:
    """Console accounts of five board members (the password is PASSWORD)."""
    return {
        name: make_account(
            hub, "board", f"lid{index}@example.org", f"Bestuurder {name}", address_of(name), password_hash()
        )
        for index, name in enumerate((TVM, UNIGARANT, HANZE, RUG, ALFA))
    }


@pytest.fixture
def context(browser: Any, requests_seen: Requests, request: pytest.FixtureRequest) -> Iterator[Any]:  # noqa: F811
    language, width = request.param
    made = browser.new_context(
        viewport=VIEWPORTS[width],
        locale="nl-NL" if language == "nl" else "en-GB",
        timezone_id="Europe/Amsterdam",
        bypass_csp=True,  # for axe-core's script only (serious_violations)
    )
    made.on("request", lambda seen: requests_seen.urls.append(seen.url))
    yield made
    made.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def as_member(context: Any, hub: Hub, server: Server, account_id: int) -> Any:  # noqa: F811
    """A new tab of `context`, signed in as `account_id` (the sign-in pages are J1's, tested there)."""
    context.clear_cookies()
    context.add_cookies([browser_cookie(hub, account_id, server.url)])
    return context.new_page()


def check_page(tab: Any, name: str, width: str) -> None:
    assert tab.evaluate(UNLABELLED_CONTROLS) == []
    assert serious_violations(tab) == []
    if width == "phone":
        scrolled, viewport = horizontal_overflow(tab)
        assert scrolled <= viewport, f"{name} is {scrolled}px wide on a {viewport}px phone"
    screenshot(tab, name)


@pytest.mark.parametrize("context", [("nl", "desktop"), ("en", "phone")], indirect=True, ids=["nl-desktop", "en-phone"])
def test_propose_vote_and_execute_in_the_board_console(
    context: Any,
    hub: Hub,
    server: Server,  # noqa: F811
    members: dict[str, int],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    language, width = request.node.callspec.params["context"]
    words = WORDS[language]
    tab = as_member(context, hub, server, members[TVM])
    tab.goto(server.url + "/console/board")
    assert tab.evaluate("document.documentElement.lang") == language
    assert tab.get_by_role("heading", level=1).inner_text() == words["console"]
    check_page(tab, f"board-console-home-{language}-{width}", width)

    # propose a resolution, its document uploaded (hashed as uploaded)
    submit(tab, tab.get_by_role("link", name=words["make"]))
    submit(tab, tab.get_by_role("link", name=words["resolution"], exact=True))
    check_page(tab, f"board-console-propose-{language}-{width}", width)
    document = tmp_path / "begroting-2026.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    tab.get_by_label(words["title"], exact=True).fill("Begroting 2026")
    tab.get_by_label(words["document"]).set_input_files(str(document))
    tab.get_by_label(words["password"]).fill(PASSWORD)
    submit(tab, tab.get_by_role("button", name=words["propose"]))
    assert words["proposed"] in tab.get_by_role("status").inner_text()
    proposal_url = tab.url.split("?")[0]
    assert "0x" + hashlib.sha256(DOCUMENT.encode()).hexdigest() in tab.locator("main").inner_text()

    # a wrong password signs nothing, and says so
    tab.get_by_label(words["for"], exact=True).check()
    tab.locator("#vote-password").fill("niet mijn wachtwoord")
    submit(tab, tab.get_by_role("button", name=words["cast"]))
    assert words["wrong"] in tab.get_by_role("alert").inner_text()
    check_page(tab, f"board-console-refused-{language}-{width}", width)

    # four members vote for
    for name in (TVM, UNIGARANT, HANZE, RUG):
        tab = as_member(context, hub, server, members[name])
        tab.goto(proposal_url)
        tab.get_by_label(words["for"], exact=True).check()
        tab.get_by_label(words["reason"]).fill(f"Akkoord namens {name}.")
        tab.locator("#vote-password").fill(PASSWORD)
        submit(tab, tab.get_by_role("button", name=words["cast"]))
        assert words["voted"] in tab.get_by_role("status").inner_text()
        assert tab.get_by_role("button", name=words["cast"]).count() == 0  # one vote each
    check_page(tab, f"board-console-voted-{language}-{width}", width)

    # a fifth carries it out
    tab = as_member(context, hub, server, members[ALFA])
    tab.goto(proposal_url)
    tab.locator("#execute-password").fill(PASSWORD)
    submit(tab, tab.get_by_role("button", name=words["carry"], exact=True))
    assert words["carried"] in tab.get_by_role("status").inner_text()
    assert words["decided"] in tab.locator(".badge").inner_text()
    check_page(tab, f"board-console-executed-{language}-{width}", width)

    # the public register shows the decision with every vote's reason
    tab.goto(server.url + "/board/register/proposals/" + proposal_url.rsplit("/", 1)[1])
    register = tab.locator("main").inner_text()
    for name in (TVM, UNIGARANT, HANZE, RUG):
        assert f"Akkoord namens {name}." in register
