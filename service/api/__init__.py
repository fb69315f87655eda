"""The HTTP API: one router per resource, gathered here."""

from __future__ import annotations

from fastapi import APIRouter

from service.api import health

api_router = APIRouter()
api_router.include_router(health.router)
