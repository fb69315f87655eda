"""What every console page shares: who may open it, its layout, and the CSRF check of its forms.

    staff = require_staff(request, hub, StaffRole.PARTNER)
    if isinstance(staff, Response):
        return staff                      # 303 to /signin?next=..., or a 403 page for another role
    ...
    form = await request.form()
    if not form_is_genuine(staff, form):  # the session's CSRF token, on every form
        return expired_form(request)
    return console_page(request, "partner_batches.html", staff, {...})

Console pages are private (no-store, noindex), server-rendered, and work without script; they extend
`console_base.html` (the console's own navigation for the role, the signed-in name, sign out).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import Scope

from service import i18n
from service.db import models
from service.hub import Hub
from service.i18n import _
from service.pages.routes import page
from service.web import audit, signin
from service.web import sessions as web_sessions
from service.web.staff import Staff, StaffRole, current_staff

SIGN_IN = "/signin"
HOME = {StaffRole.PARTNER: "/console/partner", StaffRole.BOARD: "/console/board", StaffRole.ADMIN: "/console/admin"}


def require_staff(request: Request, hub: Hub, *roles: StaffRole) -> Staff | Response:
    """The signed-in person when their role is one of `roles` (any role when none given); else the answer to
    give: a 303 to the sign-in page (coming back here after), or a 403 page for a person of another role."""
    staff = current_staff(request, hub)
    if staff is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{SIGN_IN}?next={quote(target, safe='')}", status_code=303)
    if roles and staff.role not in roles:
        return console_page(
            request,
            "console_message.html",
            staff,
            {
                "title": _("This page is not for your account"),
                "message": _("Your account cannot open this page. Go to your own console."),
            },
            status=403,
        )
    return staff


def form_is_genuine(staff: Staff, form: FormData) -> bool:
    """Whether the form carries this session's CSRF token."""
    submitted = form.get(web_sessions.CSRF_FIELD)
    return isinstance(submitted, str) and hmac.compare_digest(submitted.encode(), staff.csrf.encode())


def console_page(
    request: Request,
    template: str,
    staff: Staff | None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """A console page: private, with the person, their console's home and the form's CSRF token."""
    base = {
        "staff": staff,
        "console_home": HOME[staff.role] if staff else SIGN_IN,
        "csrf": staff.csrf if staff else "",
        "csrf_field": web_sessions.CSRF_FIELD,
        "nav": "console",
    }
    return page(request, template, {**base, **(context or {})}, status=status, private=True)


def expired_form(request: Request, staff: Staff | None = None) -> HTMLResponse:
    """The answer to a form without its session's CSRF token (403): nothing was done."""
    return console_page(
        request,
        "console_message.html",
        staff,
        {
            "title": _("This form has expired"),
            "message": _("Nothing was changed. Go back, reload the page and try again."),
        },
        status=403,
    )


def act_refusal(hub: Hub, staff: Staff, password: str) -> tuple[str, int] | None:
    """None when `password` is the signed-in person's own (argon2id), which unlocks their key for one act; else the
    sentence to show and the status (403 a wrong password, 429 paused).

    Wrong confirmations are counted for the person (service.web.signin.act_keys): five in a row within a quarter of
    an hour pause their acts for a quarter of an hour (a line in the audit log). Failed sign-ins by anyone else do
    not count here."""
    counters = signin.act_keys(staff.account_id)  # its own counter: others' failed sign-ins never block an act
    wait = signin.locked(hub.sessions, counters)
    if wait:
        minutes = max(1, -(-wait // 60))
        return _(
            "Too many wrong passwords. Nothing was signed; try again in %(minutes)s minutes.", minutes=minutes
        ), 429
    with hub.sessions() as db:
        account = db.get(models.StaffAccount, staff.account_id)
        stored = account.password_hash if account is not None else None
    if password and signin.verify_password(stored, password):
        signin.clear(hub.sessions, [key for key, _limit in counters])  # five wrong in a row pause, not five ever
        return None
    by = audit.Actor.staff(staff.account_id, staff.email, staff.client_address)
    subject = audit.Subject.account(staff.account_id, staff.name, staff.email)
    signin.record(hub.sessions, counters, on_pause=lambda db: audit.record(db, by, audit.Act.ACTS_PAUSED, subject))
    return _("That is not your password. Nothing was signed; try again."), 403


def too_large(scope: Scope, limit: int) -> Response | None:
    """The page for a console form whose body is over the service's limit (problems.BodyLimit refuses it before
    any route reads it): a readable 413 in the reader's language. None for anything else (the API's problem+json)."""
    path = str(scope.get("path", ""))
    headers = dict(scope.get("headers", []))
    media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if not path.startswith("/console/") or media not in (b"multipart/form-data", b"application/x-www-form-urlencoded"):
        return None
    return console_page(
        Request(scope),
        "console_message.html",
        None,
        {
            "title": _("This file is too large"),
            "message": _(
                "Nothing was sent. A form here takes at most %(size)s MB: split the file and try again.",
                size=i18n.number(round(limit / 1_000_000, 1)),
            ),
        },
        status=413,
    )
