"""Who is signed in to a console: partner staff, a board member or an admin (a `StaffAccount`).

A staff session is a web session (service.web.sessions) of kind "staff" whose subject is the account's id. It
is made only when the whole sign-in succeeded (password, and the second factor for board members and
admins: service.web.signin). `current_staff` reads it back on each request and refuses a session whose
account was disabled, or whose password changed after the session began (a reset signs out everywhere).

Consoles act through the same service functions as the API: `Staff.principal` is the API's Principal for the
account (partner → issuer, board → member, admin → admin), with the account's issuer or member address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from starlette.requests import Request

from service.auth import Principal, Role
from service.db import models
from service.hub import Hub
from service.web import sessions as web_sessions

KIND = "staff"


class StaffRole(StrEnum):
    PARTNER = "partner"  # staff of an issuing partner: its address is the issuer's account
    BOARD = "board"  # a board member: its address is the member's account
    ADMIN = "admin"  # the hub's administrator: no address


API_ROLE = {StaffRole.PARTNER: Role.ISSUER, StaffRole.BOARD: Role.MEMBER, StaffRole.ADMIN: Role.ADMIN}
SECOND_FACTOR_ROLES = frozenset({StaffRole.BOARD, StaffRole.ADMIN})  # must sign in with a TOTP code too


@dataclass(frozen=True)
class Staff:
    """A signed-in person, as a console request sees them."""

    account_id: int
    email: str
    name: str
    role: StaffRole
    address: str | None
    csrf: str  # the session's CSRF secret: every form carries it (service.web.sessions.check_csrf)
    client_address: str | None = None  # the request's, as the audit log names it (service.web.audit)

    @property
    def principal(self) -> Principal:
        """The API's principal for this person (key_id 0: a session, not an API key)."""
        return Principal(key_id=0, role=API_ROLE[self.role], name=self.name, address=self.address)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def secure(hub: Hub) -> bool:
    return hub.settings.public_url.startswith("https://")


def store(hub: Hub) -> web_sessions.SessionStore:
    return web_sessions.SessionStore(hub.sessions)


def current_staff(request: Request, hub: Hub) -> Staff | None:
    """The signed-in person of this request, or None (no session, expired, ended, account disabled, password
    changed since the session began, or a second factor the role needs not enrolled)."""
    session = store(hub).load(web_sessions.session_id(request, secure(hub)), KIND)
    if session is None or not session.subject.isdigit():
        return None
    with hub.sessions() as db:
        account = db.get(models.StaffAccount, int(session.subject))
        if account is None or account.disabled_at is not None or account.password_hash is None:
            return None
        role = StaffRole(account.role)
        if role in SECOND_FACTOR_ROLES and account.totp_enabled_at is None:
            return None
        changed = _aware(account.password_changed_at)
        began = session.expires_at - store(hub).lifetime
        if changed is not None and changed > began:
            return None
        client = request.client.host if request.client else None
        return Staff(account.id, account.email, account.name, role, account.address, session.csrf, client)


def start_session(hub: Hub, account_id: int) -> str:
    """A new staff session for `account_id` (call only after the whole sign-in succeeded): the cookie's value."""
    session_id, _session = store(hub).create(KIND, str(account_id))
    return session_id
