"""Signing staff in, on a real anvil with the hub deployed and the app over HTTP: an invitation becomes a short
session at once (no token left in the address or the access log), the password is set (argon2id), board
members and admins enrol a TOTP app and give a code each time (accepted once), failures are throttled per
account and per client address in the database (429 + Retry-After), sessions end by signing out (here or
everywhere), by expiring, by a reset and by disabling, and every form is CSRF-checked."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
import pyotp
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service import i18n
from service.db import models
from service.db.session import make_engine, make_sessionmaker
from service.hub import Hub
from service.main import create_app
from service.web import signin
from service.web.logs import redact_holder_paths
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
    settings,
)

PARTNER_ADDRESS = "0x71bE63f3384f5fb98995898A86B02Fb2426c5788"
MEMBER_ADDRESS = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
PASSWORD = "koffie bij het station om acht"


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name} in the page"
    return unescape(found.group(1))


def invite(hub: Hub, role: str, email: str, name: str = "Sanne Bakker", address: str | None = None) -> str:
    """An account made as the admin makes it: its invitation path (/invite/<token>)."""
    with hub.sessions() as db:
        _account, token = signin.create_account(db, email, name, role, address)
        db.commit()
    return f"/invite/{token}"


def take(client: TestClient, path: str, password: str = PASSWORD) -> httpx.Response:
    """Open the invitation and set the password; the answer (a 303 onwards)."""
    opened = client.get(path, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/invite", opened.text
    form = client.get("/invite")
    assert form.status_code == 200
    return client.post(
        "/invite",
        data={"csrf": hidden(form.text, "csrf"), "password": password, "confirm": password},
        follow_redirects=False,
    )


def secret_of(hub: Hub, email: str) -> str:
    with hub.sessions() as db:
        secret = db.scalar(select(models.StaffAccount.totp_secret).where(models.StaffAccount.email == email))
    assert secret
    return secret


def sign_in_form(client: TestClient, email: str, password: str, next_path: str = "") -> httpx.Response:
    form = client.get("/signin" + (f"?next={next_path}" if next_path else ""))
    assert form.status_code == 200
    return client.post(
        "/signin",
        data={
            "form_token": hidden(form.text, "form_token"),
            "next": hidden(form.text, "next"),
            "email": email,
            "password": password,
        },
        follow_redirects=False,
    )


def give_code(client: TestClient, path: str, code: str) -> httpx.Response:
    form = client.get(path)
    assert form.status_code == 200, form.text
    return client.post(
        path.split("?")[0],
        data={"csrf": hidden(form.text, "csrf"), "next": hidden(form.text, "next"), "code": code},
        follow_redirects=False,
    )


def enrolled_board_member(client: TestClient, hub: Hub, email: str = "els@example.org") -> str:
    """A board member who took her invitation and enrolled her app: her TOTP secret (signed in on `client`)."""
    answer = take(client, invite(hub, "board", email, "Els Mulder", MEMBER_ADDRESS))
    assert answer.status_code == 303 and answer.headers["location"] == "/signin/enrol"
    assert client.get("/signin/enrol").status_code == 200  # the secret is made for the QR code
    secret = secret_of(hub, email)
    done = give_code(client, "/signin/enrol", pyotp.TOTP(secret).now())
    assert done.status_code == 303 and done.headers["location"] == "/console"
    return secret


def signed_in_as(client: TestClient) -> str | None:
    """Where /console sends this browser: the console's path, or None when it is sent to sign in."""
    answer = client.get("/console", follow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["location"]
    return None if location.startswith("/signin") else location


@pytest.fixture
def web(hub: Hub) -> Iterator[TestClient]:  # noqa: F811 - the fixture imported above
    """A browser that reads English; cookies over http (the test's public_url)."""
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as browser:
        yield browser


# ---------------------------------------------------------------- invitations


def test_partner_staff_take_the_invitation_and_are_signed_in(web: TestClient, hub: Hub) -> None:
    path = invite(hub, "partner", "Sanne@Example.org", address=PARTNER_ADDRESS)
    opened = web.get(path, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/invite"
    assert opened.headers["cache-control"] == "no-store" and opened.headers["referrer-policy"] == "no-referrer"
    form = web.get("/invite")
    assert "Sanne Bakker" in form.text and "sanne@example.org" in form.text
    csrf = hidden(form.text, "csrf")
    # refusals: no CSRF token, too short, not the same twice
    assert web.post("/invite", data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 403
    short = web.post("/invite", data={"csrf": csrf, "password": "kort", "confirm": "kort"})
    assert short.status_code == 422 and "at least 12 characters" in short.text
    other = web.post("/invite", data={"csrf": csrf, "password": PASSWORD, "confirm": PASSWORD + "!"})
    assert other.status_code == 422 and "not the same" in other.text
    assert PASSWORD not in other.text  # a password is never echoed back
    done = web.post("/invite", data={"csrf": csrf, "password": PASSWORD, "confirm": PASSWORD}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert signed_in_as(web) == "/console/partner"
    with hub.sessions() as db:
        account = db.scalar(select(models.StaffAccount))
        assert account is not None and account.password_hash and account.password_hash.startswith("$argon2id$")
        assert account.invitation_hash is None and account.password_changed_at is not None
    # the invitation works once
    again = web.get(path)
    assert again.status_code == 404 and "no longer works" in again.text


def test_an_invitation_that_expired_or_was_replaced_opens_nothing(web: TestClient, hub: Hub) -> None:
    path = invite(hub, "partner", "a@example.org", address=PARTNER_ADDRESS)
    with hub.sessions() as db:
        db.execute(update(models.StaffAccount).values(invitation_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    assert web.get(path).status_code == 404
    assert web.get("/invite/not-a-token").status_code == 404
    # an invite session whose invitation was replaced (a reset) opens nothing either
    with hub.sessions() as db:
        account_id = db.scalar(select(models.StaffAccount.id))
        assert account_id is not None
        _view, token = signin.reset_account(db, account_id)
        db.commit()
    assert web.get(f"/invite/{token}", follow_redirects=False).status_code == 303
    with hub.sessions() as db:
        signin.reset_account(db, account_id)
        db.commit()
    assert web.get("/invite").status_code == 404


# ---------------------------------------------------------------- the second factor


def test_board_member_enrols_the_app_and_a_code_is_accepted_once(web: TestClient, hub: Hub) -> None:
    answer = take(web, invite(hub, "board", "els@example.org", "Els Mulder", MEMBER_ADDRESS))
    assert answer.status_code == 303 and answer.headers["location"] == "/signin/enrol"
    assert signed_in_as(web) is None  # not before the second factor
    enrol = web.get("/signin/enrol")
    secret = secret_of(hub, "els@example.org")
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in enrol.text
    assert 'src="data:image/svg+xml' in enrol.text
    wrong = give_code(web, "/signin/enrol", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert wrong.status_code == 422 and "not right" in wrong.text
    code = pyotp.TOTP(secret).now()
    done = give_code(web, "/signin/enrol", code)
    assert done.status_code == 303 and signed_in_as(web) == "/console/board"
    # sign out, sign in again: password, then a code; the enrolment code is not accepted a second time
    web.post("/signout", data={"csrf": _console_csrf(hub, "els@example.org", web)})
    assert signed_in_as(web) is None
    step = sign_in_form(web, "els@example.org", PASSWORD)
    assert step.status_code == 303 and step.headers["location"].startswith("/signin/code")
    assert signed_in_as(web) is None
    replay = give_code(web, "/signin/code", code)
    assert replay.status_code == 401 and "used already" in replay.text
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's code (a phone a little ahead)
    done = give_code(web, "/signin/code", later)
    assert done.status_code == 303 and signed_in_as(web) == "/console/board"
    with hub.sessions() as db:
        last = db.scalar(select(models.StaffAccount.totp_last_step))
    assert last is not None and last >= int(time.time()) // 30


def test_an_enrolment_left_unfinished_too_long_needs_a_reset(web: TestClient, hub: Hub) -> None:
    answer = take(web, invite(hub, "admin", "a@example.org", "Ada"))
    assert answer.headers["location"] == "/signin/enrol"  # she leaves here, without a code app
    web.cookies.clear()
    soon = sign_in_form(web, "a@example.org", PASSWORD)  # the same week: she may still enrol
    assert soon.status_code == 303 and soon.headers["location"].startswith("/signin/enrol")
    with hub.sessions() as db:
        db.execute(
            update(models.StaffAccount).values(
                password_changed_at=datetime.now(UTC) - signin.INVITATION_LIFETIME - timedelta(minutes=1)
            )
        )
        db.commit()
    assert web.get("/signin/enrol").status_code == 401  # the step already open is refused too
    web.cookies.clear()
    late = sign_in_form(web, "a@example.org", PASSWORD)  # the password alone no longer leads anywhere
    assert late.status_code == 403 and "Ask the hub" in late.text
    assert signed_in_as(web) is None


def _console_csrf(hub: Hub, email: str, browser: TestClient) -> str:
    """The CSRF token of `browser`'s staff session (what its console pages carry)."""
    from service.web import sessions as web_sessions
    from service.web import staff as web_staff

    session = web_staff.store(hub).load(browser.cookies.get(web_sessions.COOKIE), web_staff.KIND)
    assert session is not None
    return session.csrf


def test_two_processes_cannot_both_accept_one_code(hub: Hub) -> None:
    with hub.sessions() as db:
        view, _token = signin.create_account(db, "x@example.org", "X", "admin")
        account = db.get(models.StaffAccount, view.id)
        assert account is not None
        account.totp_secret = pyotp.random_base32()
        db.commit()
        secret = account.totp_secret
    other = make_sessionmaker(make_engine(hub.settings.database_url))  # as another process of the service
    code = pyotp.TOTP(secret).now()
    with hub.sessions() as first, other() as second:
        assert signin.accept_totp(first, view.id, secret, code)
        assert not signin.accept_totp(second, view.id, secret, code)


# ---------------------------------------------------------------- refusals


def test_sign_in_form_without_its_token_is_refused(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    web.cookies.clear()
    # another site's form: no token (or a token of its own, without the cookie)
    forged = web.post("/signin", data={"email": "p@example.org", "password": PASSWORD, "form_token": "x" * 43})
    assert forged.status_code == 403 and "expired" in forged.text
    assert signed_in_as(web) is None
    right = sign_in_form(web, "p@example.org", PASSWORD)
    assert right.status_code == 303 and right.headers["location"] == "/console"


def test_sign_out_needs_the_session_token_and_ends_the_session(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    cookie = web.cookies.get("hub_session")
    assert web.post("/signout", data={"csrf": "not-it"}).status_code == 403
    assert signed_in_as(web) == "/console/partner"
    out = web.post("/signout", data={"csrf": _console_csrf(hub, "p@example.org", web)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signin?signed_out=1"
    web.cookies.set("hub_session", cookie or "")  # the old cookie, kept by someone: opens nothing
    assert signed_in_as(web) is None
    assert "You are signed out." in web.get("/signin?signed_out=1").text


def test_sign_out_everywhere_ends_every_browser(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as laptop:
        assert sign_in_form(laptop, "p@example.org", PASSWORD).status_code == 303
        assert signed_in_as(laptop) == "/console/partner"
        assert laptop.post("/signout-everywhere", data={"csrf": "wrong"}).status_code == 403
        assert signed_in_as(web) == "/console/partner"
        everywhere = laptop.post("/signout-everywhere", data={"csrf": _console_csrf(hub, "", laptop)})
        assert everywhere.status_code == 200 and "signed out in every browser" in everywhere.text
        assert signed_in_as(laptop) is None
    assert signed_in_as(web) is None


def test_an_expired_session_is_sent_to_sign_in(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    assert signed_in_as(web) == "/console/partner"
    with hub.sessions() as db:
        db.execute(
            update(models.WebSession)
            .where(models.WebSession.kind == "staff")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.commit()
    answer = web.get("/console/admin", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=%2Fconsole%2Fadmin"


def test_a_reset_ends_every_session_and_the_old_password(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    with hub.sessions() as db:
        account_id = db.scalar(select(models.StaffAccount.id))
        assert account_id is not None
        _view, token = signin.reset_account(db, account_id)
        db.commit()
    assert signed_in_as(web) is None
    assert sign_in_form(web, "p@example.org", PASSWORD).status_code == 401
    new = "een nieuw wachtwoord van mij"
    assert take(web, f"/invite/{token}", new).status_code == 303
    assert signed_in_as(web) == "/console/partner"


def test_a_disabled_account_cannot_sign_in(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    with hub.sessions() as db:
        account_id = db.scalar(select(models.StaffAccount.id))
        assert account_id is not None
        signin.disable_account(db, account_id)
        db.commit()
    assert signed_in_as(web) is None
    refused = sign_in_form(web, "p@example.org", PASSWORD)
    assert refused.status_code == 403 and "disabled" in refused.text
    assert signed_in_as(web) is None
    # a wrong password tells nothing about the account
    assert "not right" in sign_in_form(web, "p@example.org", "something else entirely").text


def test_repeated_failures_lock_the_account_with_retry_after(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    web.cookies.clear()
    for _attempt in range(signin.ACCOUNT_LIMIT - 1):
        assert sign_in_form(web, "p@example.org", "a wrong password").status_code == 401
    locked = sign_in_form(web, "p@example.org", "a wrong password")
    assert locked.status_code == 429
    assert 14 * 60 <= int(locked.headers["retry-after"]) <= 15 * 60 + 1
    assert "try again in 15 minutes" in locked.text
    # even the right password waits: guessing gains nothing by luck
    right = sign_in_form(web, "p@example.org", PASSWORD)
    assert right.status_code == 429 and signed_in_as(web) is None
    # an admin's reset lifts the account's pause (with a new invitation)
    with hub.sessions() as db:
        account_id = db.scalar(select(models.StaffAccount.id))
        assert account_id is not None
        _view, token = signin.reset_account(db, account_id)
        db.commit()
    assert take(web, f"/invite/{token}", PASSWORD + " opnieuw").status_code == 303
    web.cookies.clear()
    for _attempt in range(signin.ACCOUNT_LIMIT):
        sign_in_form(web, "p@example.org", "a wrong password")
    assert sign_in_form(web, "p@example.org", PASSWORD + " opnieuw").status_code == 429
    # the lock ends
    with hub.sessions() as db:
        db.execute(update(models.SigninThrottle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    assert sign_in_form(web, "p@example.org", PASSWORD + " opnieuw").status_code == 303


def test_failures_from_one_address_lock_it_for_every_account(web: TestClient, hub: Hub) -> None:
    other = make_sessionmaker(make_engine(hub.settings.database_url))  # failures counted by another process
    for number in range(signin.ADDRESS_LIMIT - 1):
        assert signin.record_failure(other, f"guess{number}@example.org", "testclient") == 0
    locked = sign_in_form(web, "someone.new@example.org", "password guess")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert sign_in_form(web, "another@example.org", "password guess").status_code == 429


def test_wrong_codes_are_throttled_too(web: TestClient, hub: Hub) -> None:
    secret = enrolled_board_member(web, hub)
    web.cookies.clear()
    step = sign_in_form(web, "els@example.org", PASSWORD)
    wrong = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    answers = [give_code(web, step.headers["location"], wrong).status_code for _ in range(signin.ACCOUNT_LIMIT)]
    assert answers == [401] * (signin.ACCOUNT_LIMIT - 1) + [429]
    right = give_code(web, step.headers["location"], pyotp.TOTP(secret).at(time.time() + 30))
    assert right.status_code == 429 and "retry-after" in right.headers


def test_the_address_to_go_back_to_stays_on_this_site(web: TestClient, hub: Hub) -> None:
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    web.cookies.clear()
    inside = sign_in_form(web, "p@example.org", PASSWORD, "%2Fconsole%2Fpartner%3Fpage%3D2")
    assert inside.headers["location"] == "/console/partner?page=2"
    web.cookies.clear()
    for outside in ("%2F%2Fevil.example", "https%3A%2F%2Fevil.example", "%2F%5Cevil.example"):
        answer = sign_in_form(web, "p@example.org", PASSWORD, outside)
        assert answer.headers["location"] == "/console", outside
        web.cookies.clear()


def test_the_sign_in_pages_speak_dutch(hub: Hub) -> None:
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "nl"}) as dutch:
        page = dutch.get("/signin")
        assert page.status_code == 200 and 'lang="nl"' in page.text and "Inloggen" in page.text
        assert "E-mailadres" in page.text and "Wachtwoord" in page.text
        wrong = sign_in_form(dutch, "niemand@example.org", "een fout wachtwoord")
        assert wrong.status_code == 401 and "klopt niet" in wrong.text


# ---------------------------------------------------------------- logs


def test_passwords_and_invitations_never_reach_the_logs(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    assert redact_holder_paths('"GET /invite/abcDEF123_-xyz HTTP/1.1" 303') == '"GET /invite/… HTTP/1.1" 303'
    assert redact_holder_paths('"POST /invite HTTP/1.1" 303') == '"POST /invite HTTP/1.1" 303'
    path = invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS)
    token = path.rsplit("/", 1)[1]
    app = create_app(hub=hub)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="debug", access_log=True))
    caplog.set_level(logging.DEBUG)
    access: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            access.append(record.getMessage())

    collect = Collect()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        logging.getLogger("uvicorn.access").addHandler(collect)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, follow_redirects=False) as http:
            assert http.get(path).status_code == 303
            form = http.get("/invite")
            http.post("/invite", data={"csrf": hidden(form.text, "csrf"), "password": PASSWORD, "confirm": PASSWORD})
            http.cookies.clear()
            signin_form = http.get("/signin")
            for password in (PASSWORD + " wrong", PASSWORD):
                http.post(
                    "/signin",
                    data={
                        "form_token": hidden(signin_form.text, "form_token"),
                        "next": "/console",
                        "email": "p@example.org",
                        "password": password,
                    },
                )
    finally:
        logging.getLogger("uvicorn.access").removeHandler(collect)
        server.should_exit = True
        thread.join(10)
        sock.close()
    # what the service wrote: its own loggers and uvicorn's access log (not the test's HTTP client's)
    written = "\n".join(
        [record.getMessage() for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))] + access
    )
    assert '"GET /invite/… HTTP/1.1" 303' in written and '"POST /signin HTTP/1.1" 303' in written, written
    assert '"POST /signin HTTP/1.1" 401' in written
    assert token not in written and PASSWORD not in written and "koffie" not in written


def test_an_outsider_cannot_lock_a_person_out(web: TestClient, hub: Hub) -> None:
    """Wrong passwords typed for someone else's e-mail address from another address pause that address, not the
    person: she still signs in from her own (failures from many addresses together pause the account only at
    ACCOUNT_ALL_LIMIT)."""
    take(web, invite(hub, "partner", "p@example.org", address=PARTNER_ADDRESS))
    web.cookies.clear()
    other = make_sessionmaker(make_engine(hub.settings.database_url))
    for _attempt in range(signin.ACCOUNT_LIMIT + 2):  # the outsider, from elsewhere, is paused there
        signin.record_failure(other, "p@example.org", "203.0.113.7")
    assert signin.locked_for(other, "p@example.org", "203.0.113.7") > 0
    assert sign_in_form(web, "p@example.org", PASSWORD).status_code == 303  # she is not
    web.cookies.clear()
    for number in range(signin.ACCOUNT_ALL_LIMIT):  # guessing spread over many addresses does pause the account
        signin.record_failure(other, "p@example.org", f"198.51.100.{number}")
    assert sign_in_form(web, "p@example.org", PASSWORD).status_code == 429


def test_failed_sign_ins_by_others_never_block_a_signed_in_persons_act(hub: Hub) -> None:
    """The password confirming an act has its own counter: an outsider's wrong passwords at the sign-in page do
    not stop a signed-in member from voting; her own wrong confirmations pause her acts."""
    other = make_sessionmaker(make_engine(hub.settings.database_url))
    for number in range(signin.ACCOUNT_ALL_LIMIT + 5):
        signin.record_failure(other, "member@example.org", f"198.51.100.{number}")
    assert signin.locked(other, signin.act_keys(7)) == 0
    for _attempt in range(signin.ACT_LIMIT - 1):
        assert signin.record(other, signin.act_keys(7)) == 0
    assert signin.record(other, signin.act_keys(7)) > 0
    assert signin.locked(other, signin.act_keys(8)) == 0  # another person's acts are not paused


def test_one_account_per_board_seat(hub: Hub) -> None:
    """A board seat votes through one person: a second (enabled) account for the same member address is refused;
    once the first is disabled, the seat may get a new one."""
    member = "0x" + "ab" * 20
    with i18n.use("en"), hub.sessions() as db:
        first, _token = signin.create_account(db, "els@example.org", "Els", "board", member)
        db.commit()
        with pytest.raises(signin.AccountProblem, match="already an account for the board seat"):
            signin.create_account(db, "iemand@example.org", "Iemand", "board", member)
        db.rollback()
        signin.disable_account(db, first.id)
        db.commit()
        signin.create_account(db, "iemand@example.org", "Iemand", "board", member)
        db.commit()


def test_a_right_confirmation_starts_the_act_counter_again(hub: Hub) -> None:
    """Acts pause after five wrong passwords in a row, not five ever: a right one in between starts again."""
    sessions = make_sessionmaker(make_engine(hub.settings.database_url))
    counters = signin.act_keys(11)
    for _attempt in range(signin.ACT_LIMIT - 1):
        assert signin.record(sessions, counters) == 0
    signin.clear(sessions, [key for key, _limit in counters])
    for _attempt in range(signin.ACT_LIMIT - 1):
        assert signin.record(sessions, counters) == 0
    assert signin.record(sessions, counters) > 0
