"""Credentials to test with: programmes, graduates, cohorts, and a fake chain that answers like the registry.

`FakeChain` implements the verifier's ChainFacts protocol in memory with the contract's semantics
(inclusion by MerkleProof.verify, accreditation at anchor time, revocations keyed by root and digest),
so most properties are tested without a node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount

from service.chain.devchain import dev_accounts
from service.credentials.batch import Anchoring, PreparedBatch, attach_proofs, prepare_batch
from service.credentials.document import (
    DraftCredential,
    Graduate,
    IssuerProfile,
    Programme,
    build_credential,
    issuer_slug,
)
from service.credentials.facts import ZERO_ADDRESS, ChainSnapshot, ChainUnavailable, CredentialStatus, RegistryTrust
from service.credentials.merkle import verify_inclusion
from service.credentials.multikey import key_hash
from service.credentials.receipt import AnchorEvent, AnchorReceipt
from service.credentials.signature import AnchorRequest, SignedAnchor
from service.issuing.identity import did_web
from service.issuing.signing_keys import dev_signing_key

ACCOUNTS = dev_accounts(4)
ISSUER: LocalAccount = ACCOUNTS[1]
OTHER_ISSUER: LocalAccount = ACCOUNTS[2]
RELAYER: LocalAccount = ACCOUNTS[3]
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
DOMAIN = ("IT Hub Hoogeveen CredentialRegistry", "1")
# Close to the real clock, so that checks judged by this machine's time agree with the fake chain's time.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
TX_HASH = bytes.fromhex("ab" * 32)

DATA_ANALYTICS = Programme(
    id="miw-data-analytics",
    name="Make IT Work: Data Analytics",
    description="Reskilling track of Hanzehogeschool Groningen at the IT Hub Hoogeveen: data pipelines, "
    "statistics and dashboards for Drenthe's employers.",
    criteria="Completed the twelve-week track, passed the final assessment and delivered a data analytics "
    "case for a hub partner.",
    theme="Data analytics",
    ects=15,
    eqf_level=6,
)
CYBERSECURITY = Programme(
    id="cyber-basics",
    name="Cybersecurity Fundamentals",
    description="Hands-on introduction to securing networks and applications.",
    criteria="Passed the practical assessment.",
    theme="Cybersecurity",
    ects=2.5,
    eqf_level=4,
    achievement_type="Course",
    grade_scale=None,
)


HUB_URL = "http://127.0.0.1:8000"


def issuer_did_web(name: str = "Hanzehogeschool Groningen") -> str:
    """The did:web of the partner the board accredited as `name`, at HUB_URL (the slug is the accredited name's,
    as the hub makes it and the verifier requires)."""
    return did_web(HUB_URL, issuer_slug(name))


def profile(
    account: LocalAccount = ISSUER,
    name: str = "Hanzehogeschool Groningen",
    chain_id: int = CHAIN_ID,
    *,
    signing_key: Ed25519PrivateKey | None = None,
    did: str | None = None,
) -> IssuerProfile:
    """The issuer profile of `account`: its did:web and (by default) its development Ed25519 key."""
    return IssuerProfile(
        account.address,
        chain_id,
        name,
        "https://www.hanze.nl",
        did=did or issuer_did_web(name),
        signing_key=signing_key or dev_signing_key(account.address),
    )


def drafts(
    count: int = 3,
    *,
    issuer: IssuerProfile | None = None,
    programme: Programme = DATA_ANALYTICS,
    valid_from: datetime = NOW - timedelta(days=30),
    valid_until: datetime | None = NOW + timedelta(days=365),
    decoys: int = 0,
) -> list[DraftCredential]:
    issuer = issuer or profile()
    return [
        build_credential(
            issuer=issuer,
            programme=programme,
            graduate=Graduate(
                email=f"graduate{index}@example.org",
                name=f"Graduate {index} de Vries",
                grade=f"{6 + index % 4}.5" if programme.grade_scale else None,
                claims={"activityEndDate": "2026-12-18T00:00:00Z"},
            ),
            valid_from=valid_from,
            valid_until=valid_until,
            decoys=decoys,
        )
        for index in range(count)
    ]


@dataclass
class FakeBatch:
    issuer: str
    anchored_at: int
    issuer_name: str = "Hanzehogeschool Groningen"
    accredited_at_anchor: bool = True
    accredited_now: bool = True
    signing_key_hash: bytes | None = None  # the key the board had accredited at anchoring; None: the dev key


def dev_key_hash(address: str) -> bytes:
    return key_hash(dev_signing_key(address).public_key().public_bytes_raw())


@dataclass
class FakeChain:
    """An in-memory registry that answers the verifier like CredentialRegistry.verify does."""

    chain_id: int = CHAIN_ID
    registry: str = REGISTRY
    trust: RegistryTrust = RegistryTrust.CONFIGURED
    block_timestamp: int = int(NOW.timestamp())
    batches: dict[bytes, FakeBatch] = field(default_factory=dict)
    revocations: dict[tuple[bytes, bytes], tuple[int, int]] = field(default_factory=dict)
    unavailable: str | None = None
    calls: int = 0
    receipts: dict[str, AnchorReceipt] = field(default_factory=dict)

    def __call__(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]) -> ChainSnapshot:
        self.calls += 1
        if self.unavailable:
            raise ChainUnavailable(self.unavailable)
        batch = self.batches.get(root)
        if batch is not None and batch.issuer.lower() != issuer.lower():  # batches are keyed by (issuer, root)
            batch = None
        revoked_at, reason = self.revocations.get((root, digest), (0, 0)) if batch else (0, 0)
        status = CredentialStatus(
            included=verify_inclusion(root, digest, path),
            anchored=batch is not None,
            issuer=batch.issuer if batch else ZERO_ADDRESS,
            issuer_name=batch.issuer_name if batch else "",
            anchored_at=batch.anchored_at if batch else 0,
            issuer_accredited_at_anchor=bool(batch and batch.accredited_at_anchor),
            issuer_accredited_now=bool(batch and batch.accredited_now),
            revoked=revoked_at != 0,
            revoked_at=revoked_at,
            revocation_reason=reason,
            block_number=100,
            block_timestamp=self.block_timestamp,
            signing_key_hash=(
                (batch.signing_key_hash if batch.signing_key_hash is not None else dev_key_hash(batch.issuer))
                if batch
                else b"\0" * 32
            ),
        )
        return ChainSnapshot(self.chain_id, self.registry, 100, self.block_timestamp, status)

    def anchor(
        self,
        root: bytes,
        issuer: str,
        at: int | None = None,
        *,
        tx_hash: bytes = TX_HASH,
        submitter: str | None = None,
        **fields: Any,
    ) -> None:
        """Anchor `root`, with the receipt of `tx_hash` holding its BatchAnchored event (sent by
        `submitter`: the issuer itself unless a relayer)."""
        self.batches[root] = FakeBatch(issuer, at if at is not None else self.block_timestamp - 86_400, **fields)
        hex_hash = "0x" + tx_hash.hex()
        event = AnchorEvent(self.registry, root, issuer, submitter or issuer, 42, hex_hash)
        self.receipts[hex_hash] = AnchorReceipt(hex_hash, found=True, succeeded=True, events=(event,))

    def anchor_receipt(self, transaction_hash: str) -> AnchorReceipt:
        if self.unavailable:
            raise ChainUnavailable(self.unavailable)
        return self.receipts.get(transaction_hash, AnchorReceipt(transaction_hash, found=False))

    def revoke(self, root: bytes, digest: bytes, reason: int, at: int | None = None) -> None:
        self.revocations[(root, digest)] = (at if at is not None else self.block_timestamp - 3_600, reason)


def signed_anchor(
    batch: PreparedBatch,
    account: LocalAccount = ISSUER,
    *,
    nonce: int = 0,
    registry: str = REGISTRY,
    chain_id: int = CHAIN_ID,
) -> SignedAnchor:
    request = AnchorRequest(
        domain_name=DOMAIN[0],
        domain_version=DOMAIN[1],
        chain_id=chain_id,
        registry=registry,
        root=batch.root,
        count=batch.count,
        metadata_hash=b"\x00" * 32,
        issuer=account.address,
        nonce=nonce,
        deadline=int(NOW.timestamp()) + 10 * 86_400,
    )
    return SignedAnchor(request, request.sign(account.key))


@dataclass
class Issued:
    credentials: list[dict[str, Any]]
    batch: PreparedBatch
    chain: FakeChain


def issue(
    count: int = 3, *, relayed: bool = True, chain: FakeChain | None = None, anchor: bool = True, **draft_options: Any
) -> Issued:
    """A cohort issued by ISSUER and (unless anchor=False) anchored on a FakeChain."""
    chain = chain or FakeChain()
    batch = prepare_batch(drafts(count, **draft_options))
    signed = signed_anchor(batch) if relayed else None
    credentials = attach_proofs(batch, Anchoring(CHAIN_ID, REGISTRY, batch.issuer, TX_HASH, signed))
    if anchor:
        chain.anchor(batch.root, batch.issuer, submitter=RELAYER.address if relayed else None)
    return Issued(credentials, batch, chain)
