"""API keys: created and revoked by the CLI, stored as sha256 hashes, presented as `Authorization: Bearer`.

A key belongs to one principal: the admin, an issuing partner (with its issuing address) or a board
member (with its member address). Keys are 32 random bytes, so a plain sha256 is a safe store.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from eth_utils import is_address, to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import ID_MAX, ApiKey
from service.errors import Forbidden, InvalidInput, NotFound, Unauthenticated

KEY_PREFIX = "hub_"


class Role(StrEnum):
    ADMIN = "admin"
    ISSUER = "issuer"
    MEMBER = "member"


@dataclass(frozen=True)
class Principal:
    """Who is calling: from a valid, unrevoked key."""

    key_id: int
    role: Role
    name: str
    address: str | None


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(session: Session, role: Role | str, name: str, address: str | None = None) -> tuple[str, ApiKey]:
    """Create a key; return the token (shown once, never stored) and its record."""
    role = Role(role)
    name = name.strip()
    if not name:
        raise InvalidInput("a key needs the name of its holder")
    if role in (Role.ISSUER, Role.MEMBER):
        if not address or not is_address(address):
            raise InvalidInput(f"a {role} key needs the {role}'s account address (0x...)")
        address = to_checksum_address(address)
    elif address:
        raise InvalidInput("an admin key has no address")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(role=role.value, name=name, address=address, key_hash=hash_key(token), prefix=token[:10])
    session.add(record)
    session.flush()
    return token, record


def revoke_key(session: Session, key_id: int) -> ApiKey:
    record = session.get(ApiKey, key_id) if 0 < key_id <= ID_MAX else None
    if record is None:
        raise NotFound(f"no API key {key_id}")
    if record.revoked_at is None:
        record.revoked_at = datetime.now(UTC)
    return record


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def authenticate(session: Session, authorization: str | None) -> Principal:
    """The principal of an `Authorization: Bearer <key>` header.

    :raises Unauthenticated: no header, not a bearer key, unknown or revoked key.
    """
    if not authorization:
        raise Unauthenticated("send your API key as 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <key>'")
    record = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(token.strip())))
    if record is None:
        raise Unauthenticated("this API key is not known")
    if record.revoked_at is not None:
        raise Unauthenticated(f"this API key was revoked on {record.revoked_at:%Y-%m-%d}")
    return Principal(key_id=record.id, role=Role(record.role), name=record.name, address=record.address)


def require_role(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles:
        allowed = " or ".join(f"{_article(role.value)} {role.value}" for role in roles)
        raise Forbidden(
            f"this needs {allowed} key; yours is {_article(principal.role.value)} "
            f"{principal.role.value} key ({principal.name})"
        )
    return principal


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
