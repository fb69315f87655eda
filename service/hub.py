"""The service's long-lived parts, built once at start-up from Settings: database, chain, signers.

Start-up is strict: an unreachable chain, a chain id other than the expected one, a missing
deployment or a development key on a real chain stop the service with a message that says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from eth_typing import ChecksumAddress
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.types import RPCEndpoint

from service.chain.artifacts import load_artifact
from service.chain.deployment import Deployment, deployment_path
from service.chain.indexer import Indexer
from service.chain.keys import Signers, relayer_account
from service.chain.sender import TransactionSender
from service.db.migrate import migrate
from service.db.session import make_engine, make_sessionmaker
from service.issuing.anchoring import Anchorer
from service.settings import Settings
from service.verification import VerificationCache

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
    indexer: Indexer  # follows both contracts into the database; started in the app's lifespan
    anchorer: Anchorer = field(init=False, repr=False)  # anchors stored batches; its worker runs in the lifespan
    # POST /verify's chain facts, cached per block; call verification_cache.clear() after a revocation
    verification_cache: VerificationCache = field(init=False, repr=False)

    @classmethod
    def start(cls, settings: Settings) -> Hub:
        # eth_chainId is cached: web3 asks it before every call and transaction, and a node's chain never changes
        w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 30}, cache_allowed_requests=True,
                                    cacheable_requests={RPCEndpoint("eth_chainId")}))
        try:
            chain_id = int(w3.eth.chain_id)
        except Exception as exc:  # noqa: BLE001 - any failure means the node is not there
            raise StartupError(f"no JSON-RPC node answers at {settings.rpc_url}: {exc}") from exc
        if settings.chain_id is not None and chain_id != settings.chain_id:
            raise StartupError(f"the node at {settings.rpc_url} is chain {chain_id}, expected {settings.chain_id}")
        registry, board, deployed_at = _addresses(settings, chain_id)
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
        sessions = make_sessionmaker(engine)
        indexer = Indexer(w3, sessions, registry=registry, board=board, start_block=deployed_at,
                          page_blocks=settings.index_page_blocks, interval=settings.index_interval,
                          confirmations=settings.confirmations)
        hub = cls(settings=settings, engine=engine, sessions=sessions, w3=w3, chain_id=chain_id,
                  registry_address=registry, board_address=board, relayer=sender, signers=signers, indexer=indexer)
        hub.anchorer = Anchorer(hub)
        hub.verification_cache = VerificationCache.for_hub(settings.rpc_url, registry, chain_id,
                                                           interval=settings.head_interval,
                                                           max_age=settings.head_max_age)
        return hub

    def close(self) -> None:
        self.indexer.stop()
        self.verification_cache.stop()
        self.anchorer.stop()
        self.engine.dispose()


def _addresses(settings: Settings, chain_id: int) -> tuple[ChecksumAddress, ChecksumAddress, int]:
    """The registry and board addresses, and the block to index from (the deployment's, when known)."""
    path: Path = deployment_path(chain_id, settings.deployments_dir)
    try:
        deployment = Deployment.load(path) if path.exists() else None
    except (ValueError, KeyError, TypeError) as exc:
        if not (settings.registry_address and settings.board_address):
            raise StartupError(f"the deployment record {path} cannot be read: {exc}") from exc
        deployment = None
    if settings.registry_address and settings.board_address:
        registry = Web3.to_checksum_address(settings.registry_address)
        board = Web3.to_checksum_address(settings.board_address)
    elif deployment is None:
        raise StartupError(f"no deployment for chain {chain_id} ({path}): run scripts/deploy.py, "
                           "or set HUB_REGISTRY_ADDRESS and HUB_BOARD_ADDRESS")
    else:
        registry = Web3.to_checksum_address(settings.registry_address or deployment.registry.address)
        board = Web3.to_checksum_address(settings.board_address or deployment.board.address)
    if (deployment is not None and Web3.to_checksum_address(deployment.registry.address) == registry
            and Web3.to_checksum_address(deployment.board.address) == board):
        return registry, board, min(deployment.registry.block, deployment.board.block)
    log.warning("no deployment record for %s and %s: the indexer reads chain %s from block 0", registry, board,
                chain_id)
    return registry, board, 0
