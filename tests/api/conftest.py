"""API fixtures: a real anvil node with the hub deployed, a real SQLite file, the app under TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from service.chain.deployment import ensure_deployed
from service.chain.devchain import DevChain, dev_accounts, start_chain
from service.demo import DEPLOYER_ACCOUNT, dev_board
from service.hub import Hub
from service.issuing.signing_keys import dev_signing_key, key_hash
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
    return Settings(
        rpc_url=anvil.url,
        chain_id=anvil.chain_id,
        deployments_dir=deployments_dir,
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        public_url="http://testserver",
        _env_file=None,
    )


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
    # The tests read the English pages unless they ask for Dutch (a browser that states no language gets Dutch:
    # tests/test_i18n.py).
    with TestClient(create_app(hub=hub), headers={"Accept-Language": "en"}) as test_client:
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


@cache
def _dev_accounts() -> tuple[LocalAccount, ...]:
    return tuple(dev_accounts())  # deriving them takes about a second: once per session


class Accreditations:
    """Accredits issuing partners the way the hub does it: a board decision, proposed, voted for by four of
    the six dev board members and executed (each sent from the member's unlocked dev account).

        accredited("Hanzehogeschool Groningen")  # -> its issuing address, accredited under that name
    """

    def __init__(self, hub: Hub) -> None:
        from service.chain.board import BoardClient
        from service.chain.registry import RegistryClient

        self.hub = hub
        self.board = BoardClient(hub.w3, hub.board_address)
        self.registry = RegistryClient(hub.w3, hub.registry_address)

    def __call__(self, *names: str) -> list[str]:
        from service.chain.board import Action

        addresses = []
        for name in names:
            address = self.address(name)
            addresses.append(address)
            if not self.registry.issuer(address).accredited:
                self._decide(
                    Action.accredit_issuer(address, name, key_hash(dev_signing_key(address))),
                    f"Het bestuur accrediteert {name} als uitgever van microcredentials van de IT Hub Hoogeveen.",
                )
                assert self.registry.issuer(address).accredited, f"{name} was not accredited"
            # onboarding: the partner authorises the hub's relayer, so its batches go by anchorFor
            self.hub.anchoring.authorise_relayer(address, timeout=30)
        return addresses

    def suspend(self, name: str) -> str:
        """Suspend the partner's accreditation (a board decision)."""
        from service.chain.board import Action

        address = self.address(name)
        self._decide(Action.suspend_issuer(address), f"Het bestuur schort de accreditatie van {name} op.")
        assert not self.registry.issuer(address).accredited, f"{name} is still accredited"
        return address

    @staticmethod
    def address(name: str) -> str:
        from service.demo import ORGANISATIONS

        org = next(org for org in ORGANISATIONS if org.name == name)
        assert org.issuer_account is not None, f"{name} does not issue"
        return _dev_accounts()[org.issuer_account].address

    def _decide(self, action: Any, text: str) -> None:
        """Propose `action`, four of the six members vote for, a fifth executes."""
        from service.chain.board import VoteType, document_hash
        from service.chain.transactions import send
        from service.demo import ORGANISATIONS

        accounts = _dev_accounts()
        members = [accounts[org.board_account] for org in ORGANISATIONS if org.board_account is not None]
        w3 = self.hub.w3

        def transact(tx: dict[str, Any], member: LocalAccount) -> Any:
            return send(w3, {**tx, "gasPrice": w3.eth.gas_price}, member)

        receipt = transact(self.board.propose(action, text[:80], document_hash(text)), members[0])
        proposal_id = self.board.created_proposal_id(receipt)
        for member in members[:4]:
            transact(self.board.cast_vote(proposal_id, VoteType.FOR, "akkoord"), member)
        transact(self.board.execute(proposal_id, action, document_hash(text)), members[4])


@pytest.fixture
def accredited(hub: Hub) -> Accreditations:
    """Call with partner names to accredit their issuing accounts on the test chain (a board decision)."""
    return Accreditations(hub)
