"""The admin acts, each with its line in the audit log (service.web.audit), in one transaction.

The admin console and the CLI (`hub users`, `hub keys`) call these instead of the functions they wrap
(service.web.signin, service.auth, service.api.programmes): each adds the act and its audit line to the caller's
session; the caller commits both, or neither (an error, a refusal, a rollback). `add_programme` commits itself,
as the API's POST /programmes does.
"""

from __future__ import annotations

from sqlalchemy import Update, update
from sqlalchemy.orm import Session

from service import auth
from service.api.programmes import ProgrammeCreate, ProgrammePublic
from service.api.programmes import add_programme as add_to_catalogue
from service.db import models
from service.web import signin
from service.web.audit import Act, Actor, Subject, record, utcnow


def _account_subject(account: signin.AccountView) -> Subject:
    return Subject.account(account.id, account.name, account.email)


def invite(
    db: Session, by: Actor, email: str, name: str, role: str, address: str | None = None
) -> tuple[signin.AccountView, str]:
    """signin.create_account, logged: (the account, its invitation token)."""
    account, token = signin.create_account(db, email, name, role, address)
    record(db, by, Act.ACCOUNT_INVITED, _account_subject(account))
    return account, token


def reset(db: Session, by: Actor, account_id: int) -> tuple[signin.AccountView, str]:
    """signin.reset_account, logged as a password reset, or as an invitation reissued when the account had no
    password yet: (the account, its new invitation token)."""
    before = db.get(models.StaffAccount, account_id)
    had_password = before is not None and before.password_hash is not None
    account, token = signin.reset_account(db, account_id)
    record(db, by, Act.PASSWORD_RESET if had_password else Act.INVITATION_REISSUED, _account_subject(account))
    return account, token


def disable(db: Session, by: Actor, account_id: int) -> signin.AccountView:
    """signin.disable_account, logged (not again for an account disabled already: nothing changes).

    Whether this call disables it is the conditional UPDATE's answer, not an earlier read: of two processes
    disabling the account at once, the second waits for the first's transaction and then changes nothing."""
    table = models.StaffAccount
    disabled = 0 < account_id <= models.ID_MAX and _changed(
        db, update(table).where(table.id == account_id, table.disabled_at.is_(None)).values(disabled_at=utcnow())
    )
    account = signin.disable_account(db, account_id)
    if disabled:
        record(db, by, Act.ACCOUNT_DISABLED, _account_subject(account))
    return account


def create_key(
    db: Session, by: Actor, role: auth.Role | str, name: str, address: str | None = None
) -> tuple[str, models.ApiKey]:
    """auth.create_key, logged (the holder's name and the key's number; never the key)."""
    token, key = auth.create_key(db, role, name, address)
    record(db, by, Act.KEY_CREATED, Subject.key(key.id, key.name))
    return token, key


def revoke_key(db: Session, by: Actor, key_id: int) -> models.ApiKey:
    """auth.revoke_key, logged (not again for a key revoked already: nothing changes; as `disable`, two at once
    log one line)."""
    table = models.ApiKey
    revoked = 0 < key_id <= models.ID_MAX and _changed(  # past it: no such key (auth.revoke_key says so)
        db, update(table).where(table.id == key_id, table.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    key = auth.revoke_key(db, key_id)
    if revoked:
        record(db, by, Act.KEY_REVOKED, Subject.key(key.id, key.name))
    return key


def _changed(db: Session, statement: Update) -> bool:
    """Whether `statement` (an UPDATE of one row, on a condition) changed it; the session's copy follows."""
    return bool(getattr(db.execute(statement), "rowcount", 0))


def add_programme(db: Session, by: Actor, body: ProgrammeCreate) -> ProgrammePublic:
    """service.api.programmes.add_programme, logged; committed (the line is added first, so the catalogue's
    commit carries both; a refusal rolls both back).

    :raises Conflict: a programme with this id exists."""
    record(db, by, Act.PROGRAMME_ADDED, Subject.programme(body.id, body.name))
    return add_to_catalogue(db, body)
