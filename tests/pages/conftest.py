"""Page fixtures: the API's (a real anvil with the hub deployed, a real SQLite file, the app), plus a
partner with its catalogue and credentials issued through the API as a partner would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from service.demo import DEMO_PROGRAMMES, ORGANISATIONS
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    Keys,
    accredited,
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
    keys,
    settings,
)
from tests.chain import advance_time, latest_timestamp

HANZE = ORGANISATIONS[2].name  # Hanzehogeschool Groningen
GRADUATE = {
    "programme_id": "miw-data-analytics",
    "email": "jan.devries@example.org",
    "name": "Jan de Vries",
    "grade": "8.5",
    "valid_from": "2026-07-01",
    "valid_until": "2031-07-01",
}


def add_catalogue(post: Any, keys: Keys) -> None:  # noqa: F811 - a Keys, not the fixture
    """The demo programmes, added by the admin (`post` is a client's post method)."""
    for programme in DEMO_PROGRAMMES:
        response = post("/programmes", headers=keys.admin(), json=programme.as_create())
        assert response.status_code == 201, response.text


def issue_with(post: Any, keys: Keys, **overrides: Any) -> dict[str, Any]:  # noqa: F811
    """Issue one credential as Hanzehogeschool Groningen; the API's answer (with share_url and document)."""
    body = {key: value for key, value in {**GRADUATE, **overrides}.items() if value is not None}
    response = post("/credentials", headers=keys.issuer(HANZE), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def ending_soon() -> tuple[str, str]:
    """A valid_until two days from now (the API refuses one that has passed) and its words on a page."""
    end = (datetime.now(UTC) + timedelta(days=2)).date()
    midnight = datetime(end.year, end.month, end.day, tzinfo=UTC).astimezone(ZoneInfo("Europe/Amsterdam"))
    return end.isoformat(), f"{midnight.day} {midnight:%B} {midnight.year} ({midnight.tzname()})"


def set_verifier_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Set the verifier's own clock (it judges the validity period; chain time does not) for this test."""
    import service.credentials.verifier as verifier

    monkeypatch.setattr(verifier, "_now", lambda: moment)


def pass_the_end(running: Any, valid_until: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Move the verifier's clock and the chain's a day past `valid_until`, and wait until the verifier has
    seen that block."""
    end = datetime.fromisoformat(valid_until).replace(tzinfo=UTC)
    set_verifier_clock(monkeypatch, end + timedelta(days=1))
    advance_time(running.w3, max(0, int(end.timestamp() - latest_timestamp(running.w3))) + 86_400)
    # the verifier's cache answers from a head seen at most a moment ago: wait until it has seen this one
    assert running.verification_cache.head.wait_for(running.w3.eth.block_number) is not None


def share_path(issued: dict[str, Any]) -> str:
    return "/share/" + issued["share_url"].rsplit("/share/", 1)[1]


@pytest.fixture
def hanze(accredited: Any, client: TestClient, keys: Keys) -> str:  # noqa: F811
    """Hanzehogeschool Groningen accredited by a board decision, with the demo catalogue."""
    address = accredited(HANZE)[0]
    add_catalogue(client.post, keys)
    return address


@pytest.fixture
def issue(client: TestClient, keys: Keys, hanze: str) -> Any:  # noqa: F811
    """issue(**overrides) -> the API's answer for a credential issued to Jan de Vries (8.5, until 2031)."""
    return lambda **overrides: issue_with(client.post, keys, **overrides)
