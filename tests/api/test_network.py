"""A chain that behaves like a public network, made to happen on a real anvil node: mining that stops, a base-fee
spike, a stall longer than every wait, a reorg that removes an anchoring, a relayer without funds.

Each test has the service (one process, SQLite file, the app under TestClient with its background work) on an
anvil node of this module's own (it switches mining off and moves the base fee), from the same deployed state.
The relayer's short timings are settings (HUB_REPLACE_AFTER, HUB_REQUEST_WAIT, ...), as an operator sets them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.chain.deployment import ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, start_chain
from service.chain.fees import GWEI
from service.chain.registry import RegistryClient
from service.chain.relayer import TxState
from service.credentials.verifier import verify_credential
from service.db import models
from service.demo import DEMO_PROGRAMMES, DEPLOYER_ACCOUNT, dev_board
from service.hub import Hub
from service.main import create_app
from service.settings import Settings
from tests.api.conftest import Accreditations, Keys
from tests.chain import revert_to, rpc, snapshot
from tests.live import wait_for

HANZE = "Hanzehogeschool Groningen"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevChain, Path]]:
    chain = start_chain("anvil", log_dir=tmp_path_factory.mktemp("anvil-network"))
    directory = tmp_path_factory.mktemp("deployments-network")
    ensure_deployed(chain.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=directory)
    yield chain, directory
    chain.stop()


@pytest.fixture
def network(node: tuple[DevChain, Path], tmp_path: Path) -> Iterator[tuple[DevChain, Settings]]:
    chain, deployments = node
    taken = snapshot(chain.w3)
    settings = Settings(
        rpc_url=chain.url,
        chain_id=chain.chain_id,
        deployments_dir=deployments,
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        public_url="http://testserver",
        replace_after=1.0,
        request_wait=1.5,
        worker_interval=0.1,
        retry_interval=0.5,
        index_interval=0.2,
        head_interval=0.2,
        head_max_age=0.5,
        _env_file=None,
    )
    yield chain, settings
    rpc(chain.w3, "evm_setAutomine", True)
    rpc(chain.w3, "anvil_setNextBlockBaseFeePerGas", hex(GWEI))
    revert_to(chain.w3, taken)


def serving(settings: Settings) -> Iterator[tuple[Hub, TestClient, Keys, str]]:
    """The service on `settings`: the catalogue, Hanzehogeschool accredited, the app under TestClient."""
    hub = Hub.start(settings)
    keys = Keys(hub)
    with hub.sessions.begin() as session:
        for programme in DEMO_PROGRAMMES:
            session.add(models.Programme(**programme.as_create()))
    (hanze,) = Accreditations(hub)(HANZE)
    try:
        with TestClient(create_app(hub=hub)) as client:
            yield hub, client, keys, hanze
    finally:
        hub.close()


@pytest.fixture
def service(network: tuple[DevChain, Settings]) -> Iterator[tuple[Hub, TestClient, Keys, str]]:
    yield from serving(network[1])


def graduate(number: int = 1) -> dict[str, Any]:
    return {
        "programme_id": "miw-data-analytics",
        "email": f"graduate{number}@example.org",
        "name": f"Graduate {number}",
        "grade": "8.0",
    }


def relayer_rows(hub: Hub) -> list[models.RelayerTransaction]:
    with hub.sessions() as session:
        # the anchoring transactions (a partner's one-time authorisation of the relayer is left out)
        rows = list(
            session.scalars(
                select(models.RelayerTransaction)
                .where(models.RelayerTransaction.purpose != "authorise")
                .order_by(models.RelayerTransaction.nonce)
            )
        )
        for row in rows:
            _ = row.attempts  # loaded before the session closes
        return rows


def batch(client: TestClient, keys: Keys, batch_id: str) -> dict[str, Any]:
    response = client.get(f"/batches/{batch_id}?credentials=false", headers=keys.issuer(HANZE))
    assert response.status_code == 200, response.text
    return response.json()


def assert_holder_gets_it(client: TestClient, issued: dict[str, Any], hub: Hub) -> dict[str, Any]:
    """The holder token returned with the answer opens the credential, anchored and valid."""
    credential = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]})
    assert credential.status_code == 200, credential.text
    body = credential.json()
    assert body["status"] == "anchored" and body["document"] is not None
    report = verify_credential(body["document"], RegistryClient(hub.w3, hub.registry_address).chain_facts())
    assert report.valid, report.failed
    return body


def test_mining_paused_and_a_base_fee_spike_replace_the_transaction_at_the_same_nonce(
    service: tuple[Hub, TestClient, Keys, str],
) -> None:
    hub, client, keys, _ = service
    w3 = hub.w3
    nonce_before = w3.eth.get_transaction_count(hub.relayer.address)
    rpc(w3, "evm_setAutomine", False)  # mining stops

    answer = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert answer.status_code == 202, answer.text  # not anchored within the wait: stored, on its way
    issued = answer.json()
    assert issued["holder_token"] and issued["status"] == "submitted" and issued["document"] is None
    assert answer.headers["location"] == f"/credentials/{issued['id']}"
    (first,) = relayer_rows(hub)
    first_fees = first.attempts[0]

    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(40 * GWEI))  # the base fee jumps above what it offers
    assert first_fees.max_fee < 40 * GWEI
    replaced = wait_for(
        lambda: (rows := relayer_rows(hub)) and rows[0].attempts[-1].max_fee >= 80 * GWEI and rows,
        20,
        "the stuck transaction to be replaced with fees for the new base fee",
    )
    (row,) = replaced  # one transaction: each replacement is another attempt at the same nonce
    assert row.nonce == nonce_before and len(row.attempts) >= 2
    for earlier, later in zip(row.attempts, row.attempts[1:], strict=False):  # both fields up by 12.5% at least
        assert later.max_fee * 1000 >= earlier.max_fee * 1125
        assert later.priority_fee * 1000 >= earlier.priority_fee * 1125
    state = batch(client, keys, issued["batch_id"])
    assert state["status"] == "submitted" and state["transaction"]["attempts"] >= 2
    assert state["transaction"]["nonce"] == nonce_before

    rpc(w3, "evm_setAutomine", True)
    rpc(w3, "evm_mine")  # mining resumes
    wait_for(lambda: batch(client, keys, issued["batch_id"])["status"] == "anchored", 20, "the batch anchored")
    (row,) = relayer_rows(hub)
    mined = {attempt.tx_hash for attempt in row.attempts} & {row.tx_hash}
    assert row.state == TxState.CONFIRMED and mined and row.tx_hash != first_fees.tx_hash
    assert w3.eth.get_transaction_count(hub.relayer.address) == nonce_before + 1  # no other nonce used
    receipt = w3.eth.get_transaction_receipt(row.tx_hash)
    assert receipt["status"] == 1 and receipt["type"] == 2  # EIP-1559
    assert_holder_gets_it(client, issued, hub)


def test_a_stall_beyond_every_wait_never_fails_the_batch(service: tuple[Hub, TestClient, Keys, str]) -> None:
    hub, client, keys, _ = service
    w3 = hub.w3
    hub.relayer.fees.cap = type(hub.relayer.fees.cap)(max_fee=3 * GWEI, priority_fee=2 * GWEI)  # a low cap
    rpc(w3, "evm_setAutomine", False)
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(10 * GWEI))  # above the cap: nothing it sends can be mined
    answer = client.post(
        "/credentials/batch", headers=keys.issuer(HANZE), json={"credentials": [graduate(1), graduate(2), graduate(3)]}
    )
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    # many replacement intervals and request waits pass; the batch stays on its way, never failed
    for _ in range(12):
        state = batch(client, keys, accepted["id"])
        assert state["status"] in ("pending", "submitted"), state
        time.sleep(0.5)
    (row,) = relayer_rows(hub)
    assert all(attempt.max_fee <= 3 * GWEI for attempt in row.attempts)  # never above the cap
    assert row.state in (TxState.SIGNED, TxState.SUBMITTED)
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(GWEI // 2))  # the base fee comes down, mining resumes
    rpc(w3, "evm_setAutomine", True)
    rpc(w3, "evm_mine")
    wait_for(lambda: batch(client, keys, accepted["id"])["status"] == "anchored", 30, "the batch anchored")
    for item in accepted["credentials"]:
        assert_holder_gets_it(client, item, hub)
    assert len(relayer_rows(hub)) == 1


def test_a_relayer_without_funds_loses_no_holder_token_and_health_says_degraded(
    service: tuple[Hub, TestClient, Keys, str],
) -> None:
    hub, client, keys, _ = service
    w3 = hub.w3
    balance = w3.eth.get_balance(hub.relayer.address)
    rpc(w3, "anvil_setBalance", hub.relayer.address, "0x0")
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded", health.text
    assert any("fund it" in problem for problem in health.json()["problems"])

    answer = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert answer.status_code == 202, answer.text  # stored, with its holder token: nothing lost
    issued = answer.json()
    assert issued["holder_token"].startswith("hold_")
    state = wait_for(lambda: (s := batch(client, keys, issued["batch_id"]))["error"] and s, 10, "the error")
    assert state["status"] in ("pending", "submitted") and "funds" in state["error"].lower(), state

    rpc(w3, "anvil_setBalance", hub.relayer.address, hex(balance))  # funds back
    wait_for(lambda: batch(client, keys, issued["batch_id"])["status"] == "anchored", 20, "the batch anchored")
    assert_holder_gets_it(client, issued, hub)
    assert client.get("/health").json()["status"] == "ok"
    assert len(relayer_rows(hub)) == 1


def test_a_reorg_that_removes_the_anchoring_is_noticed_and_the_batch_anchored_again(
    service: tuple[Hub, TestClient, Keys, str],
) -> None:
    hub, client, keys, _ = service
    w3 = hub.w3
    answer = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    root = bytes.fromhex(issued["document"]["proof"][0]["merkleRoot"][2:])
    registry = RegistryClient(w3, hub.registry_address)
    anchored_in = batch(client, keys, issued["batch_id"])["block_number"]
    rpc(w3, "evm_mine")
    wait_for(lambda: (hub.indexer.cursor(hub.registry_address) or 0) >= anchored_in, 10, "the index")
    rpc(w3, "evm_setAutomine", False)  # the re-sent transaction waits, so the gap can be seen
    rpc(w3, "anvil_reorg", 2, [])  # the last two blocks are replaced by empty ones
    assert registry.batch(issued["document"]["proof"][0]["issuerAddress"], root).anchored is False

    def not_reported_anchored() -> bool:
        state = batch(client, keys, issued["batch_id"])
        return state["status"] != "anchored"

    wait_for(not_reported_anchored, 10, "the service to notice the reorg")
    credential = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]})
    assert credential.json()["status"] != "anchored"
    rpc(w3, "evm_setAutomine", True)
    rpc(w3, "evm_mine")
    wait_for(lambda: batch(client, keys, issued["batch_id"])["status"] == "anchored", 20, "anchored again")
    assert registry.batch(issued["document"]["proof"][0]["issuerAddress"], root).anchored
    body = assert_holder_gets_it(client, issued, hub)
    assert body["document"]["proof"][0]["merkleRoot"] == issued["document"]["proof"][0]["merkleRoot"]
    (row,) = relayer_rows(hub)  # the same transaction, sent again: no second nonce
    assert row.state == TxState.CONFIRMED


@pytest.fixture
def deep_service(network: tuple[DevChain, Settings]) -> Iterator[tuple[Hub, TestClient, Keys, str]]:
    """The service with HUB_CONFIRMATIONS=2: final two blocks deep."""
    yield from serving(network[1].model_copy(update={"confirmations": 2}))


def test_a_batch_is_included_with_its_confirmations_then_anchored_at_the_depth_asked(
    deep_service: tuple[Hub, TestClient, Keys, str],
) -> None:
    hub, client, keys, _ = deep_service
    w3 = hub.w3
    answer = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert answer.status_code == 202, answer.text  # mined at once (automine), final only 2 blocks deeper
    issued = answer.json()
    assert issued["status"] == "included" and issued["document"] is None

    def seen(confirmations: int) -> dict[str, Any] | None:
        state = batch(client, keys, issued["batch_id"])
        return state if state["confirmations"] == confirmations else None

    state = wait_for(lambda: seen(0), 10, "the batch included, 0 blocks on top")
    assert state["status"] == "included" and state["transaction"]["state"] == "included"
    assert state["block_number"] == w3.eth.block_number
    rpc(w3, "evm_mine")
    state = wait_for(lambda: seen(1), 10, "one block on top")
    assert state["status"] == "included"  # not final yet: no proof handed out
    credential = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]})
    assert credential.json()["status"] == "included" and credential.json()["document"] is None
    rpc(w3, "evm_mine")
    wait_for(lambda: batch(client, keys, issued["batch_id"])["status"] == "anchored", 10, "anchored at depth 2")
    assert_holder_gets_it(client, issued, hub)


class RateLimitingProxy:
    """The node behind a proxy that answers every `every`-th JSON-RPC request with HTTP 429 (a hosted node's rate
    limit), counting the refusals (bench.network's counting proxy, in a thread of the test)."""

    def __init__(self, upstream: str, every: int) -> None:
        from bench.network import CountingProxy

        limiter = self

        class Limited(CountingProxy):
            def forward(self, body: bytes) -> tuple[int, bytes]:
                with self._lock:
                    limiter.requests += 1
                    refuse = limiter.requests % every == 0
                    limiter.refused += refuse
                if refuse:
                    return 429, b'{"error": "too many requests"}'
                return super().forward(body)

        self.requests = self.refused = 0
        self.proxy = Limited(upstream)
        self.thread = threading.Thread(target=self.proxy.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.server.server_address[1]}"

    def stop(self) -> None:
        self.proxy.server.shutdown()


def test_a_rate_limited_node_429_is_retried_and_nothing_is_lost_or_done_twice(
    network: tuple[DevChain, Settings],
) -> None:
    chain, settings = network
    limiter = RateLimitingProxy(chain.url, every=4)
    # the request waits long enough for the retried calls: this test is about retries, not about the 202
    hub = Hub.start(
        settings.model_copy(
            update={"rpc_url": limiter.url, "rpc_retries": 6, "rpc_backoff": 0.05, "request_wait": 30.0}
        )
    )
    try:
        keys = Keys(hub)
        with hub.sessions.begin() as session:
            for programme in DEMO_PROGRAMMES:
                session.add(models.Programme(**programme.as_create()))
        Accreditations(hub)(HANZE)
        with TestClient(create_app(hub=hub)) as client:
            issued = [
                client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(number)) for number in range(4)
            ]
            assert [answer.status_code for answer in issued] == [201] * 4, [answer.text for answer in issued]
            revoked = client.post(
                f"/credentials/{issued[0].json()['id']}/revoke",
                headers=keys.issuer(HANZE),
                json={"reason": "issued-in-error"},
            )
            assert revoked.status_code == 200, revoked.text
            for answer in issued[1:]:
                assert_holder_gets_it(client, answer.json(), hub)
        assert limiter.refused >= 10  # the node refused often; every refusal was retried
        rows = relayer_rows(hub)
        assert len(rows) == 5 and {row.state for row in rows} == {TxState.CONFIRMED}  # 4 anchorings, 1 revocation
        assert all(len(row.attempts) == 1 for row in rows)  # nothing sent twice
    finally:
        hub.close()
        limiter.stop()
