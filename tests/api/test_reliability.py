"""Issuing under load and through a crash, with the service in a real uvicorn server on 127.0.0.1.

* 100 concurrent POST /credentials from a thread pool: 100 credentials, each anchored, each valid, no nonce
  error (the relayer's nonces and the partner's EIP-712 nonce are both taken in order).
* The service is killed (SIGKILL) in the middle of issuing, with the anchoring transaction of one cohort
  waiting in the mempool (anvil's automine off) and a second cohort stored but not yet sent; after a
  restart both complete exactly once: one BatchAnchored event per root, every credential proven and valid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.auth import Role, create_key
from service.chain.deployment import ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, free_port, start_chain
from service.chain.registry import RegistryClient
from service.credentials.verify import verify_credential
from service.db import models
from service.db.session import transaction
from service.demo import DEMO_PROGRAMMES, DEPLOYER_ACCOUNT, ORGANISATIONS, dev_board
from service.hub import Hub
from service.main import create_app
from service.settings import Settings
from tests.api.conftest import Accreditations
from tests.chain import rpc

ROOT = Path(__file__).resolve().parents[2]
HANZE = ORGANISATIONS[2].name
COHORT = [("miw-data-analytics", "jan.devries@example.org", "Jan de Vries", "8.5"),
          ("miw-data-analytics", "fatima.elamrani@example.org", "Fatima El Amrani", "7.9"),
          ("miw-ai", "sanne.jansen@example.org", "Sanne Jansen", "9.1")]
SECOND_COHORT = [("miw-cybersecurity", "mohammed.yilmaz@example.org", "Mohammed Yılmaz", "6.8"),
                 ("miw-cybersecurity", "anouk.meijer@example.org", "Anouk Meijer", None)]


def cohort_body(rows: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    return {"credentials": [{"programme_id": programme, "email": email, "name": name,
                             **({"grade": grade} if grade else {})} for programme, email, name, grade in rows]}


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def anchored_events(w3: Any, registry: str, root: str) -> list[Any]:
    event = RegistryClient(w3, registry).contract.events.BatchAnchored()
    return list(event.get_logs(argument_filters={"root": bytes.fromhex(root[2:])}, from_block=0, to_block="latest"))


def pending_transactions(w3: Any) -> int:
    return int(rpc(w3, "txpool_status")["pending"], 16)


def setup_service_state(settings: Settings) -> tuple[dict[str, str], str]:
    """Migrate the database, create the admin's and Hanzehogeschool's keys, add the catalogue, accredit Hanze."""
    hub = Hub.start(settings)
    try:
        with transaction(hub.sessions) as session:
            admin, _ = create_key(session, Role.ADMIN, "Stichting IT Hub Hoogeveen")
            hanze_address = Accreditations.address(HANZE)
            issuer, _ = create_key(session, Role.ISSUER, HANZE, hanze_address)
            for programme in DEMO_PROGRAMMES:
                session.add(models.Programme(**programme.as_create()))
        Accreditations(hub)(HANZE)
    finally:
        hub.close()
    return {"admin": f"Bearer {admin}", "issuer": f"Bearer {issuer}"}, hanze_address


# ---------------------------------------------------------------- 100 concurrent requests


@pytest.fixture
def server(hub: Hub) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(create_app(hub=hub), host="127.0.0.1", port=port, log_level="warning",
                            limit_concurrency=200)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, name="uvicorn-test", daemon=True)
    thread.start()
    wait_for(lambda: instance.started, 30, "uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(30)


def test_100_concurrent_single_credentials_are_all_anchored_and_valid(hub: Hub, server: str, keys: Any,
                                                                       accredited: Any) -> None:
    hanze = accredited(HANZE)[0]
    with httpx.Client(base_url=server, timeout=120, limits=httpx.Limits(max_connections=100)) as http:
        for programme in DEMO_PROGRAMMES:
            assert http.post("/programmes", headers=keys.admin(), json=programme.as_create()).status_code == 201

        def issue(index: int) -> httpx.Response:
            return http.post("/credentials", headers=keys.issuer(HANZE), json={
                "programme_id": "miw-data-analytics", "email": f"graduate{index}@example.org",
                "name": f"Graduate {index}", "grade": "7.5"})

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=100) as pool:
            responses = list(pool.map(issue, range(100)))
        elapsed = time.monotonic() - started

    problems = [(r.status_code, r.text) for r in responses if r.status_code != 201]
    assert problems == [], problems[:3]
    issued = [r.json() for r in responses]
    assert len({c["id"] for c in issued}) == 100
    assert len({c["batch_id"] for c in issued}) == 100
    registry = RegistryClient(hub.w3, hub.registry_address)
    assert registry.nonce(hanze) == 100  # one anchoring signature each, in order, none wasted
    nonces = sorted(c["document"]["proof"]["anchorSignature"]["nonce"] for c in issued)
    assert nonces == list(range(100))
    facts = registry.chain_facts()
    for credential in issued:
        report = verify_credential(credential["document"], facts)
        assert report.valid, (credential["id"], report.failed)
    with hub.sessions() as session:
        statuses = [row.status for row in session.query(models.Batch)]
    assert statuses == ["anchored"] * 100
    print(f"100 concurrent credentials issued in {elapsed:.1f} s")


# ---------------------------------------------------------------- killed in the middle of a batch


@pytest.fixture(scope="module")
def own_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevChain, Path]]:
    """A node of its own: these tests switch automining off and leave transactions in its mempool."""
    node = start_chain("anvil", log_dir=tmp_path_factory.mktemp("anvil-reliability"))
    directory = tmp_path_factory.mktemp("deployments-reliability")
    ensure_deployed(node.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=directory)
    yield node, directory
    node.stop()


class Service:
    """`python -m uvicorn service.main:app` in a subprocess, configured by HUB_* variables."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_healthy(self, timeout: float = 60) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the service exited ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                return httpx.get(self.url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout, "the service to answer /health", interval=0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.mark.parametrize("mined_while_down", [False, True], ids=["still-in-mempool", "mined-while-down"])
def test_killed_mid_batch_completes_exactly_once_after_restart(own_chain: tuple[DevChain, Path], tmp_path: Path,
                                                              mined_while_down: bool) -> None:
    node, deployments = own_chain
    w3 = node.w3
    database = tmp_path / "hub.db"
    settings = Settings(rpc_url=node.url, chain_id=node.chain_id, deployments_dir=deployments,
                        database_url=f"sqlite:///{database}", public_url="http://hub.test", _env_file=None)
    auth, hanze = setup_service_state(settings)
    registry = RegistryClient(w3, _registry_address(deployments, node.chain_id))
    nonce_before = registry.nonce(hanze)
    env = {**os.environ, "HUB_RPC_URL": node.url, "HUB_CHAIN_ID": str(node.chain_id),
           "HUB_DEPLOYMENTS_DIR": str(deployments), "HUB_DATABASE_URL": settings.database_url,
           "HUB_PUBLIC_URL": "http://hub.test", "HUB_INDEX_INTERVAL": "0.5"}
    log = tmp_path / "service.log"

    start_block = w3.eth.block_number
    first = Service(env, log)
    try:
        first.wait_healthy()
        rpc(w3, "evm_setAutomine", False)
        with httpx.Client(base_url=first.url, timeout=30, headers={"Authorization": auth["issuer"]}) as http:
            a = http.post("/credentials/batch", json=cohort_body(COHORT))
            assert a.status_code == 202, a.text
            # the worker has signed and sent cohort A's anchoring: it waits in the mempool, unmined
            wait_for(lambda: pending_transactions(w3) == 1, 30, "cohort A's transaction in the mempool")
            b = http.post("/credentials/batch", json=cohort_body(SECOND_COHORT))
            assert b.status_code == 202, b.text  # stored; queued behind A, whose receipt the worker awaits
            time.sleep(0.3)
            assert pending_transactions(w3) == 1  # B was not sent
            for accepted in (a, b):
                assert http.get(f"/batches/{accepted.json()['id']}").json()["status"] == "pending"
        first.kill()  # between "batch persisted" and "transaction mined", for both cohorts
    finally:
        first.stop()

    batches = {"A": a.json(), "B": b.json()}
    assert registry.batch(bytes.fromhex(batches["A"]["root"][2:])).anchored is False
    if mined_while_down:
        rpc(w3, "evm_mine")  # A's transaction is mined while the service is down
        assert pending_transactions(w3) == 0 and len(anchored_events(w3, registry.address, batches["A"]["root"])) == 1

    second = Service(env, log)
    try:
        second.wait_healthy()
        if not mined_while_down:
            # the restarted service reconciles A with A's first transaction still in the mempool: it signs
            # again with the partner's current nonce (the same, unconsumed) and relays it; one of the two
            # can anchor, the registry refuses the other
            wait_for(lambda: pending_transactions(w3) >= 2 or _has_error(second, auth, batches["A"]["id"]), 30,
                     "the restarted service to act on cohort A")
        rpc(w3, "evm_setAutomine", True)
        rpc(w3, "evm_mine")
        with httpx.Client(base_url=second.url, timeout=30, headers={"Authorization": auth["issuer"]}) as http:
            for accepted in batches.values():
                state = wait_for(lambda accepted=accepted: _anchored(http, accepted["id"]), 60,
                                 f"batch {accepted['id']} to be anchored")
                events = anchored_events(w3, registry.address, accepted["root"])
                assert len(events) == 1, events  # exactly once
                assert state["transaction_hash"] == "0x" + bytes(events[0]["transactionHash"]).hex()
                assert state["block_number"] == events[0]["blockNumber"]
                facts = registry.chain_facts()
                for item in accepted["credentials"]:
                    credential = http.get(f"/credentials/{item['id']}",
                                          headers={"X-Holder-Token": item["holder_token"]}).json()
                    document = credential["document"]
                    assert document is not None and document["proof"]["merkleRoot"] == accepted["root"]
                    report = verify_credential(document, facts, recipient_email=item["email"])
                    assert report.valid, (item, report.failed)
                    assert report.check("issuer_signature").passed
        assert registry.nonce(hanze) == nonce_before + 2  # one anchoring signature consumed per cohort
    finally:
        second.stop()
        rpc(w3, "evm_setAutomine", True)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]

    # what was sent for each root: A twice when the restart found its first transaction still waiting
    # (the second reverted, refused by the registry), once when it was mined while the service was down
    sent = anchoring_transactions(w3, registry, since=start_block)
    assert sent[batches["A"]["root"]] == ([1] if mined_while_down else [1, 0])
    assert sent[batches["B"]["root"]] == [1]


def anchoring_transactions(w3: Any, registry: RegistryClient, since: int) -> dict[str, list[int]]:
    """root -> the statuses of the anchorBySig transactions sent for it since block `since`, in order."""
    sent: dict[str, list[int]] = {}
    for number in range(since + 1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["to"] != registry.address:
                continue
            function, arguments = registry.contract.decode_function_input(tx["input"])
            if function.abi["name"] == "anchorBySig":
                root = "0x" + bytes(arguments["root"]).hex()
                sent.setdefault(root, []).append(int(w3.eth.get_transaction_receipt(tx["hash"])["status"]))
    return sent


def _anchored(http: httpx.Client, batch_id: str) -> dict[str, Any] | None:
    state = http.get(f"/batches/{batch_id}").json()
    assert state["status"] != "failed", state
    return state if state["status"] == "anchored" else None


def _has_error(service: Service, auth: dict[str, str], batch_id: str) -> bool:
    state = httpx.get(f"{service.url}/batches/{batch_id}", headers={"Authorization": auth["issuer"]}).json()
    return bool(state.get("error"))


def _registry_address(deployments: Path, chain_id: int) -> str:
    from service.chain.deployment import Deployment, deployment_path

    return Deployment.load(deployment_path(chain_id, deployments)).registry.address
