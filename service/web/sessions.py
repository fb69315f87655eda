"""Server-side sessions for the pages a person signs in to: a graduate's own page (/holder) now, staff later.

A session is a row of `web_sessions`: the sha256 of the random id the browser holds in its cookie (so the
table alone opens nothing), its kind ("holder"), its subject (the credential id for a graduate), a CSRF secret,
when it was made, when it expires and when it was ended (signing out). The cookie is
`__Host-hub_session` when the hub is served over https (Secure, no Domain, Path=/: only this host gets it) and
`hub_session` otherwise; always HttpOnly (no script reads it) and SameSite=Lax (another site's form does not
carry it).

CSRF: every form a session posts carries `csrf` (the session's secret, synchronizer-token style); `check_csrf`
compares it in constant time. SameSite=Lax already keeps other sites' POSTs out; the token covers what Lax
does not (a sibling subdomain, an old browser).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from service.db import models

COOKIE = "hub_session"  # staff (and the steps of signing in)
SECURE_COOKIE = "__Host-hub_session"  # https: the __Host- prefix binds it to this host, Secure and Path=/
# a graduate's own page has a cookie of its own: opening her link never replaces a staff session in the same
# browser, and signing out of one never touches the other
HOLDER_COOKIE = "hub_holder"
SECURE_HOLDER_COOKIE = "__Host-hub_holder"
CSRF_FIELD = "csrf"
LIFETIME = timedelta(hours=8)
KEEP_ENDED = timedelta(days=1)  # an expired session's row is deleted this long after its end


def cookie_name(secure: bool, holder: bool = False) -> str:
    if holder:
        return SECURE_HOLDER_COOKIE if secure else HOLDER_COOKIE
    return SECURE_COOKIE if secure else COOKIE


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite forgets the zone


@dataclass(frozen=True)
class WebSession:
    """A live session, as a request sees it."""

    kind: str
    subject: str
    csrf: str
    expires_at: datetime


class SessionStore:
    """Sessions in the hub's database (`sessions` makes its database sessions)."""

    def __init__(self, sessions: sessionmaker[Session], lifetime: timedelta = LIFETIME) -> None:
        self.sessions = sessions
        self.lifetime = lifetime

    def create(self, kind: str, subject: str) -> tuple[str, WebSession]:
        """A new session: (the id for the cookie, shown only now; the session)."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = models.WebSession(
            id_hash=_hash(session_id),
            kind=kind,
            subject=subject,
            csrf_secret=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + self.lifetime,
        )
        with self.sessions() as db:
            # housekeeping: sessions a day past their end (expired or signed out) are of no use to anyone
            db.execute(delete(models.WebSession).where(models.WebSession.expires_at < now - KEEP_ENDED))
            db.add(row)
            db.commit()
            return session_id, WebSession(kind, subject, row.csrf_secret, row.expires_at)

    def load(self, session_id: str | None, kind: str) -> WebSession | None:
        """The live session of kind `kind` with this id; None for no id, an unknown, expired or ended one."""
        if not session_id or len(session_id) > 100:
            return None
        with self.sessions() as db:
            row = db.get(models.WebSession, _hash(session_id))
            if row is None or row.kind != kind or row.revoked_at is not None:
                return None
            if _aware(row.expires_at) <= datetime.now(UTC):
                return None
            return WebSession(row.kind, row.subject, row.csrf_secret, _aware(row.expires_at))

    def end(self, session_id: str | None) -> bool:
        """End the session (signing out): its cookie opens nothing from now on. False when there was none."""
        if not session_id or len(session_id) > 100:
            return False
        with self.sessions() as db:
            row = db.get(models.WebSession, _hash(session_id))
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = datetime.now(UTC)
            db.commit()
            return True


def session_id(request: Request, secure: bool, holder: bool = False) -> str | None:
    """The session id the browser sent (its cookie), if any."""
    return request.cookies.get(cookie_name(secure, holder))


def set_cookie(
    response: Response, session_id: str, secure: bool, lifetime: timedelta = LIFETIME, holder: bool = False
) -> None:
    response.set_cookie(
        cookie_name(secure, holder),
        session_id,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, secure: bool, holder: bool = False) -> None:
    response.delete_cookie(cookie_name(secure, holder), path="/", secure=secure, httponly=True, samesite="lax")


def check_csrf(session: WebSession, submitted: object) -> bool:
    """Whether a form's `csrf` field is this session's secret."""
    return isinstance(submitted, str) and hmac.compare_digest(submitted.encode(), session.csrf.encode())
