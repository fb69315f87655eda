"""The admin console on a real anvil with the hub deployed: accounts (invite → link shown once, reset, disable),
API keys (made → shown once and working against the API, revoked → refused by the API) and programmes (added
through the same function as the API's POST /programmes). Only an admin opens it; every form needs the
session's CSRF token; refusals are sentences on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db import models
from service.demo import DEMO_PROGRAMMES
from service.hub import Hub
from service.main import create_app
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
    settings,
)
from tests.consoles.kit import make_account, sign_in
from tests.consoles.test_signin import PARTNER_ADDRESS, signed_in_as, take

ISSUER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@pytest.fixture
def admin(hub: Hub) -> Iterator[tuple[TestClient, str]]:  # noqa: F811
    """A browser signed in as the admin, and its session's CSRF token."""
    account_id = make_account(hub, "admin", "beheer@ithubhoogeveen.nl", "Anouk de Jong")
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as browser:
        yield browser, sign_in(browser, hub, account_id)


def shown_link(html: str, field: str) -> str:
    found = re.search(rf'id="{field}" class="copy-field" value="([^"]+)"', html)
    assert found, html
    return unescape(found.group(1))


def test_only_an_admin_opens_it(hub: Hub) -> None:
    partner = make_account(hub, "partner", "p@example.org", "Pim", PARTNER_ADDRESS)
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as browser:
        for path in ("/console/admin", "/console/admin/keys", "/console/admin/programmes"):
            answer = browser.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")
        csrf = sign_in(browser, hub, partner)
        assert browser.get("/console/admin").status_code == 403
        made = browser.post(
            "/console/admin/accounts", data={"csrf": csrf, "email": "x@example.org", "name": "X", "role": "admin"}
        )
        assert made.status_code == 403 and "not for your account" in made.text
    with hub.sessions() as db:
        assert db.scalar(select(func.count()).select_from(models.StaffAccount)) == 1


def test_admin_invites_someone_and_the_link_is_shown_once(admin: tuple[TestClient, str], hub: Hub) -> None:
    browser, csrf = admin
    form = {"email": "Sanne@Example.org", "name": "Sanne Bakker", "role": "partner", "address": PARTNER_ADDRESS}
    assert browser.post("/console/admin/accounts", data=form).status_code == 403  # no CSRF token: nothing made
    made = browser.post("/console/admin/accounts", data={"csrf": csrf, **form})
    assert made.status_code == 200 and "Sanne Bakker" in made.text
    link = shown_link(made.text, "link")
    assert link.startswith("http://testserver/invite/")
    listing = browser.get("/console/admin")
    assert "sanne@example.org" in listing.text and "Invited (no password yet)" in listing.text
    assert link.rsplit("/", 1)[1] not in listing.text  # shown once
    with hub.sessions() as db:
        stored = db.scalar(
            select(models.StaffAccount.invitation_hash).where(models.StaffAccount.email == "sanne@example.org")
        )
    assert stored and link.rsplit("/", 1)[1] not in stored  # only its hash is kept
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as sanne:
        assert take(sanne, link.removeprefix("http://testserver")).status_code == 303
        assert signed_in_as(sanne) == "/console/partner"
    assert "Active" in browser.get("/console/admin").text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"email": "not-an-address", "name": "X", "role": "partner", "address": PARTNER_ADDRESS},
            "e-mail address such",
        ),
        ({"email": "x@example.org", "name": "X", "role": "partner", "address": "0x123"}, "0x followed by 40"),
        ({"email": "x@example.org", "name": "X", "role": "board", "address": ""}, "0x followed by 40"),
        (
            {"email": "x@example.org", "name": "X", "role": "admin", "address": PARTNER_ADDRESS},
            "has no account address",
        ),
        ({"email": "x@example.org", "name": "X", "role": "owner", "address": ""}, "Choose a role"),
        ({"email": "x@example.org", "name": "   ", "role": "admin", "address": ""}, "Give the person"),
        ({"email": "BEHEER@ithubhoogeveen.nl", "name": "X", "role": "admin", "address": ""}, "already an account"),
    ],
)
def test_a_wrong_account_is_refused_with_a_sentence(
    admin: tuple[TestClient, str], hub: Hub, form: dict[str, str], message: str
) -> None:
    browser, csrf = admin
    refused = browser.post("/console/admin/accounts", data={"csrf": csrf, **form})
    assert refused.status_code == 422 and message in refused.text
    assert 'role="alert"' in refused.text
    with hub.sessions() as db:
        assert db.scalar(select(func.count()).select_from(models.StaffAccount)) == 1


def test_reset_ends_the_sessions_and_gives_a_new_link(admin: tuple[TestClient, str], hub: Hub) -> None:
    browser, csrf = admin
    made = browser.post(
        "/console/admin/accounts",
        data={"csrf": csrf, "email": "p@example.org", "name": "Pim", "role": "partner", "address": PARTNER_ADDRESS},
    )
    first = shown_link(made.text, "link").removeprefix("http://testserver")
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as pim:
        take(pim, first)
        assert signed_in_as(pim) == "/console/partner"
        with hub.sessions() as db:
            pim_id = db.scalar(select(models.StaffAccount.id).where(models.StaffAccount.email == "p@example.org"))
        assert browser.post(f"/console/admin/accounts/{pim_id}/reset", data={"csrf": "x"}).status_code == 403
        assert signed_in_as(pim) == "/console/partner"
        confirm = browser.get(f"/console/admin/accounts/{pim_id}/reset")  # what the list's Reset link opens
        assert confirm.status_code == 200 and "Reset the account of Pim?" in confirm.text
        assert f'action="/console/admin/accounts/{pim_id}/reset"' in confirm.text
        assert signed_in_as(pim) == "/console/partner"  # asking changes nothing
        reset = browser.post(f"/console/admin/accounts/{pim_id}/reset", data={"csrf": csrf})
        assert reset.status_code == 200 and "every session has ended" in reset.text
        assert signed_in_as(pim) is None
        again = shown_link(reset.text, "link").removeprefix("http://testserver")
        assert again != first and pim.get(first).status_code == 404
        assert take(pim, again, "een ander lang wachtwoord").status_code == 303
        assert signed_in_as(pim) == "/console/partner"


def test_disable_ends_the_sessions_but_not_her_own(admin: tuple[TestClient, str], hub: Hub) -> None:
    browser, csrf = admin
    pim_id = make_account(hub, "partner", "p@example.org", "Pim", PARTNER_ADDRESS)
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as pim:
        sign_in(pim, hub, pim_id)
        assert signed_in_as(pim) == "/console/partner"
        assert f'href="/console/admin/accounts/{pim_id}/disable"' in browser.get("/console/admin").text
        confirm = browser.get(f"/console/admin/accounts/{pim_id}/disable")
        assert confirm.status_code == 200 and "This cannot be undone." in confirm.text
        assert signed_in_as(pim) == "/console/partner"
        done = browser.post(f"/console/admin/accounts/{pim_id}/disable", data={"csrf": csrf})
        assert done.status_code == 200 and "The account is disabled" in done.text
        assert signed_in_as(pim) is None
    with hub.sessions() as db:
        own_id = db.scalar(select(models.StaffAccount.id).where(models.StaffAccount.role == "admin"))
    own = browser.post(f"/console/admin/accounts/{own_id}/disable", data={"csrf": csrf})
    assert own.status_code == 409 and "your own account" in own.text
    assert browser.post("/console/admin/accounts/999/disable", data={"csrf": csrf}).status_code == 404
    assert browser.get("/console/admin/accounts/999/disable").status_code == 404
    assert browser.get(f"/console/admin/accounts/{pim_id}/disable").status_code == 404  # disabled already
    assert f'href="/console/admin/accounts/{own_id}/disable"' not in browser.get("/console/admin").text
    assert signed_in_as(browser) == "/console/admin"


def test_api_keys_are_shown_once_work_and_are_revoked(admin: tuple[TestClient, str], hub: Hub) -> None:
    browser, csrf = admin
    assert "No API keys yet." in browser.get("/console/admin/keys").text
    assert browser.post("/console/admin/keys", data={"role": "admin", "name": "Scripts"}).status_code == 403
    refused = browser.post("/console/admin/keys", data={"csrf": csrf, "role": "issuer", "name": "Hanze", "address": ""})
    assert refused.status_code == 422 and "0x followed by 40" in refused.text
    made = browser.post("/console/admin/keys", data={"csrf": csrf, "role": "admin", "name": "Scripts", "address": ""})
    assert made.status_code == 200
    token = shown_link(made.text, "token")
    assert token.startswith("hub_")
    listing = browser.get("/console/admin/keys")
    assert "Scripts" in listing.text and token not in listing.text and token[:10] in listing.text
    body = DEMO_PROGRAMMES[0].as_create()
    assert browser.post("/programmes", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    with hub.sessions() as db:
        key_id = db.scalar(select(models.ApiKey.id).where(models.ApiKey.name == "Scripts"))
    confirm = browser.get(f"/console/admin/keys/{key_id}/revoke")
    assert confirm.status_code == 200 and f"Revoke key {key_id} of Scripts?" in confirm.text
    assert token[:10] in confirm.text
    assert browser.post(f"/console/admin/keys/{key_id}/revoke", data={}).status_code == 403
    revoked = browser.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 200 and "The key is revoked" in revoked.text and "Revoked on" in revoked.text
    other = {**DEMO_PROGRAMMES[1].as_create()}
    refused_api = browser.post("/programmes", json=other, headers={"Authorization": f"Bearer {token}"})
    assert refused_api.status_code == 401 and "revoked" in refused_api.json()["detail"]
    assert browser.get(f"/console/admin/keys/{key_id}/revoke").status_code == 404


def test_programmes_are_added_like_the_api_does(admin: tuple[TestClient, str], hub: Hub) -> None:
    browser, csrf = admin
    form = {
        "csrf": csrf,
        "id": "iot-basis",
        "name": "Internet of Things: de basis",
        "theme": "Internet of Things",
        "description": "Sensoren en netwerken.",
        "criteria": "Eindopdracht gehaald.",
        "achievement_type": "Course",
        "ects": "7.5",
        "eqf_level": "5",
        "graded": "yes",
        "issuer_address": ISSUER.lower(),
    }
    assert "No programmes yet" in browser.get("/console/admin/programmes").text
    bad = browser.post("/console/admin/programmes", data={**form, "id": "IoT!", "eqf_level": "9", "ects": "veel"})
    assert bad.status_code == 422
    assert (
        "Programme id: 3 to 64" in bad.text and "EQF level: a whole number" in bad.text and "Credits (ECTS)" in bad.text
    )
    assert 'value="Internet of Things: de basis"' in bad.text  # what was typed stays
    added = browser.post("/console/admin/programmes", data=form)
    assert added.status_code == 200 and "The programme is added" in added.text and "iot-basis" in added.text
    api = browser.get("/programmes/iot-basis").json()
    assert api["issuer_address"] == ISSUER and api["ects"] == 7.5 and api["graded"] is True
    assert api["achievement_type"] == "Course"
    again = browser.post("/console/admin/programmes", data=form)
    assert again.status_code == 409 and "already a programme iot-basis" in again.text


def test_the_admin_console_speaks_dutch(admin: tuple[TestClient, str]) -> None:
    browser, _csrf = admin
    page = browser.get("/console/admin", headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and 'lang="nl"' in page.text
    assert "Accounts" in page.text and "Iemand uitnodigen" in page.text and "Overal uitloggen" in page.text
