"""The partner console in a real browser (Chromium, as tests/pages/test_browser.py drives it), in Dutch and
English at desktop and phone widths: a staff member of Hanzehogeschool Groningen uploads a cohort with a bad row
(refused, with its line), then the corrected file; downloads the links file; follows the batch until it is
anchored (the page reloads itself, no script); revokes one credential with a reason after a confirmation step.
Every page axe-clean (no serious or critical violation). Screenshots: test-results/screenshots/partner-*.png."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.db import models
from service.hub import Hub
from tests.chain import rpc
from tests.consoles.kit import browser_cookie, make_account
from tests.pages.browser_kit import submit
from tests.pages.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    HANZE,
    accredited,
    add_catalogue,
    anvil,
    chain_state,
    deployments_dir,
    hub,
    keys,
    settings,
)
from tests.pages.test_browser import (  # noqa: F401 - fixtures, registered by importing them here
    DESKTOP,
    PHONE,
    UNLABELLED_CONTROLS,
    Requests,
    Server,
    api,
    browser,
    horizontal_overflow,
    requests_seen,
    screenshot,
    server,
)
from tests.pages.test_holder_browser import serious_violations

GOOD = (
    "programme_id;email;name;result\n"
    "miw-data-analytics;anna.bakker@example.org;Anna Bakker;8,0\n"
    "miw-data-analytics;sem.jansen@example.org;Sem Jansen;7,5\n"
)
BAD = GOOD + "miw-data-analytics;lisa.smit@example.org;Lisa Smit;11\n"
WORDS = {
    "en": {
        "title": "Partner console",
        "file": "Cohort file (CSV)",
        "upload": "Upload and issue",
        "refused": "The file was refused: nothing was issued",
        "line": "Line 4 (row 3): the column result holds no grade from 1.0 to 10.0",
        "accepted": "Cohort accepted",
        "links": "Download the links file (CSV)",
        "follow": "Follow the batch until it is recorded",
        "anchored": "Recorded in the public register: 2 credentials.",
        "revoke": "Revoke this credential",
        "reason": "Issued in error",
        "continue": "Continue",
        "sure": "Are you sure?",
        "confirm": "Yes, revoke this credential",
        "revoked": "The credential is revoked.",
    },
    "nl": {
        "title": "Partnerconsole",
        "file": "Cohortbestand (CSV)",
        "upload": "Uploaden en uitgeven",
        "refused": "Het bestand is geweigerd: er is niets uitgegeven",
        "line": "Regel 4 (rij 3): de kolom result bevat geen cijfer van 1,0 tot en met 10,0",
        "accepted": "Cohort aangenomen",
        "links": "Linkbestand downloaden (CSV)",
        "follow": "Volg de batch tot die is vastgelegd",
        "anchored": "Vastgelegd in het openbare register: 2 credentials.",
        "revoke": "Deze credential intrekken",
        "reason": "Per vergissing uitgegeven",
        "continue": "Verder",
        "sure": "Weet je het zeker?",
        "confirm": "Ja, deze credential intrekken",
        "revoked": "De credential is ingetrokken.",
    },
}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=["nl", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["desktop", "phone"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def staff_tab(
    browser: Any,  # noqa: F811
    requests_seen: Requests,  # noqa: F811
    server: Server,  # noqa: F811
    hub: Hub,
    api: Any,  # noqa: F811
    keys: Any,
    accredited: Any,
    language: str,
    width: str,
) -> Iterator[Any]:
    """A browser signed in as partner staff of Hanzehogeschool Groningen (accredited, with the catalogue)."""
    (address,) = accredited(HANZE)
    add_catalogue(api.post, keys)
    account = make_account(hub, "partner", "docent@hanze.example", "Petra Docent", address)
    context = browser.new_context(
        viewport=VIEWPORTS[width],
        locale="nl-NL" if language == "nl" else "en-GB",
        timezone_id="Europe/Amsterdam",
        accept_downloads=True,
        bypass_csp=True,  # for axe-core's script only (serious_violations)
    )
    context.add_cookies([browser_cookie(hub, account, server.url)])
    context.on("request", lambda request: requests_seen.urls.append(request.url))
    yield context.new_page()
    context.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def check_page(tab: Any, name: str | None = None) -> None:
    assert tab.evaluate(UNLABELLED_CONTROLS) == []
    assert serious_violations(tab) == []
    scrolled, viewport = horizontal_overflow(tab)
    assert scrolled <= viewport, f"{tab.url} is {scrolled}px wide in a {viewport}px window"
    if name:
        screenshot(tab, name)


def upload_and_follow(tab: Any, words: dict[str, str], tmp_path: Path, server: Server) -> None:  # noqa: F811
    """Upload the good cohort, download its links file (to tmp_path/links.csv), follow the batch."""
    tab.get_by_label(words["file"]).set_input_files(
        files=[{"name": "cohort.csv", "mimeType": "text/csv", "buffer": GOOD.encode()}]
    )
    submit(tab, tab.get_by_role("button", name=words["upload"]))
    assert tab.get_by_role("heading", level=1).inner_text() == words["accepted"]
    check_page(tab)
    with tab.expect_download() as download:
        tab.get_by_role("link", name=words["links"]).click()
    saved = tmp_path / "links.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("cohort-issued-")
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [row["email"] for row in rows] == ["anna.bakker@example.org", "sem.jansen@example.org"]
    assert all(row["holder_url"].startswith(server.url + "/holder/hold_") for row in rows)

    submit(tab, tab.get_by_role("link", name=words["follow"]))


def test_upload_a_cohort_until_anchored_then_revoke_one(
    staff_tab: Any,
    server: Server,  # noqa: F811
    hub: Hub,
    language: str,
    width: str,
    tmp_path: Path,
) -> None:
    tab, words = staff_tab, WORDS[language]
    tab.goto(server.url + "/console/partner")
    assert tab.evaluate("document.documentElement.lang") == language
    assert tab.get_by_role("heading", level=1).inner_text() == words["title"]
    check_page(tab, f"partner-{language}-{width}")

    # a file with a bad row: refused, the row named by its line, nothing issued
    tab.get_by_label(words["file"]).set_input_files(
        files=[{"name": "cohort.csv", "mimeType": "text/csv", "buffer": BAD.encode()}]
    )
    submit(tab, tab.get_by_role("button", name=words["upload"]))
    alert = tab.get_by_role("alert")
    assert words["refused"] in alert.inner_text() and words["line"] in alert.inner_text()
    check_page(tab)
    with hub.sessions() as db:
        assert db.query(models.Batch).count() == 0

    # the corrected file: accepted, the links file downloaded from the page itself; the chain mines nothing
    # for a while, so that the progress page is seen waiting
    rpc(hub.w3, "evm_setAutomine", False)
    try:
        upload_and_follow(tab, words, tmp_path, server)
        assert tab.locator('meta[http-equiv="refresh"]').count() == 1
        assert tab.locator(".progress [aria-current=step]").count() == 1  # (it reloads every 2 s: no axe here)
    finally:
        rpc(hub.w3, "evm_setAutomine", True)
        rpc(hub.w3, "evm_mine")

    # the page reloads itself (no script) until anchored
    tab.get_by_text(words["anchored"]).wait_for(timeout=60_000)
    assert tab.locator('meta[http-equiv="refresh"]').count() == 0
    check_page(tab, f"partner-batch-{language}-{width}")

    # revoke Anna's credential: a reason, then a confirmation
    rows = list(csv.DictReader(io.StringIO((tmp_path / "links.csv").read_text(encoding="utf-8"))))
    submit(tab, tab.get_by_role("link", name="Anna Bakker"))
    submit(tab, tab.get_by_role("link", name=words["revoke"]))
    tab.get_by_label(words["reason"]).check()
    check_page(tab)
    submit(tab, tab.get_by_role("button", name=words["continue"]))
    assert tab.get_by_role("heading", name=words["sure"]).is_visible()
    check_page(tab, f"partner-revoke-{language}-{width}")
    with hub.sessions() as db:
        assert db.query(models.Credential).filter(models.Credential.revoked_at.is_not(None)).count() == 0
    submit(tab, tab.get_by_role("button", name=words["confirm"]))
    assert words["revoked"] in tab.get_by_role("status").inner_text()
    assert tab.url.endswith("?revoked=1")
    check_page(tab)
    with hub.sessions() as db:
        revoked = db.query(models.Credential).filter(models.Credential.revoked_at.is_not(None)).all()
        assert [row.id for row in revoked] == [rows[0]["credential_id"]] and revoked[0].revocation_reason == 2


@pytest.mark.parametrize(("language", "width"), [("en", "desktop")])
def test_a_credential_is_revoked_by_keyboard_alone(
    staff_tab: Any,
    server: Server,  # noqa: F811
    hub: Hub,
    api: Any,  # noqa: F811
    keys: Any,
    language: str,
    width: str,
) -> None:
    tab = staff_tab
    issued = api.post(
        "/credentials",
        headers=keys.issuer(HANZE),
        json={"programme_id": "miw-data-analytics", "email": "jan@example.org", "name": "Jan de Vries"},
    )
    assert issued.status_code == 201, issued.text
    credential_id = issued.json()["id"]
    tab.goto(f"{server.url}/console/partner/credentials/{credential_id}")

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            tab.keyboard.press("Tab")
            if tab.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
                outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", f"{selector} has no visible focus"
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("a[href$='/revoke']")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/revoke")
    tab_to("#reason-fraud-or-misconduct")  # a radio group is one Tab stop; the arrows choose in it
    tab.keyboard.press("ArrowDown")
    tab.keyboard.press("ArrowDown")
    assert tab.locator("#reason-superseded").is_checked()
    tab_to("form[action$='/revoke'] button[type=submit]")
    tab.keyboard.press("Enter")
    tab.get_by_role("heading", name="Are you sure?").wait_for()
    tab_to("button.button--danger")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**?revoked=1")
    with hub.sessions() as db:
        row = db.get(models.Credential, credential_id)
        assert row is not None and row.revocation_reason == 3
