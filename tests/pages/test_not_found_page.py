"""An address that has no page: a browser gets a page in its language, an API client its problem details."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.pages.not_found import quality

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    ("lang", "title", "message"),
    [
        ("nl", "Deze pagina bestaat niet", "Op dit adres staat geen pagina."),
        ("en", "This page does not exist", "There is no page at this address."),
    ],
)
def test_a_browser_gets_a_page_in_its_language(client: TestClient, lang: str, title: str, message: str) -> None:
    response = client.get("/no/such/page", headers={"Accept": BROWSER, "Accept-Language": lang})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text
    assert f"<title>{title} – IT Hub Hoogeveen</title>" in response.text
    assert re.search(rf"<h1>{title}</h1>\s*<p class=\"lead\">{re.escape(message)}", response.text)
    assert 'href="/verify"' in response.text and '<a href="/">' in response.text  # where to go on
    assert "default-src 'none'" in response.headers["content-security-policy"]  # the pages' headers
    assert response.headers["cache-control"] == "no-store"
    head = client.head("/no/such/page", headers={"Accept": BROWSER})
    assert head.status_code == 404 and head.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "accept",
    [
        None,  # the test client's */*, as curl's and most libraries'
        "application/json",
        "application/problem+json",
        "text/html;q=0.5, application/json",  # prefers JSON
        "text/html;q=0, */*",  # refuses HTML
    ],
)
def test_an_api_client_keeps_its_problem_details(client: TestClient, accept: str | None) -> None:
    response = client.get("/no/such/page", headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-found") and response.json()["instance"] == "/no/such/page"


def test_only_a_browsers_get_becomes_a_page(client: TestClient) -> None:
    posted = client.post("/no/such/page", headers={"Accept": BROWSER}, content=b"{}")
    assert posted.status_code == 404 and posted.headers["content-type"] == "application/problem+json"
    wrong_method = client.delete("/verify", headers={"Accept": BROWSER})  # a route, not this method: 405 stays
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == "application/problem+json"
    # a resource the API does not know is the API's answer, page or not
    unknown = client.get("/issuers/nosuchpartner/did.json", headers={"Accept": BROWSER})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        (BROWSER, "text/html", 1.0),
        (BROWSER, "application/json", 0.0),
        ("text/html;q=0.4, application/json;q=0.9", "text/html", 0.4),
        ("TEXT/HTML ; Q=0.7", "text/html", 0.7),
        ("text/html;q=oops", "text/html", 0.0),
        ("", "text/html", 0.0),
    ],
)
def test_quality_of_a_media_type(accept: str, media_type: str, expected: float) -> None:
    assert quality(accept, media_type) == expected
