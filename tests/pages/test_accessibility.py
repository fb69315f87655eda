"""Every public page in Chromium, in Dutch and English, at desktop and phone widths: axe-core finds no serious or
critical violation, the keyboard reaches every link, button and field with the focus visible, nothing is wider
than a phone, and a screenshot of each is written (test-results/screenshots/<page>-<lang>-<desktop|phone>.png).

The sweep takes its pages from PAGES: a page is a name and a way to open it (a path, or the steps a person takes
to get there, such as filling in the verify form). To add a page, add a Visit; its opener gets the page and the
Site (the server's URL, an API client, the hub, a credential issued through the API for Jan de Vries).
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from service.hub import Hub
from tests.pages.browser_kit import (  # noqa: F401 - fixtures, registered by importing them here
    PHONE,
    WIDTHS,
    Requests,
    Server,
    api,
    assert_accessible,
    assert_keyboard_usable,
    browser,
    browsing,
    horizontal_overflow,
    issued,
    requests_seen,
    server,
    shot,
)
from tests.pages.conftest import HANZE, share_path


@dataclass(frozen=True)
class Site:
    """What an opener may use: the running server, an API client on it, the hub, and an issued credential."""

    url: str
    api: httpx.Client
    hub: Hub
    issued: dict[str, Any]
    keys: Any


Opener = Callable[[Any, Site], Any]  # (page, site) -> the response of the page's navigation


@dataclass(frozen=True)
class Visit:
    name: str  # the screenshots' and the test's name
    open: Opener
    status: int = 200


def goto(path: str | Callable[[Site], str]) -> Opener:
    """Open a path (or the path a function of the site gives)."""
    return lambda page, site: page.goto(site.url + (path if isinstance(path, str) else path(site)))


def verify_pasted(text: Callable[[Site], str]) -> Opener:
    """Open the verify form, paste a text into it and send it, as an employer does."""

    def open_(page: Any, site: Site) -> Any:
        page.goto(site.url + "/verify")
        page.locator("#credential").fill(text(site))
        with page.expect_navigation() as navigation:
            page.locator(".verify-form [type=submit]").click()
        return navigation.value

    return open_


def tampered(site: Site) -> str:
    document = copy.deepcopy(site.issued["document"])
    document["credentialSubject"]["achievement"]["creditsAvailable"] = 60
    return json.dumps(document, indent=2)


def revoked_share(site: Site) -> str:
    credential = site.issued["id"]
    answer = site.api.post(
        f"/credentials/{credential}/revoke", headers=site.keys.issuer(HANZE), json={"reason": "issued-in-error"}
    )
    assert answer.status_code in (200, 409), answer.text  # 409: revoked already (the other width)
    return share_path(site.issued)


def holder_page(site: Site) -> str:
    """The graduate's holder link: it makes her session and leads on to /holder."""
    return urlsplit(site.issued["holder_url"]).path


def holder_with_a_link(page: Any, site: Site) -> Any:
    """Her page with a share link made on it, as she makes one: a label, her name ticked, sent."""
    page.goto(site.url + holder_page(site))
    page.locator("#label").fill(f"Sollicitatie {secrets.token_hex(3)}")
    page.locator("#claim-name").check()
    with page.expect_navigation() as navigation:
        page.locator(".holder-form [type=submit]").click()
    return navigation.value


def withdraw_confirmation(page: Any, site: Site) -> Any:
    """The question before a link is withdrawn."""
    made = holder_with_a_link(page, site)
    assert made.status == 200
    return page.goto(site.url + page.locator(".share-link a[href$='/withdraw']").first.get_attribute("href"))


def withdrawn_share(page: Any, site: Site) -> Any:
    """The page an employer reads on a link the graduate withdrew (410)."""
    withdraw_confirmation(page, site)
    link_id = page.url.rsplit("/links/", 1)[1].split("/")[0]
    page.goto(site.url + "/holder")
    link = page.locator(f"#url-{link_id}").input_value()
    page.goto(site.url + f"/holder/links/{link_id}/withdraw")
    with page.expect_navigation():
        page.locator("form[action$='/withdraw'] [type=submit]").click()
    return page.goto(link)


PAGES = [
    Visit("home", goto("/")),
    Visit("verify", goto("/verify")),
    Visit("verify-valid", verify_pasted(lambda site: json.dumps(site.issued["document"], indent=2))),
    Visit("verify-tampered", verify_pasted(tampered)),
    Visit("verify-not-a-credential", verify_pasted(lambda site: "this is not JSON"), status=422),
    Visit("share", goto(lambda site: share_path(site.issued))),
    Visit("share-revoked", goto(revoked_share)),
    Visit("share-unknown", goto("/share/nosuchtokennosuchtoken"), status=404),
    Visit("register", goto("/board/register")),
    Visit("not-found", goto("/no/such/page"), status=404),  # a mistyped or outdated address
    Visit("partners", goto("/partners")),
    Visit("partner", goto("/partners/hanzehogeschool-groningen")),
    Visit("partner-unknown", goto("/partners/no-such-partner"), status=404),
    Visit("proposal", goto("/board/register/proposals/1")),  # the decision that accredited Hanze
    Visit("proposal-unknown", goto("/board/register/proposals/999"), status=404),
    Visit("holder", goto(holder_page)),
    Visit("holder-with-a-link", holder_with_a_link),
    Visit("holder-withdraw", withdraw_confirmation),
    Visit("share-withdrawn", withdrawn_share, status=410),
]


@pytest.fixture
def site(server: Server, api: httpx.Client, hub: Hub, keys: Any, issued: dict[str, Any]) -> Site:
    hub.indexer.catch_up()  # the register shows the board's decision that accredited the issuer
    return Site(server.url, api, hub, issued, keys)


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.name)
def test_page_is_accessible(visit: Visit, lang: str, browser: Any, requests_seen: Requests, site: Site) -> None:
    problems: list[str] = []
    for width in WIDTHS:
        where = f"{visit.name} ({lang}, {width})"
        with browsing(browser, requests_seen, lang, width) as page:
            response = visit.open(page, site)
            assert response is not None and response.status == visit.status, f"{where}: status {response.status}"
            assert page.evaluate("document.documentElement.lang") == lang, f"{where}: not in {lang}"
            shot(page, visit.name, lang, width)
            scrolled, viewport = horizontal_overflow(page)
            if scrolled > viewport:
                problems.append(f"{where}: {scrolled}px wide in a {viewport}px window")
            for check in (assert_accessible, assert_keyboard_usable):
                try:
                    check(page, where)
                except AssertionError as failed:
                    problems.append(str(failed))
    assert not problems, "\n\n".join(problems)


def test_focus_shows_in_a_contrast_theme(browser: Any, requests_seen: Requests, site: Site) -> None:
    """With Windows' contrast themes (forced colours) a page's backgrounds and shadows are replaced: a focus style
    made only of them would vanish. Every page's keyboard focus must still show."""
    problems: list[str] = []
    for visit in PAGES:
        with browsing(browser, requests_seen, "nl", "desktop", forced_colors=True) as page:
            visit.open(page, site)
            assert page.evaluate("matchMedia('(forced-colors: active)').matches")
            try:
                assert_keyboard_usable(page, f"{visit.name} (forced colours)")
            except AssertionError as failed:
                problems.append(str(failed))
            if visit.name == "verify-valid":
                shot(page, "verify-valid-forced-colors", "nl", "desktop")
    assert not problems, "\n\n".join(problems)


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const el = document.activeElement; const box = el.getBoundingClientRect();
                return {id: el.id, tag: el.tagName.toLowerCase(), type: el.type || '', cls: el.className,
                        inView: box.width > 0 && box.height > 0 && box.top < innerHeight && box.bottom > 0,
                        visible: el.matches(':focus-visible')}; }"""
        )
    )


def _tab_to(page: Any, wanted: Callable[[dict[str, Any]], bool], what: str, presses: int = 12) -> dict[str, Any]:
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if wanted(focused):
            assert focused["inView"] and focused["visible"], f"{what} is focused but not in view or not visibly"
            return focused
    raise AssertionError(f"Tab never reached {what} in {presses} presses")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_verify_by_keyboard_only(lang: str, width: str, browser: Any, requests_seen: Requests, site: Site) -> None:
    """An employer with only a keyboard: skip to the form, paste the credential (from the clipboard, Ctrl+V),
    send it with Enter, and read the verdict: the page's title, then the first thing in the main content."""
    with browsing(browser, requests_seen, lang, width) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        page.goto(site.url + "/verify")
        first = _tab_to(page, lambda focused: True, "anything", presses=1)
        assert "skip-link" in first["cls"], f"the first Tab stop is not the skip link: {first}"
        page.keyboard.press("Enter")
        assert _focused(page)["id"] == "main"
        _tab_to(page, lambda focused: focused["id"] == "file", "the file chooser", presses=1)  # the form comes first
        _tab_to(page, lambda focused: focused["id"] == "credential", "the credential's text box", presses=1)
        page.evaluate("text => navigator.clipboard.writeText(text)", json.dumps(site.issued["document"], indent=2))
        page.keyboard.press("ControlOrMeta+V")
        assert json.loads(page.locator("#credential").input_value()) == site.issued["document"]
        _tab_to(page, lambda focused: focused["type"] == "submit", "the send button", presses=3)
        with page.expect_navigation() as navigation:
            page.keyboard.press("Enter")
        assert navigation.value.status == 200
        # the verdict is in the title a screen reader reads first, and right after the heading of the main content
        label = page.locator(".verdict__label").text_content().strip()
        assert page.locator(".verdict--valid").count() == 1
        assert label in page.title().split(" – ")[0], (page.title(), label)  # before the page's own name
        after_heading = page.evaluate(
            "() => { const next = document.querySelector('main h1').nextElementSibling;"
            " return [next.id, next.firstElementChild.className]; }"
        )
        assert after_heading == ["result", "verdict verdict--valid"]
        _tab_to(page, lambda focused: "skip-link" in focused["cls"], "the skip link", presses=1)
        page.keyboard.press("Enter")
        assert _focused(page)["id"] == "main"
        assert page.evaluate("document.querySelector('main').getBoundingClientRect().top") <= 1  # scrolled to it
        shot(page, "verify-keyboard-result", lang, width)
        # and on to the next credential: the whole page is still reachable by keyboard, focus visible
        assert_keyboard_usable(page, f"the verify result ({lang}, {width})")
