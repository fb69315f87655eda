"""A board meeting in a real browser (Chromium), in Dutch and English, at desktop and phone widths: seven members
(the deployed six and a seventh the board added), the secretary opens a meeting and adds a proposal, each member
signs a ballot in the console (one does not take part, with its reason), the secretary closes it: ONE transaction
on chain, and the register's page of the proposal shows every ballot. axe-core finds no serious or critical
violation. Screenshots go to test-results/screenshots/meeting-<lang>-<desktop|phone>.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher

from service.board import meetings
from service.chain.board import Action, BoardClient
from service.hub import Hub
from tests.api.test_board_api import ALFA, HANZE, NHL, RUG, TVM, UNIGARANT, accounts
from tests.consoles.kit import browser_cookie, make_account
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

PASSWORD = "correct horse battery staple"
SIX = [TVM, UNIGARANT, HANZE, RUG, NHL, ALFA]
SEVENTH = "Gemeente Hoogeveen"
RECUSAL = "Onze wethouder zit in het bestuur van de partner"
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
WORDS = {
    "en": {
        "open": "Open the meeting",
        "add": "Add the proposal",
        "sign": "Sign my ballot",
        "close": "Close and record the meeting",
        "for": "For",
        "against": "Against",
        "abstain": "Abstain",
        "recused": "Not taking part (conflict of interest)",
        "recorded": "Recorded on the blockchain in one transaction",
        "meeting": "Decided in the meeting",
    },
    "nl": {
        "open": "Vergadering openen",
        "add": "Voorstel toevoegen",
        "sign": "Mijn stem tekenen",
        "close": "Vergadering sluiten en vastleggen",
        "for": "Voor",
        "against": "Tegen",
        "abstain": "Onthouding",
        "recused": "Niet deelgenomen (belangenverstrengeling)",
        "recorded": "Vastgelegd op de blockchain in één transactie",
        "meeting": "Besloten in de vergadering",
    },
}


@pytest.fixture(params=["nl", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["desktop", "phone"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context(browser: Any, requests_seen: Requests, language: str, width: str) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(
        viewport=VIEWPORTS[width],
        locale="nl-NL" if language == "nl" else "en-GB",
        timezone_id="Europe/Amsterdam",
        bypass_csp=True,  # for axe-core's script only
    )
    ctx.on("request", lambda request: requests_seen.urls.append(request.url))
    yield ctx
    ctx.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def seven_members(hub: Hub, keys: Any) -> dict[str, tuple[int, str]]:
    """Console accounts of the six deployed members and a seventh, added to the board by a meeting (through the
    service functions): name -> (account id, address)."""
    board = BoardClient(hub.w3, hub.board_address)
    seventh = accounts()[18].address
    secretary = keys.addresses[("member", TVM)]
    with hub.sessions() as db:
        meeting = meetings.open_meeting(db, board, secretary, "Uitbreiding")
        meetings.add_proposal(
            hub, db, board, meeting.id, secretary, Action.add_member(seventh, SEVENTH), "Zevende lid", "Toetreding"
        )
        for name in SIX:
            meetings.sign_ballot(hub, db, board, meeting.id, 1, keys.addresses[("member", name)], "for", "")
        meetings.close_meeting(hub, db, board, meeting.id, secretary)
    assert len(board.members()) == 7
    hashed = PasswordHasher().hash(PASSWORD)
    addresses = {**{name: keys.addresses[("member", name)] for name in SIX}, SEVENTH: seventh}
    return {
        name: (make_account(hub, "board", f"lid{i}@example.org", name, address, password_hash=hashed), address)
        for i, (name, address) in enumerate(addresses.items())
    }


def test_a_meeting_of_seven_with_a_recusal_in_the_browser(
    context: Any,
    server: Server,  # noqa: F811
    hub: Hub,
    keys: Any,
    language: str,
    width: str,
) -> None:
    words = WORDS[language]
    members = seven_members(hub, keys)
    board = BoardClient(hub.w3, hub.board_address)
    tab = context.new_page()

    def as_member(name: str) -> None:
        context.clear_cookies()
        context.add_cookies([browser_cookie(hub, members[name][0], server.url)])

    as_member(TVM)
    tab.goto(server.url + "/console/board/meetings")
    assert tab.evaluate("document.documentElement.lang") == language
    tab.fill("#meeting-title", "Bestuursvergadering april")
    submit(tab, tab.get_by_role("button", name=words["open"]))
    meeting_url = tab.url
    assert "/console/board/meetings/" in meeting_url
    tab.select_option("#kind", "resolution")
    tab.fill("#proposal-title", "Jaarrekening 2026")
    tab.fill("#document", "Het bestuur stelt de jaarrekening 2026 vast.")
    tab.fill("#add-password", PASSWORD)
    submit(tab, tab.get_by_role("button", name=words["add"]))
    assert tab.locator("#proposal-1").count() == 1

    choices = {TVM: "for", UNIGARANT: "for", HANZE: "against", RUG: "for", NHL: "abstain", ALFA: "for"}
    choices[SEVENTH] = "recused"
    for name, choice in choices.items():
        as_member(name)
        tab.goto(meeting_url)
        tab.locator("#proposal-1").get_by_label(words[choice], exact=True).check()
        if choice == "recused":
            tab.fill("#reason-1", RECUSAL)
        tab.fill("#password-1", PASSWORD)
        submit(tab, tab.get_by_role("button", name=words["sign"]))
        assert tab.locator("#form-error").count() == 0, tab.locator("#form-error").inner_text()
    assert tab.locator("#proposal-1 tbody tr").count() == 7
    assert tab.evaluate(UNLABELLED_CONTROLS) == []
    assert serious_violations(tab) == []

    as_member(TVM)
    tab.goto(meeting_url)
    before = hub.w3.eth.block_number
    submit(tab, tab.get_by_role("button", name=words["close"]))
    assert words["recorded"] in tab.inner_text("main")
    # ONE transaction on chain holds the proposal and all seven ballots.
    assert hub.w3.eth.block_number == before + 1
    block = hub.w3.eth.get_block(before + 1)
    assert len(block["transactions"]) == 1
    tx_hash = block["transactions"][0].to_0x_hex()
    assert tx_hash in tab.inner_text("main")
    proposal_id = board.proposal_count()
    view = board.proposal(proposal_id)
    assert (view.for_votes, view.against_votes, view.abstain_votes, view.recusals) == (4, 1, 1, 1)
    assert view.state.slug == "executed"
    assert serious_violations(tab) == []
    assert horizontal_overflow(tab)[0] <= horizontal_overflow(tab)[1]
    screenshot(tab, f"meeting-{language}-{width}")

    # The register's page of the proposal: every ballot, the recusal with its reason, the one transaction.
    tab.goto(f"{server.url}/board/register/proposals/{proposal_id}")
    text = tab.inner_text("main")
    assert words["meeting"] in text
    for name in members:
        assert name in text
    assert RECUSAL in text
    assert text.count(tx_hash) >= 8  # the meeting's line, six votes, the recusal
    assert serious_violations(tab) == []
