"""The service's long-lived parts, built once at start-up from Settings: database, chain, signers.

Start-up is strict: an unreachable chain, a chain id other than the expected one, a missing
deployment or a development key on a real chain stop the service with a message that says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from service.chain.artifacts import load_artifact
from service.chain.deployment import Deployment, deployment_path
from service.chain.keys import Signers, relayer_account
from service.chain.sender import TransactionSender
from service.db.migrate import migrate
from service.db.session import make_engine, make_sessionmaker
from service.settings import Settings

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The service cannot start with these settings; the message says what to fix."""


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    w3: Web3
    chain_id: int
    registry_address: str
    board_address: str
    relayer: TransactionSender
    signers: Signers

    @classmethod
    def start(cls, settings: Settings) -> Hub:
        w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 30}))
        try:
            chain_id = int(w3.eth.chain_id)
        except Exception as exc:  # noqa: BLE001 - any failure means the node is not there
            raise StartupError(f"no JSON-RPC node answers at {settings.rpc_url}: {exc}") from exc
        if settings.chain_id is not None and chain_id != settings.chain_id:
            raise StartupError(f"the node at {settings.rpc_url} is chain {chain_id}, expected {settings.chain_id}")
        registry, board = _addresses(settings, chain_id)
        for name, address in (("CredentialRegistry", registry), ("HubBoard", board)):
            if not w3.eth.get_code(address):
                raise StartupError(f"no {name} contract at {address} on chain {chain_id}: run scripts/deploy.py")
        relayer = relayer_account(
            settings.relayer_private_key.get_secret_value() if settings.relayer_private_key else None, chain_id)
        error_abis = load_artifact("CredentialRegistry").error_abis() + load_artifact("HubBoard").error_abis()
        sender = TransactionSender(w3, relayer, error_abis=error_abis, confirmations=settings.confirmations)
        signers = Signers(chain_id, settings.keystore_dir,
                          settings.keystore_password.get_secret_value() if settings.keystore_password else None)
        engine = make_engine(settings.database_url)
        migrate(engine)
        return cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine), w3=w3, chain_id=chain_id,
                   registry_address=registry, board_address=board, relayer=sender, signers=signers)

    def close(self) -> None:
        self.engine.dispose()


def _addresses(settings: Settings, chain_id: int) -> tuple[str, str]:
    if settings.registry_address and settings.board_address:
        return Web3.to_checksum_address(settings.registry_address), Web3.to_checksum_address(settings.board_address)
    path: Path = deployment_path(chain_id, settings.deployments_dir)
    if not path.exists():
        raise StartupError(f"no deployment for chain {chain_id} ({path}): run scripts/deploy.py, "
                           "or set HUB_REGISTRY_ADDRESS and HUB_BOARD_ADDRESS")
    deployment = Deployment.load(path)
    return (Web3.to_checksum_address(settings.registry_address or deployment.registry.address),
            Web3.to_checksum_address(settings.board_address or deployment.board.address))
