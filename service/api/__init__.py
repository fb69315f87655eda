"""The HTTP API: one router per resource, gathered here."""

from __future__ import annotations

from fastapi import APIRouter

from service.api import batches, board, credentials, health, issuers, meetings, problems, programmes, status, verify

api_router = APIRouter(route_class=problems.JsonRoute)  # each router below has it too: its routes keep theirs
api_router.include_router(health.router)
api_router.include_router(verify.router)  # early: routes are matched in order, and /verify is the busiest
api_router.include_router(meetings.router)  # before board's: /board/meetings
api_router.include_router(board.router)
api_router.include_router(programmes.router)
api_router.include_router(credentials.router)
api_router.include_router(batches.router)
api_router.include_router(issuers.router)
api_router.include_router(status.router)
