"""Each partner's W3C Bitstring Status Lists: handing out indexes at issuance, rebuilding the signed list
credentials from the chain's revocation events.

Allocation. A partner's lists are numbered 1, 2, ...; each has LIST_BITS bits. `allocate(issuer, count)` takes
`count` consecutive positions of the partner's newest list with one atomic `UPDATE ... SET allocated = allocated
+ count WHERE allocated + count <= size RETURNING allocated` (PostgreSQL's row lock orders concurrent processes;
SQLite has one writer), in its own committed transaction, and maps each position to its index with the list's
keyed permutation (`status_list.scatter`): no two positions, so no two credentials, get one index, and
neighbouring credentials get unrelated indexes (herd privacy). A cohort that does not fit the rest of the newest
list opens the next one (INSERT ... ON CONFLICT DO NOTHING: two processes opening it at once share it). The
index is in the anchored body, so it is taken before the body is built; a cohort refused after that leaves its
indexes unused (bits that stay 0). `record()` writes each credential's StatusEntry with the credential itself
(pipeline.persist): the primary key (partner, list, index) refuses a collision at the database as well.

Rebuilding. The chain is the source of truth: `refresh(block)` runs after each indexer catch-up (the indexer's
listener) and computes every list's bits from the CredentialRevoked events in the index (ChainEvent rows, joined
to StatusEntry on the credential digest and the issuer), so a reorg that removes a revocation event removes the
bit with it. Each list is signed again by its partner's Ed25519 key (Data Integrity, eddsa-rdfc-2022) when the
index has moved past the block it states (or half its validity is used), with `validFrom` now, `validUntil`
now + `validity` and `statusListBlock` = the block indexed: a few milliseconds per list and catch-up. The
stored document is what `GET /status/{slug}/{n}` serves: a revocation is in the served list one indexer
interval after its block is indexed, and the block it states is at most one interval old while the indexer
runs. A stored list is only replaced by one built at a block no lower (several processes may refresh). A list
is signed as soon as it is opened (all bits 0), so it is served before any credential points to it.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_utils import to_checksum_address
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.credentials.status_list import (
    LIST_BITS,
    StatusListError,
    bit,
    decode_list,
    encode_list,
    list_credential,
    list_url,
    parse_entry,
    scatter,
    status_entry,
)
from service.db.models import ChainEvent, IndexCursor, StatusEntry, StatusList
from service.db.session import dialect_insert, transaction
from service.issuing.identity import IssuerIdentity

log = logging.getLogger(__name__)

REVOKED_EVENT = "CredentialRevoked"
MAX_OPEN_ATTEMPTS = 8  # lists opened in one allocation before giving up (only a crowd of racing processes loops)


class Sign(Protocol):
    """service.credentials.integrity.sign: the DataIntegrityProof of `document` (without its proof)."""

    def __call__(
        self,
        document: dict[str, Any],
        key: Ed25519PrivateKey,
        verification_method: str,
        created: datetime | None = None,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Allocation:
    """Indexes handed out to one cohort: all in one list of the partner."""

    issuer: str
    list_number: int
    url: str  # the status list credential's URL
    indexes: tuple[int, ...]

    def entry(self, position: int) -> dict[str, Any]:
        """The `credentialStatus` of the cohort's `position`-th credential."""
        return status_entry(self.url, self.indexes[position])


@dataclass(frozen=True)
class Served:
    """A stored status list credential, as GET /status/{slug}/{n} serves it."""

    document: dict[str, Any] | None  # None: not built yet
    block: int | None
    valid_until: datetime | None
    built_at: datetime | None


@dataclass(frozen=True)
class Where:
    """A credentialStatus entry that points into one of this hub's lists."""

    url: str
    slug: str
    number: int
    index: int


@dataclass(frozen=True)
class ListBit:
    """A credential's bit in this hub's status list, as the served list states it (for our verifier's report)."""

    url: str
    index: int
    revoked: bool
    block: int  # the list's statusListBlock
    valid_until: datetime


class StatusLists:
    """The partners' status lists in the database; see the module docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        public_url: str,
        registry_address: str,
        identities: Callable[[str], IssuerIdentity],
        sign: Sign,
        validity: float = 3600.0,
        ttl: float = 5.0,
        size: int = LIST_BITS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if validity <= 0 or ttl <= 0:
            raise ValueError("validity and ttl must be positive")
        self.sessions = sessions
        self.public_url = public_url
        self.registry_address = to_checksum_address(registry_address)
        self.identities = identities
        self.sign = sign
        self.validity = timedelta(seconds=validity)
        self.ttl = ttl
        self.size = size
        self._clock = clock or (lambda: datetime.now(UTC))
        self._bits: dict[str, tuple[float, Served | None, bytes | None]] = {}  # url -> (read at, list, its bits)

    # ---------------------------------------------------------------- issuing

    def allocate(self, issuer: str, count: int) -> Allocation:
        """`count` distinct indexes of one of `issuer`'s lists, taken for good (committed at once).

        :raises ValueError: a cohort larger than a list.
        :raises Exception: the identity lookup's error when the partner has no identity (no slug).
        """
        if not 1 <= count <= self.size:
            raise ValueError(f"a cohort takes 1 to {self.size} status indexes, not {count}")
        issuer = to_checksum_address(issuer)
        for _ in range(MAX_OPEN_ATTEMPTS):
            with transaction(self.sessions) as session:
                newest = session.scalar(select(func.max(StatusList.number)).where(StatusList.issuer_address == issuer))
                if newest is not None:
                    taken = session.execute(
                        update(StatusList)
                        .where(
                            StatusList.issuer_address == issuer,
                            StatusList.number == newest,
                            StatusList.allocated + count <= StatusList.size,
                        )
                        .values(allocated=StatusList.allocated + count)
                        .returning(StatusList.allocated, StatusList.scatter_key, StatusList.slug, StatusList.size)
                    ).first()
                    if taken is not None:
                        end, key, slug, size = taken
                        indexes = tuple(
                            scatter(position, bytes.fromhex(key), size) for position in range(end - count, end)
                        )
                        return Allocation(issuer, newest, list_url(self.public_url, slug, newest), indexes)
            self._open(issuer, (newest or 0) + 1)
        raise RuntimeError(f"could not open a status list for {issuer} ({MAX_OPEN_ATTEMPTS} attempts)")

    def _open(self, issuer: str, number: int) -> None:
        """Open list `number` of `issuer` (unless another process just did) and sign it at once, all bits 0: it
        is served before the first credential that points to it is (the indexer keeps it from then on)."""
        slug = self.identities(issuer).slug
        with transaction(self.sessions) as session:
            block = session.scalar(select(func.min(IndexCursor.last_block)))
            opened = session.execute(
                dialect_insert(session)(StatusList)
                .values(
                    issuer_address=issuer,
                    number=number,
                    slug=slug,
                    size=self.size,
                    allocated=0,
                    scatter_key=secrets.token_bytes(32).hex(),
                    created_at=self._clock(),
                )
                .on_conflict_do_nothing(index_elements=[StatusList.issuer_address, StatusList.number])
                .returning(StatusList.slug)
            ).first()
        if opened is None:
            return  # another process opened it (and builds it)
        try:  # nothing can be revoked in a list no credential points to yet: as of any indexed block
            now = self._clock().replace(microsecond=0)
            self._store(issuer, number, opened.slug, encode_list([], self.size), block or 0, now)
        except Exception:  # the indexer's next catch-up builds it; GET answers 503 until then
            log.exception("status list %s/%d of %s could not be signed when opened", opened.slug, number, issuer)

    @staticmethod
    def record(session: Session, allocation: Allocation, credentials: Sequence[tuple[str, str]]) -> None:
        """Write the StatusEntry of each (credential id, digest) of a cohort, in the caller's transaction (with
        the credentials themselves)."""
        if not credentials:
            return
        # executemany: one multi-row VALUES would pass 5 parameters per credential, past SQLite's 32,766 and
        # PostgreSQL's 65,535 for a large cohort
        session.execute(
            insert(StatusEntry),
            [
                {
                    "issuer_address": allocation.issuer,
                    "list_number": allocation.list_number,
                    "status_index": allocation.indexes[position],
                    "credential_id": credential_id,
                    "digest": digest,
                }
                for position, (credential_id, digest) in enumerate(credentials)
            ],
        )

    # ---------------------------------------------------------------- rebuilding

    def revoked(self, session: Session) -> dict[tuple[str, int], set[int]]:
        """The revoked indexes of every list, from the registry's CredentialRevoked events in the index."""
        rows = session.execute(
            select(StatusEntry.issuer_address, StatusEntry.list_number, StatusEntry.status_index).join(
                ChainEvent,
                and_(
                    ChainEvent.contract == self.registry_address,
                    ChainEvent.name == REVOKED_EVENT,
                    ChainEvent.args["credentialDigest"].as_string() == StatusEntry.digest,
                    ChainEvent.args["issuer"].as_string() == StatusEntry.issuer_address,
                ),
            )
        ).all()
        result: dict[tuple[str, int], set[int]] = {}
        for issuer, number, index in rows:
            result.setdefault((issuer, number), set()).add(index)
        return result

    def refresh(self, block: int) -> int:
        """Rebuild and sign every list as of indexed block `block` when that block is newer than the list's (or
        its validity is half used); return how many were stored. A list whose partner has no usable identity
        (key) is logged and left as it was."""
        now = self._clock().replace(microsecond=0)
        with self.sessions() as session:
            lists = session.execute(
                select(
                    StatusList.issuer_address,
                    StatusList.number,
                    StatusList.slug,
                    StatusList.size,
                    StatusList.encoded_list,
                    StatusList.valid_until,
                    StatusList.block,
                )
            ).all()
            revoked = self.revoked(session)
        stored = 0
        for issuer, number, slug, size, encoded, valid_until, built_block in lists:
            if built_block is not None and built_block > block:
                continue  # another process built it from a later block
            fresh = encode_list(sorted(revoked.get((issuer, number), ())), size)
            aging = valid_until is None or _aware(valid_until) - now < self.validity / 2
            if fresh == encoded and built_block == block and not aging:
                continue  # nothing new indexed since it was signed
            try:
                stored += self._store(issuer, number, slug, fresh, block, now)
            except Exception:  # one partner's missing key must not stop the others' lists
                log.exception("status list %s/%d of %s could not be signed", slug, number, issuer)
        return stored

    def _store(self, issuer: str, number: int, slug: str, encoded: str, block: int, now: datetime) -> bool:
        """Sign list `number` of `issuer` with bits `encoded` as of `block` and store it, unless a list built at a
        later block is stored already; whether it was stored."""
        document = self._signed(issuer, slug, number, encoded, block, now)
        with transaction(self.sessions) as session:
            written = session.execute(
                update(StatusList)
                .where(
                    StatusList.issuer_address == issuer,
                    StatusList.number == number,
                    or_(StatusList.block.is_(None), StatusList.block <= block),
                )
                .values(
                    document=document,
                    encoded_list=encoded,
                    block=block,
                    valid_until=now + self.validity,
                    built_at=now,
                )
            )
            return bool(getattr(written, "rowcount", 0))

    def _signed(self, issuer: str, slug: str, number: int, encoded: str, block: int, now: datetime) -> dict[str, Any]:
        identity = self.identities(issuer)
        document = list_credential(
            url=list_url(self.public_url, slug, number),
            issuer=identity.did,
            encoded_list=encoded,
            block=block,
            valid_from=now,
            valid_until=now + self.validity,
            ttl_ms=int(self.ttl * 1000),
        )
        document["proof"] = self.sign(document, identity.signing_key, identity.verification_method, now)
        return document

    def on_caught_up(self, block: int) -> None:
        """The indexer's catch-up listener: refresh as of the block it indexed."""
        self.refresh(block)

    # ---------------------------------------------------------------- serving

    def locate(self, entry: Any) -> Where | None:
        """Where a `credentialStatus` entry points when that is one of this hub's lists; None otherwise (another
        hub's list, an entry of another shape)."""
        try:
            url, index = parse_entry(entry)
        except StatusListError:
            return None
        prefix = self.public_url.rstrip("/") + "/status/"
        slug, _, number = url.removeprefix(prefix).partition("/")
        if (
            not url.startswith(prefix)
            or not slug
            or not (number.isascii() and number.isdigit())
            or not 1 <= int(number) <= 1_000_000
        ):
            return None
        return Where(url, slug, int(number), index)

    def stale(self, where: Where) -> bool:
        """Whether `bit_at(where)` needs `load(where)` first (a list is read at most once per `ttl` seconds:
        what the list allows any verifier to cache it)."""
        cached = self._bits.get(where.url)
        return cached is None or _monotonic() - cached[0] >= self.ttl

    def load(self, where: Where) -> None:
        """Read the list `where` points into from the database (blocking: call it off the event loop)."""
        found = self.served(where.slug, where.number)
        bits = None
        if found is not None and found.document is not None:
            bits = decode_list(found.document["credentialSubject"]["encodedList"])
        if len(self._bits) >= 1024:  # bounded: forget the oldest reads
            for url in sorted(self._bits, key=lambda key: self._bits[key][0])[:512]:
                self._bits.pop(url, None)
        self._bits[where.url] = (_monotonic(), found, bits)

    def bit_at(self, where: Where) -> ListBit | None:
        """The bit as the last `load` read it; None when the list is unknown or not built, or the index outside."""
        cached = self._bits.get(where.url)
        if cached is None:
            return None
        _, found, bits = cached
        if found is None or bits is None or found.block is None or found.valid_until is None:
            return None
        try:
            revoked = bit(bits, where.index) == 1
        except StatusListError:
            return None
        return ListBit(where.url, where.index, revoked, found.block, found.valid_until)

    def served(self, slug: str, number: int) -> Served | None:
        """The stored list `number` of the partner `slug`; None when there is no such list."""
        with self.sessions() as session:
            row = session.execute(
                select(StatusList.document, StatusList.block, StatusList.valid_until, StatusList.built_at).where(
                    StatusList.slug == slug, StatusList.number == number
                )
            ).first()
        if row is None:
            return None
        document, block, valid_until, built_at = row
        return Served(
            document,
            block,
            None if valid_until is None else _aware(valid_until),
            None if built_at is None else _aware(built_at),
        )


def _monotonic() -> float:
    return time.monotonic()


def _aware(moment: datetime) -> datetime:
    """A stored time in UTC: SQLite gives back naive datetimes (stored as UTC), PostgreSQL the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
