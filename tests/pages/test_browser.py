"""The pages in a real browser: Debian's chromium driven by Playwright, against the app served by a real
uvicorn server on 127.0.0.1 (a free port, in a thread) on the test anvil.

Chromium comes from the system (`apt-get install chromium`), never from `playwright install`. Without it, or
without the playwright package, these tests are skipped, except in CI (CI set), where they fail. Screenshots go to
test-results/screenshots/ (git-ignored): look at them after a change to the pages.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from service.hub import Hub
from service.main import create_app
from tests.pages.conftest import HANZE, add_catalogue, ending_soon, issue_with, pass_the_end, share_path


def _playwright() -> Any:
    """playwright.sync_api; without it the module is skipped, except in CI (CI set), where that is an error:
    a skip there would pass the browser tests silently."""
    try:
        import playwright.sync_api
    except ImportError as exc:
        if os.environ.get("CI"):
            raise RuntimeError(f"playwright is not installed ({exc}): the browser tests must run in CI") from exc
        pytest.skip(f"playwright is not installed ({exc})", allow_module_level=True)
    return playwright.sync_api


playwright_sync = _playwright()

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


# ---------------------------------------------------------------- the server, the browser


class Server:
    """The app under uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, hub: Hub) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(hub=hub), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name="uvicorn-pages", daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start in 20 s"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture
def server(hub: Hub) -> Iterator[Server]:
    running = Server(hub)
    hub.settings.public_url = running.url  # share links and QR codes point at this server
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Requests:
    """Every URL the browser asked for; none may leave the server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.urls: list[str] = []

    def outside(self) -> list[str]:
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != f"127.0.0.1:{self.server.port}"
        ]


@pytest.fixture
def requests_seen(server: Server) -> Requests:
    return Requests(server)


def open_context(browser: Any, requests_seen: Requests, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/Amsterdam")
    context.on("request", lambda request: requests_seen.urls.append(request.url))
    return context


@pytest.fixture
def desktop(browser: Any, requests_seen: Requests) -> Iterator[Any]:
    context = open_context(browser, requests_seen, DESKTOP)
    yield context.new_page()
    context.close()
    assert requests_seen.urls, "the browser asked for nothing"
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


@pytest.fixture
def phone(browser: Any, requests_seen: Requests) -> Iterator[Any]:
    context = open_context(browser, requests_seen, PHONE)
    yield context.new_page()
    context.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---------------------------------------------------------------- credentials, through the real server


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture
def issued(api: httpx.Client, keys: Any, accredited: Any) -> dict[str, Any]:
    """A valid credential of Hanzehogeschool Groningen for Jan de Vries, issued through the server."""
    accredited(HANZE)
    add_catalogue(api.post, keys)
    return issue_with(api.post, keys)


def horizontal_overflow(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter(el => el.type !== 'hidden')
    .filter(el => {
        const named = (el.labels && el.labels.length > 0 && [...el.labels].some(l => l.textContent.trim()))
            || (el.getAttribute('aria-label') || '').trim()
            || (el.getAttribute('aria-labelledby') || '').trim()
            || (el.tagName === 'BUTTON' && el.textContent.trim());
        return !named;
    })
    .map(el => el.outerHTML)"""


# ---------------------------------------------------------------- the tests


def test_share_page_in_a_browser(desktop: Any, server: Server, issued: dict[str, Any]) -> None:
    response = desktop.goto(server.url + share_path(issued))
    assert response.status == 200
    assert desktop.title() == "Make IT Work: Data Analytics: valid credential – IT Hub Hoogeveen"
    assert desktop.get_by_role("heading", level=1).inner_text() == "Make IT Work: Data Analytics"
    verdict = desktop.locator(".verdict")
    assert verdict.get_by_role("heading", name="Valid").is_visible()
    assert (
        "This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)." in verdict.inner_text()
    )
    # the page shows every check the API's report passes for the same shared copy (14 today)
    shared = httpx.get(server.url + share_path(issued) + "/credential.json").content
    report = httpx.post(server.url + "/verify", content=shared, headers={"Content-Type": "application/json"}).json()
    passed = [check["title"] for check in report["checks"] if check["status"] == "passed"]
    assert report["valid"] and len(passed) >= 14
    assert desktop.locator(".check--passed").count() == len(passed)
    assert desktop.get_by_role("link", name="Certificate (PDF)").is_visible()
    assert desktop.get_by_role("link", name="Credential file (JSON)").is_visible()
    assert desktop.evaluate("document.documentElement.lang") == "en"
    # the stylesheet loaded (from the server): the verdict is a coloured box, not plain text
    assert desktop.evaluate("getComputedStyle(document.querySelector('.verdict')).borderLeftWidth") == "10px"
    screenshot(desktop, "share-valid-desktop")


def test_share_page_of_a_revoked_and_an_expired_credential(
    desktop: Any,
    server: Server,
    api: httpx.Client,
    hub: Hub,
    keys: Any,
    issued: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    revoked = api.post(
        f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "issued-in-error"}
    )
    assert revoked.status_code == 200, revoked.text
    desktop.goto(server.url + share_path(issued))
    assert desktop.locator(".verdict").get_by_role("heading", name="Revoked").is_visible()
    screenshot(desktop, "share-revoked-desktop")

    valid_until, in_words = ending_soon()
    expired = issue_with(
        api.post, keys, email="fatima.elamrani@example.org", name="Fatima El Amrani", valid_until=valid_until
    )
    pass_the_end(hub, valid_until, monkeypatch)
    desktop.goto(server.url + share_path(expired))
    assert desktop.locator(".verdict").get_by_role("heading", name="Expired").is_visible()
    assert f"Not valid: it expired on {in_words}." in desktop.locator(".verdict").inner_text()
    screenshot(desktop, "share-expired-desktop")


def test_share_page_on_a_phone_has_no_horizontal_scroll(phone: Any, server: Server, issued: dict[str, Any]) -> None:
    phone.goto(server.url + share_path(issued))
    width, viewport = horizontal_overflow(phone)
    assert viewport == PHONE["width"]
    assert width <= viewport, f"the share page is {width}px wide on a {viewport}px phone"
    assert (
        phone.evaluate("document.querySelector('meta[name=viewport]').content") == "width=device-width, initial-scale=1"
    )
    screenshot(phone, "share-valid-phone")


def test_verify_with_the_keyboard_only(desktop: Any, server: Server, issued: dict[str, Any]) -> None:
    desktop.goto(server.url + "/verify")
    for _ in range(20):  # from the top of the page: skip link, header and navigation, then the form
        desktop.keyboard.press("Tab")
        if desktop.evaluate("document.activeElement.id") == "credential":
            break
    else:
        pytest.fail("Tab never reached the credential text box")
    outline = desktop.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused text box shows no focus"
    desktop.screenshot(path=str(SCREENSHOTS / "verify-keyboard-focus.png"))  # the viewport, focus visible
    desktop.keyboard.insert_text(json.dumps(issued["document"], indent=2))  # as a paste
    for _ in range(5):
        desktop.keyboard.press("Tab")
        if desktop.evaluate("document.activeElement.type") == "submit":
            break
    else:
        pytest.fail("Tab never reached the submit button")
    with desktop.expect_navigation():
        desktop.keyboard.press("Enter")
    assert desktop.url == server.url + "/verify/check"
    assert desktop.title() == "Valid credential – Verify a credential – IT Hub Hoogeveen"
    verdict = desktop.locator(".verdict").inner_text()
    assert "valid" in verdict.lower()
    assert "This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)." in verdict
    assert "Awarded to Jan de Vries" in desktop.locator(".certificate").inner_text()  # his full copy discloses it
    screenshot(desktop, "verify-valid-desktop")


def test_every_form_control_has_a_label(desktop: Any, phone: Any, server: Server) -> None:
    desktop.goto(server.url + "/verify")
    assert desktop.locator("textarea, input").count() == 3
    assert desktop.evaluate(UNLABELLED_CONTROLS) == []
    desktop.locator("#credential").fill("this is not JSON")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Check the credential").click()
    assert "This is not a credential file." in desktop.locator(".verdict").inner_text()
    assert desktop.evaluate(UNLABELLED_CONTROLS) == []
    screenshot(desktop, "verify-not-a-credential-desktop")
    phone.goto(server.url + "/verify")
    width, viewport = horizontal_overflow(phone)
    assert width <= viewport
    screenshot(phone, "verify-phone")


def test_home_and_register_pages(desktop: Any, phone: Any, server: Server, issued: dict[str, Any], hub: Hub) -> None:
    desktop.goto(server.url + "/")
    assert desktop.get_by_role("heading", level=1).inner_text() == "IT Hub Hoogeveen credentials"
    screenshot(desktop, "home-desktop")
    hub.indexer.catch_up()  # the accreditation behind `issued` was a board decision
    desktop.goto(server.url + "/board/register")
    assert desktop.get_by_role("heading", level=1).inner_text() == "Board decision register"
    assert desktop.locator("article.proposal").count() == 1
    assert "Decided" in desktop.locator("article.proposal .badge").inner_text()
    assert desktop.locator("li.seat").count() == 6  # the members in their seats (the partners: /partners)
    screenshot(desktop, "register-desktop")
    phone.goto(server.url + "/board/register")
    width, viewport = horizontal_overflow(phone)
    assert width <= viewport, f"the register is {width}px wide on a {viewport}px phone"
    screenshot(phone, "register-phone")


def test_an_unknown_share_link_in_a_browser(desktop: Any, server: Server) -> None:
    response = desktop.goto(server.url + "/share/nosuchtokennosuchtoken")
    assert response.status == 404
    assert desktop.get_by_role("heading", level=1).inner_text() == "This share link does not work"
    screenshot(desktop, "share-unknown-desktop")


def test_the_api_docs_work_under_their_content_security_policy(desktop: Any, server: Server) -> None:
    """/docs has the pages' headers (a CSP that loads nothing from elsewhere, no framing), and Swagger UI still
    renders under it: the CSP allows its inline start-up script by hash, nothing more."""
    violations: list[str] = []
    desktop.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    response = desktop.goto(server.url + "/docs")
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    desktop.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
    assert "IT Hub Hoogeveen credentials" in desktop.locator(".swagger-ui .info .title").inner_text()
    assert desktop.locator(".opblock").count() > 10  # the operations came from /openapi.json
    assert violations == []


def test_verify_a_certificate_pdf_and_a_share_link_in_a_browser(
    desktop: Any, phone: Any, server: Server, api: httpx.Client, issued: dict[str, Any], tmp_path: Path
) -> None:
    """The upload form takes the hub's certificate PDF: the verdict, the print beside the credential; then a
    share link pasted into the text box."""
    shared = api.put(
        f"/credentials/{issued['id']}/sharing",
        headers={"X-Holder-Token": issued["holder_token"]},
        json={"disclose": ["name"]},
    )
    assert shared.status_code == 200, shared.text
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(api.get(share_path(issued) + "/certificate.pdf").content)
    for page in (desktop, phone):
        page.goto(server.url + "/verify")
        page.locator("#file").set_input_files(str(pdf))
        with page.expect_navigation():
            page.get_by_role("button", name="Check the credential").click()
        assert "This credential is valid" in page.locator(".verdict").inner_text()
        table = page.locator(".printed__table")
        assert table.is_visible()
        awarded = table.locator("tr", has_text="Awarded to").inner_text()
        assert awarded.count("Jan de Vries") == 2 and "Same" in awarded
        width, viewport = horizontal_overflow(page)
        assert width <= viewport
    screenshot(desktop, "verify-pdf-desktop")
    screenshot(phone, "verify-pdf-phone")
    desktop.goto(server.url + "/verify")
    desktop.locator("#credential").fill(issued["share_url"])
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Check the credential").click()
    assert "This credential is valid" in desktop.locator(".verdict").inner_text()
    assert "Awarded to Jan de Vries" in desktop.locator(".certificate").inner_text()
    desktop.goto(server.url + "/verify")
    desktop.locator("#credential").fill("https://evil.example/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Check the credential").click()
    assert "never opens other links" in desktop.locator("#form-error").inner_text()
