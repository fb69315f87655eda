"""GET /health and the service's refusals at start-up."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from service.api.deps import Admin
from service.hub import Hub, StartupError
from service.settings import Settings


def test_health_reports_chain_database_and_contracts(client: TestClient, hub: Hub) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["chain_id"] == 31337
    assert body["latest_block"] >= 2
    assert body["registry"] == hub.registry_address
    assert body["board"] == hub.board_address
    assert body["database"] == "ok"
    assert body["relayer"]["address"] == hub.relayer.address and body["relayer"]["balance_eth"] > 1
    assert body["relayer"]["open_transactions"] == 0 and body["oldest_pending_batch_seconds"] is None
    assert body["problems"] == []


def test_health_says_degraded_with_the_reasons_past_their_settings(client: TestClient, hub: Hub) -> None:
    from datetime import UTC, datetime, timedelta

    from service.db import models
    from service.db.session import transaction

    hub.stop_background()  # nothing moves the index or the batch meanwhile
    with transaction(hub.sessions) as session:  # a batch that has waited long, and an index far behind
        session.add(
            models.Batch(
                id="b" * 36,
                issuer_address=hub.relayer.address,
                status="submitted",
                count=1,
                root="0x" + "11" * 32,
                created_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
        session.merge(models.IndexCursor(contract=hub.registry_address, last_block=0))
    hub.settings = hub.settings.model_copy(
        update={"pending_alert_after": 60.0, "index_lag_alert": 1, "low_balance_eth": 10**9}
    )
    response = client.get("/health")
    assert response.status_code == 200  # degraded: still serving
    body = response.json()
    assert body["status"] == "degraded"
    assert body["oldest_pending_batch_seconds"] >= 3600 and body["indexer_lag_blocks"] >= 2
    assert [problem.split(" ")[1] for problem in body["problems"]] == ["relayer", "batch", "event"]


def test_health_is_503_when_the_chain_is_unreachable(client: TestClient, hub: Hub) -> None:
    from web3 import Web3

    reachable = hub.w3
    hub.w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 1}))
    try:
        response = client.get("/health")
    finally:
        hub.w3 = reachable
    assert response.status_code == 503
    assert response.json()["chain"] == "unreachable"
    assert response.json()["status"] == "down"
    assert response.json()["problems"] == ["the chain node does not answer"]


def test_start_refuses_a_chain_id_mismatch(settings: Settings) -> None:
    with pytest.raises(StartupError, match="is chain 31337, expected 1"):
        Hub.start(settings.model_copy(update={"chain_id": 1}))


def test_start_refuses_an_unreachable_node(settings: Settings) -> None:
    with pytest.raises(StartupError, match="no JSON-RPC node answers"):
        Hub.start(settings.model_copy(update={"rpc_url": "http://127.0.0.1:9"}))


def test_start_refuses_a_missing_deployment(settings: Settings, tmp_path) -> None:
    with pytest.raises(StartupError, match="no deployment for chain 31337"):
        Hub.start(settings.model_copy(update={"deployments_dir": tmp_path}))


def test_unknown_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-found")


_probe = APIRouter()


@_probe.get("/_admin_probe")
def _admin_probe(principal: Admin) -> dict[str, str]:
    return {"name": principal.name}


def test_requests_without_a_key_get_401_problem_json(client: TestClient, keys) -> None:
    client.app.include_router(_probe)
    missing = client.get("/_admin_probe")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert "Authorization: Bearer" in missing.json()["detail"]
    wrong_role = client.get("/_admin_probe", headers=keys.member("TVM verzekeringen"))
    assert wrong_role.status_code == 403
    assert "needs an admin key; yours is a member key (TVM verzekeringen)" in wrong_role.json()["detail"]
    unknown = client.get("/_admin_probe", headers={"Authorization": "Bearer hub_nope"})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "this API key is not known"
    ok = client.get("/_admin_probe", headers=keys.admin())
    assert ok.status_code == 200 and ok.json() == {"name": "Stichting IT Hub Hoogeveen"}


def test_a_second_process_on_one_sqlite_file_is_refused(settings: Settings, anvil, deployments_dir, tmp_path) -> None:
    """SQLite serves one service process (PostgreSQL serves several): a second one on the same file does not start,
    and says why."""
    from bench.server import start_server

    database = tmp_path / "one.db"
    first = start_server(anvil.url, anvil.chain_id, deployments_dir, tmp_path, database=database)
    try:
        with pytest.raises(StartupError, match=r"served by process \d+ already: SQLite serves one service process"):
            Hub.start(settings.model_copy(update={"database_url": f"sqlite:///{database}"}))
    finally:
        first.stop()
    Hub.start(settings.model_copy(update={"database_url": f"sqlite:///{database}"})).close()  # free again
