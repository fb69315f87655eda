"""GET /health: is the service able to serve? 200 when chain and database answer, 503 otherwise.

GET /health/live: is the process up? Always 200 `{"status": "ok"}`, touching neither chain nor database
(a liveness probe; also the hello-world endpoint bench/verify.py compares POST /verify with)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service.api import problems
from service.api.deps import HubDep
from service.db.session import database_ok

router = APIRouter(tags=["health"], route_class=problems.JsonRoute)


class Health(BaseModel):
    status: str  # ok | degraded
    chain: str  # ok | unreachable
    database: str  # ok | unreachable
    chain_id: int
    latest_block: int | None
    registry: str
    board: str


@router.get("/health", response_model=Health, operation_id="health",
            responses={503: {"model": Health, "description": "The chain or the database is unreachable"}})
def health(hub: HubDep) -> JSONResponse:
    try:
        latest: int | None = int(hub.w3.eth.block_number)
    except Exception:  # noqa: BLE001 - any failure means unreachable
        latest = None
    db_ok = database_ok(hub.engine)
    body = Health(
        status="ok" if latest is not None and db_ok else "degraded",
        chain="ok" if latest is not None else "unreachable",
        database="ok" if db_ok else "unreachable",
        chain_id=hub.chain_id,
        latest_block=latest,
        registry=hub.registry_address,
        board=hub.board_address,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)


class Liveness(BaseModel):
    status: Literal["ok"]


@router.get("/health/live", response_model=Liveness, operation_id="liveness")
async def live() -> dict[str, str]:
    """The process answers: no chain or database access."""
    return {"status": "ok"}
