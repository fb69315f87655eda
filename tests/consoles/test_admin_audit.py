"""The audit log on a real anvil with the hub deployed: each admin act of the console writes exactly one line
(who, what, whom, from where) in the act's own transaction and never a secret; a refused act writes none; a
pause by throttling writes one; the log page lists newest first, pages and filters, in English and Dutch; a line
cannot be changed or deleted through the service. On SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.db import models
from service.demo import DEMO_PROGRAMMES
from service.documents.dates import moment_text
from service.hub import Hub
from service.main import create_app
from service.pages.console import act_refusal
from service.settings import Settings
from service.web import audit, signin
from service.web.staff import Staff, StaffRole
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
)
from tests.consoles.kit import make_account, sign_in
from tests.consoles.test_admin_console import ISSUER, shown_link
from tests.consoles.test_signin import PARTNER_ADDRESS, sign_in_form

ADMIN_EMAIL = "beheer@ithubhoogeveen.nl"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # tests.consoles.kit's, of every board and admin account it makes
PASSWORD_HASH = "$argon2id$not-a-real-hash"  # likewise


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, anvil: Any, deployments_dir: Path, tmp_path: Path) -> Settings:  # noqa: F811
    """The API tests' settings, on SQLite and on PostgreSQL (tests/postgres.py: skipped without it, outside CI)."""
    database = (
        f"sqlite:///{tmp_path / 'hub.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres").new_database()
    )
    return Settings(
        rpc_url=anvil.url,
        chain_id=anvil.chain_id,
        deployments_dir=deployments_dir,
        database_url=database,
        public_url="http://testserver",
        _env_file=None,
    )


@pytest.fixture
def admin(hub: Hub) -> Iterator[tuple[TestClient, str, int]]:  # noqa: F811
    """A browser signed in as the admin, its session's CSRF token and the admin's account id."""
    account_id = make_account(hub, "admin", ADMIN_EMAIL, "Anouk de Jong")
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as browser:
        yield browser, sign_in(browser, hub, account_id), account_id


def lines(hub: Hub) -> list[models.AuditEntry]:
    with hub.sessions() as db:
        rows = list(db.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id)))
        db.expunge_all()
    return rows


def stored_text(hub: Hub) -> str:
    """Every value of every line, as one text (to look for secrets in)."""
    return "\n".join(
        " ".join(str(getattr(row, column.key)) for column in models.AuditEntry.__table__.columns) for row in lines(hub)
    )


def table(html: str) -> str:
    """The log's rows (not the filter's choices)."""
    text = unescape(html)
    return text[text.index("<tbody>") : text.index("</tbody>")] if "<tbody>" in text else ""


def one_new_line(hub: Hub, before: int) -> models.AuditEntry:
    rows = lines(hub)
    assert len(rows) == before + 1, [(row.act, row.subject_name) for row in rows[before:]]
    return rows[-1]


PROGRAMME = {
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


def test_each_console_act_writes_one_line_with_its_actor_and_subject_and_no_secret(
    admin: tuple[TestClient, str, int], hub: Hub
) -> None:
    browser, csrf, admin_id = admin
    assert lines(hub) == []

    form = {"email": "sanne@example.org", "name": "Sanne Bakker", "role": "partner", "address": PARTNER_ADDRESS}
    invited = browser.post("/console/admin/accounts", data={"csrf": csrf, **form})
    assert invited.status_code == 200
    first_link = shown_link(invited.text, "link")
    line = one_new_line(hub, 0)
    with hub.sessions() as db:
        sanne = db.scalar(select(models.StaffAccount).where(models.StaffAccount.email == "sanne@example.org"))
        assert sanne is not None
        sanne_id = sanne.id
    assert (line.act, line.actor_kind, line.actor_id, line.actor_name) == (
        "account-invited",
        "staff",
        admin_id,
        ADMIN_EMAIL,
    )
    assert (line.subject_kind, line.subject_id, line.subject_name) == (
        "account",
        str(sanne_id),
        "Sanne Bakker <sanne@example.org>",
    )
    assert line.client_address == "testclient"  # TestClient's client host
    assert line.at is not None

    # a reset before the invitation was taken reissues it; with a password it is a password reset
    reissued = browser.post(f"/console/admin/accounts/{sanne_id}/reset", data={"csrf": csrf})
    second_link = shown_link(reissued.text, "link")
    assert one_new_line(hub, 1).act == "invitation-reissued"
    pim_id = make_account(hub, "board", "pim@example.org", "Pim", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    reset = browser.post(f"/console/admin/accounts/{pim_id}/reset", data={"csrf": csrf})
    third_link = shown_link(reset.text, "link")
    line = one_new_line(hub, 2)
    assert (line.act, line.subject_id, line.subject_name) == ("password-reset", str(pim_id), "Pim <pim@example.org>")

    assert browser.post(f"/console/admin/accounts/{pim_id}/disable", data={"csrf": csrf}).status_code == 200
    line = one_new_line(hub, 3)
    assert (line.act, line.subject_id) == ("account-disabled", str(pim_id))

    made = browser.post("/console/admin/keys", data={"csrf": csrf, "role": "admin", "name": "Scripts", "address": ""})
    token = shown_link(made.text, "token")
    line = one_new_line(hub, 4)
    with hub.sessions() as db:
        key_id = db.scalar(select(models.ApiKey.id).where(models.ApiKey.name == "Scripts"))
    assert (line.act, line.subject_kind, line.subject_id, line.subject_name) == (
        "key-created",
        "key",
        str(key_id),
        "Scripts",
    )
    assert browser.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf": csrf}).status_code == 200
    line = one_new_line(hub, 5)
    assert (line.act, line.subject_id, line.actor_id) == ("key-revoked", str(key_id), admin_id)
    # revoking it again changes nothing, and logs nothing
    assert browser.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf": csrf}).status_code == 200
    assert len(lines(hub)) == 6

    assert browser.post("/console/admin/programmes", data={"csrf": csrf, **PROGRAMME}).status_code == 200
    line = one_new_line(hub, 6)
    assert (line.act, line.subject_kind, line.subject_id, line.subject_name) == (
        "programme-added",
        "programme",
        "iot-basis",
        "Internet of Things: de basis",
    )

    text = stored_text(hub)
    with hub.sessions() as db:
        hashes = [row for row in db.scalars(select(models.StaffAccount.invitation_hash)) if row]
        key_hash = db.scalar(select(models.ApiKey.key_hash).where(models.ApiKey.id == key_id))
        key_prefix = db.scalar(select(models.ApiKey.prefix).where(models.ApiKey.id == key_id))
    secrets = [first_link, second_link, third_link, token, csrf, TOTP_SECRET, PASSWORD_HASH, key_hash, *hashes]
    secrets += [link.rsplit("/", 1)[1] for link in (first_link, second_link, third_link)]
    secrets += [str(key_prefix), token[4:14]]  # not even the key's first characters
    for secret in secrets:
        assert secret and secret not in text, secret
    assert "/invite/" not in text and "hub_" not in text


def test_refused_acts_write_no_line(admin: tuple[TestClient, str, int], hub: Hub) -> None:
    browser, csrf, admin_id = admin
    pim_id = make_account(hub, "partner", "pim@example.org", "Pim", PARTNER_ADDRESS)
    form = {"email": "sanne@example.org", "name": "Sanne", "role": "partner", "address": PARTNER_ADDRESS}
    for path, data in [
        ("/console/admin/accounts", form),
        (f"/console/admin/accounts/{pim_id}/reset", {}),
        (f"/console/admin/accounts/{pim_id}/disable", {}),
        ("/console/admin/keys", {"role": "admin", "name": "Scripts", "address": ""}),
        ("/console/admin/programmes", PROGRAMME),
    ]:
        for token in (None, "x" * 43):  # no CSRF token, a wrong one
            refused = browser.post(path, data={**data, **({"csrf": token} if token else {})})
            assert refused.status_code == 403 and "This form has expired" in refused.text, path
    # asking is not acting
    assert browser.get(f"/console/admin/accounts/{pim_id}/reset").status_code == 200
    assert browser.get(f"/console/admin/accounts/{pim_id}/disable").status_code == 200
    # refusals of the act itself
    assert browser.post(f"/console/admin/accounts/{admin_id}/disable", data={"csrf": csrf}).status_code == 409
    assert browser.post("/console/admin/accounts/999/disable", data={"csrf": csrf}).status_code == 404
    assert browser.post("/console/admin/accounts/999/reset", data={"csrf": csrf}).status_code == 409
    assert browser.post("/console/admin/keys/999/revoke", data={"csrf": csrf}).status_code == 404
    wrong = {**form, "address": "0x123"}
    assert browser.post("/console/admin/accounts", data={"csrf": csrf, **wrong}).status_code == 422
    bad_key = {"csrf": csrf, "role": "issuer", "name": "Hanze", "address": ""}
    assert browser.post("/console/admin/keys", data=bad_key).status_code == 422
    bad = {**PROGRAMME, "eqf_level": "9"}
    assert browser.post("/console/admin/programmes", data={"csrf": csrf, **bad}).status_code == 422
    assert lines(hub) == []
    # a programme refused by the catalogue's own check (its id is taken): the line added before it is rolled back
    assert browser.post("/console/admin/programmes", data={"csrf": csrf, **PROGRAMME}).status_code == 200
    again = browser.post("/console/admin/programmes", data={"csrf": csrf, **PROGRAMME, "name": "Anders"})
    assert again.status_code == 409
    assert [(row.act, row.subject_name) for row in lines(hub)] == [("programme-added", PROGRAMME["name"])]
    # a disabled account, asked to be reset (a link of an old page)
    assert browser.post(f"/console/admin/accounts/{pim_id}/disable", data={"csrf": csrf}).status_code == 200
    assert browser.post(f"/console/admin/accounts/{pim_id}/reset", data={"csrf": csrf}).status_code == 409
    assert [row.act for row in lines(hub)] == ["programme-added", "account-disabled"]


def test_a_sign_in_pause_writes_one_line_without_what_was_typed(hub: Hub) -> None:
    pim_id = make_account(hub, "partner", "pim@example.org", "Pim", PARTNER_ADDRESS)
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as browser:
        for _attempt in range(signin.ACCOUNT_LIMIT - 1):
            assert sign_in_form(browser, "pim@example.org", "wrong password 1").status_code == 401
        assert lines(hub) == []
        paused = sign_in_form(browser, "pim@example.org", "wrong password 1")
        assert paused.status_code == 429
        assert sign_in_form(browser, "pim@example.org", "wrong password 1").status_code == 429  # paused already
    (line,) = lines(hub)
    assert (line.act, line.actor_kind, line.actor_id, line.client_address) == (
        "signin-paused",
        "system",
        None,
        "testclient",
    )
    assert (line.subject_kind, line.subject_id, line.subject_name) == ("account", str(pim_id), "Pim <pim@example.org>")
    # an address that is no account's: the pause is logged, what was typed is not
    for _attempt in range(signin.ACCOUNT_LIMIT):
        signin.record_failure(hub.sessions, "my secret password typed as address", "198.51.100.7")
    last = lines(hub)[-1]
    assert (last.act, last.subject_id, last.subject_name, last.client_address) == (
        "signin-paused",
        None,
        "",
        "198.51.100.7",
    )
    text = stored_text(hub)
    assert "wrong password" not in text and "my secret password" not in text


def test_the_log_lists_newest_first_filters_and_pages_in_english_and_dutch(
    admin: tuple[TestClient, str, int], hub: Hub
) -> None:
    browser, csrf, _admin_id = admin
    assert "No lines yet." in browser.get("/console/admin/log").text
    pim_id = make_account(hub, "partner", "pim@example.org", "Pim", PARTNER_ADDRESS)
    browser.post(f"/console/admin/accounts/{pim_id}/reset", data={"csrf": csrf})
    browser.post("/console/admin/keys", data={"csrf": csrf, "role": "admin", "name": "Scripts", "address": ""})

    page = browser.get("/console/admin/log")
    assert page.status_code == 200 and 'aria-current="page">Audit log<' in page.text
    body = unescape(page.text)
    assert "2 lines." in body
    rows = body[body.index("<tbody>") :]
    assert rows.index("API key made") < rows.index("Password reset")  # newest first
    assert "Account " + str(pim_id) + ": Pim <pim@example.org>" in body and ADMIN_EMAIL in body
    assert "<code>testclient</code>" in page.text
    for row in lines(hub):
        assert moment_text(row.at, "en") in body  # Dutch time, labelled CET/CEST

    only_keys = browser.get("/console/admin/log?act=key-created").text
    assert "1 line." in only_keys and '<option value="key-created" selected>' in only_keys
    assert "API key made" in table(only_keys) and "Password reset" not in table(only_keys)
    only_pim = browser.get(f"/console/admin/log?account={pim_id}").text
    assert "1 line." in only_pim and f'<option value="{pim_id}" selected>' in only_pim
    assert "Password reset" in table(only_pim) and "API key made" not in table(only_pim)
    none = browser.get(f"/console/admin/log?account={pim_id}&act=key-revoked")
    assert "No lines for this filter." in none.text

    dutch = browser.get("/console/admin/log", headers={"Accept-Language": "nl"})
    assert dutch.status_code == 200 and 'lang="nl"' in dutch.text
    text = unescape(dutch.text)
    assert "Logboek" in text and "2 regels." in text
    assert "API-sleutel gemaakt" in text and "Wachtwoord opnieuw ingesteld" in text
    for row in lines(hub):
        assert moment_text(row.at, "nl") in text
    months = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    assert re.search(rf"\d{{1,2}} ({months}) \d{{4}}, \d{{2}}:\d{{2}} CES?T", text)

    # pages of audit.PAGE_SIZE, the filter kept from page to page
    with hub.sessions() as db:
        for number in range(audit.PAGE_SIZE + 5):
            audit.record(db, audit.Actor.cli(), audit.Act.KEY_CREATED, audit.Subject.key(1000 + number, f"k{number}"))
        db.commit()
    first = browser.get("/console/admin/log?act=key-created")
    assert first.text.count("<tr>") == audit.PAGE_SIZE + 1  # with the header row
    assert "k54" in first.text and "Page 1 of 2." in first.text
    assert 'href="/console/admin/log?act=key-created&amp;page=2" rel="next"' in first.text
    second = browser.get("/console/admin/log?act=key-created&page=2")
    assert second.text.count("<tr>") == 6 + 1 and "Scripts" in second.text and "Page 2 of 2." in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "Command line (" in second.text
    assert browser.get("/console/admin/log?page=999999999").status_code == 200  # the last page
    # a digit int() cannot read (str.isdigit says yes to "²") and a number beyond any id: no filter, no 500
    for query in ("page=%C2%B2", "account=%C2%B2", "account=" + "9" * 18):
        answer = browser.get(f"/console/admin/log?{query}")
        assert answer.status_code == 200 and "Audit log" in answer.text, query


def test_an_id_beyond_the_database_integers_is_no_such_account_or_key(admin: tuple[TestClient, str, int]) -> None:
    """Ids are INTEGER columns: on PostgreSQL a number past 2**31 - 1 in a query is an error of the database (it
    answered 500); the pages take it as no such account or key, and the log as no filter."""
    browser, csrf, _admin_id = admin
    beyond = str(2**31)
    for path in (f"/console/admin/accounts/{beyond}/reset", f"/console/admin/keys/{beyond}/revoke"):
        assert browser.get(path).status_code == 404, path
        assert browser.post(path, data={"csrf": csrf}).status_code == 404, path
    answer = browser.get(f"/console/admin/log?account={beyond}")
    assert answer.status_code == 200 and "Audit log" in answer.text


def test_only_an_admin_reads_the_log(hub: Hub) -> None:
    partner = make_account(hub, "partner", "p@example.org", "Pim", PARTNER_ADDRESS)
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as browser:
        answer = browser.get("/console/admin/log", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")
        sign_in(browser, hub, partner)
        assert browser.get("/console/admin/log").status_code == 403


def test_a_line_cannot_be_changed_or_deleted(hub: Hub) -> None:
    with hub.sessions() as db:
        audit.record(db, audit.Actor.cli(), audit.Act.PROGRAMME_ADDED, audit.Subject.programme("x", "X"))
        db.commit()
    with hub.sessions() as db:
        line = db.scalar(select(models.AuditEntry))
        assert line is not None
        line.subject_name = "Y"
        with pytest.raises(audit.AuditAppendOnly):
            db.commit()
    with hub.sessions() as db:
        line = db.scalar(select(models.AuditEntry))
        db.delete(line)
        with pytest.raises(audit.AuditAppendOnly):
            db.commit()
    with hub.sessions() as db:
        assert db.scalar(select(func.count()).select_from(models.AuditEntry)) == 1
        assert db.scalar(select(models.AuditEntry.subject_name)) == "X"


def test_a_programme_added_through_the_api_is_logged_with_its_key(admin: tuple[TestClient, str, int], hub: Hub) -> None:
    browser, csrf, admin_id = admin
    made = browser.post("/console/admin/keys", data={"csrf": csrf, "role": "admin", "name": "Scripts", "address": ""})
    token = shown_link(made.text, "token")
    body = DEMO_PROGRAMMES[0].as_create()
    bearer = {"Authorization": f"Bearer {token}"}
    assert browser.post("/programmes", json=body, headers=bearer).status_code == 201
    assert browser.post("/programmes", json=body, headers=bearer).status_code == 409  # taken: rolled back
    assert browser.post("/programmes", json={**body, "id": "x"}, headers=bearer).status_code == 422
    key_line, programme_line = lines(hub)
    assert key_line.act == "key-created"
    assert (programme_line.act, programme_line.actor_kind, programme_line.actor_name) == (
        "programme-added",
        "key",
        "Scripts",
    )
    assert str(programme_line.actor_id) == key_line.subject_id
    assert (programme_line.subject_id, programme_line.subject_name) == (body["id"], body["name"])
    assert token not in stored_text(hub)
    assert f"API key {key_line.subject_id} of Scripts" in unescape(browser.get("/console/admin/log").text)
    # the account filter is about people: key 1's line is not account 1's
    assert key_line.subject_id == str(admin_id)
    only_admin = table(browser.get(f"/console/admin/log?account={admin_id}").text)
    assert "API key made" in only_admin and "Programme added" not in only_admin


def test_a_pause_of_acts_after_wrong_confirmations_writes_one_line(hub: Hub) -> None:
    account_id = make_account(hub, "board", "els@example.org", "Els", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    staff = Staff(account_id, "els@example.org", "Els", StaffRole.BOARD, None, "csrf")
    answers = [act_refusal(hub, staff, "not her password") for _attempt in range(signin.ACT_LIMIT + 1)]
    assert [answer[1] for answer in answers if answer] == [403] * signin.ACT_LIMIT + [429]
    (line,) = lines(hub)
    assert (line.act, line.actor_kind, line.actor_id, line.subject_id) == (
        "acts-paused",
        "staff",
        account_id,
        str(account_id),
    )
    assert "not her password" not in stored_text(hub)


def test_an_act_whose_line_cannot_be_written_does_not_happen(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.web import acts

    admin_id = make_account(hub, "admin", ADMIN_EMAIL, "Anouk de Jong")
    pim_id = make_account(hub, "partner", "pim@example.org", "Pim", PARTNER_ADDRESS)

    def broken(*_args: Any) -> None:
        raise RuntimeError("the audit log cannot be written")

    monkeypatch.setattr(acts, "record", broken)
    form = {"email": "sanne@example.org", "name": "Sanne", "role": "partner", "address": PARTNER_ADDRESS}
    with TestClient(create_app(hub=hub), raise_server_exceptions=False) as browser:
        csrf = sign_in(browser, hub, admin_id)
        assert browser.post("/console/admin/accounts", data={"csrf": csrf, **form}).status_code == 500
        assert browser.post(f"/console/admin/accounts/{pim_id}/disable", data={"csrf": csrf}).status_code == 500
        assert browser.post(f"/console/admin/accounts/{pim_id}/reset", data={"csrf": csrf}).status_code == 500
        made = browser.post("/console/admin/keys", data={"csrf": csrf, "role": "admin", "name": "S", "address": ""})
        assert made.status_code == 500
        assert browser.post("/console/admin/programmes", data={"csrf": csrf, **PROGRAMME}).status_code == 500
    with hub.sessions() as db:
        assert db.scalar(select(func.count()).select_from(models.StaffAccount)) == 2  # no Sanne
        pim = db.get(models.StaffAccount, pim_id)
        assert pim is not None and pim.disabled_at is None and pim.password_hash == PASSWORD_HASH
        assert db.scalar(select(func.count()).select_from(models.ApiKey)) == 0
        assert db.scalar(select(func.count()).select_from(models.Programme)) == 0
    assert lines(hub) == []


def test_one_account_disabled_or_key_revoked_by_two_processes_at_once_is_logged_once(hub: Hub) -> None:
    """Two admins (two connections, as two processes) disable the same account and revoke the same key at the
    same moment: the second waits for the first's transaction and then changes nothing, so one line each (the
    second used to read the account before the first committed and log it as well)."""
    import threading

    from service import auth
    from service.web import acts

    pim_id = make_account(hub, "partner", "pim@example.org", "Pim", PARTNER_ADDRESS)
    with hub.sessions() as db:
        _token, key = auth.create_key(db, "admin", "Scripts")
        db.commit()
        key_id = key.id
    for act in (
        lambda db, by: acts.disable(db, by, pim_id),
        lambda db, by: acts.revoke_key(db, by, key_id),
    ):
        failures: list[BaseException] = []

        def second(act: Any = act, failures: list[BaseException] = failures) -> None:
            try:
                with hub.sessions() as db:
                    act(db, audit.Actor.cli())
                    db.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        with hub.sessions() as db:
            act(db, audit.Actor.staff(1, ADMIN_EMAIL, "203.0.113.5"))  # the first: its change not committed yet
            other = threading.Thread(target=second)
            other.start()
            other.join(1.0)  # the second reads, then waits for the first's lock
            db.commit()
        other.join(30)
        assert not other.is_alive() and failures == []
    assert [(row.act, row.actor_kind) for row in lines(hub)] == [
        ("account-disabled", "staff"),
        ("key-revoked", "staff"),
    ]


def test_one_address_invited_by_two_processes_at_once_is_one_account_and_a_sentence(hub: Hub) -> None:
    """Two admins invite the same e-mail address at the same moment: the second passes the check before the first
    commits, then meets the unique address; it is told "already an account" (never a 500), and one line is logged."""
    import threading

    from service.web import acts

    failures: list[BaseException] = []

    def second() -> None:
        try:
            with hub.sessions() as db:
                acts.invite(db, audit.Actor.cli(), "fenna@example.org", "Fenna", "admin")
                db.commit()
        except BaseException as exc:  # noqa: BLE001 - checked below
            failures.append(exc)

    with hub.sessions() as db:
        acts.invite(db, audit.Actor.staff(1, ADMIN_EMAIL, "203.0.113.5"), "fenna@example.org", "Fenna", "admin")
        other = threading.Thread(target=second)
        other.start()
        other.join(1.0)  # the second checks, then waits for the first's write
        db.commit()
    other.join(30)
    assert not other.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], signin.AccountProblem), failures
    assert str(failures[0]) == "Er is al een account voor fenna@example.org."  # outside a request: Dutch
    with hub.sessions() as db:
        found = db.scalars(select(models.StaffAccount).where(models.StaffAccount.email == "fenna@example.org")).all()
    assert len(found) == 1
    assert [row.act for row in lines(hub) if row.subject_name and "fenna" in row.subject_name.lower()] == [
        "account-invited"
    ]


def test_a_line_with_an_act_this_version_does_not_know_is_shown_as_written(
    admin: tuple[TestClient, str, int], hub: Hub
) -> None:
    """During a rolling deploy a newer process may write an act (or actor kind) this version lacks: the page, the
    JSON and `hub users log` show its code as written, never a 500."""
    from service.web import acts

    browser, _csrf, _admin_id = admin
    with hub.sessions() as db:
        acts.invite(db, audit.Actor.cli(), "pim@example.org", "Pim", "admin")  # a line this version knows
        db.add(
            models.AuditEntry(
                at=datetime.now(UTC),
                actor_kind="robot",
                actor_id=None,
                actor_name="nightly",
                act="account-renamed",
                subject_kind="account",
                subject_id="1",
                subject_name="Anouk de Jong",
                client_address=None,
            )
        )
        db.commit()
    page = browser.get("/console/admin/log")
    assert page.status_code == 200 and "account-renamed" in table(page.text)
    with hub.sessions() as db:
        found = audit.entries(db)
    newest = found.entries[0].as_json()
    assert (newest["act"], newest["actor"]["kind"]) == ("account-renamed", "robot")
    assert isinstance(found.entries[-1].act, audit.Act)  # known acts stay members


def test_the_service_has_no_way_to_change_or_delete_a_line() -> None:
    """Besides the mapper's guard (above): no statement of the service updates or deletes the table."""
    import service

    root = Path(service.__file__).parent
    sources = {path: path.read_text() for path in root.rglob("*.py") if "migrations" not in path.parts}
    for path, source in sources.items():
        for pattern in (r"(update|delete)\(\s*(models\.)?AuditEntry", r"(UPDATE|DELETE FROM)\s+audit_log"):
            assert not re.search(pattern, source, re.IGNORECASE), path
