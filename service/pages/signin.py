"""Signing in to the consoles: partner staff, board members and admins.

    GET  /signin                 e-mail address and password (?next=/console/...: where to go after)
    POST /signin                 ... right: partner staff are signed in; board and admin go on to the code
    GET  /signin/code            the TOTP code of the person's app (board, admin)
    POST /signin/code            ... right and not used before: signed in
    GET  /signin/enrol           board and admin without a second factor yet: the QR code for their app
    POST /signin/enrol           ... the first code from the app: enrolled and signed in
    GET  /invite/{token}         the invitation link: opens a short session, 303 to /invite (no token left)
    GET  /invite                 set your password
    POST /invite                 ... set: partner staff are signed in; board and admin enrol their second factor
    POST /signout                end this session
    POST /signout-everywhere     end every session of the account (every browser)
    GET  /console                to the signed-in person's own console

The steps between the password and the staff session (invite → password, password → code, password →
enrolment) are short sessions of their own kind (service.web.signin.PENDING_KINDS, ten minutes) in the same
cookie; only the last step makes the staff session (service.web.staff.start_session). The sign-in form itself
has no session yet: its CSRF token is a double-submit cookie (`hub_signin`), so another site cannot sign a
browser in to an account of its choosing.

Failed attempts (password or code) are throttled per account and per client address (service.web.signin):
429 with Retry-After and a sentence saying how long to wait. A password is never logged nor echoed back.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from urllib.parse import quote

import segno
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from service.api.deps import HubDep
from service.db import models
from service.hub import Hub
from service.i18n import _, ngettext
from service.pages.console import HOME, require_staff
from service.pages.routes import page
from service.web import sessions as web_sessions
from service.web import signin
from service.web import staff as web_staff
from service.web.staff import SECOND_FACTOR_ROLES, StaffRole

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FORM_COOKIE = "hub_signin"
SECURE_FORM_COOKIE = "__Host-hub_signin"
CONSOLE = "/console"


# ---------------------------------------------------------------- shared parts


def _pending_store(hub: Hub) -> web_sessions.SessionStore:
    return web_sessions.SessionStore(hub.sessions, signin.PENDING_LIFETIME)


def _cookie_id(request: Request, hub: Hub) -> str | None:
    return web_sessions.session_id(request, web_staff.secure(hub))


def _pending(request: Request, hub: Hub, kind: str) -> web_sessions.WebSession | None:
    return _pending_store(hub).load(_cookie_id(request, hub), kind)


def _safe_next(value: object) -> str:
    """Where to go after signing in: a path on this site only (never //host or /\\host), else /console."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and len(value) < 500
        and all(32 < ord(char) < 127 for char in value)
    ):
        return value
    return CONSOLE


async def _form(request: Request) -> FormData | None:
    try:
        return await request.form(max_files=0, max_fields=10, max_part_size=4_000)
    except Exception:  # noqa: BLE001 - starlette's parser raises several types for a body it cannot read
        return None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _message(
    request: Request, title: str, message: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    response = page(request, "signin_message.html", {"title": title, "message": message}, status=status, private=True)
    response.headers.update(headers or {})
    return response


def _expired(request: Request) -> Response:
    return _message(
        request,
        _("This form has expired"),
        _("Nothing was changed. Go back, reload the page and try again."),
        403,
    )


def _wait_text(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many attempts that were not right. For your safety, signing in is paused: try again in %(num)s minute.",
        "Too many attempts that were not right. For your safety, signing in is paused: try again in %(num)s minutes.",
        minutes,
    )


def _signed_in(hub: Hub, account_id: int, target: str) -> Response:
    """The whole sign-in succeeded: a staff session, and on to `target`."""
    session_id = web_staff.start_session(hub, account_id)
    response = RedirectResponse(target, status_code=303)
    web_sessions.set_cookie(response, session_id, web_staff.secure(hub))
    return response


def _to_step(hub: Hub, kind: str, account_id: int, path: str) -> Response:
    session_id, _session = _pending_store(hub).create(kind, str(account_id))
    response = RedirectResponse(path, status_code=303)
    web_sessions.set_cookie(response, session_id, web_staff.secure(hub), signin.PENDING_LIFETIME)
    return response


def _end_pending(request: Request, hub: Hub) -> None:
    _pending_store(hub).end(_cookie_id(request, hub))


# ---------------------------------------------------------------- e-mail and password


def _form_cookie(hub: Hub) -> str:
    return SECURE_FORM_COOKIE if web_staff.secure(hub) else FORM_COOKIE


def _signin_page(
    request: Request,
    hub: Hub,
    *,
    target: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
    wait: int = 0,
) -> Response:
    token = request.cookies.get(_form_cookie(hub)) or ""
    if len(token) != 43:
        token = secrets.token_urlsafe(32)
    notice = {
        "1": _("You are signed out."),
        "all": _("You are signed out in every browser."),
    }.get(request.query_params.get("signed_out", ""))
    response = page(
        request,
        "signin.html",
        {"next": target, "email": email, "error": error, "form_token": token, "notice": notice, "nav": "signin"},
        status=status,
        private=True,
    )
    response.set_cookie(
        _form_cookie(hub), token, max_age=3600, path="/", secure=web_staff.secure(hub), httponly=True, samesite="strict"
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


def _throttled(request: Request, hub: Hub, target: str, email: str, wait: int) -> Response:
    return _signin_page(request, hub, target=target, email=email, error=_wait_text(wait), status=429, wait=wait)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, hub: HubDep) -> Response:
    target = _safe_next(request.query_params.get("next"))
    if web_staff.current_staff(request, hub) is not None:
        return RedirectResponse(target, status_code=303)
    return _signin_page(request, hub, target=target)


@router.post("/signin", response_class=HTMLResponse)
async def signin_submit(request: Request, hub: HubDep) -> Response:
    form = await _form(request)
    if form is None:
        return _expired(request)

    def act() -> Response:  # blocking: chain, database, argon2: in a worker thread
        token = request.cookies.get(_form_cookie(hub)) or ""
        submitted = _text(form, "form_token")
        if not token or not hmac.compare_digest(submitted.encode(), token.encode()):
            return _expired(request)
        target = _safe_next(form.get("next"))
        email = _text(form, "email").strip().lower()[:254]
        password = _text(form, "password")
        address = _address(request)
        wait = signin.locked_for(hub.sessions, email, address)
        if wait:
            log.info("sign-in refused: throttled")
            return _throttled(request, hub, target, email, wait)
        with hub.sessions() as db:
            account = (
                db.scalar(select(models.StaffAccount).where(models.StaffAccount.email == email)) if email else None
            )
            right = signin.verify_password(account.password_hash if account else None, password)
            if right and account is not None and account.password_hash and signin.needs_rehash(account.password_hash):
                account.password_hash = signin.hash_password(password)
                db.commit()
            found = (
                (account.id, StaffRole(account.role), account.disabled_at, account.totp_enabled_at) if account else None
            )
            may_enrol = account is not None and signin.may_enrol_after_password(account)
        if not right or found is None:
            wait = signin.record_failure(hub.sessions, email, address)
            log.info("sign-in failed: wrong e-mail address or password")
            if wait:
                return _throttled(request, hub, target, email, wait)
            return _signin_page(
                request,
                hub,
                target=target,
                email=email,
                error=_("The e-mail address or the password is not right. Check both and try again."),
                status=401,
            )
        account_id, role, disabled_at, totp_enabled_at = found
        if disabled_at is not None:
            return _disabled(request)
        if role in SECOND_FACTOR_ROLES:
            if totp_enabled_at is None and not may_enrol:
                return _message(
                    request,
                    _("Your account was never finished"),
                    _(
                        "You set your password but not your code app, and that was too long ago to do it now. Ask "
                        "the hub's admin to reset your account: you get a new invitation link."
                    ),
                    403,
                )
            kind, path = (
                (signin.ENROL_KIND, "/signin/enrol") if totp_enabled_at is None else (signin.CODE_KIND, "/signin/code")
            )
            return _to_step(hub, kind, account_id, f"{path}?next={quote(target, safe='')}")
        signin.clear_failures(hub.sessions, email, address)
        return _signed_in(hub, account_id, target)

    return await run_in_threadpool(act)


def _address(request: Request) -> str:
    return signin.client_address(request.client.host if request.client else None)


def _disabled(request: Request) -> Response:
    return _message(
        request,
        _("This account is disabled"),
        _("You can no longer sign in with this account. Ask the hub's admin if you think this is a mistake."),
        403,
    )


def _step_expired(request: Request) -> Response:
    return _message(
        request,
        _("Sign in again"),
        _(
            "This step of signing in has expired or was already done. Sign in again with your e-mail address and "
            "password."
        ),
        401,
    )


# ---------------------------------------------------------------- the code of the app (board, admin)


def _code_page(
    request: Request,
    session: web_sessions.WebSession,
    target: str,
    *,
    error: str | None = None,
    status: int = 200,
    wait: int = 0,
) -> Response:
    response = page(
        request,
        "signin_code.html",
        {"next": target, "csrf": session.csrf, "csrf_field": web_sessions.CSRF_FIELD, "error": error, "nav": "signin"},
        status=status,
        private=True,
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


@router.get("/signin/code", response_class=HTMLResponse)
def code_form(request: Request, hub: HubDep) -> Response:
    session = _pending(request, hub, signin.CODE_KIND)
    if session is None:
        return _step_expired(request)
    return _code_page(request, session, _safe_next(request.query_params.get("next")))


async def _checked_step(
    request: Request, hub: HubDep, kind: str
) -> tuple[web_sessions.WebSession, FormData] | Response:
    session = _pending(request, hub, kind)
    if session is None:
        return _step_expired(request)
    form = await _form(request)
    if form is None or not web_sessions.check_csrf(session, form.get(web_sessions.CSRF_FIELD)):
        return _expired(request)
    return session, form


def _account(hub: Hub, session: web_sessions.WebSession) -> models.StaffAccount | None:
    with hub.sessions() as db:
        account = db.get(models.StaffAccount, int(session.subject))
        if account is not None:
            db.expunge(account)
        return account


@router.post("/signin/code", response_class=HTMLResponse)
async def code_submit(request: Request, hub: HubDep) -> Response:
    checked = await _checked_step(request, hub, signin.CODE_KIND)
    if isinstance(checked, Response):
        return checked
    session, form = checked

    def act() -> Response:  # blocking: chain, database, argon2: in a worker thread
        target = _safe_next(form.get("next"))
        account = _account(hub, session)
        if account is None or account.password_hash is None or account.totp_secret is None:
            return _step_expired(request)
        if account.disabled_at is not None:
            return _disabled(request)
        address = _address(request)
        wait = signin.locked_for(hub.sessions, account.email, address)
        if wait:
            return _code_page(request, session, target, error=_wait_text(wait), status=429, wait=wait)
        with hub.sessions() as db:
            accepted = signin.accept_totp(db, account.id, account.totp_secret, _text(form, "code"))
        if not accepted:
            wait = signin.record_failure(hub.sessions, account.email, address)
            log.info("sign-in failed: wrong or reused code")
            if wait:
                return _code_page(request, session, target, error=_wait_text(wait), status=429, wait=wait)
            return _code_page(
                request,
                session,
                target,
                error=_(
                    "This code is not right, or it was used already. Type the 6 digits your app shows now; "
                    "if you just used a code, wait for the next one."
                ),
                status=401,
            )
        _end_pending(request, hub)
        signin.clear_failures(hub.sessions, account.email, address)
        return _signed_in(hub, account.id, target)

    return await run_in_threadpool(act)


# ---------------------------------------------------------------- enrolling the second factor (board, admin)


def _enrol_page(
    request: Request,
    session: web_sessions.WebSession,
    account: models.StaffAccount,
    target: str,
    *,
    error: str | None = None,
    status: int = 200,
    wait: int = 0,
) -> Response:
    assert account.totp_secret is not None
    uri = signin.totp_uri(account.totp_secret, account.email)
    secret = " ".join(account.totp_secret[i : i + 4] for i in range(0, len(account.totp_secret), 4))
    response = page(
        request,
        "signin_enrol.html",
        {
            "next": target,
            "csrf": session.csrf,
            "csrf_field": web_sessions.CSRF_FIELD,
            "error": error,
            "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=4),
            "secret": secret,
            "nav": "signin",
        },
        status=status,
        private=True,
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


def _enrolling(hub: Hub, session: web_sessions.WebSession) -> models.StaffAccount | None:
    """The account enrolling its second factor (a secret made for it now if it has none); None if it may not."""
    with hub.sessions() as db:
        account = db.get(models.StaffAccount, int(session.subject))
        if account is None or account.password_hash is None or account.disabled_at is not None:
            return None
        if account.totp_enabled_at is not None or StaffRole(account.role) not in SECOND_FACTOR_ROLES:
            return None
        if not signin.may_enrol_after_password(account):
            return None
        if account.totp_secret is None:
            account.totp_secret = signin.new_totp_secret()
            db.commit()
        db.refresh(account)
        db.expunge(account)
        return account


@router.get("/signin/enrol", response_class=HTMLResponse)
def enrol_form(request: Request, hub: HubDep) -> Response:
    session = _pending(request, hub, signin.ENROL_KIND)
    account = _enrolling(hub, session) if session else None
    if session is None or account is None:
        return _step_expired(request)
    return _enrol_page(request, session, account, _safe_next(request.query_params.get("next")))


@router.post("/signin/enrol", response_class=HTMLResponse)
async def enrol_submit(request: Request, hub: HubDep) -> Response:
    checked = await _checked_step(request, hub, signin.ENROL_KIND)
    if isinstance(checked, Response):
        return checked
    session, form = checked

    def act() -> Response:  # blocking: chain, database, argon2: in a worker thread
        target = _safe_next(form.get("next"))
        account = _enrolling(hub, session)
        if account is None or account.totp_secret is None:
            return _step_expired(request)
        address = _address(request)
        wait = signin.locked_for(hub.sessions, account.email, address)
        if wait:
            return _enrol_page(request, session, account, target, error=_wait_text(wait), status=429, wait=wait)
        with hub.sessions() as db:
            accepted = signin.accept_totp(db, account.id, account.totp_secret, _text(form, "code"))
            if accepted:
                row = db.get(models.StaffAccount, account.id)
                assert row is not None
                row.totp_enabled_at = signin.utcnow()
                db.commit()
        if not accepted:
            signin.record_failure(hub.sessions, account.email, address)
            return _enrol_page(
                request,
                session,
                account,
                target,
                error=_("This code is not right. Type the 6 digits your app shows now for the IT Hub Hoogeveen."),
                status=422,
            )
        _end_pending(request, hub)
        signin.clear_failures(hub.sessions, account.email, address)
        return _signed_in(hub, account.id, target)

    return await run_in_threadpool(act)


# ---------------------------------------------------------------- the invitation


def _invitation_gone(request: Request) -> Response:
    return _message(
        request,
        _("This invitation link no longer works"),
        _(
            "It was used already, it expired, or the admin made a new one. Ask the hub's admin for a new "
            "invitation link; if you set your password already, sign in."
        ),
        404,
    )


@router.get("/invite/{token}", response_class=HTMLResponse)
def take_invitation(token: str, request: Request, hub: HubDep) -> Response:
    """The invitation link: exchanged at once for a short session; the answer's address has no token."""
    with hub.sessions() as db:
        account = signin.take_invitation(db, token)
        account_id = account.id if account else None
    if account_id is None:
        return _invitation_gone(request)
    response = _to_step(hub, signin.INVITE_KIND, account_id, "/invite")
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


def _invited(hub: Hub, session: web_sessions.WebSession) -> models.StaffAccount | None:
    """The account of an invite session whose invitation is still live (not taken, reset or disabled since)."""
    with hub.sessions() as db:
        account = db.get(models.StaffAccount, int(session.subject))
        if account is None or account.disabled_at is not None or account.invitation_hash is None:
            return None
        expires = signin.aware(account.invitation_expires_at)
        if expires is None or expires <= signin.utcnow():
            return None
        db.expunge(account)
        return account


def _invite_page(
    request: Request,
    session: web_sessions.WebSession,
    account: models.StaffAccount,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "signin_invite.html",
        {
            "account": account,
            "second_factor": StaffRole(account.role) in SECOND_FACTOR_ROLES,
            "csrf": session.csrf,
            "csrf_field": web_sessions.CSRF_FIELD,
            "error": error,
            "password_min": signin.PASSWORD_MIN,
            "password_max": signin.PASSWORD_MAX,
            "nav": "signin",
        },
        status=status,
        private=True,
    )


@router.get("/invite", response_class=HTMLResponse)
def invite_form(request: Request, hub: HubDep) -> Response:
    session = _pending(request, hub, signin.INVITE_KIND)
    account = _invited(hub, session) if session else None
    if session is None or account is None:
        return _invitation_gone(request)
    return _invite_page(request, session, account)


@router.post("/invite", response_class=HTMLResponse)
async def invite_submit(request: Request, hub: HubDep) -> Response:
    checked = await _checked_step(request, hub, signin.INVITE_KIND)
    if isinstance(checked, Response):
        return checked
    session, form = checked

    def act() -> Response:  # blocking: chain, database, argon2: in a worker thread
        account = _invited(hub, session)
        if account is None:
            return _invitation_gone(request)
        password = _text(form, "password")
        problem = signin.password_problem(password, account.email)
        if problem is None and password != _text(form, "confirm"):
            problem = _("The two passwords are not the same. Type the same password twice.")
        if problem is not None:
            return _invite_page(request, session, account, error=problem, status=422)
        password_hash = signin.hash_password(password)
        with hub.sessions() as db:
            row = db.get(models.StaffAccount, account.id)
            assert row is not None
            row.password_hash = password_hash
            row.password_changed_at = signin.utcnow()
            row.invitation_hash = None
            row.invitation_expires_at = None
            db.commit()
        _end_pending(request, hub)
        if StaffRole(account.role) in SECOND_FACTOR_ROLES:
            return _to_step(hub, signin.ENROL_KIND, account.id, "/signin/enrol")
        return _signed_in(hub, account.id, CONSOLE)

    return await run_in_threadpool(act)


# ---------------------------------------------------------------- signing out, the console's door


async def _signing_out(request: Request, hub: Hub) -> web_staff.Staff | Response:
    staff = web_staff.current_staff(request, hub)
    if staff is None:
        return RedirectResponse("/signin", status_code=303)
    form = await _form(request)
    if form is None or not web_sessions.check_csrf(
        web_sessions.WebSession(web_staff.KIND, str(staff.account_id), staff.csrf, signin.utcnow()),
        form.get(web_sessions.CSRF_FIELD),
    ):
        return _expired(request)
    return staff


def _gone_to_signin(hub: Hub, which: str) -> Response:
    response = RedirectResponse(f"/signin?signed_out={which}", status_code=303)
    web_sessions.clear_cookie(response, web_staff.secure(hub))
    return response


@router.post("/signout")
async def signout(request: Request, hub: HubDep) -> Response:
    staff = await _signing_out(request, hub)
    if isinstance(staff, Response):
        return staff
    web_staff.store(hub).end(_cookie_id(request, hub))
    return _gone_to_signin(hub, "1")


@router.post("/signout-everywhere")
async def signout_everywhere(request: Request, hub: HubDep) -> Response:
    staff = await _signing_out(request, hub)
    if isinstance(staff, Response):
        return staff
    with hub.sessions() as db:
        signin.end_sessions(db, staff.account_id)
        db.commit()
    return _gone_to_signin(hub, "all")


@router.get("/console")
def console(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub)
    if isinstance(staff, Response):
        return staff
    return RedirectResponse(HOME[staff.role], status_code=303)
