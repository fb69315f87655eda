"""The pages' language on a live hub: the browser's Accept-Language, Dutch when it states none, the switch on
every page (keeping the page and its query) and the cookie that remembers it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.hub import Hub
from service.main import create_app


@pytest.fixture
def bare(hub: Hub) -> Iterator[TestClient]:
    """A client that states no language, as the pages' first visitor might."""
    with TestClient(create_app(hub=hub)) as client:
        yield client


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', html)
    assert match, html[:200]
    return match.group(1)


def test_pages_follow_the_browser_and_the_switch(bare: TestClient) -> None:
    # no preference: Dutch
    page = bare.get("/")
    assert page.status_code == 200
    assert _lang(page.text) == "nl" and "Een credential controleren" in page.text
    assert page.headers["content-language"] == "nl"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in page.headers["vary"].split(",")}
    # the browser asks for English
    page = bare.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _lang(page.text) == "en" and "Verify a credential" in page.text
    assert 'href="/?lang=nl"' in page.text and ">Nederlands<" in page.text  # the switch, to this very page
    # the switch on a page with a query keeps the page and its query, and is remembered
    page = bare.get("/board/register?page=1&lang=en", headers={"Accept-Language": "nl"})
    assert _lang(page.text) == "en"
    assert "hub_lang=en" in page.headers["set-cookie"] and "SameSite=Lax" in page.headers["set-cookie"]
    assert "/board/register?page=1&amp;lang=nl" in page.text
    page = bare.get("/verify", headers={"Accept-Language": "nl"})  # the cookie, not the browser, now
    assert _lang(page.text) == "en"
    bare.cookies.clear()
    page = bare.get("/verify", headers={"Accept-Language": "nl"})
    assert _lang(page.text) == "nl"


def test_a_file_in_the_other_language_does_not_switch_the_site(bare: TestClient) -> None:
    """`?lang=` on a file (here the API's JSON) answers in that language but is not remembered: only the switch
    on a page is."""
    answer = bare.get("/health/live?lang=en", headers={"Accept-Language": "nl"})
    assert answer.status_code == 200
    assert answer.headers["content-language"] == "en"
    assert "hub_lang" not in answer.headers.get("set-cookie", "")
    page = bare.get("/verify?lang=en", headers={"Accept-Language": "nl"})
    assert "hub_lang=en" in page.headers["set-cookie"]


def test_the_switch_on_an_answer_to_a_form_leads_to_a_page(hub: Hub) -> None:
    """A page answering a POST has no address to open again: the switch leads to the nearest page above it that
    opens (never to an address that only takes forms, nor one a token route would only seem to open)."""
    from starlette.requests import Request

    from service.main import create_app
    from service.pages.templating import lang_url

    app = create_app(hub=hub)

    def switch(method: str, path: str) -> str:
        scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": [], "app": app}
        return lang_url(Request(scope), "en")

    assert switch("POST", "/console/partner/cohorts") == "/console/partner?lang=en"
    assert switch("POST", "/console/board/proposals/5/vote") == "/console/board/proposals/5?lang=en"
    assert switch("POST", "/holder/links") == "/holder?lang=en"
    assert switch("POST", "/signin") == "/signin?lang=en"
    assert switch("GET", "/board/register") == "/board/register?lang=en"
