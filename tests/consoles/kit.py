"""Staff accounts and signed-in clients for the console tests, made directly in the database (the sign-in pages
themselves are tested in tests/consoles/test_signin.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from service.db import models
from service.hub import Hub
from service.web import sessions as web_sessions
from service.web import staff as web_staff


def make_account(
    hub: Hub,
    role: str,
    email: str,
    name: str,
    address: str | None = None,
    password_hash: str = "$argon2id$not-a-real-hash",
) -> int:
    """An account that completed its invitation (and its second factor, for board and admin): its id."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    with hub.sessions() as db:
        account = models.StaffAccount(
            email=email.lower(),
            name=name,
            role=role,
            address=address,
            password_hash=password_hash,
            totp_secret="JBSWY3DPEHPK3PXP" if role in ("board", "admin") else None,
            totp_enabled_at=now if role in ("board", "admin") else None,
            created_at=now,
        )
        db.add(account)
        db.commit()
        return account.id


def sign_in(client: TestClient, hub: Hub, account_id: int) -> str:
    """Make `client` signed in as `account_id` (a session cookie); returns the session's CSRF token."""
    session_id = web_staff.start_session(hub, account_id)
    client.cookies.set(web_sessions.cookie_name(web_staff.secure(hub)), session_id)
    session = web_staff.store(hub).load(session_id, web_staff.KIND)
    assert session is not None
    return session.csrf


def browser_cookie(hub: Hub, account_id: int, base_url: str) -> dict[str, Any]:
    """A Playwright cookie (context.add_cookies) that signs a browser in as `account_id`."""
    return {
        "name": web_sessions.cookie_name(web_staff.secure(hub)),
        "value": web_staff.start_session(hub, account_id),
        "url": base_url,
        "httpOnly": True,
        "sameSite": "Lax",
    }
