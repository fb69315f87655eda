"""The issuer's EIP-712 `Anchor` signature, carried in `proof.anchorSignature` when a relayer anchored.

    Anchor(bytes32 root,uint32 count,bytes32 metadataHash,address issuer,uint256 nonce,uint256 deadline)

signed in the registry's EIP-712 domain {name, version, chainId, verifyingContract}. Checking it
offline shows that the issuer's own key asked for this root to be anchored on this chain and registry
(the registry checked the same signature when it accepted the anchoring). EOA signatures only: for an
ERC-1271 contract-wallet issuer the signature is not attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

ANCHOR_TYPES = {
    "Anchor": [
        {"name": "root", "type": "bytes32"},
        {"name": "count", "type": "uint32"},
        {"name": "metadataHash", "type": "bytes32"},
        {"name": "issuer", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


# The EIP-712 domain type of the hub's contracts (name, version, chainId, verifyingContract).
EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def eip712_typed_data(
    types: dict[str, list[dict[str, str]]],
    primary_type: str,
    message: dict[str, Any],
    *,
    name: str,
    version: str,
    chain_id: int,
    verifying_contract: str,
) -> dict[str, Any]:
    """The full EIP-712 message (eth_signTypedData_v4 form) of `message`, a `primary_type` of `types`, in the
    domain {name, version, chainId, verifyingContract} of one of the hub's contracts (the registry's
    `Anchor` and `Revoke` requests)."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN_TYPE,
            **types,
        },
        "primaryType": primary_type,
        "domain": {
            "name": name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(verifying_contract),
        },
        "message": message,
    }


def sign_typed_data(private_key: Any, full_message: dict[str, Any]) -> bytes:
    """The 65-byte signature r || s || v of the EIP-712 `full_message` by `private_key` (a key or a
    LocalAccount's key)."""
    return bytes(Account.sign_message(encode_typed_data(full_message=full_message), private_key).signature)


@dataclass(frozen=True)
class AnchorRequest:
    """What the issuer signs so that a relayer may anchor `root` for it."""

    domain_name: str
    domain_version: str
    chain_id: int
    registry: str
    root: bytes
    count: int
    metadata_hash: bytes
    issuer: str
    nonce: int
    deadline: int

    def typed_data(self) -> dict[str, Any]:
        """The full EIP-712 message (eth_signTypedData_v4 form)."""
        message = {
            "root": self.root,
            "count": self.count,
            "metadataHash": self.metadata_hash,
            "issuer": to_checksum_address(self.issuer),
            "nonce": self.nonce,
            "deadline": self.deadline,
        }
        return eip712_typed_data(
            ANCHOR_TYPES,
            "Anchor",
            message,
            name=self.domain_name,
            version=self.domain_version,
            chain_id=self.chain_id,
            verifying_contract=self.registry,
        )

    def sign(self, private_key: Any) -> bytes:
        """The 65-byte signature r || s || v by `private_key` (a key or a LocalAccount's key)."""
        return sign_typed_data(private_key, self.typed_data())

    def signer(self, signature: bytes) -> str:
        """The checksum address whose key made `signature`.

        :raises ValueError: when `signature` is not a valid 65-byte ECDSA signature.
        """
        if len(signature) != 65:
            raise ValueError("an EOA signature is 65 bytes")
        # As OpenZeppelin's ECDSA.recover: v is 27 or 28 and s is in the lower half of the curve order,
        # so that no second encoding of the same signature is accepted.
        if signature[64] not in (27, 28):
            raise ValueError(f"not a valid signature: v is {signature[64]}, not 27 or 28")
        if int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N:
            raise ValueError("not a valid signature: s is in the upper half of the curve order")
        return _recover(self, bytes(signature))


@lru_cache(maxsize=4096)
def _recover(request: AnchorRequest, signature: bytes) -> str:
    """ECDSA recovery of the EIP-712 `request`'s signer, memoised: every credential of a cohort carries the
    same anchoring signature, and the verifier checks it for each (a pure function of its arguments)."""
    try:
        return str(Account.recover_message(encode_typed_data(full_message=request.typed_data()), signature=signature))
    except Exception as exc:  # eth_keys raises several types for malformed signatures
        raise ValueError(f"not a valid signature: {exc}") from exc


@dataclass(frozen=True)
class SignedAnchor:
    """An anchoring request and the issuer's signature of it (what a relayer submits)."""

    request: AnchorRequest
    signature: bytes

    def to_proof_json(self) -> dict[str, Any]:
        """`proof.anchorSignature`: what a verifier needs besides the proof's root, chain, registry, issuer."""
        return {
            "type": "EIP712AnchorSignature",
            "domain": {"name": self.request.domain_name, "version": self.request.domain_version},
            "count": self.request.count,
            "metadataHash": "0x" + self.request.metadata_hash.hex(),
            "nonce": self.request.nonce,
            "deadline": self.request.deadline,
            "signature": "0x" + self.signature.hex(),
        }
