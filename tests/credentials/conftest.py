"""Fixtures of the credential tests (chain fixtures live in tests/credentials/fixtures.py)."""

from __future__ import annotations

from tests.credentials.fixtures import deployed_registry, registry

__all__ = ["deployed_registry", "registry"]
