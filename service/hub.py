"""The service's long-lived parts, built once at start-up from Settings: database, chain, signers.

Start-up is strict: an unreachable chain, a chain id other than the expected one, a missing
deployment or a development key on a real chain stop the service with a message that says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from eth_typing import ChecksumAddress
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.types import RPCEndpoint

from service.chain.artifacts import load_artifact
from service.chain.deployment import Deployment, deployment_path
from service.chain.facts_cache import VerificationCache
from service.chain.fees import GWEI, FeeCap, FeeOracle
from service.chain.indexer import Indexer
from service.chain.keys import KeyConfigurationError, Signers, relayer_account
from service.chain.registry import RegistryClient
from service.chain.relayer import Relayer
from service.chain.rpc import RetryingHTTPProvider
from service.credentials import integrity
from service.db.migrate import SchemaNotAtHead, check_at_head, migrate
from service.db.session import DatabaseInUse, claim_sqlite, make_engine, make_sessionmaker
from service.issuing.anchoring import AnchoringWorker
from service.issuing.identity import IssuerIdentity
from service.issuing.issuers import IssuerDirectory
from service.issuing.signing_keys import SigningKeys
from service.issuing.status_lists import StatusLists
from service.issuing.waiter import BatchWaiter
from service.leader import LeaderWorker, leadership_for
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
    registry: RegistryClient
    relayer: Relayer  # sends and follows the hub's transactions (nonces from the chain and the database)
    signers: Signers
    indexer: Indexer  # follows both contracts into the database; run by the leader
    anchoring: AnchoringWorker  # sends stored batches and follows them; run by the leader
    leader: LeaderWorker  # takes the lead across processes and runs the indexer and the anchoring worker
    # POST /verify's chain facts, cached per block; call verification_cache.clear() after a revocation
    verification_cache: VerificationCache
    batch_waiter: BatchWaiter  # requests waiting for their batch to be anchored: one query for all of them
    signing_keys: SigningKeys  # the partners' Ed25519 credential signing keys (keystore; dev keys on dev chains)
    issuers: IssuerDirectory  # the partners' slugs, DIDs and DID documents
    status_lists: StatusLists  # the partners' Bitstring Status Lists: indexes at issuance, rebuilt by the indexer
    sqlite_claim: IO[str] | None = None  # a SQLite file is this process's alone (service.db.session.claim_sqlite)

    @classmethod
    def start(cls, settings: Settings) -> Hub:
        # eth_chainId is cached: web3 asks it before every call and transaction, and a node's chain never changes.
        # Connection errors, timeouts and HTTP 429/5xx are retried with exponential backoff and jitter.
        w3 = Web3(
            RetryingHTTPProvider(
                settings.rpc_url,
                retries=settings.rpc_retries,
                backoff=settings.rpc_backoff,
                request_kwargs={"timeout": 30},
                cache_allowed_requests=True,
                cacheable_requests={RPCEndpoint("eth_chainId")},
            )
        )
        try:
            chain_id = int(w3.eth.chain_id)
        except Exception as exc:  # noqa: BLE001 - any failure means the node is not there
            raise StartupError(f"no JSON-RPC node answers at {settings.rpc_url}: {exc}") from exc
        if settings.chain_id is not None and chain_id != settings.chain_id:
            raise StartupError(f"the node at {settings.rpc_url} is chain {chain_id}, expected {settings.chain_id}")
        registry_address, board, deployed_at = _addresses(settings, chain_id)
        for name, address in (("CredentialRegistry", registry_address), ("HubBoard", board)):
            if not w3.eth.get_code(address):
                raise StartupError(f"no {name} contract at {address} on chain {chain_id}: run scripts/deploy.py")
        try:  # a well-known development key (or none) on a chain that is not a development chain: refused
            account = relayer_account(
                settings.relayer_private_key.get_secret_value() if settings.relayer_private_key else None, chain_id
            )
            password = settings.keystore_password.get_secret_value() if settings.keystore_password else None
            signers = Signers(chain_id, settings.keystore_dir, password)
            signing_keys = SigningKeys(chain_id, settings.keystore_dir, password)
        except KeyConfigurationError as exc:
            raise StartupError(str(exc)) from None
        error_abis = load_artifact("CredentialRegistry").error_abis() + load_artifact("HubBoard").error_abis()
        engine = make_engine(settings.database_url)
        try:
            claim = claim_sqlite(engine)
        except DatabaseInUse as exc:
            engine.dispose()
            raise StartupError(str(exc)) from exc
        if settings.migrate_at_start:
            migrate(engine)
        else:
            try:
                check_at_head(engine)
            except SchemaNotAtHead as exc:
                engine.dispose()
                raise StartupError(str(exc)) from exc
        sessions = make_sessionmaker(engine)
        fees = FeeOracle(
            w3,
            FeeCap(max_fee=int(settings.max_fee_gwei * GWEI), priority_fee=int(settings.max_priority_fee_gwei * GWEI)),
        )
        relayer = Relayer(
            w3,
            account,
            sessions,
            fees,
            error_abis=error_abis,
            confirmations=settings.confirmations,
            replace_after=settings.replace_after,
            poll_interval=min(settings.worker_interval, 0.5),
        )
        registry = RegistryClient(w3, registry_address)
        cache = VerificationCache.for_hub(
            settings.rpc_url, registry_address, chain_id, interval=settings.head_interval, max_age=settings.head_max_age
        )
        indexer = Indexer(
            w3,
            sessions,
            registry=registry_address,
            board=board,
            start_block=deployed_at,
            page_blocks=settings.index_page_blocks,
            interval=settings.index_interval,
            confirmations=settings.confirmations,
            latest=lambda: _seen(cache),
        )
        anchoring = AnchoringWorker(
            sessions,
            registry,
            relayer,
            signers,
            start_block=deployed_at,
            page_blocks=settings.index_page_blocks,
            interval=settings.worker_interval,
            signature_ttl=settings.signature_ttl,
            retry_interval=settings.retry_interval,
            max_backoff=settings.max_backoff,
        )
        relayer.on_submit = anchoring.wake  # a transaction sent here is followed at once when this process leads
        indexer.add_reorg_listener(anchoring.reorged)
        issuers = IssuerDirectory(sessions, registry, signing_keys, settings.public_url, chain_id)
        status_lists = StatusLists(
            sessions,
            public_url=settings.public_url,
            registry_address=registry_address,
            identities=issuers.identity_for,  # the credentials' own: the list's issuer and key are theirs
            sign=integrity.sign,
            validity=settings.status_list_validity,
            ttl=settings.index_interval,
        )
        indexer.add_catch_up_listener(status_lists.on_caught_up)

        def lead() -> None:
            indexer.start()
            anchoring.start()

        def follow() -> None:
            anchoring.stop()
            indexer.stop()

        leader = LeaderWorker(leadership_for(engine), on_gain=lead, on_loss=follow, interval=settings.leader_interval)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            w3=w3,
            chain_id=chain_id,
            registry_address=registry_address,
            board_address=board,
            registry=registry,
            relayer=relayer,
            signers=signers,
            indexer=indexer,
            anchoring=anchoring,
            leader=leader,
            verification_cache=cache,
            batch_waiter=BatchWaiter(sessions),
            signing_keys=signing_keys,
            issuers=issuers,
            status_lists=status_lists,
            sqlite_claim=claim,
        )

    def identity_for(self, address: str) -> IssuerIdentity:
        """The identity (DID, slug) of partner `address` and the Ed25519 key that signs its credentials.

        :raises NotFound: the board never accredited `address`.
        :raises Forbidden: the hub holds no signing key for it.
        :raises KeyConfigurationError: its signing keystore cannot be used.
        :raises ChainUnavailable: the registry cannot be asked.
        """
        return self.issuers.identity_for(address)

    def start_background(self) -> None:
        """Start this process's background work: the head watcher, and (when it may) the bid for the lead."""
        self.verification_cache.start()
        if self.settings.run_worker:
            self.leader.start()

    def stop_background(self) -> None:
        self.leader.stop()
        self.anchoring.stop()
        self.indexer.stop()
        self.verification_cache.stop()

    def close(self) -> None:
        self.stop_background()
        self.engine.dispose()
        if self.sqlite_claim is not None:
            self.sqlite_claim.close()


def _seen(cache: VerificationCache) -> tuple[int, bytes, int] | None:
    """The head the watcher saw within its max age (number, hash, timestamp): the indexer needs no call of its own."""
    head = cache.head.fresh()
    return None if head is None else (head.number, head.hash, head.timestamp)


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
        raise StartupError(
            f"no deployment for chain {chain_id} ({path}): run scripts/deploy.py, "
            "or set HUB_REGISTRY_ADDRESS and HUB_BOARD_ADDRESS"
        )
    else:
        registry = Web3.to_checksum_address(settings.registry_address or deployment.registry.address)
        board = Web3.to_checksum_address(settings.board_address or deployment.board.address)
    if (
        deployment is not None
        and Web3.to_checksum_address(deployment.registry.address) == registry
        and Web3.to_checksum_address(deployment.board.address) == board
    ):
        return registry, board, min(deployment.registry.block, deployment.board.block)
    log.warning(
        "no deployment record for %s and %s: the indexer reads chain %s from block 0", registry, board, chain_id
    )
    return registry, board, 0
