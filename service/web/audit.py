"""The audit log: who did what to which account, key or programme, when, and from which client address.

    with hub.sessions() as db:
        account, token = signin.create_account(db, ...)
        audit.record(db, actor, audit.Act.ACCOUNT_INVITED, audit.Subject.account(account.id, ...))
        db.commit()                       # the act and its line, or neither

A line is added to the session of the act and committed with it, so an act without its line cannot be committed:
service.web.acts does this for every admin act of the console and the CLI, service.api.programmes for a programme
added with an admin key, service.web.signin (and service.pages.console.act_refusal) for a pause by throttling. Lines are
never changed nor deleted by the service: the mapper refuses an UPDATE or DELETE of one (`AuditAppendOnly`).

A line names people and things by id and by their display name at the time; it never holds a password, a
token, an invitation link, a TOTP secret or an API key (not even its first characters).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from service.db import models
from service.i18n import N_

PAGE_SIZE = 50
_Code = TypeVar("_Code", bound=StrEnum)


class AuditAppendOnly(RuntimeError):
    """Something tried to change or delete a line of the audit log."""


class ActorKind(StrEnum):
    STAFF = "staff"  # a signed-in console account (its id and e-mail address)
    CLI = "cli"  # `hub users` / `hub keys` on the server (the OS user)
    SYSTEM = "system"  # the service itself (throttling)
    KEY = "key"  # an admin's API key (the API's POST /programmes): its id and holder


class Act(StrEnum):
    ACCOUNT_INVITED = "account-invited"
    INVITATION_REISSUED = "invitation-reissued"  # a reset of an account whose invitation was not taken yet
    PASSWORD_RESET = "password-reset"  # a reset of an account with a password: password and code app taken away
    ACCOUNT_DISABLED = "account-disabled"
    KEY_CREATED = "key-created"
    KEY_REVOKED = "key-revoked"
    PROGRAMME_ADDED = "programme-added"
    SIGNIN_PAUSED = "signin-paused"  # too many failed sign-ins: the account's or the address's sign-in pauses
    ACTS_PAUSED = "acts-paused"  # too many wrong passwords confirming an act (service.pages.console.act_refusal)


ACT_LABELS = {
    Act.ACCOUNT_INVITED: N_("Account invited"),
    Act.INVITATION_REISSUED: N_("Invitation reissued"),
    Act.PASSWORD_RESET: N_("Password reset"),
    Act.ACCOUNT_DISABLED: N_("Account disabled"),
    Act.KEY_CREATED: N_("API key made"),
    Act.KEY_REVOKED: N_("API key revoked"),
    Act.PROGRAMME_ADDED: N_("Programme added"),
    Act.SIGNIN_PAUSED: N_("Sign-in paused (too many failed attempts)"),
    Act.ACTS_PAUSED: N_("Acts paused (too many wrong passwords)"),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a console account (id, e-mail address), the CLI (the OS user), an admin's API key or the service
    itself."""

    kind: ActorKind
    name: str
    id: int | None = None  # the staff account's, or the API key's
    client_address: str | None = None

    @classmethod
    def staff(cls, account_id: int, email: str, client_address: str | None) -> Actor:
        return cls(ActorKind.STAFF, email, account_id, client_address)

    @classmethod
    def cli(cls) -> Actor:
        """`hub users` / `hub keys`: the OS user that ran it."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name and no user of this uid (a container's numeric user)
            user = "unknown"
        return cls(ActorKind.CLI, user)

    @classmethod
    def api_key(cls, key_id: int, holder: str, client_address: str | None) -> Actor:
        return cls(ActorKind.KEY, holder, key_id, client_address)

    @classmethod
    def throttling(cls, client_address: str | None) -> Actor:
        return cls(ActorKind.SYSTEM, "throttling", None, client_address)


@dataclass(frozen=True)
class Subject:
    """What was acted on: its kind, id and display name at the time."""

    kind: str
    id: str | None
    name: str

    @classmethod
    def account(cls, account_id: int | None, name: str, email: str) -> Subject:
        return cls("account", None if account_id is None else str(account_id), f"{name} <{email}>" if name else "")

    @classmethod
    def key(cls, key_id: int, holder: str) -> Subject:
        return cls("key", str(key_id), holder)

    @classmethod
    def programme(cls, programme_id: str, name: str) -> Subject:
        return cls("programme", programme_id, name)


def utcnow() -> datetime:
    return datetime.now(UTC)


def record(db: Session, actor: Actor, act: Act, subject: Subject) -> models.AuditEntry:
    """Add the line of `act` to `db`'s transaction (committed, or rolled back, with the act)."""
    entry = models.AuditEntry(
        at=utcnow(),
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name[:254],
        act=act.value,
        subject_kind=subject.kind,
        subject_id=subject.id,
        subject_name=subject.name[:254],
        client_address=actor.client_address[:64] if actor.client_address else None,
    )
    db.add(entry)
    return entry


@event.listens_for(models.AuditEntry, "before_update")
@event.listens_for(models.AuditEntry, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, entry: models.AuditEntry) -> None:
    raise AuditAppendOnly(f"the audit log is append-only: line {entry.id} cannot be changed or deleted")


# ---------------------------------------------------------------- reading it


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor_kind: ActorKind | str  # a str: a kind this version does not know (a newer process wrote the line)
    actor_id: int | None
    actor_name: str
    act: Act | str  # a str: an act this version does not know, as written
    subject_kind: str
    subject_id: str | None
    subject_name: str
    client_address: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "actor": {"kind": str(self.actor_kind), "id": self.actor_id, "name": self.actor_name},
            "act": str(self.act),
            "subject": {"kind": self.subject_kind, "id": self.subject_id, "name": self.subject_name},
            "client_address": self.client_address,
        }


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    number: int  # 1, 2, ...
    pages: int  # at least 1
    total: int


def act_label(act: Act | str) -> str:
    """What the log page calls the act (translated when shown); an act this version does not know, as written."""
    return str(ACT_LABELS[act]) if isinstance(act, Act) else act


def _known(kind: type[_Code], value: str) -> _Code | str:
    """`value` as a member of `kind`, or as written when this version does not know it (during a rolling deploy, a
    newer process may already write lines with a new code): the log is read whole, never refused."""
    return kind(value) if value in kind._value2member_map_ else value


def _entry(row: models.AuditEntry) -> Entry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return Entry(
        row.id,
        at,
        _known(ActorKind, row.actor_kind),
        row.actor_id,
        row.actor_name,
        _known(Act, row.act),
        row.subject_kind,
        row.subject_id,
        row.subject_name,
        row.client_address,
    )


def entries(
    db: Session, *, act: Act | None = None, account_id: int | None = None, page: int = 1, size: int = PAGE_SIZE
) -> Page:
    """Newest first, `size` a page; only `act`'s lines, and only those `account_id` did or underwent, when given."""
    table = models.AuditEntry
    query = select(table)
    if act is not None:
        query = query.where(table.act == act.value)
    if account_id is not None:
        query = query.where(
            or_(
                (table.actor_kind == ActorKind.STAFF.value) & (table.actor_id == account_id),
                (table.subject_kind == "account") & (table.subject_id == str(account_id)),
            )
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // size))
    number = min(max(1, page), pages)
    rows = db.scalars(query.order_by(table.id.desc()).limit(size).offset((number - 1) * size))
    return Page([_entry(row) for row in rows], number, pages, total)
