"""The anchoring worker's retries (service.issuing.anchoring): a batch that cannot be sent now is tried again,
with a doubling wait capped at HUB_MAX_BACKOFF, and never given up for it, however often it fails.

On the API's anvil, with the relayer's `submit` made to fail (as a node that does not answer) a dozen times
before it goes through: the batch must be anchored, never failed, soon after the node answers again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.db import models
from service.demo import DEMO_PROGRAMMES
from service.errors import ChainUnavailable
from service.hub import Hub
from service.main import create_app
from service.settings import Settings
from tests.api.conftest import Accreditations, Keys

HANZE = "Hanzehogeschool Groningen"
FAILURES = 12  # uncapped, the 12th wait alone would be 0.02 s * 2**11 = 41 s; capped at 0.1 s it is 0.1 s


@pytest.fixture
def retrying(settings: Settings, chain_state: None) -> Iterator[tuple[Hub, TestClient]]:
    hub = Hub.start(
        settings.model_copy(
            update={"retry_interval": 0.02, "max_backoff": 0.1, "worker_interval": 0.05, "request_wait": 0.0}
        )
    )
    try:
        with TestClient(create_app(hub=hub)) as client:
            yield hub, client
    finally:
        hub.close()


def test_a_batch_that_cannot_be_sent_a_dozen_times_is_still_anchored_and_never_failed(
    retrying: tuple[Hub, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, client = retrying
    with hub.sessions.begin() as session:
        for programme in DEMO_PROGRAMMES:
            session.add(models.Programme(**programme.as_create()))
    Accreditations(hub)(HANZE)
    keys = Keys(hub)
    submit = hub.anchoring.relayer.submit
    tries: list[float] = []

    def flaky_submit(*args: Any, **kwargs: Any) -> Any:
        tries.append(time.monotonic())
        if len(tries) <= FAILURES:
            raise ChainUnavailable(f"the blockchain node does not answer (test: failure {len(tries)})")
        return submit(*args, **kwargs)

    monkeypatch.setattr(hub.anchoring.relayer, "submit", flaky_submit)
    answer = client.post(
        "/credentials",
        headers=keys.issuer(HANZE),
        json={
            "programme_id": "miw-data-analytics",
            "email": "jan.devries@example.org",
            "name": "Jan de Vries",
            "grade": "8.5",
        },
    )
    assert answer.status_code == 202, answer.text
    batch_id = answer.json()["batch_id"]
    seen: set[str] = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = client.get(f"/batches/{batch_id}?credentials=false", headers=keys.issuer(HANZE)).json()
        seen.add(state["status"])
        if state["status"] == "anchored":
            break
        time.sleep(0.05)
    assert "failed" not in seen, f"the batch was given up: {state}"
    assert state["status"] == "anchored", f"not anchored after {len(tries)} tries: {state}"
    assert len(tries) == FAILURES + 1  # each failure tried again, then sent once
    waits = [later - earlier for earlier, later in zip(tries, tries[1:], strict=False)]
    assert max(waits) < 2.0, waits  # the wait stopped doubling at HUB_MAX_BACKOFF
