"""Chain fixtures for credential tests: a CredentialRegistry per chain, and issuing a cohort on it.

Imported by tests/credentials/conftest.py and tests/test_cli.py. The registry is deployed once per
chain (session) with `issuer` and `other_issuer` accredited by `deployer` (the governor in tests);
`registry` adds `isolate`, so each test starts from that state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount
from web3 import Web3

from service.chain.deployment import deploy_contract
from service.chain.registry import RegistryClient
from service.credentials.batch import Anchoring, PreparedBatch, attach_proofs, prepare_batch
from service.credentials.document import Programme
from service.credentials.signature import SignedAnchor
from service.issuing.signing_keys import dev_signing_key, key_hash
from tests.chain import latest_timestamp
from tests.credentials.factory import DATA_ANALYTICS, drafts, profile

ISSUER_NAME = "Hanzehogeschool Groningen"
OTHER_ISSUER_NAME = "NHL Stenden"


def deploy_registry(w3: Web3, deployer: LocalAccount, *accredit: tuple[LocalAccount, str]) -> RegistryClient:
    contract = deploy_contract(w3, "CredentialRegistry", deployer.address, account=deployer)
    client = RegistryClient(w3, contract.address)
    for account, name in accredit:
        client.accredit_issuer(account.address, name, key_hash(dev_signing_key(account.address)), sender=deployer)
    return client


@pytest.fixture(scope="session")
def deployed_registry(
    w3: Web3, deployer: LocalAccount, issuer: LocalAccount, other_issuer: LocalAccount
) -> RegistryClient:
    return deploy_registry(w3, deployer, (issuer, ISSUER_NAME), (other_issuer, OTHER_ISSUER_NAME))


@pytest.fixture
def registry(deployed_registry: RegistryClient, isolate: None) -> Iterator[RegistryClient]:
    yield deployed_registry


@dataclass
class ChainIssued:
    credentials: list[dict[str, Any]]
    batch: PreparedBatch
    transaction_hash: bytes
    anchored_at: int


def issue_on_chain(
    registry: RegistryClient,
    account: LocalAccount,
    count: int = 3,
    *,
    relayer: LocalAccount | None = None,
    name: str = ISSUER_NAME,
    programme: Programme = DATA_ANALYTICS,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    profile_chain_id: int | None = None,
    anchor_as: LocalAccount | None = None,
    authorised: bool = False,
    signing_key: Ed25519PrivateKey | None = None,
) -> ChainIssued:
    """Build a cohort issued by `account`, anchor it (directly, or through `relayer` with the issuer's
    signature: anchorBySig, or anchorFor when `authorised`, as the service does) and attach the proofs.
    Validity defaults to a year around the chain's clock and this machine's."""
    chain_now = datetime.fromtimestamp(latest_timestamp(registry.w3), UTC)
    wall_now = datetime.now(UTC)  # the verifier judges validity by its own clock; tests move chain time
    chain_id = registry.chain_id
    issuer_profile = profile(account, name, profile_chain_id or chain_id, signing_key=signing_key)
    batch = prepare_batch(
        drafts(
            count,
            issuer=issuer_profile,
            programme=programme,
            valid_from=valid_from or min(chain_now, wall_now) - timedelta(days=1),
            valid_until=valid_until or max(chain_now, wall_now) + timedelta(days=365),
        )
    )
    signed = None
    if relayer is not None and authorised:
        if registry.issuer(account.address).relayer != relayer.address:
            registry.set_relayer(relayer.address, sender=account)
        receipt = registry.anchor_for(account.address, batch.root, batch.count, sender=relayer)
        signed = registry.relayed_anchor(registry.batch(account.address, batch.root), account.key)
    elif relayer is not None:
        request = registry.anchor_request(
            batch.root, batch.count, account.address, deadline=int(chain_now.timestamp()) + 3600
        )
        signed = SignedAnchor(request, request.sign(account.key))
        receipt = registry.anchor_by_sig(signed, sender=relayer)
    else:
        receipt = registry.anchor(batch.root, batch.count, sender=anchor_as or account)
    anchored_at = int(registry.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    tx_hash = bytes(receipt["transactionHash"])
    credentials = attach_proofs(
        batch, Anchoring(profile_chain_id or chain_id, registry.address, account.address, tx_hash, signed)
    )
    return ChainIssued(credentials, batch, tx_hash, anchored_at)
