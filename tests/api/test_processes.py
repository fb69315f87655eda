"""Several service processes on one PostgreSQL database against a chain that mines a block a second.

Three separate uvicorn processes (bench.server's subprocess helper) share a throwaway PostgreSQL database and an
anvil node with 1 s blocks (interval mining, as a real network: nothing is mined at once). One of them leads the
background work (indexer, relayer, anchoring); all three take requests.

* 200 concurrent POST /credentials from four partners and 4 cohorts, spread over the three processes: every batch
  anchored exactly once, every relayer transaction mined with status 1 (none reverted, none at a nonce another
  took), no nonce error in any log, every credential valid.
* The leader is killed (SIGKILL) with a cohort on its way: another process takes the lead within seconds and
  anchors it, once, with nothing reverted.
* An API process with HUB_RUN_WORKER=false only stores (202 with the holder token); `hub worker`, a process of
  its own, anchors what it stored, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bench.server import Server, launch_server
from service.auth import Role, create_key
from service.chain.deployment import Deployment as DeploymentRecord
from service.chain.deployment import deployment_path, ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, start_chain
from service.chain.registry import RegistryClient
from service.chain.relayer import TxState
from service.credentials.verifier import verify_credential
from service.db import models
from service.db.session import make_engine, make_sessionmaker, transaction
from service.demo import DEMO_PROGRAMMES, DEPLOYER_ACCOUNT, dev_board
from service.hub import Hub
from service.settings import Settings
from tests.api.conftest import Accreditations
from tests.chain import rpc
from tests.live import wait_for
from tests.postgres import Postgres

PARTNERS = {
    "Hanzehogeschool Groningen": ("miw-data-analytics", "7.5"),
    "Rijksuniversiteit Groningen": ("blockchain-foundations", "8.0"),
    "NHL Stenden": ("robotics-automation", "6.5"),
    "Alfa-college": ("iot-technician", None),
}
CONCURRENT = 200
PROCESSES = 3
NONCE_TROUBLE = ("nonce too low", "replacement transaction underpriced", "already known", "nonce has already")
SERVICE_ENV = {
    "HUB_REQUEST_WAIT": "60",
    "HUB_REPLACE_AFTER": "20",
    "HUB_INDEX_INTERVAL": "1",
    "HUB_HEAD_INTERVAL": "1",
    "HUB_HEAD_MAX_AGE": "2.5",
    "HUB_WORKER_INTERVAL": "0.2",
    "HUB_LEADER_INTERVAL": "0.5",
    "HUB_PUBLIC_URL": "http://hub.test",
}


class Shared:
    """The chain, the database and the keys these tests share."""

    def __init__(self, node: DevChain, deployments: Path, database_url: str, keys: dict[str, str]) -> None:
        self.node, self.deployments, self.database_url, self.keys = node, deployments, database_url, keys
        self.store = make_sessionmaker(make_engine(database_url))

    def start(self, work: Path, count: int) -> list[Server]:
        """`count` service processes, started together."""
        servers = [
            launch_server(
                self.node.url,
                self.node.chain_id,
                self.deployments,
                work,
                env={**SERVICE_ENV, "HUB_DATABASE_URL": self.database_url},
                log=work / f"service-{index}.log",
            )
            for index in range(count)
        ]
        for server in servers:
            server.wait_ready("/health", 90)
        return servers


@pytest.fixture(scope="module")
def deployment(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    work = tmp_path_factory.mktemp("processes")
    node = start_chain("anvil", log_dir=work / "logs")
    try:
        deployments = work / "deployments"
        ensure_deployed(node.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=deployments)
        database_url = postgres.new_database()
        settings = Settings(
            rpc_url=node.url,
            chain_id=node.chain_id,
            deployments_dir=deployments,
            database_url=database_url,
            public_url="http://hub.test",
            _env_file=None,
        )
        hub = Hub.start(settings)
        try:
            keys = {"admin": ""}
            with transaction(hub.sessions) as session:
                for name in PARTNERS:
                    token, _ = create_key(session, Role.ISSUER, name, Accreditations.address(name))
                    keys[name] = f"Bearer {token}"
                for programme in DEMO_PROGRAMMES:
                    session.add(models.Programme(**programme.as_create()))
            Accreditations(hub)(*PARTNERS)
        finally:
            hub.close()
        # from now on the chain behaves like a network: a block every second, nothing mined at once
        rpc(node.w3, "evm_setAutomine", False)
        rpc(node.w3, "evm_setIntervalMining", 1)
        yield Shared(node, deployments, database_url, keys)
    finally:
        node.stop()


def credential_body(partner: str, index: int) -> dict[str, Any]:
    programme, grade = PARTNERS[partner]
    return {
        "programme_id": programme,
        "email": f"graduate{index}@example.org",
        "name": f"Graduate {index}",
        **({"grade": grade} if grade else {}),
    }


def cohort_body(partner: str, start: int, size: int) -> dict[str, Any]:
    return {"credentials": [credential_body(partner, index) for index in range(start, start + size)]}


def leader_of(servers: list[Server]) -> Server | None:
    for server in servers:
        try:
            if httpx.get(server.url + "/health", timeout=5).json().get("leader"):
                return server
        except (httpx.HTTPError, ValueError):
            continue
    return None


def assert_relayed_once_none_reverted(deployment: Shared, batch_ids: list[str]) -> None:
    """Each batch anchored by exactly one transaction of the relayer; every relayer transaction mined with
    status 1; the relayer's nonce on chain is the number of transactions stored (none sent twice or lost)."""
    w3 = deployment.node.w3
    with deployment.store() as session:
        rows = list(session.scalars(select(models.RelayerTransaction)))
        statuses = dict(
            session.execute(select(models.Batch.id, models.Batch.status).where(models.Batch.id.in_(batch_ids))).all()
        )
        per_batch = dict(
            session.execute(
                select(models.RelayerTransaction.batch_id, func.count()).group_by(models.RelayerTransaction.batch_id)
            ).all()
        )
    assert set(statuses.values()) == {"anchored"}, statuses
    assert all(per_batch.get(batch_id) == 1 for batch_id in batch_ids), "a batch with more than one transaction"
    assert {row.state for row in rows} == {TxState.CONFIRMED}
    mined = w3.eth.get_transaction_count(rows[0].sender)
    assert sorted(row.nonce for row in rows) == list(range(mined - len(rows), mined))  # no gap, none twice
    for row in rows:
        assert w3.eth.get_transaction_receipt(row.tx_hash)["status"] == 1  # 0 reverted


def assert_no_nonce_trouble(logs: list[Path]) -> None:
    for log in logs:
        text = log.read_text().lower()
        assert not [marker for marker in NONCE_TROUBLE if marker in text], log.read_text()[-3000:]
        assert "traceback" not in text, log.read_text()[-3000:]


def test_three_processes_200_issues_and_4_cohorts_each_anchored_once_none_reverted(
    deployment: Shared, tmp_path: Path
) -> None:
    servers = deployment.start(tmp_path, PROCESSES)
    try:
        wait_for(lambda: leader_of(servers), 15, "a leader")
        names = list(PARTNERS)
        clients = [
            httpx.Client(base_url=server.url, timeout=120, limits=httpx.Limits(max_connections=CONCURRENT))
            for server in servers
        ]

        def issue(index: int) -> httpx.Response:
            partner = names[index % len(names)]
            return clients[index % PROCESSES].post(
                "/credentials",
                json=credential_body(partner, index),
                headers={"Authorization": deployment.keys[partner]},
            )

        def cohort(index: int) -> httpx.Response:
            partner = names[index % len(names)]
            return clients[index % PROCESSES].post(
                "/credentials/batch",
                json=cohort_body(partner, 10_000 + 100 * index, 25),
                headers={"Authorization": deployment.keys[partner]},
            )

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=CONCURRENT + 4) as pool:
            cohorts = [pool.submit(cohort, index) for index in range(4)]
            issued = list(pool.map(issue, range(CONCURRENT)))
            accepted = [future.result() for future in cohorts]
        elapsed = time.monotonic() - started
        assert [r.status_code for r in issued if r.status_code != 201] == [], [
            r.text for r in issued if r.status_code != 201
        ][:3]
        assert [r.status_code for r in accepted] == [202] * 4, [r.text for r in accepted]
        for number, response in enumerate(accepted):
            client = clients[number % PROCESSES]
            auth = {"Authorization": deployment.keys[names[number % len(names)]]}
            wait_for(
                lambda response=response, client=client, auth=auth: (
                    client.get(f"/batches/{response.json()['id']}?credentials=false", headers=auth).json()["status"]
                    == "anchored"
                ),
                60,
                "a cohort to be anchored",
            )
        batch_ids = [r.json()["batch_id"] for r in issued] + [r.json()["id"] for r in accepted]
        assert len(set(batch_ids)) == CONCURRENT + 4
        assert_relayed_once_none_reverted(deployment, batch_ids)
        registry = RegistryClient(
            deployment.node.w3,
            DeploymentRecord.load(deployment_path(deployment.node.chain_id, deployment.deployments)).registry.address,
        )
        roots = [event.root.hex() for event in registry.anchorings()]
        assert len(roots) == len(set(roots))  # no root anchored twice
        facts = registry.chain_facts()
        for response in issued:
            report = verify_credential(response.json()["document"], facts)
            assert report.valid, report.failed
        for client in clients:
            client.close()
        print(f"{CONCURRENT} issues and 4 cohorts over {PROCESSES} processes, 1 s blocks: {elapsed:.1f} s")
    finally:
        for server in servers:
            server.stop()
    assert_no_nonce_trouble([server.log for server in servers])


def test_the_leader_killed_mid_cohort_another_takes_over_once_none_reverted(deployment: Shared, tmp_path: Path) -> None:
    servers = deployment.start(tmp_path, PROCESSES)
    try:
        leader = wait_for(lambda: leader_of(servers), 15, "a leader")
        others = [server for server in servers if server is not leader]
        partner = "Hanzehogeschool Groningen"
        auth = {"Authorization": deployment.keys[partner]}
        # a cohort through a follower; the leader picks it up and sends it; it is killed before it is final
        response = httpx.post(
            others[0].url + "/credentials/batch", json=cohort_body(partner, 50_000, 40), headers=auth, timeout=60
        )
        assert response.status_code == 202, response.text
        batch_id = response.json()["id"]

        def sent() -> bool:
            with deployment.store() as session:
                return (
                    session.scalar(
                        select(func.count())
                        .select_from(models.RelayerTransaction)
                        .where(models.RelayerTransaction.batch_id == batch_id)
                    )
                    == 1
                )

        wait_for(sent, 20, "the leader to send the cohort's transaction")
        leader.kill()
        killed_at = time.monotonic()
        successor = wait_for(lambda: leader_of(others), 15, "another process to take the lead")
        took_over = time.monotonic() - killed_at
        assert took_over < 10, took_over
        wait_for(
            lambda: (
                httpx.get(f"{successor.url}/batches/{batch_id}?credentials=false", headers=auth, timeout=10).json()[
                    "status"
                ]
                == "anchored"
            ),
            60,
            "the cohort to be anchored",
        )
        # and a new credential through the successor
        fresh = httpx.post(
            successor.url + "/credentials", json=credential_body(partner, 60_000), headers=auth, timeout=90
        )
        assert fresh.status_code == 201, fresh.text
        assert_relayed_once_none_reverted(deployment, [batch_id, fresh.json()["batch_id"]])
        print(f"the lead taken over in {took_over:.1f} s")
    finally:
        for server in servers:
            server.stop()
    assert_no_nonce_trouble([server.log for server in servers if server is not leader])


def test_api_replicas_only_store_and_a_hub_worker_anchors(deployment: Shared, tmp_path: Path) -> None:
    """HUB_RUN_WORKER=false: the API process stores and answers 202; `hub worker` (a process of its own) anchors."""
    import os
    import signal
    import subprocess
    import sys

    api = launch_server(
        deployment.node.url,
        deployment.node.chain_id,
        deployment.deployments,
        tmp_path,
        env={
            **SERVICE_ENV,
            "HUB_DATABASE_URL": deployment.database_url,
            "HUB_RUN_WORKER": "false",
            "HUB_REQUEST_WAIT": "2",
        },
        log=tmp_path / "api.log",
    )
    worker = None
    try:
        api.wait_ready("/health", 90)
        assert httpx.get(api.url + "/health").json()["leader"] is False
        partner = "NHL Stenden"
        auth = {"Authorization": deployment.keys[partner]}
        answer = httpx.post(api.url + "/credentials", json=credential_body(partner, 70_000), headers=auth, timeout=30)
        assert answer.status_code == 202, answer.text  # stored, its holder token given; nothing anchors it yet
        issued = answer.json()
        assert issued["status"] == "pending" and issued["holder_token"]

        environment = {
            **os.environ,
            **SERVICE_ENV,
            "HUB_RPC_URL": deployment.node.url,
            "HUB_CHAIN_ID": str(deployment.node.chain_id),
            "HUB_DEPLOYMENTS_DIR": str(deployment.deployments),
            "HUB_DATABASE_URL": deployment.database_url,
        }
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        holder = {"X-Holder-Token": issued["holder_token"]}
        credential = wait_for(
            lambda: (
                (c := httpx.get(f"{api.url}/credentials/{issued['id']}", headers=holder, timeout=10).json())["status"]
                == "anchored"
                and c
            ),
            60,
            "the worker to anchor the stored credential",
        )
        assert credential["document"]["proof"][0]["merkleRoot"]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0  # a clean stop
        assert "leads the background work" in (tmp_path / "worker.log").read_text()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        api.stop()
