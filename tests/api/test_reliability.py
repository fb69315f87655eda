"""Issuing under load and through a crash, with the service in a real uvicorn server on 127.0.0.1.

* 200 concurrent POST /credentials from four partners (a thread pool): 200 credentials, each anchored once,
  each valid, no duplicate, no nonce error (the relayer's nonces and each partner's EIP-712 nonce are taken
  in order).
* The service is killed (SIGKILL) in the middle of issuing, with the anchoring transactions of two cohorts
  waiting in the mempool (anvil's automine off), and a third cohort is stored while it is down; after a
  restart all complete exactly once: the stored transactions are followed (none signed or sent again), one
  BatchAnchored event per root, none reverted, every credential proven and valid.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bench.server import Server, start_server
from service.auth import Role, create_key
from service.chain.anchor_log import ANCHOR_FOR
from service.chain.deployment import ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, free_port, start_chain
from service.chain.registry import RegistryClient
from service.credentials.verifier import verify_credential
from service.db import models
from service.db.session import make_engine, make_sessionmaker, transaction
from service.demo import DEMO_PROGRAMMES, DEPLOYER_ACCOUNT, ORGANISATIONS, dev_board
from service.hub import Hub
from service.main import create_app
from service.settings import Settings
from tests.api.conftest import Accreditations
from tests.chain import rpc
from tests.live import wait_for


def issuer_anchorings(registry: RegistryClient, issuer: str) -> list[Any]:
    """The registry's BatchAnchored logs of `issuer`."""
    return [event for event in registry.anchorings() if event.issuer == issuer]


HANZE = ORGANISATIONS[2].name
COHORT = [
    ("miw-data-analytics", "jan.devries@example.org", "Jan de Vries", "8.5"),
    ("miw-data-analytics", "fatima.elamrani@example.org", "Fatima El Amrani", "7.9"),
    ("miw-ai", "sanne.jansen@example.org", "Sanne Jansen", "9.1"),
]
SECOND_COHORT = [
    ("miw-cybersecurity", "mohammed.yilmaz@example.org", "Mohammed Yılmaz", "6.8"),
    ("miw-cybersecurity", "anouk.meijer@example.org", "Anouk Meijer", None),
]
THIRD_COHORT = [("miw-ai", "daan.visser@example.org", "Daan Visser", "7.0")]


def cohort_body(rows: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    return {
        "credentials": [
            {"programme_id": programme, "email": email, "name": name, **({"grade": grade} if grade else {})}
            for programme, email, name, grade in rows
        ]
    }


def anchored_events(w3: Any, registry: str, root: str) -> list[Any]:
    return [event for event in RegistryClient(w3, registry).anchorings() if event.root == bytes.fromhex(root[2:])]


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


# ---------------------------------------------------------------- 200 concurrent requests


@pytest.fixture
def server(hub: Hub) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(hub=hub), host="127.0.0.1", port=port, log_level="warning", limit_concurrency=2 * CONCURRENT
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, name="uvicorn-test", daemon=True)
    thread.start()
    wait_for(lambda: instance.started, 30, "uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(30)


# Four partners, each with a programme of its own (Alfa-college's is not graded).
PARTNERS = {
    "Hanzehogeschool Groningen": ("miw-data-analytics", "7.5"),
    "Rijksuniversiteit Groningen": ("blockchain-foundations", "8.0"),
    "NHL Stenden": ("robotics-automation", "6.5"),
    "Alfa-college": ("iot-technician", None),
}
CONCURRENT = 200


def test_200_concurrent_requests_from_four_partners_all_anchored_once_and_valid(
    hub: Hub, server: str, keys: Any, accredited: Any, caplog: pytest.LogCaptureFixture
) -> None:
    addresses = dict(zip(PARTNERS, accredited(*PARTNERS), strict=True))
    names = list(PARTNERS)
    with httpx.Client(base_url=server, timeout=180, limits=httpx.Limits(max_connections=CONCURRENT)) as http:
        for programme in DEMO_PROGRAMMES:
            assert http.post("/programmes", headers=keys.admin(), json=programme.as_create()).status_code == 201

        def issue(index: int) -> tuple[str, httpx.Response]:
            partner = names[index % len(names)]
            programme, grade = PARTNERS[partner]
            return partner, http.post(
                "/credentials",
                headers=keys.issuer(partner),
                json={
                    "programme_id": programme,
                    "email": f"graduate{index}@example.org",
                    "name": f"Graduate {index}",
                    **({"grade": grade} if grade else {}),
                },
            )

        started = time.monotonic()
        with caplog.at_level("WARNING"), ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            responses = list(pool.map(issue, range(CONCURRENT)))
        elapsed = time.monotonic() - started

    problems = [(r.status_code, r.text) for _, r in responses if r.status_code != 201]
    assert problems == [], problems[:3]
    issued = [(partner, r.json()) for partner, r in responses]
    assert len({c["id"] for _, c in issued}) == CONCURRENT  # no duplicate
    assert len({c["digest"] for _, c in issued}) == CONCURRENT
    assert len({c["document"]["proof"][0]["merkleRoot"] for _, c in issued}) == CONCURRENT
    registry = RegistryClient(hub.w3, hub.registry_address)
    for partner, address in addresses.items():
        # one anchoring per request, each by the partner's authorised relayer (anchorFor: no nonce used)
        theirs = [c for name, c in issued if name == partner]
        assert all(c["issuer_address"] == address for c in theirs)
        assert len(issuer_anchorings(registry, address)) == len(theirs) == CONCURRENT // len(PARTNERS)
        assert {c["document"]["proof"][0]["anchorSignature"]["nonce"] for c in theirs} == {0}
    anchorings = registry.anchorings()
    assert len(anchorings) == CONCURRENT  # each root anchored exactly once
    facts = registry.chain_facts()
    for _, credential in issued:
        report = verify_credential(credential["document"], facts)
        assert report.valid, (credential["id"], report.failed)
    with hub.sessions() as session:
        assert [row.status for row in session.query(models.Batch)] == ["anchored"] * CONCURRENT
        assert session.query(models.Credential).count() == CONCURRENT
    nonce_trouble = [r.getMessage() for r in caplog.records if "nonce" in r.getMessage().lower()]
    assert nonce_trouble == []  # no nonce error, not even one recovered from
    print(f"{CONCURRENT} concurrent credentials from {len(PARTNERS)} partners issued in {elapsed:.1f} s")


# ---------------------------------------------------------------- killed in the middle of a batch


@pytest.fixture(scope="module")
def own_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevChain, Path]]:
    """A node of its own: these tests switch automining off and leave transactions in its mempool."""
    node = start_chain("anvil", log_dir=tmp_path_factory.mktemp("anvil-reliability"))
    directory = tmp_path_factory.mktemp("deployments-reliability")
    ensure_deployed(node.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=directory)
    yield node, directory
    node.stop()


def start_service(node: DevChain, deployments: Path, work: Path) -> Server:
    """`python -m uvicorn service.main:app` in a subprocess (bench.server's, on a free port), configured by
    HUB_* variables for `node` and the SQLite file work/hub.db, its output appended to work/service.log (one
    log across restarts); returns once GET /health answers 200."""
    return start_server(
        node.url,
        node.chain_id,
        deployments,
        work,
        log=work / "service.log",
        ready="/health",
        env={"HUB_PUBLIC_URL": "http://hub.test", "HUB_INDEX_INTERVAL": "0.5", "HUB_REPLACE_AFTER": "3"},
    )


@pytest.mark.parametrize("mined_while_down", [False, True], ids=["still-in-mempool", "mined-while-down"])
def test_killed_mid_batch_completes_exactly_once_after_restart(
    own_chain: tuple[DevChain, Path], tmp_path: Path, mined_while_down: bool
) -> None:
    node, deployments = own_chain
    w3 = node.w3
    database = tmp_path / "hub.db"
    settings = Settings(
        rpc_url=node.url,
        chain_id=node.chain_id,
        deployments_dir=deployments,
        database_url=f"sqlite:///{database}",
        public_url="http://hub.test",
        _env_file=None,
    )
    auth, hanze = setup_service_state(settings)
    registry = RegistryClient(w3, _registry_address(deployments, node.chain_id))
    anchorings_before = len(issuer_anchorings(registry, hanze))
    start_block = w3.eth.block_number
    first = start_service(node, deployments, tmp_path)
    log = first.log  # the second run appends to it
    try:
        rpc(w3, "evm_setAutomine", False)
        with httpx.Client(base_url=first.url, timeout=30, headers={"Authorization": auth["issuer"]}) as http:
            a = http.post("/credentials/batch", json=cohort_body(COHORT))
            assert a.status_code == 202, a.text
            b = http.post("/credentials/batch", json=cohort_body(SECOND_COHORT))
            assert b.status_code == 202, b.text
            # the leader has signed, stored and sent both anchorings: they wait in the mempool, unmined
            wait_for(lambda: pending_transactions(w3) == 2, 30, "both cohorts' transactions in the mempool")
            for accepted in (a, b):
                assert http.get(f"/batches/{accepted.json()['id']}").json()["status"] == "submitted"
        first.kill()  # between "batch persisted" and "transaction mined", for both cohorts
    finally:
        first.stop()

    batches = {"A": a.json(), "B": b.json()}
    assert registry.batch(batches["A"]["issuer_address"], bytes.fromhex(batches["A"]["root"][2:])).anchored is False
    relayer_nonce = w3.eth.get_transaction_count(dev_accounts()[DEPLOYER_ACCOUNT].address)
    if mined_while_down:
        rpc(w3, "evm_mine")  # both transactions are mined while the service is down
        assert pending_transactions(w3) == 0
        assert all(len(anchored_events(w3, registry.address, x["root"])) == 1 for x in batches.values())

    # a third cohort is stored while the service is down (as a request that got no further would leave it)
    batches["C"] = store_cohort(settings, hanze, THIRD_COHORT)

    second = start_service(node, deployments, tmp_path)
    try:
        if not mined_while_down:
            # the restarted service follows the transactions it stored (nothing signed or sent again for A or
            # B) and sends C's
            wait_for(lambda: pending_transactions(w3) == 3, 30, "C's transaction beside A's and B's")
            time.sleep(1)
            assert pending_transactions(w3) == 3
        rpc(w3, "evm_setAutomine", True)
        rpc(w3, "evm_mine")
        with httpx.Client(base_url=second.url, timeout=30, headers={"Authorization": auth["issuer"]}) as http:
            for accepted in batches.values():
                state = wait_for(
                    lambda accepted=accepted: _anchored(http, accepted["id"]),
                    60,
                    f"batch {accepted['id']} to be anchored",
                )
                events = anchored_events(w3, registry.address, accepted["root"])
                assert len(events) == 1, events  # exactly once
                assert state["transaction_hash"] == "0x" + events[0].transaction_hash.hex()
                assert state["block_number"] == events[0].block_number
                facts = registry.chain_facts()
                for item in accepted["credentials"]:
                    credential = http.get(
                        f"/credentials/{item['id']}", headers={"X-Holder-Token": item["holder_token"]}
                    ).json()
                    document = credential["document"]
                    assert document is not None and document["proof"][0]["merkleRoot"] == accepted["root"]
                    report = verify_credential(document, facts, recipient_email=item["email"])
                    assert report.valid, (item, report.failed)
                    assert report.check("issuer_signature").passed
        assert len(issuer_anchorings(registry, hanze)) == anchorings_before + 3  # one anchoring per cohort
        # the relayer's two transactions, at the nonces it had before the crash: nothing sent twice
        assert w3.eth.get_transaction_count(dev_accounts()[DEPLOYER_ACCOUNT].address) == relayer_nonce + 3
    finally:
        second.stop()
        rpc(w3, "evm_setAutomine", True)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]

    # one transaction for each root, mined with status 1: none reverted, none sent twice
    sent = anchoring_transactions(w3, registry, since=start_block)
    assert {name: sent[accepted["root"]] for name, accepted in batches.items()} == {"A": [1], "B": [1], "C": [1]}


def anchoring_transactions(w3: Any, registry: RegistryClient, since: int) -> dict[str, list[int]]:
    """root -> the statuses of the anchoring transactions (anchorFor or anchorBySig) sent for it since block `since`,
    in order."""
    sent: dict[str, list[int]] = {}
    for number in range(since + 1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["to"] != registry.address:
                continue
            function, arguments = registry.contract.decode_function_input(tx["input"])
            if function.abi["name"] in (ANCHOR_FOR, "anchorBySig"):
                root = "0x" + bytes(arguments["root"]).hex()
                sent.setdefault(root, []).append(int(w3.eth.get_transaction_receipt(tx["hash"])["status"]))
    return sent


def _anchored(http: httpx.Client, batch_id: str) -> dict[str, Any] | None:
    state = http.get(f"/batches/{batch_id}").json()
    assert state["status"] != "failed", state
    return state if state["status"] == "anchored" else None


def store_cohort(settings: Settings, issuer: str, rows: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    """Prepare and store a cohort as POST /credentials/batch does, without anchoring it (no worker runs)."""
    from service.issuing import pipeline
    from service.issuing.requests import cohort_from_json

    hub = Hub.start(settings)
    try:
        with hub.sessions() as db:
            cohort = pipeline.prepare(
                db,
                hub.registry,
                hub.signers,
                issuer,
                cohort_from_json(cohort_body(rows), 100),
                identities=hub.identity_for,
            )
        batch_id = pipeline.persist(hub.sessions, cohort)
    finally:
        hub.close()
    return {
        "id": batch_id,
        "root": "0x" + cohort.root.hex(),
        "credentials": [
            {"id": item.id, "email": item.row.request.email, "holder_token": item.holder_token}
            for item in cohort.credentials
        ],
    }


def _registry_address(deployments: Path, chain_id: int) -> str:
    from service.chain.deployment import Deployment, deployment_path

    return Deployment.load(deployment_path(chain_id, deployments)).registry.address


# ---------------------------------------------------------------- the chain node stops and starts again


def test_chain_restart_health_503_then_recovers_by_itself_nothing_lost(tmp_path: Path) -> None:
    """anvil (state persisted in a file) stops and starts again on the same port, with one cohort's anchoring
    transaction in its mempool; the service is not touched."""
    port, state = free_port(), tmp_path / "anvil-state.json"
    node = start_chain("anvil", port=port, state=state, log_dir=tmp_path / "logs")
    deployments = tmp_path / "deployments"
    service: Server | None = None
    try:
        ensure_deployed(node.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=deployments)
        settings = Settings(
            rpc_url=node.url,
            chain_id=node.chain_id,
            deployments_dir=deployments,
            database_url=f"sqlite:///{tmp_path / 'hub.db'}",
            public_url="http://hub.test",
            _env_file=None,
        )
        auth, hanze = setup_service_state(settings)
        registry = RegistryClient(node.w3, _registry_address(deployments, node.chain_id))
        service = start_service(node, deployments, tmp_path)
        http = httpx.Client(base_url=service.url, timeout=30, headers={"Authorization": auth["issuer"]})

        # before: cohort A anchored
        a = http.post("/credentials/batch", json=cohort_body(COHORT)).json()
        wait_for(lambda: _anchored(http, a["id"]), 30, "cohort A to be anchored")
        holder = {"X-Holder-Token": a["credentials"][0]["holder_token"]}
        shared = http.get(f"/credentials/{a['credentials'][0]['id']}", headers=holder).json()["document"]
        assert http.post("/verify", json=shared).json()["valid"] is True
        block_before = node.w3.eth.block_number
        # cohort C is in flight: its anchoring transaction waits in the node's mempool when the node stops
        rpc(node.w3, "evm_setAutomine", False)
        c = http.post("/credentials/batch", json=cohort_body(THIRD_COHORT)).json()
        wait_for(lambda: pending_transactions(node.w3) == 1, 30, "cohort C's transaction in the mempool")

        node.stop()  # SIGTERM: anvil writes its state file (its mempool may not survive)
        assert state.is_file()

        # while it is down: /health says so with 503, issuing is refused with a problem that says why and
        # stores nothing, what the database holds is still served
        down = wait_for(
            lambda: (r := httpx.get(service.url + "/health", timeout=10)).status_code == 503 and r,
            10,
            "/health to report the chain down",
        )
        assert down.json()["chain"] == "unreachable" and down.json()["database"] == "ok"
        assert httpx.get(service.url + "/health/live").status_code == 200
        refused = http.post("/credentials/batch", json=cohort_body(SECOND_COHORT))
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"]
        assert "the blockchain node does not answer" in refused.json()["detail"]
        assert "GET /health" in refused.json()["detail"] and "HTTPConnectionPool" not in refused.text
        # (within HUB_HEAD_MAX_AGE of the last head seen, 0.25 s, the answer may still come from the cache)
        unverifiable = wait_for(
            lambda: (r := http.post("/verify", json=shared)).status_code == 503 and r,
            5,
            "POST /verify to say it cannot check now",
        )
        assert unverifiable.headers["content-type"] == "application/problem+json"
        assert http.get(f"/credentials/{a['credentials'][0]['id']}", headers=holder).status_code == 200
        store = make_sessionmaker(make_engine(settings.database_url))
        with store() as session:
            assert session.query(models.Batch).count() == 2  # A and C: the refused cohort left nothing behind

        # the node comes back with its state on the same port: the service recovers without being touched
        node = start_chain("anvil", port=port, state=state, log_dir=tmp_path / "logs")
        # nothing lost on the chain either (anvil may mine a transaction its state file kept from the mempool)
        assert node.w3.eth.block_number in (block_before, block_before + 1)
        wait_for(
            lambda: httpx.get(service.url + "/health", timeout=10).status_code == 200,
            30,
            "/health to report the chain back",
        )
        assert http.post("/verify", json=shared).json()["valid"] is True
        b = http.post("/credentials/batch", json=cohort_body(SECOND_COHORT))
        assert b.status_code == 202, b.text
        wait_for(lambda: _anchored(http, b.json()["id"]), 30, "cohort B to be anchored after the restart")
        wait_for(lambda: _anchored(http, c["id"]), 60, "cohort C, in flight when the node stopped, to be anchored")
        assert len(issuer_anchorings(registry, hanze)) == 3  # one anchoring per cohort, none repeated
        for accepted in (a, b.json(), c):
            assert len(anchored_events(node.w3, registry.address, accepted["root"])) == 1
            for item in accepted["credentials"]:
                document = http.get(
                    f"/credentials/{item['id']}", headers={"X-Holder-Token": item["holder_token"]}
                ).json()["document"]
                assert http.post("/verify", json=document).json()["valid"] is True

        # the indexer caught up over the gap: the three batches in its index
        def indexed() -> bool:
            with store() as session:
                return session.query(models.ChainEvent).filter_by(name="BatchAnchored").count() == 3

        wait_for(indexed, 10, "the indexer to index the three anchorings")
        http.close()
    finally:
        if service is not None:
            service.stop()
        node.stop()
