"""API fixtures: a real anvil node with the hub deployed, a real SQLite file, the app under TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.chain.deployment import ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, start_chain
from service.demo import DEPLOYER_ACCOUNT, dev_board
from service.hub import Hub
from service.main import create_app
from service.settings import Settings
from tests.chain import revert_to, snapshot


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChain]:
    node = start_chain("anvil", log_dir=tmp_path_factory.mktemp("anvil-api"))
    yield node
    node.stop()


@pytest.fixture(scope="session")
def deployments_dir(anvil: DevChain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("deployments")
    ensure_deployed(anvil.w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=directory)
    return directory


@pytest.fixture
def settings(anvil: DevChain, deployments_dir: Path, tmp_path: Path) -> Settings:
    return Settings(rpc_url=anvil.url, chain_id=anvil.chain_id, deployments_dir=deployments_dir,
                    database_url=f"sqlite:///{tmp_path / 'hub.db'}", public_url="http://testserver",
                    _env_file=None)


@pytest.fixture
def chain_state(anvil: DevChain, deployments_dir: Path) -> Iterator[None]:
    """Each API test starts from the freshly deployed chain state."""
    snapshot_id = snapshot(anvil.w3)
    yield
    revert_to(anvil.w3, snapshot_id)


@pytest.fixture
def hub(settings: Settings, chain_state: None) -> Iterator[Hub]:
    started = Hub.start(settings)
    yield started
    started.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub=hub)) as test_client:
        yield test_client


class Keys:
    """API keys of the demo principals, as `Authorization` headers: keys.member(0), keys.issuer("Hanze...")."""

    def __init__(self, hub: Hub) -> None:
        from service.auth import Role, create_key
        from service.db.session import transaction
        from service.demo import ORGANISATIONS

        accounts = dev_accounts()
        self._tokens: dict[tuple[str, str], str] = {}
        self.addresses: dict[tuple[str, str], str] = {}
        with transaction(hub.sessions) as session:
            token, _ = create_key(session, Role.ADMIN, "Stichting IT Hub Hoogeveen")
            self._tokens[("admin", "admin")] = token
            for org in ORGANISATIONS:
                for role, index in (("member", org.board_account), ("issuer", org.issuer_account)):
                    if index is None:
                        continue
                    address = accounts[index].address
                    token, _ = create_key(session, Role(role), org.name, address)
                    self._tokens[(role, org.name)] = token
                    self.addresses[(role, org.name)] = address

    def _header(self, role: str, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._tokens[(role, name)]}"}

    def admin(self) -> dict[str, str]:
        return self._header("admin", "admin")

    def issuer(self, name: str) -> dict[str, str]:
        return self._header("issuer", name)

    def member(self, name: str) -> dict[str, str]:
        return self._header("member", name)


@pytest.fixture
def keys(hub: Hub) -> Keys:
    return Keys(hub)
