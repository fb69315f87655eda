"""Signing staff in: passwords (argon2id), the second factor (TOTP), invitations, throttling, and the accounts
an admin manages (the admin console and `hub users` call the same functions).

- Passwords are stored as argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended profile);
  a hash made with weaker parameters is re-made at the next sign-in. A password is never logged nor kept.
- An account is made by an admin with an invitation: a random token whose sha256 is stored, valid
  `INVITATION_LIFETIME`; the link `<public_url>/invite/<token>` is shown once. Taking it sets the password;
  board members and admins then enrol a TOTP app (RFC 6238, 30-second steps, 6 digits).
- A TOTP code is accepted once: the account keeps the last step it accepted (`totp_last_step`), and a code of
  that step or an earlier one is refused, in one conditional UPDATE, so two processes cannot both accept it.
- Throttling: failed attempts (a wrong password or code, an unknown address) are counted per account (its
  e-mail address, known or not) and per client address, in the database (`signin_throttle`) so that every
  process of the service counts the same. `ACCOUNT_LIMIT` failures within `WINDOW` lock the account's sign-in
  for `LOCK`, `ADDRESS_LIMIT` lock the client address; while locked, even the right password is refused (with
  the time to wait: Retry-After), so guessing cannot go on at a slower pace by luck.
- A reset by an admin takes the password and the second factor away, ends every session of the account
  (`password_changed_at`: service.web.staff refuses older sessions), lifts a pause of its sign-in and makes
  a new invitation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eth_utils import is_address, to_checksum_address
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.db import models
from service.i18n import _
from service.web import audit
from service.web.staff import KIND as STAFF_KIND
from service.web.staff import SECOND_FACTOR_ROLES, StaffRole

PASSWORD_MIN = 12
PASSWORD_MAX = 256  # argon2 takes any length; a bound keeps a megabyte "password" from costing anything more
INVITATION_LIFETIME = timedelta(days=7)
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
ACCOUNT_LIMIT = 5  # failures of one account from one client address within WINDOW
ADDRESS_LIMIT = 20  # failures from one client address within WINDOW, whatever the account
# failures of one account from all addresses together: bounds guessing spread over many addresses, high enough that
# one outsider (held at ADDRESS_LIMIT per address) cannot lock a person out by typing wrong passwords for them
ACCOUNT_ALL_LIMIT = 50
ACT_LIMIT = 5  # wrong passwords of a signed-in person confirming an act (service.pages.console.act_refusal)
TOTP_ISSUER = "IT Hub Hoogeveen"
TOTP_STEP = 30
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
_DUMMY_HASH = _hasher.hash("a password nobody has, to spend the same time on an unknown address")


class AccountProblem(ValueError):
    """What an admin asked for cannot be done; the message is a sentence in the current language."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one of `password_hash` (argon2id); False for an account without one (the same
    time is spent, so the answer's timing does not tell whether the account exists)."""
    if len(password) > PASSWORD_MAX:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with other (older) parameters than today's: re-made at the next sign-in."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return False


def password_problem(password: str, email: str) -> str | None:
    """Why `password` cannot be an account's password (a sentence to show), or None."""
    if len(password) < PASSWORD_MIN:
        return _("Choose a password of at least %(min)s characters.", min=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("Choose a password of at most %(max)s characters.", max=PASSWORD_MAX)
    if password.strip().lower() == email.lower() or len(set(password)) < 4:
        return _("This password is too easy to guess. Choose a longer sentence or a mix of words.")
    return None


# ---------------------------------------------------------------- the second factor


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// address a TOTP app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (now, or one step before or after for a clock that is a little off) whose code is `code`."""
    code = code.replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now) // TOTP_STEP
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


def accept_totp(db: Session, account_id: int, secret: str, code: str, now: float | None = None) -> bool:
    """Whether `code` is the account's current TOTP code and was not accepted before; accepting it records its
    step (a conditional UPDATE: of two requests with the same code, one wins)."""
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        return False
    result = db.execute(
        update(models.StaffAccount)
        .where(
            models.StaffAccount.id == account_id,
            or_(models.StaffAccount.totp_last_step.is_(None), models.StaffAccount.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    db.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


# ---------------------------------------------------------------- throttling


def client_address(host: str | None) -> str:
    return host or "unknown"


def _account_key(email: str) -> str:
    """The counter of an account from every address."""
    return _sha256(f"account:{email.strip().lower()}")


def _pair_key(email: str, address: str) -> str:
    """The counter of an account from one address: it begins with the account's own key's first half, so that all
    of an account's counters can be found (and lifted by a reset) without knowing the addresses."""
    return _account_key(email)[:32] + _sha256(f"address:{address}")[:32]


def throttle_keys(email: str, address: str) -> list[tuple[str, int]]:
    """The counters a sign-in attempt for `email` from `address` adds to, each with its limit.

    An account is paused for the address its failures come from (ACCOUNT_LIMIT), an address for every account
    (ADDRESS_LIMIT), and an account for every address only after many failures from several (ACCOUNT_ALL_LIMIT):
    someone who knows a person's e-mail address cannot lock that person out from their own address."""
    return [
        (_pair_key(email, address), ACCOUNT_LIMIT),
        (_sha256(f"address:{address}"), ADDRESS_LIMIT),
        (_account_key(email), ACCOUNT_ALL_LIMIT),
    ]


def act_keys(account_id: int) -> list[tuple[str, int]]:
    """The counter of a signed-in person's wrong passwords when confirming an act: their own, apart from sign-in's
    (failed sign-ins by others never stop a signed-in person from acting)."""
    return [(_sha256(f"act:{account_id}"), ACT_LIMIT)]


def locked_for(sessions: sessionmaker[Session], email: str, address: str) -> int:
    """Seconds until sign-in for `email` from `address` is allowed again (0: allowed now)."""
    return locked(sessions, throttle_keys(email, address))


def locked(sessions: sessionmaker[Session], counters: list[tuple[str, int]]) -> int:
    """Seconds until none of `counters` is paused any more (0: none is)."""
    now = utcnow()
    keys = [key for key, _limit in counters]
    with sessions() as db:
        rows = db.scalars(select(models.SigninThrottle).where(models.SigninThrottle.key_hash.in_(keys))).all()
        until = [aware(row.locked_until) for row in rows if row.locked_until is not None]
    waits = [(moment - now).total_seconds() for moment in until if moment is not None and moment > now]
    return int(max(waits)) + 1 if waits else 0


def record_failure(sessions: sessionmaker[Session], email: str, address: str) -> int:
    """Count a failed attempt for `email` from `address`; seconds to wait if it locked sign-in now (else 0).

    A pause that begins now is written to the audit log (the account when there is one by that address; the
    address typed is not kept otherwise: it may be a password typed in the wrong field)."""

    def log_pause(db: Session) -> None:
        account = db.scalar(select(models.StaffAccount).where(models.StaffAccount.email == email.strip().lower()))
        subject = (
            audit.Subject.account(account.id, account.name, account.email)
            if account is not None
            else audit.Subject("account", None, "")
        )
        audit.record(db, audit.Actor.throttling(address), audit.Act.SIGNIN_PAUSED, subject)

    return record(sessions, throttle_keys(email, address), on_pause=log_pause)


def record(
    sessions: sessionmaker[Session],
    counters: list[tuple[str, int]],
    on_pause: Callable[[Session], object] | None = None,
) -> int:
    """Count a failure on each of `counters`; seconds to wait if one of them is paused now (else 0).

    The count is one UPDATE (failures + 1) within the current window, so concurrent processes add up; a
    counter whose window has passed starts again at one. When this failure pauses a counter, `on_pause` is
    called with the session before it commits (the audit log's line, in the same transaction)."""
    now = utcnow()
    table = models.SigninThrottle
    began = 0
    with sessions() as db:
        db.execute(
            delete(table).where(
                table.window_started_at < now - WINDOW - LOCK,
                or_(table.locked_until.is_(None), table.locked_until < now),
            )
        )
        for key, limit in counters:
            for _attempt in range(3):
                counted = db.execute(
                    update(table)
                    .where(table.key_hash == key, table.window_started_at >= now - WINDOW)
                    .values(failures=table.failures + 1)
                )
                if getattr(counted, "rowcount", 0) == 1:
                    break
                row = db.get(table, key)
                if row is not None:  # an old window: start again
                    row.failures, row.window_started_at, row.locked_until = 1, now, None
                    db.flush()
                    break
                try:
                    with db.begin_nested():
                        db.add(table(key_hash=key, failures=1, window_started_at=now))
                    break
                except IntegrityError:  # another process made it just now: count on it
                    continue
            paused = db.execute(
                update(table)
                .where(table.key_hash == key, table.failures >= limit, table.locked_until.is_(None))
                .values(locked_until=now + LOCK)
            )
            began += int(getattr(paused, "rowcount", 0) or 0)
        if began and on_pause is not None:
            on_pause(db)
        db.commit()
    return locked(sessions, counters)


def clear_failures(sessions: sessionmaker[Session], email: str, address: str) -> None:
    """A successful sign-in: the account's counters start again (the address's stays)."""
    clear(sessions, [_pair_key(email, address), _account_key(email)])


def clear(sessions: sessionmaker[Session], keys: list[str]) -> None:
    """These counters start again (a success after failures)."""
    with sessions() as db:
        db.execute(delete(models.SigninThrottle).where(models.SigninThrottle.key_hash.in_(keys)))
        db.commit()


def lift_account_pause(db: Session, email: str) -> None:
    """Every counter of the account (from every address) starts again: an admin's reset."""
    prefix = _account_key(email)[:32]
    db.execute(delete(models.SigninThrottle).where(models.SigninThrottle.key_hash.startswith(prefix, autoescape=True)))


# ---------------------------------------------------------------- invitations and accounts


def invitation_hash(token: str) -> str:
    return _sha256(token)


def _invite(account: models.StaffAccount) -> str:
    token = secrets.token_urlsafe(32)
    account.invitation_hash = invitation_hash(token)
    account.invitation_expires_at = utcnow() + INVITATION_LIFETIME
    return token


def invitation_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/invite/{token}"


def take_invitation(db: Session, token: str) -> models.StaffAccount | None:
    """The account whose live invitation `token` is (not expired, account not disabled), or None."""
    if not TOKEN.fullmatch(token):
        return None
    account = db.scalar(
        select(models.StaffAccount).where(models.StaffAccount.invitation_hash == invitation_hash(token))
    )
    if account is None or account.disabled_at is not None:
        return None
    expires = aware(account.invitation_expires_at)
    if expires is None or expires <= utcnow():
        return None
    return account


class AccountState(StrEnum):
    """Where an account stands (derived from its row: set by an invitation, a password, a code app, a disabling)."""

    INVITED = "invited"  # no password yet: the invitation is to be taken
    SECOND_FACTOR = "second-factor"  # password set; a board member or admin still enrols a code app
    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass(frozen=True)
class AccountView:
    id: int
    email: str
    name: str
    role: StaffRole
    address: str | None
    state: AccountState
    created_at: datetime
    invitation_expires_at: datetime | None


def _view(account: models.StaffAccount) -> AccountView:
    role = StaffRole(account.role)
    if account.disabled_at is not None:
        state = AccountState.DISABLED
    elif account.password_hash is None:
        state = AccountState.INVITED
    elif role in SECOND_FACTOR_ROLES and account.totp_enabled_at is None:
        state = AccountState.SECOND_FACTOR
    else:
        state = AccountState.ACTIVE
    created = aware(account.created_at)
    assert created is not None
    return AccountView(
        account.id,
        account.email,
        account.name,
        role,
        account.address,
        state,
        created,
        aware(account.invitation_expires_at) if account.password_hash is None else None,
    )


def list_accounts(db: Session) -> list[AccountView]:
    return [_view(row) for row in db.scalars(select(models.StaffAccount).order_by(models.StaffAccount.id))]


def create_account(
    db: Session, email: str, name: str, role: str, address: str | None = None
) -> tuple[AccountView, str]:
    """A new account with an invitation: (the account, the invitation token, shown once).

    :raises AccountProblem: a wrong e-mail address, role or account address, or an e-mail address in use."""
    email = email.strip().lower()
    name = " ".join(name.split())
    address = (address or "").strip() or None
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise AccountProblem(_("Give an e-mail address such as name@example.org."))
    if not name or len(name) > 200:
        raise AccountProblem(_("Give the person's name (at most 200 characters)."))
    try:
        staff_role = StaffRole(role)
    except ValueError as exc:
        raise AccountProblem(_("Choose a role: partner, board or admin.")) from exc
    if staff_role is StaffRole.ADMIN:
        if address:
            raise AccountProblem(_("An admin account has no account address: leave it empty."))
    elif not address or not is_address(address):
        raise AccountProblem(
            _(
                "Give the account address (0x followed by 40 hexadecimal characters): the partner's issuing "
                "account for partner staff, the member's account for a board member."
            )
        )
    else:
        address = to_checksum_address(address)
    if db.scalar(select(models.StaffAccount.id).where(models.StaffAccount.email == email)) is not None:
        raise AccountProblem(_("There is already an account for %(email)s.", email=email))
    if staff_role is StaffRole.BOARD and db.scalar(
        select(models.StaffAccount.id).where(
            models.StaffAccount.role == StaffRole.BOARD.value,
            models.StaffAccount.address == address,
            models.StaffAccount.disabled_at.is_(None),
        )
    ):
        # a seat votes through one person: a second account for it would be a second key-holder for the seat
        raise AccountProblem(
            _("There is already an account for the board seat of %(address)s: reset that one instead.", address=address)
        )
    account = models.StaffAccount(email=email, name=name, role=staff_role.value, address=address, created_at=utcnow())
    token = _invite(account)
    db.add(account)
    try:
        db.flush()
    except IntegrityError:  # another process made it since the check above (the unique e-mail address)
        db.rollback()
        raise AccountProblem(_("There is already an account for %(email)s.", email=email)) from None
    return _view(account), token


def may_enrol_after_password(account: models.StaffAccount) -> bool:
    """Whether a board member or admin who set a password but left before enrolling a code app may still enrol
    it after signing in with that password: within INVITATION_LIFETIME of setting it. Later, the password alone
    would be enough to take the account, so an admin's reset (a new invitation) is needed instead."""
    changed = aware(account.password_changed_at)
    return changed is not None and changed + INVITATION_LIFETIME > utcnow()


def _account(db: Session, account_id: int) -> models.StaffAccount:
    account = db.get(models.StaffAccount, account_id) if 0 < account_id <= models.ID_MAX else None
    if account is None:
        raise AccountProblem(_("There is no account %(id)s.", id=account_id))
    return account


def find_account(db: Session, key: str) -> models.StaffAccount:
    """An account by its number or e-mail address (the CLI's argument)."""
    key = key.strip()
    account = (
        db.get(models.StaffAccount, int(key))
        if models.ROW_ID.fullmatch(key)  # not str.isdigit ("²"), nor beyond the INTEGER ids
        else db.scalar(select(models.StaffAccount).where(models.StaffAccount.email == key.lower()))
    )
    if account is None:
        raise AccountProblem(_("There is no account %(id)s.", id=key))
    return account


def end_sessions(db: Session, account_id: int) -> int:
    """End every staff session of the account (signing out everywhere); how many were live."""
    now = utcnow()
    result = db.execute(
        update(models.WebSession)
        .where(
            models.WebSession.kind.in_((STAFF_KIND, *PENDING_KINDS)),
            models.WebSession.subject == str(account_id),
            models.WebSession.revoked_at.is_(None),
            models.WebSession.expires_at > now,
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def reset_account(db: Session, account_id: int) -> tuple[AccountView, str]:
    """Take the password and second factor away, end every session, make a new invitation: (account, token).

    :raises AccountProblem: no such account, or a disabled one."""
    account = _account(db, account_id)
    if account.disabled_at is not None:
        raise AccountProblem(_("This account is disabled; a disabled account cannot be reset."))
    account.password_hash = None
    account.totp_secret = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    account.password_changed_at = utcnow()
    token = _invite(account)
    end_sessions(db, account.id)
    # a pause of the account's sign-in (throttling) is lifted: the person starts again with the new link
    lift_account_pause(db, account.email)
    db.flush()
    return _view(account), token


def disable_account(db: Session, account_id: int) -> AccountView:
    """Disable the account for good: no sign-in, its invitation and sessions end.

    :raises AccountProblem: no such account."""
    account = _account(db, account_id)
    if account.disabled_at is None:
        account.disabled_at = utcnow()
    account.invitation_hash = None
    account.invitation_expires_at = None
    end_sessions(db, account.id)
    db.flush()
    return _view(account)


# the short-lived sessions between the steps of signing in (service.pages.signin)
INVITE_KIND = "staff-invite"  # the invitation was taken: the password is to be set
ENROL_KIND = "staff-enrol"  # the password is set/right: the second factor is to be enrolled
CODE_KIND = "staff-code"  # the password is right: the TOTP code is to be given
PENDING_KINDS = (INVITE_KIND, ENROL_KIND, CODE_KIND)
PENDING_LIFETIME = timedelta(minutes=10)
