"""The issuing pipeline, in stages (after Blockcerts' cert-issuer: prepare -> anchor -> finish):

    prepared = prepare(db, registry, signers, issuer, rows, identities=hub.identity_for,
                       status_lists=hub.status_lists)  # status indexes taken, bodies built and signed, root
    batch_id = persist(sessions, prepared)                    # ONE database transaction, before any transaction
                                                              # (the credentials and their status entries)
    ... anchor: the leader's service.issuing.anchoring.AnchoringWorker signs and relays anchorBySig
    finish(sessions, batch_id, anchoring, ...)                # proofs into the stored documents, batch anchored

`prepare` refuses the whole cohort on any problem, so nothing is stored or anchored. `persist` writes the
batch (pending, with its root) and all its credentials at once: after a crash, a pending batch in the
database is all that is needed to anchor it (or to find that it was anchored) and finish it. `finish`
rebuilds the cohort's tree from the stored bodies, checks it gives the stored root, and writes every
credential's proof in one transaction; it does nothing for a batch already finished.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.chain.keys import Signers
from service.chain.registry import RegistryClient
from service.credentials import integrity
from service.credentials.batch import Anchoring, PreparedBatch, attach_proofs, prepare_batch
from service.credentials.canonical import from_hex32, to_hex32
from service.credentials.disclosure import Disclosure
from service.credentials.document import (
    DraftCredential,
    Graduate,
    IssuerProfile,
    Programme,
    build_credential,
    normalise_email,
)
from service.db import models
from service.db.session import transaction
from service.errors import ChainUnavailable, Forbidden, InvalidInput
from service.issuing.identity import IssuerIdentity
from service.issuing.requests import Row, RowProblem, refuse
from service.issuing.states import UNFINISHED, BatchStatus
from service.issuing.status_lists import Allocation, StatusLists

HOLDER_TOKEN_PREFIX = "hold_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_holder_token() -> str:
    return HOLDER_TOKEN_PREFIX + secrets.token_urlsafe(32)


class IssuerNotAccredited(Forbidden):
    """The calling partner is not accredited now: nothing is stored or anchored."""

    slug, title = "issuer-not-accredited", "The partner is not an accredited issuer"


@dataclass(frozen=True)
class PreparedCredential:
    """One credential of a prepared cohort, with its tokens (the holder token is shown once, then only hashed)."""

    id: str  # the uuid of the body's id urn:uuid:<id>
    row: Row
    programme_id: str
    draft: DraftCredential
    digest: bytes
    holder_token: str
    share_token: str


@dataclass(frozen=True)
class PreparedCohort:
    issuer: str
    issuer_name: str
    batch: PreparedBatch
    credentials: tuple[PreparedCredential, ...]
    status: Allocation | None = None  # the credentials' status list indexes, in order

    @property
    def root(self) -> bytes:
        return self.batch.root


# ---------------------------------------------------------------- stage 1: prepare


def prepare(
    db: Session,
    registry: RegistryClient,
    signers: Signers,
    issuer: str,
    rows: Sequence[Row],
    *,
    single: bool = False,
    now: datetime | None = None,
    identities: Callable[[str], IssuerIdentity],
    status_lists: StatusLists | None = None,
) -> PreparedCohort:
    """Validate a cohort for `issuer` and build its credentials (signed with the partner's Ed25519 key:
    `identities(issuer)`, its did:web and key: Hub.identity_for) and Merkle root. Writes nothing but, with
    `status_lists`, the allocation of the credentials' status list indexes (once the cohort is found valid and
    the partner accredited; a cohort refused after that leaves them unused).

    :raises InvalidInput: a row names an unknown programme, repeats another row, or does not fit its
        programme (all problems listed, each with its row; `single` leaves row numbers out).
    :raises Forbidden: a row names another partner's programme, or the service holds no key for `issuer`.
    :raises IssuerNotAccredited: `issuer` is not accredited now.
    :raises ChainUnavailable: the chain does not answer.
    """
    problems: list[RowProblem] = []

    def problem(row: Row, field: str | None, message: str, code: str = "invalid", **values: Any) -> None:
        number, line = (None, None) if single else (row.number, row.line)
        problems.append(RowProblem(number, line, field, message, code, values))

    wanted = {row.request.programme_id for row in rows}
    programmes = {p.id: p for p in db.scalars(select(models.Programme).where(models.Programme.id.in_(wanted)))}
    seen: dict[tuple[str, str], int] = {}
    foreign: list[tuple[Row, models.Programme]] = []
    for row in rows:
        request = row.request
        programme = programmes.get(request.programme_id)
        if programme is None:
            problem(
                row,
                "programme_id",
                f"there is no programme {request.programme_id!r} (GET /programmes lists them)",
                "unknown_programme",
                value=request.programme_id,
            )
            continue
        if programme.issuer_address != issuer:
            foreign.append((row, programme))
            continue
        if request.grade is not None and not programme.graded:
            message = f"programme {programme.id!r} is not graded: leave the result (grade) out"
            problem(row, "result", message, "not_graded", value=programme.id)
        key = (normalise_email(request.email), programme.id)
        if key in seen:
            message = f"repeats row {seen[key]}: {request.email} already gets {programme.id!r} in this cohort"
            problem(row, "email", message, "duplicate", first=seen[key], value=request.email)
        else:
            seen[key] = row.number
    if foreign:
        row, programme = foreign[0]
        where = "" if single else f"{row.where()}: "
        raise Forbidden(
            f"{where}programme {programme.id!r} is issued by another partner ({programme.issuer_address}), "
            f"not by {issuer}",
            row=None if single else row.number,
            field="programme_id",
        ).coded(
            "foreign_programme",
            row=None if single else row.number,
            line=None if single else row.line,
            value=programme.id,
        )
    if problems:
        raise refuse(problems)

    # The reading is done: end this read-only transaction, so that its connection goes back to the pool before
    # the identity lookup and the status allocation below take one (requests holding one connection while
    # waiting for a second exhaust the pool under load: 500s from pool timeouts).
    db.commit()

    # The partner's key (to sign the anchoring) and its accreditation, before anything is stored.
    signers.for_address(issuer)
    status = registry.issuer(issuer)
    if not status.accredited:
        raise IssuerNotAccredited(
            f"{issuer}{f' ({status.name})' if status.name else ''} is not an accredited issuer now: the "
            "stichting's board accredits partners before they can issue, so nothing was issued",
            error="RegistryIssuerNotAccredited",
        ).coded("not_accredited")
    identity = identities(issuer)
    profile = IssuerProfile(
        address=issuer,
        chain_id=registry.chain_id,
        name=status.name,
        did=identity.did,
        signing_key=identity.signing_key,
    )

    # "Now" is chain time: verifiers judge the validity window by the block time, which may lag this clock.
    now = (now or _chain_now(registry)).replace(microsecond=0)
    allocation = status_lists.allocate(issuer, len(rows)) if status_lists is not None else None
    credentials = []
    drafts = []
    for position, row in enumerate(rows):
        request = row.request
        definition = _programme(programmes[request.programme_id])
        credential_id = str(uuid.uuid4())
        try:
            draft = build_credential(
                issuer=profile,
                programme=definition,
                graduate=Graduate(email=request.email, name=request.name, grade=request.grade),
                valid_from=request.valid_from or now,
                valid_until=request.valid_until,
                credential_id=f"urn:uuid:{credential_id}",
                credential_status=allocation.entry(position) if allocation is not None else None,
                signed_at=now,
            )
        except ValueError as exc:
            problem(row, None, str(exc))
            continue
        drafts.append(draft)
        credentials.append((credential_id, row, definition.id, draft))
    if problems:
        raise refuse(problems)
    try:
        batch = prepare_batch(drafts)
    except ValueError as exc:  # the bodies are built here: a failure is a bug, not the partner's input
        raise InvalidInput(f"the credentials could not be prepared: {exc}") from exc
    return PreparedCohort(
        issuer=issuer,
        issuer_name=status.name,
        batch=batch,
        credentials=tuple(
            PreparedCredential(
                id=credential_id,
                row=row,
                programme_id=programme_id,
                draft=draft,
                digest=digest,
                holder_token=new_holder_token(),
                share_token=secrets.token_urlsafe(24),
            )
            for (credential_id, row, programme_id, draft), digest in zip(credentials, batch.digests, strict=True)
        ),
        status=allocation,
    )


def _chain_now(registry: RegistryClient) -> datetime:
    try:
        return datetime.fromtimestamp(int(registry.w3.eth.get_block("latest")["timestamp"]), UTC)
    except (OSError, ValueError) as exc:
        raise ChainUnavailable.no_answer(exc, "the latest block") from exc


def _programme(row: models.Programme) -> Programme:
    return Programme(
        id=row.id,
        name=row.name,
        description=row.description,
        criteria=row.criteria,
        theme=row.theme,
        ects=row.ects,
        eqf_level=row.eqf_level,
        achievement_type=row.achievement_type,
        grade_scale=("1.0", "10.0") if row.graded else None,
    )


# ---------------------------------------------------------------- stage 2: persist


def persist(sessions: sessionmaker[Session], cohort: PreparedCohort) -> str:
    """Store the batch (pending, with its root) and all its credentials in one transaction; return the batch id.

    Nothing has been sent to the chain yet: after a crash from here on, the pending batch is anchored (or
    found anchored) and finished by Anchoring.reconcile.
    """
    batch_id = str(uuid.uuid4())
    with transaction(sessions) as session:
        session.add(
            models.Batch(
                id=batch_id,
                issuer_address=cohort.issuer,
                status=BatchStatus.PENDING,
                count=cohort.batch.count,
                root=to_hex32(cohort.root),
                attempts=0,
            )
        )
        session.flush()
        created_at = datetime.now(UTC)
        # One executemany INSERT (an ORM bulk insert): a 10,000 cohort in well under a second, where adding
        # 10,000 ORM objects takes seconds.
        session.execute(
            insert(models.Credential),
            [
                {
                    "id": item.id,
                    "batch_id": batch_id,
                    "position": position,
                    "programme_id": item.programme_id,
                    "issuer_address": cohort.issuer,
                    "digest": to_hex32(item.digest),
                    # the body and the issuer's DataIntegrityProof; finish adds the MerkleAnchor2026 proof
                    "document": _pending_document(item.draft),
                    "disclosures": [disclosure.to_json() for disclosure in item.draft.disclosures],
                    "holder_token_hash": hash_token(item.holder_token),
                    "share_token": item.share_token,
                    "shared_claims": [],
                    "created_at": created_at,
                }
                for position, item in enumerate(cohort.credentials)
            ],
        )
        if cohort.status is not None:
            StatusLists.record(
                session, cohort.status, [(item.id, to_hex32(item.digest)) for item in cohort.credentials]
            )
    return batch_id


def _pending_document(draft: DraftCredential) -> dict[str, Any]:
    """What is stored before anchoring: the body and, as its one proof so far, the issuer's DataIntegrityProof."""
    if draft.integrity_proof is None:
        return draft.body
    return {**draft.body, "proof": [draft.integrity_proof]}


def _stored_integrity_proof(document: dict[str, Any]) -> dict[str, Any] | None:
    """The DataIntegrityProof a stored document carries (beside the anchor proof once finished)."""
    proofs = document.get("proof")
    found = [
        item
        for item in (proofs if isinstance(proofs, list) else [])
        if isinstance(item, dict) and item.get("type") == integrity.PROOF_TYPE
    ]
    return found[0] if found else None


# ---------------------------------------------------------------- stage 4: finish


def stored_batch(session: Session, batch: models.Batch) -> tuple[PreparedBatch, list[models.Credential]]:
    """The prepared cohort of a stored batch, rebuilt from its stored bodies and disclosures.

    :raises RuntimeError: the rebuilt root is not the stored one (the stored documents were changed).
    """
    rows = list(
        session.scalars(
            select(models.Credential).where(models.Credential.batch_id == batch.id).order_by(models.Credential.position)
        )
    )
    drafts = [
        DraftCredential(
            {k: v for k, v in row.document.items() if k != "proof"},
            tuple(Disclosure.from_json(item) for item in row.disclosures),
            _stored_integrity_proof(row.document),
        )
        for row in rows
    ]
    prepared = prepare_batch(drafts, check=False)  # checked when prepared; the root check below catches changes
    if prepared.root != from_hex32(batch.root):
        raise RuntimeError(
            f"batch {batch.id}: the stored credentials give root {to_hex32(prepared.root)}, not the stored {batch.root}"
        )
    return prepared, rows


def finish(
    sessions: sessionmaker[Session],
    batch_id: str,
    anchoring: Anchoring,
    *,
    block_number: int,
    anchored_at: int,
    block_hash: str | None = None,
    cohort: PreparedCohort | None = None,
) -> bool:
    """Write each credential's proof and mark the batch anchored, in one transaction.

    `cohort` is the prepared cohort the batch was persisted from, when still in memory; without it (after
    a restart) the cohort is rebuilt from the store (stored_batch). Either must give the stored root.

    :returns: False when the batch was already finished (nothing changed).
    """
    with transaction(sessions) as session:
        batch = session.get(models.Batch, batch_id)
        if batch is None:
            raise LookupError(f"no batch {batch_id}")
        if batch.status == BatchStatus.ANCHORED and batch.tx_hash == to_hex32(anchoring.transaction_hash):
            return False
        if cohort is not None and to_hex32(cohort.root) == batch.root:
            prepared, ids = cohort.batch, [item.id for item in cohort.credentials]
        else:
            prepared, rows = stored_batch(session, batch)
            ids = [row.id for row in rows]
        documents = attach_proofs(prepared, anchoring, copy_bodies=False)
        # An ORM bulk UPDATE by primary key (executemany), not 10,000 dirty objects to flush.
        session.execute(
            update(models.Credential),
            [
                {"id": credential_id, "document": document}
                for credential_id, document in zip(ids, documents, strict=True)
            ],
        )
        batch.status = BatchStatus.ANCHORED
        batch.tx_hash = to_hex32(anchoring.transaction_hash)
        batch.block_number = block_number
        batch.block_hash = block_hash
        batch.anchored_at = datetime.fromtimestamp(anchored_at, UTC)
        batch.error = None
    return True


def mark_failed(sessions: sessionmaker[Session], batch_id: str, reason: str) -> None:
    """A batch that cannot be anchored (e.g. the partner's accreditation ended before it was sent)."""
    with transaction(sessions) as session:
        batch = session.get(models.Batch, batch_id)
        if batch is not None and batch.status in UNFINISHED:
            batch.status = BatchStatus.FAILED
            batch.error = reason


def record_error(sessions: sessionmaker[Session], batch_id: str, error: str) -> None:
    """What went wrong with the last attempt of a batch that stays pending (it is retried)."""
    with transaction(sessions) as session:
        batch = session.get(models.Batch, batch_id)
        if batch is not None and batch.status in UNFINISHED:
            batch.error = error
            batch.updated_at = datetime.now(UTC)
