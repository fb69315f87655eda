"""What the verifier asks the chain, as plain data: no web3 here.

The verifier gets its chain facts from a `ChainFacts` provider: an object that says which chain and
which registry it answers for (the verifier's configuration) and, called with a root, a credential
digest and a Merkle path, answers the registry's `verify` view as a `ChainSnapshot`. The web3
implementation is `service.chain.registry.RegistryChainFacts` (one `eth_call`, pinned to one block);
tests use an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol, runtime_checkable

from service.errors import ChainUnavailable  # noqa: F401 - the verifier's one chain failure, re-exported

ZERO_ADDRESS = "0x" + "00" * 20

# Revocation reason codes the hub's issuers use (any nonzero uint16 is accepted on chain; codes not
# listed here are shown by number).
REVOCATION_REASONS: dict[int, str] = {
    1: "fraud or misconduct",
    2: "issued in error",
    3: "superseded by a corrected credential",
    4: "withdrawn at the graduate's request",
    5: "programme requirements not met",
}


def revocation_reason(code: int) -> str:
    return REVOCATION_REASONS.get(code, f"reason code {code}")


class AnchorMode(IntEnum):
    """How a batch was anchored (ICredentialRegistry.AnchorMode)."""

    NONE = 0
    DIRECT = 1  # the issuer sent the transaction
    SIGNED = 2  # a relayer sent the issuer's EIP-712 signature; the registry checked it
    RELAYED = 3  # the issuer's authorised relayer sent it; the signature in the proof must be checked offline


@dataclass(frozen=True)
class CredentialStatus:
    """The registry's answer to `verify(issuer, root, credentialDigest, proof)`
    (ICredentialRegistry.CredentialStatus)."""

    included: bool
    anchored: bool
    issuer: str  # checksum address; the zero address when not anchored
    issuer_name: str  # the name the board accredited the issuer under; empty when not anchored
    anchored_at: int  # unix seconds; 0 when not anchored
    issuer_accredited_at_anchor: bool
    issuer_accredited_now: bool
    revoked: bool
    revoked_at: int  # unix seconds; 0 when not revoked
    revocation_reason: int  # 0 when not revoked
    block_number: int = 0  # the block the answer was read at
    block_timestamp: int = 0  # its timestamp
    anchor_mode: AnchorMode = AnchorMode.NONE  # how it was anchored; RELAYED: the proof's signature is required
    # multikey.key_hash of the signing key the board accredited for `issuer` at `anchored_at`; zero when none
    # (or not anchored). The key of a credential's Data Integrity proof must hash to it.
    signing_key_hash: bytes = b"\0" * 32


@dataclass(frozen=True)
class ChainSnapshot:
    """The registry's answer and the block it was read at."""

    chain_id: int
    registry: str
    block_number: int
    block_timestamp: int
    status: CredentialStatus


class RegistryTrust(StrEnum):
    """Where the verifier's registry address came from."""

    CONFIGURED = "configured"  # the verifier's own configuration: the hub's registry
    DOCUMENT = "document"  # taken from the credential itself: the answer is shown but not relied on
    DOCUMENT_ACCEPTED = "document_accepted"  # taken from the credential, and the caller chose to rely on it


@runtime_checkable
class ChainFacts(Protocol):
    """The verifier's configuration and its one question to the chain.

    `chain_id` and `registry` are the chain and registry it asks; `trust` says whether the registry
    is the verifier's configuration or was taken from the document being verified.
    """

    @property
    def chain_id(self) -> int: ...

    @property
    def registry(self) -> str: ...

    @property
    def trust(self) -> RegistryTrust: ...

    def __call__(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]) -> ChainSnapshot:
        """The registry's `verify(issuer, root, digest, path)` at the latest block: `issuer`'s batch `root`.

        :raises ChainUnavailable: when the chain cannot be asked.
        """
        ...
