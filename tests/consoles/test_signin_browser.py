"""Signing in, in a real browser (Chromium, as tests/pages/test_browser.py drives it), in Dutch and English at
desktop and phone widths: an admin invites a new admin in the admin console; the new admin opens the
invitation link (the address bar loses the token at once), chooses a password, scans nothing but reads the key
the enrolment page shows and gives the app's code (computed with pyotp), lands in her console, signs out, and
signs in again with her password and the next code. Every page is axe-clean (no serious or critical
violation) and has no unlabelled control. Screenshots: test-results/screenshots/signin-<step>-<lang>-<width>.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyotp
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

PASSWORD = "fietsen langs de Bentinckswijk"
WORDS = {
    "en": {
        "invite": "Invite someone",
        "name": "Name",
        "email": "E-mail address",
        "role": "Role",
        "make": "Make the account and its invitation link",
        "choose": "Choose your password",
        "new": "New password",
        "again": "The same password again",
        "save": "Save my password",
        "enrol": "Set up your sign-in code",
        "code": "Code (6 digits)",
        "finish": "Finish and sign in",
        "accounts": "Accounts",
        "out": "Sign out",
        "signed_out": "You are signed out.",
        "password": "Password",
        "signin": "Sign in",
        "your_code": "Your sign-in code",
        "wrong": "not right",
    },
    "nl": {
        "invite": "Iemand uitnodigen",
        "name": "Naam",
        "email": "E-mailadres",
        "role": "Rol",
        "make": "Account en uitnodigingslink maken",
        "choose": "Kies je wachtwoord",
        "new": "Nieuw wachtwoord",
        "again": "Hetzelfde wachtwoord nog een keer",
        "save": "Wachtwoord opslaan",
        "enrol": "Stel je inlogcode in",
        "code": "Code (6 cijfers)",
        "finish": "Afronden en inloggen",
        "accounts": "Accounts",
        "out": "Uitloggen",
        "signed_out": "Je bent uitgelogd.",
        "password": "Wachtwoord",
        "signin": "Inloggen",
        "your_code": "Je inlogcode",
        "wrong": "klopt niet",
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
def contexts(browser: Any, requests_seen: Requests, language: str, width: str) -> Iterator[Any]:  # noqa: F811
    """New browser contexts (each its own cookies) asking for `language`, at `width`."""
    made: list[Any] = []

    def new() -> Any:
        context = browser.new_context(
            viewport=VIEWPORTS[width],
            locale="nl-NL" if language == "nl" else "en-GB",
            timezone_id="Europe/Amsterdam",
            bypass_csp=True,  # for axe-core's script only (serious_violations)
        )
        context.on("request", lambda request: requests_seen.urls.append(request.url))
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def check_page(tab: Any, name: str, language: str, width: str) -> None:
    assert tab.evaluate("document.documentElement.lang") == language
    assert tab.evaluate(UNLABELLED_CONTROLS) == []
    screenshot(tab, f"signin-{name}-{language}-{width}")
    assert serious_violations(tab) == [], name
    if width == "phone":
        scrolled, viewport = horizontal_overflow(tab)
        assert scrolled <= viewport, f"{name} is {scrolled}px wide on a {viewport}px phone"


def test_invite_password_code_and_sign_in_again(
    contexts: Any,
    hub: Hub,  # noqa: F811
    server: Server,  # noqa: F811
    language: str,
    width: str,
) -> None:
    words = WORDS[language]
    # the admin invites a new admin in the admin console
    admin_id = make_account(hub, "admin", "beheer@ithubhoogeveen.nl", "Anouk de Jong")
    admin_context = contexts()
    admin_context.add_cookies([browser_cookie(hub, admin_id, server.url)])
    admin = admin_context.new_page()
    admin.goto(server.url + "/console")
    assert admin.url == server.url + "/console/admin"
    check_page(admin, "admin-accounts", language, width)
    form = admin.locator("form[action='/console/admin/accounts']")
    form.get_by_label(words["name"], exact=True).fill("Fenna Veenstra")
    form.get_by_label(words["email"], exact=True).fill("fenna@ithubhoogeveen.nl")
    form.get_by_label(words["role"], exact=True).select_option("admin")
    submit(admin, admin.get_by_role("button", name=words["make"]))
    link = admin.locator("#link").input_value()
    assert link.startswith(server.url + "/invite/")
    check_page(admin, "admin-invitation", language, width)
    # the other admin pages, and a confirmation (left with Cancel: nothing happens)
    for section in ("keys", "programmes", "log"):
        admin.goto(f"{server.url}/console/admin/{section}")
        check_page(admin, f"admin-{section}", language, width)
    assert "Fenna Veenstra <fenna@ithubhoogeveen.nl>" in admin.get_by_role("table").inner_text()  # the log's line
    admin.goto(server.url + "/console/admin")
    submit(admin, admin.locator("a[href$='/disable']").last)
    assert admin.url.endswith("/disable") and "Fenna Veenstra" in admin.get_by_role("heading", level=1).inner_text()
    check_page(admin, "admin-confirm", language, width)
    submit(admin, admin.locator("a.cancel"))
    assert admin.url == server.url + "/console/admin"

    # the new admin opens the link: the token leaves the address bar at once
    tab = contexts().new_page()
    tab.goto(link)
    assert tab.url == server.url + "/invite"
    assert tab.get_by_role("heading", level=1).inner_text() == words["choose"]
    check_page(tab, "invite", language, width)
    tab.get_by_label(words["new"], exact=True).fill(PASSWORD)
    tab.get_by_label(words["again"], exact=True).fill(PASSWORD)
    submit(tab, tab.get_by_role("button", name=words["save"]))

    # the second factor: the key shown beside the QR code, into "the app" (pyotp)
    assert tab.url.startswith(server.url + "/signin/enrol")
    assert tab.get_by_role("heading", level=1).inner_text() == words["enrol"]
    assert tab.locator("img.signin-qr").evaluate("img => img.complete && img.naturalWidth > 0")
    check_page(tab, "enrol", language, width)
    app = pyotp.TOTP(tab.locator(".signin-secret").inner_text().replace(" ", ""))
    used = app.now()
    tab.get_by_label(words["code"], exact=True).fill(used)
    submit(tab, tab.get_by_role("button", name=words["finish"]))
    assert tab.url == server.url + "/console/admin"
    assert tab.get_by_role("heading", level=1).inner_text() == words["accounts"]
    assert "Fenna Veenstra" in tab.locator(".console-bar__who").inner_text()

    # sign out, and in again: password, then the next code (the one just used is spent)
    submit(tab, tab.get_by_role("button", name=words["out"], exact=True))
    assert tab.url.startswith(server.url + "/signin")
    assert words["signed_out"] in tab.get_by_role("status").inner_text()
    check_page(tab, "signin", language, width)
    tab.get_by_label(words["email"], exact=True).fill("fenna@ithubhoogeveen.nl")
    tab.get_by_label(words["password"], exact=True).fill(PASSWORD)
    submit(tab, tab.get_by_role("button", name=words["signin"]))
    assert tab.url.startswith(server.url + "/signin/code")
    assert tab.get_by_role("heading", level=1).inner_text() == words["your_code"]
    check_page(tab, "code", language, width)
    tab.get_by_label(words["code"], exact=True).fill(used)  # used a moment ago: refused, readably
    submit(tab, tab.get_by_role("button", name=words["signin"]))
    assert words["wrong"] in tab.get_by_role("alert").inner_text()
    check_page(tab, "code-refused", language, width)
    tab.get_by_label(words["code"], exact=True).fill(app.at(time.time() + 30))
    submit(tab, tab.get_by_role("button", name=words["signin"]))
    assert tab.url == server.url + "/console/admin"
    assert "Fenna Veenstra" in tab.get_by_role("table").inner_text()
