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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
