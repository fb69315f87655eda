#!/usr/bin/env python
"""Benchmark of issuing on a chain that mines like a network, on one service process and on three, and of the
JSON-RPC calls the service makes when it has nothing to do.

    .venv/bin/python bench/network.py [--processes 1,3] [--issues 200] [--cohorts 4] [--cohort-size 25]
                                      [--idle 30] [--quick] [--out bench/results/network.md]

One run starts a throwaway PostgreSQL cluster (tests/postgres.py's `cluster()`: initdb in a temporary
directory, fsync off) and then, for each process count in turn, on a fresh anvil node and a fresh database of
that cluster:

  set up   (automine) the hub deployed, the demo seeded (service.seed: three partners accredited by recorded
           board meetings, the catalogue, API keys), NHL Stenden accredited the same way: four accredited
           partners. Then `evm_setAutomine false` + `evm_setIntervalMining 1`: a block every second, nothing
           mined at once, as on a real network.
  start    N uvicorn processes (bench.server.launch_server, one worker each) on the shared database, each
           reaching the chain through a counting JSON-RPC proxy of its own as its HUB_RPC_URL (a
           ThreadingHTTPServer that forwards every POST body to anvil and counts the calls by method; in a
           process of its own, this file with --serve-proxy, so the bench's client threads do not slow it).
           The service's default settings: the polling intervals are set explicitly to their defaults (read
           from service.settings), so a HUB_* variable in the caller's shell cannot change them.
  load     --issues concurrent POST /credentials from the four partners (round robin) and --cohorts
           concurrent POST /credentials/batch of --cohort-size, spread round robin over the processes (the
           scenario of tests/api/test_processes.py). A single issue's time is its request's duration when it
           answered 201 (anchored within HUB_REQUEST_WAIT); when it answered 202, until its batch reads
           `anchored` (what GET /batches/{id} reports), seen by one query of the shared database every 0.25 s
           for all the batches waited for (a client polling each 202 would load the service with hundreds of
           requests a second); afterwards each batch is checked once through GET /batches/{id}. A cohort's
           time: POST to anchored, seen the same way.
           Credentials/s: every credential (singles and cohorts) over the wall time from the first request
           to the last anchoring seen. A 5xx answer or a failed connection is counted and reported, not retried
           (without an Idempotency-Key a retry could issue twice); a batch such a request stored is waited for.
  checked  every batch anchored; the relayer's transactions (relayer_transactions rows) per batch, the rows in
           state `reverted` and the receipts of every row (status 1), and replacements (rows with more than
           one attempt); one BatchAnchored event per batch.
  idle     once nothing is pending, a settling pause (twice the longest polling interval), then for --idle
           seconds nothing is asked of the service while anvil keeps mining a block a second: the calls each
           process's proxy counts are its idle RPC load (target: at most 1 call/s per process). The leader is
           found (GET /health) before the window, so that probe is not counted.

Prints the figures and writes them, with the machine and versions, to --out (`--quick`, a smaller run, only
prints unless --out is given). A measurement, not a test: it stops with an error when a figure cannot be
trusted (a batch not anchored, a credential missing).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.server import Server, launch_server, machine, packages  # noqa: E402
from service.chain.board import BoardClient  # noqa: E402
from service.chain.deployment import ensure_deployed  # noqa: E402
from service.chain.devchain import DevChain, dev_accounts, free_port, start_chain  # noqa: E402
from service.chain.registry import RegistryClient  # noqa: E402
from service.chain.relayer import TxState  # noqa: E402
from service.db import models  # noqa: E402
from service.db.session import make_engine, make_sessionmaker  # noqa: E402
from service.demo import DEPLOYER_ACCOUNT, dev_board  # noqa: E402
from service.issuing.states import UNFINISHED  # noqa: E402
from service.seed import accredit_by_meeting, seed_demo  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.live import wait_for  # noqa: E402
from tests.postgres import Postgres, cluster  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "results" / "network.md"
IDLE_TARGET = 1.0  # JSON-RPC calls per second per process, with nothing to do
PACKAGES = ("fastapi", "uvicorn", "pydantic", "SQLAlchemy", "psycopg", "web3")
PARTNERS = {
    "Hanzehogeschool Groningen": ("miw-data-analytics", "7.5"),
    "Rijksuniversiteit Groningen": ("blockchain-foundations", "8.0"),
    "NHL Stenden": ("robotics-automation", "6.5"),
    "Alfa-college": ("iot-technician", None),
}
# the settings that set how often a process asks anything of the chain or the database: their defaults
INTERVALS = (
    "head_interval",
    "head_max_age",
    "index_interval",
    "worker_interval",
    "leader_interval",
    "request_wait",
    "replace_after",
    "confirmations",
)
POLL = 0.25  # seconds between the bench's reads of the waited-for batches' states (AnchorWatch)
LIMIT = 600.0  # seconds: a load that takes longer is not measured


# ---------------------------------------------------------------- the counting proxy


class CountingProxy:
    """A JSON-RPC proxy in front of the node for one service process: forwards each POST body to `upstream` and
    counts the calls by method (each call of a JSON-RPC batch counts). GET /counts answers the counts since the
    last GET /counts (as JSON) and starts again from zero. It runs in a process of its own (ProxyProcess), so the
    bench's client threads do not slow the service's calls."""

    def __init__(self, upstream: str, port: int = 0) -> None:
        target = urlsplit(upstream)
        self.host, self.port = target.hostname or "127.0.0.1", target.port or 80
        self.path = target.path or "/"
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()  # one keep-alive connection to the node per proxy thread
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the service's clients expect

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.count(body)
                self._answer(*proxy.forward(body))

            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/counts":
                    self._answer(404, b"{}")
                    return
                self._answer(200, json.dumps(proxy.take()).encode())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
                pass

        class Listener(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # a burst of connections is queued, not dropped

        self.server = Listener(("127.0.0.1", port), Handler)

    def count(self, body: bytes) -> None:
        try:
            parsed = json.loads(body)
            methods = [str(call.get("method")) for call in (parsed if isinstance(parsed, list) else [parsed])]
        except (ValueError, AttributeError):
            methods = ["(not JSON-RPC)"]
        with self._lock:
            self.counts.update(methods)

    def forward(self, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept connection the node closed meanwhile: once more on a new one
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = self._local.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                connection.request("POST", self.path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    break
        return 502, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"proxy: the node does not answer"}}'

    def take(self) -> dict[str, int]:
        with self._lock:
            taken, self.counts = self.counts, Counter()
        return dict(taken)


class ProxyProcess:
    """A CountingProxy in a subprocess (this file with --serve-proxy); `url` for HUB_RPC_URL, `take()` its counts."""

    def __init__(self, upstream: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-proxy", upstream, "--port", str(self.port)], stdin=subprocess.DEVNULL
        )
        wait_for(lambda: self._answers(), 20, "the RPC proxy", interval=0.1)
        self.take()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the RPC proxy exited ({self.process.returncode})")
        try:
            self.take()
            return True
        except OSError:
            return False

    def take(self) -> Counter[str]:
        """The calls it forwarded since the last take, by method."""
        with urllib.request.urlopen(self.url + "/counts", timeout=10) as response:
            return Counter(json.loads(response.read()))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve_proxy(upstream: str, port: int) -> int:
    proxy = CountingProxy(upstream, port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=proxy.server.shutdown).start())
    proxy.server.serve_forever()
    return 0


# ---------------------------------------------------------------- one deployment: chain, database, processes


@dataclass
class Deployment:
    node: DevChain
    database_url: str
    registry: str
    keys: dict[str, str]  # partner -> Authorization header
    proxies: list[ProxyProcess] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for proxy in self.proxies:
            proxy.stop()
        self.node.stop()


def default_intervals() -> dict[str, str]:
    """The HUB_* variables of INTERVALS at their defaults (service.settings)."""
    return {f"HUB_{name.upper()}": str(Settings.model_fields[name].default) for name in INTERVALS}


def set_up(postgres: Postgres, processes: int, work: Path) -> Deployment:
    """A fresh anvil with the hub deployed and four partners accredited, a fresh database, then 1 s blocks and
    `processes` service processes, each behind its own counting proxy."""
    work.mkdir(parents=True)
    node = start_chain("anvil", log_dir=work)
    deployment: Deployment | None = None
    try:
        deployments = work / "deployments"
        record, _ = ensure_deployed(node.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=deployments)
        database_url = postgres.new_database()
        report = seed_demo(node.w3, record, database_url, work / "demo-keys.json")
        # the fourth partner, accredited the way the seed accredits the other three
        nhl = report.key("issuer", "NHL Stenden").address
        assert nhl is not None
        accredit_by_meeting(
            node.w3, BoardClient(node.w3, record.board.address), dev_accounts()[DEPLOYER_ACCOUNT], "NHL Stenden", nhl
        )
        registry = RegistryClient(node.w3, record.registry.address)
        if not all(
            registry.issuer(key.address).accredited
            for key in report.keys
            if key.role == "issuer" and key.name in PARTNERS and key.address
        ):
            raise RuntimeError("not every partner is accredited after the set-up")
        keys = {name: f"Bearer {report.key('issuer', name).key}" for name in PARTNERS}
        rpc(node, "evm_setAutomine", False)
        rpc(node, "evm_setIntervalMining", 1)
        deployment = Deployment(node, database_url, record.registry.address, keys)
        env = {**default_intervals(), "HUB_DATABASE_URL": database_url}
        for index in range(processes):
            proxy = ProxyProcess(node.url)
            deployment.proxies.append(proxy)
            deployment.servers.append(
                launch_server(proxy.url, node.chain_id, deployments, work, env=env, log=work / f"service-{index}.log")
            )
        for server in deployment.servers:
            server.wait_ready("/health", 120)
        wait_for(lambda: leader_index(deployment) is not None, 30, "a leader", interval=0.2)
        return deployment
    except BaseException:
        if deployment is not None:
            deployment.stop()
        else:
            node.stop()
        raise


def rpc(node: DevChain, method: str, *params: Any) -> Any:
    answer = node.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in answer:
        raise RuntimeError(f"{method} failed: {answer['error']}")
    return answer.get("result")


def leader_index(deployment: Deployment) -> int | None:
    for index, server in enumerate(deployment.servers):
        try:
            if httpx.get(server.url + "/health", timeout=10).json().get("leader"):
                return index
        except (httpx.HTTPError, ValueError):
            continue
    return None


# ---------------------------------------------------------------- the load


@dataclass
class Load:
    processes: int
    issues: int
    cohorts: int
    cohort_size: int
    credentials: int  # stored (and anchored): issues + cohorts * cohort_size, less any a failed request lost
    wall_s: float
    single_s: list[float]  # request to anchored, per single issue
    answered_201: int
    answered_202: int
    cohort_s: list[float]  # request to anchored, per cohort
    batches: int
    transactions: int
    most_per_batch: int
    reverted_rows: int
    failed_receipts: int  # receipts of relayer transactions with status != 1
    replaced: int  # transactions with more than one attempt
    anchored_events: int
    rpc_calls: list[Counter[str]]  # per process, during the load
    leader: int
    errors: list[str] = field(default_factory=list)  # 5xx answers and failed connections (not retried)
    index_lag: int | None = None  # blocks, when the idle window began
    idle_s: float = 0.0
    idle: list[Counter[str]] = field(default_factory=list)  # per process, during the idle window

    @property
    def rate(self) -> float:
        return self.credentials / self.wall_s

    def idle_rate(self, index: int) -> float:
        return sum(self.idle[index].values()) / self.idle_s


def credential_body(partner: str, index: int) -> dict[str, Any]:
    programme, grade = PARTNERS[partner]
    return {
        "programme_id": programme,
        "email": f"graduate{index}@example.org",
        "name": f"Graduate {index}",
        **({"grade": grade} if grade else {}),
    }


class AnchorWatch(threading.Thread):
    """When each batch the load was answered with reads `anchored` in the shared database (what GET /batches/{id}
    reports), seen every POLL seconds with one query for all of them: a client polling each 202 would load the
    service with hundreds of requests a second and slow what is measured."""

    def __init__(self, database_url: str) -> None:
        super().__init__(name="anchor-watch", daemon=True)
        self.engine = make_engine(database_url)
        self.store = make_sessionmaker(self.engine)
        self.anchored: dict[str, float] = {}  # batch id -> perf_counter when first seen anchored
        self.failure: str | None = None
        self._waiting: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def watch(self, batch_id: str) -> None:
        with self._lock:
            self._waiting.add(batch_id)

    def run(self) -> None:
        while not self._stopping.wait(POLL):
            with self._lock:
                waiting = list(self._waiting)
            if not waiting:
                continue
            with self.store() as session:
                rows = session.execute(
                    select(models.Batch.id, models.Batch.status, models.Batch.error).where(models.Batch.id.in_(waiting))
                ).all()
            seen = time.perf_counter()
            with self._lock:
                for batch_id, status, error in rows:
                    if status == "anchored":
                        self.anchored[batch_id] = seen
                        self._waiting.discard(batch_id)
                    elif status == "failed":
                        self.failure = f"batch {batch_id} failed: {error}"
                        self._waiting.discard(batch_id)

    def all_anchored(self) -> bool:
        if self.failure is not None:
            raise RuntimeError(self.failure)
        with self._lock:
            return not self._waiting

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(10)
        self.engine.dispose()


def run_load(deployment: Deployment, issues: int, cohorts: int, cohort_size: int) -> Load:
    servers, names = deployment.servers, list(PARTNERS)
    clients = [
        httpx.Client(base_url=server.url, timeout=LIMIT, limits=httpx.Limits(max_connections=issues + cohorts))
        for server in servers
    ]
    errors: list[str] = []
    watch = AnchorWatch(deployment.database_url)

    def post(client: httpx.Client, path: str, body: dict[str, Any], auth: dict[str, str]) -> httpx.Response | None:
        """The answer, or None (counted as an error) for a 5xx or a connection that failed: not retried, since a
        retry without an Idempotency-Key could issue twice."""
        try:
            response = client.post(path, json=body, headers=auth)
        except httpx.TransportError as exc:
            errors.append(f"POST {path}: {type(exc).__name__}: {exc}")
            return None
        if response.status_code >= 500:
            errors.append(f"POST {path} {response.status_code}: {response.text[:300]}")
            return None
        return response

    def issue(index: int) -> tuple[float, float | None, int, str | None, dict[str, str]]:
        """(sent, answered, status, batch id, the partner's Authorization)"""
        partner = names[index % len(names)]
        client, auth = clients[index % len(servers)], {"Authorization": deployment.keys[partner]}
        started = time.perf_counter()
        response = post(client, "/credentials", credential_body(partner, index), auth)
        answered = time.perf_counter()
        if response is None:
            return started, None, 500, None, auth
        if response.status_code not in (201, 202):
            raise RuntimeError(f"POST /credentials answered {response.status_code}: {response.text[:500]}")
        batch_id = response.json()["batch_id"]
        if response.status_code == 202:
            watch.watch(batch_id)
        return started, answered, response.status_code, batch_id, auth

    def cohort(index: int) -> tuple[float, str | None, dict[str, str]]:
        """(sent, batch id, the partner's Authorization)"""
        partner = names[index % len(names)]
        client, auth = clients[index % len(servers)], {"Authorization": deployment.keys[partner]}
        body = {
            "credentials": [credential_body(partner, 100_000 + 1_000 * index + number) for number in range(cohort_size)]
        }
        started = time.perf_counter()
        response = post(client, "/credentials/batch", body, auth)
        if response is None:
            return started, None, auth
        if response.status_code != 202:
            raise RuntimeError(f"POST /credentials/batch answered {response.status_code}: {response.text[:500]}")
        batch_id = response.json()["id"]
        watch.watch(batch_id)
        return started, batch_id, auth

    leader = leader_index(deployment)
    assert leader is not None
    engine = make_engine(deployment.database_url)
    store = make_sessionmaker(engine)

    def nothing_unfinished() -> bool:
        with store() as session:
            return not session.scalar(
                select(func.count()).select_from(models.Batch).where(models.Batch.status.in_(list(UNFINISHED)))
            )

    try:
        for proxy in deployment.proxies:
            proxy.take()
        watch.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=issues + cohorts) as pool:
            cohort_futures = [pool.submit(cohort, index) for index in range(cohorts)]
            singles = list(pool.map(issue, range(issues)))
            groups = [future.result() for future in cohort_futures]
        wait_for(watch.all_anchored, LIMIT, "the answered batches to be anchored", interval=POLL)
        # a batch stored by a request that failed afterwards (a 5xx) is anchored too: the load ends with the last
        wait_for(nothing_unfinished, LIMIT, "every stored batch to be anchored", interval=POLL)
        last_seen = time.perf_counter()
        rpc_calls = [proxy.take() for proxy in deployment.proxies]
        # a single issue: its request when it answered 201; else until its batch was seen anchored
        single_s = [
            (answered if status == 201 else watch.anchored[batch_id]) - sent
            for sent, answered, status, batch_id, _ in singles
            if answered is not None and batch_id
        ]
        cohort_s = [watch.anchored[batch_id] - sent for sent, batch_id, _ in groups if batch_id]
        ends = [
            (answered if status == 201 else watch.anchored[batch_id])
            for _, answered, status, batch_id, _ in singles
            if answered is not None and batch_id
        ]
        ends += [watch.anchored[batch_id] for _, batch_id, _ in groups if batch_id]
        finished = max(ends + ([last_seen] if errors else []))
        answered_batches = [(batch_id, auth) for *_, batch_id, auth in singles if batch_id]
        answered_batches += [(batch_id, auth) for _, batch_id, auth in groups if batch_id]
        if len({batch_id for batch_id, _ in answered_batches}) != len(answered_batches):
            raise RuntimeError("two requests answered with one batch")
        for batch_id, auth in answered_batches:  # GET /batches/{id} says so too (not timed)
            status = clients[0].get(f"/batches/{batch_id}", params={"credentials": "false"}, headers=auth)
            if status.status_code != 200 or status.json()["status"] != "anchored":
                raise RuntimeError(f"GET /batches/{batch_id}: {status.status_code} {status.text[:300]}")
        for client in clients:
            client.close()

        # checked: in the database and on the chain
        with store() as session:
            statuses = Counter(session.scalars(select(models.Batch.status)).all())
            credentials = int(session.scalar(select(func.count()).select_from(models.Credential)) or 0)
            rows = list(session.scalars(select(models.RelayerTransaction)))
            attempts = dict(
                session.execute(
                    select(models.RelayerAttempt.transaction_id, func.count()).group_by(
                        models.RelayerAttempt.transaction_id
                    )
                ).all()
            )
    finally:
        watch.stop()
        engine.dispose()
    batches = sum(statuses.values())
    if set(statuses) != {"anchored"} or batches < len(answered_batches):
        raise RuntimeError(f"batches: {dict(statuses)}, {len(answered_batches)} answered")
    if credentials > issues + cohorts * cohort_size:
        raise RuntimeError(f"{credentials} credentials stored for {issues + cohorts * cohort_size} asked")
    per_batch = Counter(row.batch_id for row in rows)
    w3 = deployment.node.w3
    failed_receipts = sum(
        1 for row in rows if row.tx_hash is None or int(w3.eth.get_transaction_receipt(row.tx_hash)["status"]) != 1
    )
    registry = RegistryClient(w3, deployment.registry)
    events = registry.anchorings()
    return Load(
        processes=len(servers),
        issues=issues,
        cohorts=cohorts,
        cohort_size=cohort_size,
        credentials=credentials,
        wall_s=finished - started,
        single_s=single_s,
        answered_201=sum(item[2] == 201 for item in singles),
        answered_202=sum(item[2] == 202 for item in singles),
        cohort_s=cohort_s,
        batches=batches,
        transactions=len(rows),
        most_per_batch=max(per_batch.values(), default=0),
        reverted_rows=sum(row.state == TxState.REVERTED for row in rows),
        failed_receipts=failed_receipts,
        replaced=sum(attempts.get(row.id, 1) > 1 for row in rows),
        anchored_events=len(events),
        rpc_calls=rpc_calls,
        leader=leader,
        errors=errors,
    )


def measure_idle(deployment: Deployment, load: Load, seconds: float) -> None:
    """Nothing pending, a settling pause, then `seconds` of counting what each process asks of the node."""
    settle = 2 * max(
        float(Settings.model_fields[name].default)
        for name in ("index_interval", "head_interval", "worker_interval", "leader_interval")
    )
    leader = leader_index(deployment)  # before the window: its GET /health calls the node
    load.leader = load.leader if leader is None else leader
    time.sleep(settle)
    for proxy in deployment.proxies:
        proxy.take()
    began = time.perf_counter()
    head = deployment.node.w3.eth.block_number
    engine = make_engine(deployment.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            indexed = session.scalar(select(func.min(models.IndexCursor.last_block)))
    finally:
        engine.dispose()
    load.index_lag = None if indexed is None else max(0, int(head) - int(indexed))
    time.sleep(max(0.0, seconds - (time.perf_counter() - began)))
    load.idle = [proxy.take() for proxy in deployment.proxies]
    load.idle_s = time.perf_counter() - began


# ---------------------------------------------------------------- report


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def plural(processes: int) -> str:
    return f"{processes} process{'es' if processes != 1 else ''}"


def methods(counts: Counter[str], seconds: float) -> str:
    return ", ".join(f"{name} {count / seconds:.2f}" for name, count in counts.most_common()) or "none"


def revision() -> str:
    """The commit measured, and whether the work tree had changes (git; "unknown" without it)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "service"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}{' with uncommitted changes in service/' if changed else ''}"


@dataclass
class Results:
    started: datetime
    revision: str = field(default_factory=revision)
    chain: str = ""
    postgres: str = ""
    loads: list[Load] = field(default_factory=list)

    def markdown(self) -> str:
        m = machine()
        first = self.loads[0]
        defaults = default_intervals()
        lines = [
            "# Benchmark: issuing on a chain that mines a block a second, on one process and on three",
            "",
            f"Generated by `bench/network.py` on {self.started:%Y-%m-%d %H:%M} UTC, service at {self.revision} "
            "(when the run began).",
            "",
            f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['os']}, Python {m['python']}.",
            f"- Packages: {packages(PACKAGES)}.",
            f"- Chain: {self.chain}, a fresh node per run: the hub deployed and four partners accredited by "
            "recorded board meetings with automine, then `evm_setAutomine false` + `evm_setIntervalMining 1` (a "
            "block every second, nothing mined at once).",
            f"- Database: PostgreSQL {self.postgres}, a throwaway cluster (tests/postgres.py, fsync off), a fresh "
            "database per run shared by all of the run's processes.",
            "- Service: `uvicorn service.main:app --workers 1` per process on 127.0.0.1, each reaching the chain "
            "through its own counting JSON-RPC proxy (HUB_RPC_URL); one process leads the background work (indexer, "
            "relayer, anchoring), every process takes requests. Default settings: "
            + ", ".join(f"`{name}={value}`" for name, value in defaults.items())
            + ".",
            f"- Load: {first.issues} concurrent POST /credentials from four partners and {first.cohorts} concurrent "
            f"POST /credentials/batch of {first.cohort_size}, round robin over the processes. A single issue's time: "
            "its request when it answered 201 (anchored within HUB_REQUEST_WAIT); after a 202, until its batch "
            f"reads `anchored` (what GET /batches/{{id}} reports; the bench reads the shared database every {POLL:g} "
            "s for all waiting batches in one query rather than loading the service with polls, and checks each "
            "through GET /batches/{id} afterwards). Credentials/s: all "
            f"{first.credentials} credentials over the wall time from the first request to the last anchoring.",
            "- Checked: every batch anchored, every credential stored; relayer_transactions rows per batch, rows "
            "`reverted`, every row's receipt (status 1), one BatchAnchored event per batch.",
            f"- Idle: after the load and a settling pause, {first.idle_s:.0f} s with no request while anvil mines a "
            "block a second; the JSON-RPC calls each process's proxy counted. The leader was found before the "
            "window (its GET /health is not counted).",
            "",
            "## Load",
            "",
            "| Processes | Credentials/s | Wall s | Singles 201 / 202 / failed | p50 s | p95 s | max s | "
            "Cohorts p50 s | Transactions per batch | Reverted (rows / receipts) | Replaced | BatchAnchored events |",
            "|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|",
        ]
        for load in self.loads:
            failed = load.issues - load.answered_201 - load.answered_202
            lines.append(
                f"| {load.processes} | {load.rate:.1f} | {load.wall_s:.1f} | {load.answered_201} / {load.answered_202} "
                f"/ {failed} | {percentile(load.single_s, 0.5):.1f} | {percentile(load.single_s, 0.95):.1f} | "
                f"{max(load.single_s):.1f} | {statistics.median(load.cohort_s) if load.cohort_s else 0:.1f} | "
                f"{load.transactions / load.batches:.2f} ({load.transactions} / {load.batches}; at most "
                f"{load.most_per_batch}) | {load.reverted_rows} / {load.failed_receipts} | {load.replaced} | "
                f"{load.anchored_events} |"
            )
        for load in self.loads:
            if load.errors:
                kinds = Counter(error.split(":", 1)[0] for error in load.errors)
                lines += [
                    "",
                    f"{plural(load.processes)}: {len(load.errors)} requests failed ("
                    + ", ".join(f"{count} x {kind}" for kind, count in kinds.most_common())
                    + f"); the first: `{load.errors[0][:300]}`",
                ]
        lines += [
            "",
            "JSON-RPC calls during the load, per process (the leader marked):",
            "",
            "| Processes | Process | Calls | Per credential | Most called |",
            "|---:|---|---:|---:|---|",
        ]
        for load in self.loads:
            for index, counts in enumerate(load.rpc_calls):
                total = sum(counts.values())
                top = ", ".join(f"{name} {count}" for name, count in counts.most_common(5))
                lines.append(
                    f"| {load.processes} | {index + 1}{' (leader)' if index == load.leader else ''} | "
                    f"{total:,} | {total / load.credentials:.1f} | {top} |"
                )
        lines += [
            "",
            "Each single issue is a batch of its own, anchored by its own transaction, and the leader sends "
            "every transaction ("
            + ", ".join(
                f"{load.transactions / load.wall_s:.1f} transactions/s with {plural(load.processes)}"
                for load in self.loads
            )
            + " here): concurrent single issues queue behind each other, while a cohort of any size costs one "
            "transaction. The time of a request that answered 201 includes any wait before the service "
            "took it up.",
        ]
        lines += [
            "",
            "## Idle RPC calls",
            "",
            f"Target: at most {IDLE_TARGET:g} call/s per process with the default settings.",
            "",
            "| Processes | Process | Calls/s | Target | By method (calls/s) | Index lag at start (blocks) |",
            "|---:|---|---:|---|---|---:|",
        ]
        for load in self.loads:
            for index, counts in enumerate(load.idle):
                rate = load.idle_rate(index)
                lines.append(
                    f"| {load.processes} | {index + 1}{' (leader)' if index == load.leader else ''} | "
                    f"{rate:.2f} | {'met' if rate <= IDLE_TARGET else 'NOT met'} | "
                    f"{methods(counts, load.idle_s)} | "
                    f"{'' if load.index_lag is None else load.index_lag} |"
                )
        lines += ["", self.summary(), ""]
        return "\n".join(lines)

    def summary(self) -> str:
        parts = []
        for load in self.loads:
            worst = max(range(load.processes), key=load.idle_rate)
            failed = f" ({len(load.errors)} requests failed)" if load.errors else ""
            parts.append(
                f"{plural(load.processes)}: {load.rate:.1f} "
                f"credentials/s{failed}, p50 {percentile(load.single_s, 0.5):.1f} s / p95 "
                f"{percentile(load.single_s, 0.95):.1f} s to anchored, "
                f"{load.transactions / load.batches:.2f} transactions per batch, {load.reverted_rows} "
                f"reverted; idle at most {load.idle_rate(worst):.2f} RPC calls/s per process"
            )
        return "**" + "; ".join(parts) + ".**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,3", help="comma-separated process counts, in turn (default 1,3)")
    parser.add_argument("--issues", type=int, help="concurrent POST /credentials (default 200; --quick 40)")
    parser.add_argument("--cohorts", type=int, help="concurrent cohorts (default 4)")
    parser.add_argument("--cohort-size", type=int, help="credentials per cohort (default 25; --quick 5)")
    parser.add_argument("--idle", type=float, help="seconds of the idle window (default 30; --quick 10)")
    parser.add_argument("--quick", action="store_true", help="a smaller run; prints only, unless --out is given")
    parser.add_argument("--out", type=Path, help=f"results file (default {os.path.relpath(DEFAULT_OUT, ROOT)})")
    parser.add_argument("--serve-proxy", metavar="UPSTREAM", help=argparse.SUPPRESS)  # a ProxyProcess
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the nodes' and services' logs in this new directory (default: a temporary one, removed)",
    )
    args = parser.parse_args(argv)
    if args.serve_proxy:
        return serve_proxy(args.serve_proxy, args.port)
    issues = args.issues if args.issues is not None else 40 if args.quick else 200
    cohorts = args.cohorts if args.cohorts is not None else 4
    cohort_size = args.cohort_size if args.cohort_size is not None else 5 if args.quick else 25
    idle = args.idle if args.idle is not None else 10.0 if args.quick else 30.0
    out = args.out if args.out is not None else None if args.quick else DEFAULT_OUT
    try:
        counts = [int(part) for part in args.processes.split(",") if part.strip()]
    except ValueError:
        parser.error("--processes takes comma-separated numbers, e.g. 1,3")
    if (
        not counts
        or not all(1 <= count <= 4 for count in counts)
        or not 1 <= issues <= 400
        or not 0 <= cohorts <= 8
        or not 1 <= cohort_size <= 1_000
        or not 5 <= idle <= 300
    ):
        parser.error(
            "keep it bounded: --processes 1 to 4 each, --issues 1 to 400, --cohorts 0 to 8, "
            "--cohort-size 1 to 1000, --idle 5 to 300 s"
        )

    results = Results(datetime.now(UTC))
    if args.work is not None and args.work.exists():
        parser.error(f"--work {args.work} exists already: name a new directory")
    with cluster() as postgres, tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        work = args.work.resolve() if args.work is not None else Path(tmp)
        import psycopg

        with psycopg.connect(postgres.url("postgres", "postgresql")) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            results.postgres = str(row[0]) if row else "?"
        for processes in counts:
            print(f"{plural(processes)}: a fresh anvil and database, deploying, accrediting, starting ...", flush=True)
            deployment = set_up(postgres, processes, work / f"processes-{processes}")
            try:
                results.chain = deployment.node.w3.client_version
                load = run_load(deployment, issues, cohorts, cohort_size)
                for error in load.errors[:5]:
                    print(f"  FAILED: {error}", flush=True)
                print(
                    f"  load: {load.credentials} credentials anchored in {load.wall_s:.1f} s ({load.rate:.1f}/s); "
                    f"singles p50 {percentile(load.single_s, 0.5):.1f} s, p95 {percentile(load.single_s, 0.95):.1f} "
                    f"s ({load.answered_201} x 201, {load.answered_202} x 202); {load.transactions} transactions for "
                    f"{load.batches} batches, {load.reverted_rows} reverted",
                    flush=True,
                )
                print(f"  idle: counting JSON-RPC calls for {idle:g} s ...", flush=True)
                measure_idle(deployment, load, idle)
                for index, calls in enumerate(load.idle):
                    role = "leader" if index == load.leader else "follower"
                    print(
                        f"  process {index + 1} ({role}): {load.idle_rate(index):.2f} calls/s "
                        f"({methods(calls, load.idle_s)})",
                        flush=True,
                    )
                results.loads.append(load)
            finally:
                deployment.stop()
    text = results.markdown()
    print()
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"written to {os.path.relpath(out, Path.cwd())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
