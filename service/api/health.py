"""GET /health: is the service able to serve, and does anything need an operator? 503 `down` when the chain or
the database does not answer; 200 `degraded` (with the problems in words) when the relayer's balance is low, a
batch waits too long or the event index lags; 200 `ok` otherwise.

GET /health/live: is the process up? Always 200 `{"status": "ok"}`, touching neither chain nor database
(a liveness probe; also the hello-world endpoint bench/verify.py compares POST /verify with)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from service.api import problems
from service.api.deps import HubDep
from service.db import models
from service.db.session import database_ok
from service.hub import Hub
from service.issuing.states import UNFINISHED

router = APIRouter(tags=["health"], route_class=problems.JsonRoute)


class Relayer(BaseModel):
    address: str
    balance_eth: float | None = Field(description="the relayer's balance; null when the chain does not answer")
    low_balance_eth: float = Field(description="below this the service says degraded: fund the relayer")
    open_transactions: int = Field(description="its transactions sent and not final yet")


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description="ok; degraded: serving, but something needs an operator (see problems); down: the chain or "
        "the database does not answer (503)"
    )
    chain: str  # ok | unreachable
    database: str  # ok | unreachable
    chain_id: int
    latest_block: int | None
    registry: str
    board: str
    relayer: Relayer
    oldest_pending_batch_seconds: float | None = Field(
        description="how long the oldest batch not yet anchored has waited; null when none waits"
    )
    indexer_block: int | None = Field(description="the last block the event index holds")
    indexer_lag_blocks: int | None = Field(description="blocks between the head and the index")
    leader: bool = Field(description="this process runs the background work (indexer, relayer, anchoring)")
    problems: list[str] = Field(default_factory=list, description="what makes it degraded or down, in words")


@router.get(
    "/health",
    response_model=Health,
    operation_id="health",
    responses={503: {"model": Health, "description": "The chain or the database is unreachable"}},
)
def health(hub: HubDep) -> JSONResponse:
    """Is the service able to serve, and does anything need an operator? 200 ok or degraded, 503 down."""
    settings, problems_found = hub.settings, []
    try:
        seen = hub.verification_cache.head.fresh()  # the head watcher's, when recent: no call of our own
        latest: int | None = seen.number if seen is not None else int(hub.w3.eth.block_number)
        balance: float | None = int(hub.w3.eth.get_balance(hub.relayer.address)) / 10**18
    except Exception:  # noqa: BLE001 - any failure means unreachable
        latest, balance = None, None
        problems_found.append("the chain node does not answer")
    db_ok = database_ok(hub.engine)
    oldest = indexed = None
    open_count = 0
    if db_ok:
        try:
            oldest, indexed, open_count = _store_figures(hub)
        except Exception:  # noqa: BLE001 - the database went away between the two checks
            db_ok = False
    if not db_ok:
        problems_found.append("the database does not answer")
    lag = None if latest is None or indexed is None else max(0, latest - indexed)
    if balance is not None and balance < settings.low_balance_eth:
        problems_found.append(
            f"the relayer {hub.relayer.address} has {balance:.6f} ether, below "
            f"{settings.low_balance_eth}: fund it, or transactions cannot be paid"
        )
    if oldest is not None and oldest > settings.pending_alert_after:
        problems_found.append(
            f"a batch has waited {oldest:.0f} s to be anchored (alert after {settings.pending_alert_after:.0f} s)"
        )
    if lag is not None and lag > settings.index_lag_alert:
        problems_found.append(
            f"the event index is {lag} blocks behind the head (alert after {settings.index_lag_alert})"
        )
    down = latest is None or not db_ok
    body = Health(
        status="down" if down else "degraded" if problems_found else "ok",
        chain="ok" if latest is not None else "unreachable",
        database="ok" if db_ok else "unreachable",
        chain_id=hub.chain_id,
        latest_block=latest,
        registry=hub.registry_address,
        board=hub.board_address,
        relayer=Relayer(
            address=hub.relayer.address,
            balance_eth=balance,
            low_balance_eth=settings.low_balance_eth,
            open_transactions=open_count,
        ),
        oldest_pending_batch_seconds=oldest,
        indexer_block=indexed,
        indexer_lag_blocks=lag,
        leader=hub.leader.leading,
        problems=problems_found,
    )
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)


def _store_figures(hub: Hub) -> tuple[float | None, int | None, int]:
    """The oldest unfinished batch's age, the index's last block, the relayer's open transactions."""
    with hub.sessions() as session:
        created = session.scalar(
            select(func.min(models.Batch.created_at)).where(models.Batch.status.in_(list(UNFINISHED)))
        )
        indexed = session.scalar(select(func.min(models.IndexCursor.last_block)))
    age = None
    if created is not None:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - created).total_seconds()
    return age, None if indexed is None else int(indexed), hub.relayer.open_count()


class Liveness(BaseModel):
    status: Literal["ok"]


@router.get("/health/live", response_model=Liveness, operation_id="liveness")
async def live() -> dict[str, str]:
    """The process answers: no chain or database access."""
    return {"status": "ok"}
