"""Batches: a cohort anchored by one transaction. Its issuing partner follows it until it is anchored."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from service.api import problems
from service.api.credentials import EXAMPLE_ROOT, EXAMPLE_TX, BatchStatus, reported_status, share_url, utc
from service.api.deps import DbSession, HubDep, Issuer
from service.chain.fees import GWEI
from service.db import models
from service.errors import InvalidInput
from service.issuing import cohorts

router = APIRouter(prefix="/batches", tags=["credentials"], route_class=problems.JsonRoute)


class BatchCredential(BaseModel):
    id: str
    share_url: str
    revoked: bool


class BatchTransaction(BaseModel):
    """The relayer's newest transaction for the batch (service.chain.relayer.TxState)."""

    hash: str = Field(examples=[EXAMPLE_TX])
    state: str = Field(examples=["submitted"], description="signed, submitted, included, confirmed, reverted or failed")
    nonce: int = Field(description="the relayer's nonce: a replacement keeps it")
    attempts: int = Field(description="1, or more when it was replaced with higher fees")
    max_fee_gwei: float = Field(description="what it offers per gas at most (EIP-1559 max fee, or the gas price)")
    priority_fee_gwei: float | None = Field(None, description="its tip per gas (EIP-1559)")


class BatchPublic(BaseModel):
    id: str
    status: BatchStatus = Field(
        description="pending (stored, not sent yet), submitted (its transaction is sent: "
        "see transaction), included (mined: see confirmations), anchored (final, "
        "every credential has its proof), or failed (see error)"
    )
    count: int
    root: str = Field(examples=[EXAMPLE_ROOT], description="the Merkle root anchored for the cohort")
    issuer_address: str
    transaction_hash: str | None = Field(None, examples=[EXAMPLE_TX], description="the anchoring transaction")
    block_number: int | None = None
    anchored_at: datetime | None = None
    confirmations: int | None = Field(
        None,
        description="blocks on top of its block (0: in the latest block), as "
        "the service last saw the head; final at the hub's setting",
    )
    transaction: BatchTransaction | None = Field(None, description="the relayer's transaction for it, once sent")
    error: str | None = Field(None, description="why it failed, or what delays it while pending")
    created_at: datetime
    credentials: list[BatchCredential] = Field(
        description="in the order they were given (CSV rows, JSON list); empty with ?credentials=false"
    )


class BatchSummary(BaseModel):
    id: str
    status: BatchStatus
    count: int
    programmes: list[str] = Field(description="the programmes its credentials are for (mostly one)")
    transaction_hash: str | None = Field(None, examples=[EXAMPLE_TX])
    created_at: datetime


class BatchPage(BaseModel):
    batches: list[BatchSummary] = Field(description="the caller's own batches, newest first")
    next: str | None = Field(
        None, description="the URL of the next page (also in the Link header, rel=next); null on the last page"
    )


MAX_PAGE = 100


def _cursor(batch: models.Batch) -> str:
    """An opaque position after `batch` in the newest-first order: its creation time and id."""
    return base64.urlsafe_b64encode(f"{batch.created_at.isoformat()}|{batch.id}".encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, batch_id = text.split("|", 1)
        return datetime.fromisoformat(moment), batch_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "the cursor is not one this service gave: pass the `next` URL of the previous page as it is, "
            "or leave cursor out for the first page"
        ) from None


@router.get(
    "",
    response_model=BatchPage,
    operation_id="listBatches",
    responses=problems.responses(401, 403, 422),
)
def list_batches(
    request: Request,
    response: Response,
    hub: HubDep,
    db: DbSession,
    principal: Issuer,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"batches per page, 1 to {MAX_PAGE}")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="where the page starts: from the previous page's `next`")
    ] = None,
) -> BatchPage:
    """The issuing partner's own batches, newest first, a page at a time (another partner's are never listed).

    Follow `next` (or the Link header, rel=next) until it is null to see them all."""
    page, more, programmes = cohorts.list_batches(
        db, principal.address, limit, _after(cursor) if cursor is not None else None
    )
    following = None
    if more:
        following = str(request.url.include_query_params(limit=limit, cursor=_cursor(page[-1])))
        response.headers["Link"] = f'<{following}>; rel="next"'
    return BatchPage(
        batches=[
            BatchSummary(
                id=batch.id,
                status=cast(BatchStatus, str(reported_status(hub, batch))),
                count=batch.count,
                programmes=programmes[batch.id],
                transaction_hash=batch.tx_hash,
                created_at=cast(datetime, utc(batch.created_at)),
            )
            for batch in page
        ],
        next=following,
    )


@router.get(
    "/{batch_id}", response_model=BatchPublic, operation_id="getBatch", responses=problems.responses(401, 403, 404)
)
def get_batch(
    batch_id: Annotated[str, Path(max_length=36)],
    hub: HubDep,
    db: DbSession,
    principal: Issuer,
    credentials: Annotated[
        bool,
        Query(
            description="false: leave the list of credentials out (e.g. "
            "when polling a large cohort until it is anchored)"
        ),
    ] = True,
) -> BatchPublic:
    """A batch's status, root and anchoring transaction, with its credentials (the issuing partner's key).

    Poll it until the status is anchored (or failed, with the reason in `error`); with `?credentials=false`
    the answer stays small however large the cohort."""
    batch = cohorts.own_batch(db, principal.address, batch_id)
    listed = []
    if credentials:  # only the columns listed: a cohort's documents are megabytes
        rows = db.execute(
            select(models.Credential.id, models.Credential.share_token, models.Credential.revoked_at)
            .where(models.Credential.batch_id == batch.id)
            .order_by(models.Credential.position)
        )
        listed = [
            BatchCredential(id=row.id, share_url=share_url(hub, row.share_token), revoked=row.revoked_at is not None)
            for row in rows
        ]
    sent = cohorts.latest_transaction(db, batch)
    transaction = None
    if sent is not None and sent.attempts:
        newest = sent.attempts[-1]
        transaction = BatchTransaction(
            hash=sent.tx_hash or newest.tx_hash,
            state=sent.state,
            nonce=sent.nonce,
            attempts=len(sent.attempts),
            max_fee_gwei=int(newest.max_fee) / GWEI,
            priority_fee_gwei=None if newest.priority_fee is None else int(newest.priority_fee) / GWEI,
        )
    head = hub.verification_cache.head.head
    confirmations = (
        max(0, head.number - batch.block_number) if head is not None and batch.block_number is not None else None
    )
    status = reported_status(hub, batch)
    error = batch.error if status == batch.status else "its block left the chain (a reorg): it is anchored again"
    return BatchPublic(
        id=batch.id,
        status=cast(BatchStatus, str(status)),
        count=batch.count,
        root=batch.root,
        issuer_address=batch.issuer_address,
        transaction_hash=batch.tx_hash,
        block_number=batch.block_number,
        anchored_at=utc(batch.anchored_at),
        confirmations=confirmations,
        transaction=transaction,
        error=error,
        created_at=cast(datetime, utc(batch.created_at)),
        credentials=listed,
    )
