"""A live hub for end-to-end tests: a real anvil node with the hub deployed and the demo seeded
(service.seed), and the app on a real uvicorn server on 127.0.0.1 (a free port, in a thread).

    with live_hub(tmp_path) as hub:     # hub.url, hub.keys_file, hub.key("issuer", "Hanzehogeschool Groningen")
        ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from service.chain.deployment import Deployment, ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, free_port, start_chain
from service.demo import DEPLOYER_ACCOUNT, dev_board
from service.main import create_app
from service.seed import SeedReport, seed_demo
from service.settings import Settings


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class SeededChain:
    node: DevChain
    deployment: Deployment
    database_url: str
    keys_file: Path
    deployments_dir: Path

    def seed(self) -> SeedReport:
        return seed_demo(self.node.w3, self.deployment, self.database_url, self.keys_file)

    def settings(self, public_url: str) -> Settings:
        return Settings(
            rpc_url=self.node.url,
            chain_id=self.node.chain_id,
            deployments_dir=self.deployments_dir,
            database_url=self.database_url,
            public_url=public_url,
            _env_file=None,
        )


@contextmanager
def seeded_chain(directory: Path) -> Iterator[SeededChain]:
    """A fresh anvil node with the hub deployed (deployment record in `directory`), not seeded yet."""
    node = start_chain("anvil", log_dir=directory / "logs")
    try:
        deployments = directory / "deployments"
        deployment, _ = ensure_deployed(node.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=deployments)
        yield SeededChain(
            node=node,
            deployment=deployment,
            database_url=f"sqlite:///{directory / 'hub.db'}",
            keys_file=directory / "demo-keys.json",
            deployments_dir=deployments,
        )
    finally:
        node.stop()


@contextmanager
def serve(settings_for: Callable[[str], Settings]) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free loopback port; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(create_app(settings_for(url)), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-live", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), 60, "uvicorn to start")
        assert server.started, "uvicorn did not start (see the log above)"
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class LiveHub:
    chain: SeededChain
    report: SeedReport
    url: str

    @property
    def keys_file(self) -> Path:
        return self.chain.keys_file

    def key(self, role: str, name: str) -> str:
        return self.report.key(role, name).key

    def auth(self, role: str, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role, name)}"}


@contextmanager
def live_hub(directory: Path) -> Iterator[LiveHub]:
    """anvil + deployment + the seeded demo + the app on a real server."""
    with seeded_chain(directory) as chain:
        report = chain.seed()
        with serve(chain.settings) as url:
            yield LiveHub(chain=chain, report=report, url=url)
