"""A partner's own cohorts: issuing them and reading them back. The functions under the API's routes
(service.api.credentials, service.api.batches) and the partner console (service.pages.partner_console) alike.

    accepted = accept_cohort(hub, issuer, rows)            # prepared, stored, woken for anchoring (not waited)
    batch = own_batch(db, issuer, batch_id)                # NotFound / Forbidden for another partner's
    page, more = list_batches(db, issuer, limit, after)    # newest first
    found = find_credentials(db, issuer, "jan de vries")   # by name (part of it) or e-mail address (whole)

Another partner's batch or credential is refused (Forbidden: the API says so, the console answers 404 as
for one that does not exist, so a guessed id tells nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from web3.exceptions import BlockNotFound

from service.credentials.canonical import proof_of
from service.credentials.document import IDENTIFIER_CLAIM, identifier_matches
from service.db import models
from service.errors import Forbidden, NotFound
from service.issuing import pipeline
from service.issuing.requests import CredentialCreate, Row
from service.issuing.states import BatchStatus

if TYPE_CHECKING:
    from service.hub import Hub

REORG_CHECK_DEPTH = 64  # blocks: an anchoring younger than this is checked against the chain when reported
MAX_FOUND = 100  # credentials a search lists at most


def utc(moment: datetime | None) -> datetime | None:
    """A stored time as UTC (SQLite returns it without its zone)."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def share_url(hub: Hub, share_token: str) -> str:
    return f"{hub.settings.public_url}/share/{share_token}"


def holder_url(hub: Hub, holder_token: str) -> str:
    """The graduate's personal link: it opens her own page (service.pages.holder) and carries her holder token."""
    return f"{hub.settings.public_url}/holder/{holder_token}"


def reported_status(hub: Hub, batch: models.Batch) -> BatchStatus:
    """The batch's status as the chain holds it now. An anchoring in one of the last REORG_CHECK_DEPTH blocks is
    looked up (one eth_getBlockByNumber): when its block is no longer the chain's (a reorg the indexer has not
    reported yet), the batch is `submitted` again, never anchored."""
    status = BatchStatus(batch.status)
    if status != BatchStatus.ANCHORED or batch.block_hash is None or batch.block_number is None:
        return status
    head = hub.verification_cache.head.head
    if head is not None and head.number - batch.block_number > REORG_CHECK_DEPTH:
        return status
    try:
        block = hub.w3.eth.get_block(batch.block_number)
    except BlockNotFound:
        return BatchStatus.SUBMITTED
    except (OSError, ValueError):  # the node does not answer: what was seen last stands
        return status
    return status if HexBytes(block["hash"]).to_0x_hex() == batch.block_hash else BatchStatus.SUBMITTED


def available_claims(row: models.Credential) -> list[str]:
    """The claims the credential has disclosures for (in its proof once anchored; stored until then)."""
    proof = proof_of(row.document) if isinstance(row.document, dict) else None
    items = list(proof.get("disclosures", [])) if proof is not None else []
    items += list(row.disclosures or [])
    return sorted({item[1] for item in items if isinstance(item, list | tuple) and len(item) == 3})


# ---------------------------------------------------------------- issuing


def accept_cohort(hub: Hub, issuer: str, rows: Sequence[Row]) -> tuple[str, pipeline.PreparedCohort]:
    """Prepare and store a cohort for `issuer` and wake the anchoring (it is not waited for): the batch id and
    the prepared cohort (its holder tokens exist only here: give them to the graduates now).

    :raises InvalidInput, Forbidden, IssuerNotAccredited, ChainUnavailable: as pipeline.prepare (nothing stored).
    """
    with hub.sessions() as db:
        cohort = pipeline.prepare(
            db, hub.registry, hub.signers, issuer, rows, identities=hub.identity_for, status_lists=hub.status_lists
        )
    batch_id = pipeline.persist(hub.sessions, cohort)
    hub.anchoring.remember(batch_id, cohort)
    hub.anchoring.wake()
    return batch_id, cohort


def store_one(hub: Hub, issuer: str, request: CredentialCreate) -> tuple[pipeline.PreparedCredential, str]:
    """Prepare and store one credential (a batch of one, its problems without row numbers); wake the anchoring:
    the credential (with its holder token, shown only now) and its batch id."""
    with hub.sessions() as db:
        cohort = pipeline.prepare(
            db,
            hub.registry,
            hub.signers,
            issuer,
            [Row(1, None, request)],
            single=True,
            identities=hub.identity_for,
            status_lists=hub.status_lists,
        )
    batch_id = pipeline.persist(hub.sessions, cohort)
    hub.anchoring.remember(batch_id, cohort)
    hub.anchoring.wake()
    return cohort.credentials[0], batch_id


# ---------------------------------------------------------------- reading a partner's own


def own_batch(db: Session, issuer: str | None, batch_id: str) -> models.Batch:
    """:raises NotFound: no batch `batch_id`. :raises Forbidden: another partner's."""
    batch = db.get(models.Batch, batch_id)
    if batch is None:
        raise NotFound(f"there is no batch {batch_id}")
    if batch.issuer_address != issuer:
        raise Forbidden(
            f"this batch was issued by another partner ({batch.issuer_address}): only that partner may read it"
        )
    return batch


def load_credential(db: Session, credential_id: str) -> models.Credential:
    """:raises NotFound: no credential `credential_id`."""
    row = db.get(models.Credential, credential_id)
    if row is None:
        raise NotFound(f"there is no credential {credential_id}")
    return row


def check_own(issuer: str | None, row: models.Credential, what: str) -> None:
    """:raises Forbidden: `row` was issued by another partner than `issuer` (`what`: the verb refused)."""
    if issuer != row.issuer_address:
        raise Forbidden(
            f"this credential was issued by another partner ({row.issuer_address}): only that partner may {what} it"
        )


def own_credential(db: Session, issuer: str | None, credential_id: str, what: str = "read") -> models.Credential:
    row = load_credential(db, credential_id)
    check_own(issuer, row, what)
    return row


def list_batches(
    db: Session, issuer: str | None, limit: int, after: tuple[datetime, str] | None = None
) -> tuple[list[models.Batch], bool, dict[str, list[str]]]:
    """`issuer`'s batches, newest first, at most `limit` from after the position `after` (created_at, id): the
    page, whether more follow, and each batch's programmes."""
    query = select(models.Batch).where(models.Batch.issuer_address == issuer)
    if after is not None:
        moment, batch_id = after
        query = query.where(
            or_(
                models.Batch.created_at < moment,
                and_(models.Batch.created_at == moment, models.Batch.id < batch_id),
            )
        )
    rows = list(db.scalars(query.order_by(models.Batch.created_at.desc(), models.Batch.id.desc()).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    programmes: dict[str, set[str]] = {batch.id: set() for batch in page}
    if page:
        for batch_id, programme_id in db.execute(
            select(models.Credential.batch_id, models.Credential.programme_id)
            .where(models.Credential.batch_id.in_(list(programmes)))
            .distinct()
        ):
            programmes[batch_id].add(programme_id)
    return page, more, {key: sorted(value) for key, value in programmes.items()}


@dataclass(frozen=True)
class CredentialLine:
    """A credential as a partner's listing shows it: who it is for (the name disclosure), what, its state."""

    id: str
    batch_id: str
    programme_id: str
    name: str | None
    revoked_at: datetime | None
    revocation_reason: int | None
    created_at: datetime | None


def _disclosed(disclosures: Any, claim: str) -> Any:
    for item in disclosures if isinstance(disclosures, list) else []:
        if isinstance(item, list) and len(item) == 3 and item[1] == claim:
            return item[2]
    return None


def _line(row: Any) -> CredentialLine:
    name = _disclosed(row.disclosures, "name")
    return CredentialLine(
        id=row.id,
        batch_id=row.batch_id,
        programme_id=row.programme_id,
        name=name if isinstance(name, str) else None,
        revoked_at=utc(row.revoked_at),
        revocation_reason=row.revocation_reason,
        created_at=utc(row.created_at),
    )


_LINE_COLUMNS = (
    models.Credential.id,
    models.Credential.batch_id,
    models.Credential.programme_id,
    models.Credential.disclosures,
    models.Credential.revoked_at,
    models.Credential.revocation_reason,
    models.Credential.created_at,
)


def batch_credentials(db: Session, batch: models.Batch) -> list[CredentialLine]:
    """The credentials of `batch`, in their order (only the columns a listing needs: documents are large)."""
    rows = db.execute(
        select(*_LINE_COLUMNS).where(models.Credential.batch_id == batch.id).order_by(models.Credential.position)
    )
    return [_line(row) for row in rows]


def credential_line(row: models.Credential) -> CredentialLine:
    return _line(row)


def find_credentials(
    db: Session, issuer: str | None, query: str, limit: int = MAX_FOUND
) -> tuple[list[CredentialLine], bool]:
    """`issuer`'s credentials whose graduate's name contains `query` (case and spacing ignored), or, when
    `query` is an e-mail address, that were issued to it (the salted hash of the `identifier` disclosure: the
    address itself is stored nowhere). Newest first, at most `limit`; whether more were found."""
    wanted = " ".join(query.split()).casefold()
    if not wanted or issuer is None:
        return [], False
    by_email = "@" in wanted
    rows = db.execute(
        select(*_LINE_COLUMNS)
        .where(models.Credential.issuer_address == issuer)
        .order_by(models.Credential.created_at.desc(), models.Credential.id)
    )
    found: list[CredentialLine] = []
    for row in rows:
        if by_email:
            hit = identifier_matches(_disclosed(row.disclosures, IDENTIFIER_CLAIM), wanted)
        else:
            name = _disclosed(row.disclosures, "name")
            hit = isinstance(name, str) and wanted in " ".join(name.split()).casefold()
        if hit:
            if len(found) == limit:
                return found, True
            found.append(_line(row))
    return found, False


def latest_transaction(db: Session, batch: models.Batch) -> models.RelayerTransaction | None:
    """The relayer's newest transaction for `batch` (None before one is sent)."""
    return db.scalars(
        select(models.RelayerTransaction)
        .where(models.RelayerTransaction.batch_id == batch.id)
        .order_by(models.RelayerTransaction.id.desc())
        .limit(1)
    ).first()
