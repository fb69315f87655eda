"""CredentialRegistry on a real local chain (anvil and ganache): governance, anchoring, revocation, verify.

Every test starts from the same deployed state (`registry`): a registry governed by `deployer` (a
test-only stand-in for the board contract) with `issuer` and `other_issuer` accredited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from service.chain.deployment import deploy_contract
from service.credentials import multikey
from tests.chain import advance_time, latest_timestamp, reverts, rpc

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
DOMAIN_NAME = "IT Hub Hoogeveen CredentialRegistry"
DOMAIN_VERSION = "1"
ISSUER_NAME = "Hanzehogeschool Groningen"
OTHER_ISSUER_NAME = "Drenthe College"


def signing_key_hash(label: str) -> bytes:
    """The registry's hash of a deterministic Ed25519 signing key named `label`."""
    private = Ed25519PrivateKey.from_private_bytes(Web3.keccak(text=label))
    return multikey.key_hash(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


ISSUER_KEY = signing_key_hash("issuer")
OTHER_ISSUER_KEY = signing_key_hash("other issuer")
NEWCOMER_KEY = signing_key_hash("newcomer")
ROTATED_KEY = signing_key_hash("rotated")
REASON_FRAUD = 1
REASON_ERROR = 2
DIRECT, SIGNED, RELAYED = 1, 2, 3  # ICredentialRegistry.AnchorMode

# The EIP-712 request types, written here from the contract's type strings rather than imported from
# service.credentials.signature / service.chain.registry, which hold the same lists: these tests pin the
# contract's ANCHOR_TYPEHASH and REVOKE_TYPEHASH to the specification independently of the service, so a
# mistake made alike in the service and the contract still fails here. (The service's own typed data is
# checked against the contract where it anchors through RegistryClient, tests/credentials/fixtures.py.)
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
REVOKE_TYPES = {
    "Revoke": [
        {"name": "root", "type": "bytes32"},
        {"name": "credentialDigest", "type": "bytes32"},
        {"name": "reason", "type": "uint16"},
        {"name": "issuer", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


# ---------------------------------------------------------------- Merkle trees (OZ StandardMerkleTree, bytes32)


def keccak(data: bytes) -> bytes:
    return bytes(Web3.keccak(data))


def leaf_of(digest: bytes) -> bytes:
    """keccak256(bytes.concat(keccak256(abi.encode(digest)))): abi.encode of a bytes32 is the word itself."""
    return keccak(keccak(digest))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


@dataclass(frozen=True)
class Cohort:
    """The digests of one cohort and their Merkle tree, laid out as OpenZeppelin's StandardMerkleTree."""

    digests: list[bytes]
    tree: list[bytes]
    positions: dict[bytes, int]  # digest -> index of its leaf in `tree`

    @classmethod
    def of(cls, digests: list[bytes]) -> Cohort:
        leaves = sorted((leaf_of(d), d) for d in digests)
        size = 2 * len(leaves) - 1
        tree: list[bytes] = [b""] * size
        positions = {}
        for i, (leaf, digest) in enumerate(leaves):
            tree[size - 1 - i] = leaf
            positions[digest] = size - 1 - i
        for i in range(size - 1 - len(leaves), -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        return cls(digests=list(digests), tree=tree, positions=positions)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    @property
    def count(self) -> int:
        return len(self.digests)

    def proof(self, digest: bytes) -> list[bytes]:
        index = self.positions[digest]
        proof = []
        while index > 0:
            proof.append(self.tree[index + 1 if index % 2 else index - 1])
            index = (index - 1) // 2
        return proof


def make_cohort(label: str, size: int) -> Cohort:
    return Cohort.of([keccak(f"{label}/credential/{i}".encode()) for i in range(size)])


# ---------------------------------------------------------------- chain helpers


def send(fn: Any, sender: LocalAccount | str) -> TxReceipt:
    """Transact `fn` from an unlocked node account and wait for the successful receipt."""
    address = sender if isinstance(sender, str) else sender.address
    w3 = fn.w3
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": address}))
    assert receipt["status"] == 1
    return receipt


def block_time(w3: Web3, receipt: TxReceipt) -> int:
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def one_event(contract: Contract, name: str, receipt: TxReceipt) -> dict[str, Any]:
    events = getattr(contract.events, name)().process_receipt(receipt)
    assert len(events) == 1, f"expected one {name}, got {events}"
    return dict(events[0]["args"])


def as_dict(contract: Contract, function: str, value: tuple[Any, ...]) -> dict[str, Any]:
    """A returned struct as a dict keyed by the ABI's component names."""
    abi = next(item for item in contract.abi if item.get("name") == function and item["type"] == "function")
    names = [component["name"] for component in abi["outputs"][0]["components"]]
    return dict(zip(names, value, strict=True))


def verify(registry: Contract, issuer: str, root: bytes, digest: bytes, proof: list[bytes]) -> dict[str, Any]:
    return as_dict(registry, "verify", registry.functions.verify(issuer, root, digest, proof).call())


def batch_of(registry: Contract, issuer: str, root: bytes) -> dict[str, Any]:
    return as_dict(registry, "batch", registry.functions.batch(issuer, root).call())


def issuer_of(registry: Contract, account: str) -> dict[str, Any]:
    return as_dict(registry, "issuer", registry.functions.issuer(account).call())


def revocation_of(registry: Contract, issuer: str, root: bytes, digest: bytes) -> dict[str, Any]:
    return as_dict(registry, "revocation", registry.functions.revocation(issuer, root, digest).call())


def domain(registry: Contract, *, chain_id: int | None = None) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id if chain_id is not None else registry.w3.eth.chain_id,
        "verifyingContract": registry.address,
    }


def sign_request(
    registry: Contract,
    key: LocalAccount,
    types: dict[str, Any],
    request: dict[str, Any],
    *,
    issuer: str | None = None,
    nonce: int | None = None,
    deadline: int,
    chain_id: int | None = None,
) -> bytes:
    """`key`'s EIP-712 signature of the `types` request with fields `request` for `issuer` (default: the key's
    own address), with `nonce` (default: the issuer's next nonce) and `deadline`, in `registry`'s domain (or
    one naming `chain_id`)."""
    issuer = issuer or key.address
    message = {
        **request,
        "issuer": issuer,
        "nonce": registry.functions.nonces(issuer).call() if nonce is None else nonce,
        "deadline": deadline,
    }
    signed = Account.sign_typed_data(
        key.key, domain_data=domain(registry, chain_id=chain_id), message_types=types, message_data=message
    )
    return bytes(signed.signature)


def sign_anchor(
    registry: Contract, key: LocalAccount, *, root: bytes, count: int, metadata: bytes = ZERO32, **signing: Any
) -> bytes:
    """`key`'s EIP-712 signature of an Anchor request (`signing`: issuer, nonce, deadline, chain_id of
    `sign_request`)."""
    return sign_request(
        registry, key, ANCHOR_TYPES, {"root": root, "count": count, "metadataHash": metadata}, **signing
    )


def sign_revoke(
    registry: Contract, key: LocalAccount, *, root: bytes, digest: bytes, reason: int, **signing: Any
) -> bytes:
    """`key`'s EIP-712 signature of a Revoke request (`signing`: as `sign_anchor`)."""
    return sign_request(
        registry, key, REVOKE_TYPES, {"root": root, "credentialDigest": digest, "reason": reason}, **signing
    )


def anchor_by_sig(
    registry: Contract,
    signer: LocalAccount,
    cohort: Cohort,
    *,
    deadline: int,
    issuer: str | None = None,
    metadata: bytes = ZERO32,
    **signing: Any,
) -> Any:
    """The anchorBySig call of `cohort` for `issuer` (default: the signer's address), as `signer` signed it
    (`signing`: nonce, chain_id of `sign_request`); for a relayer to send."""
    issuer = issuer or signer.address
    signature = sign_anchor(
        registry,
        signer,
        root=cohort.root,
        count=cohort.count,
        metadata=metadata,
        issuer=issuer,
        deadline=deadline,
        **signing,
    )
    return registry.functions.anchorBySig(cohort.root, cohort.count, metadata, issuer, deadline, signature)


def revoke_by_sig(
    registry: Contract,
    signer: LocalAccount,
    cohort: Cohort,
    digest: bytes,
    *,
    deadline: int,
    issuer: str | None = None,
    reason: int = REASON_FRAUD,
) -> Any:
    """The revokeBySig call of credential `digest` of `cohort` (with its proof) for `issuer` (default: the
    signer's address), as `signer` signed it; for a relayer to send."""
    issuer = issuer or signer.address
    signature = sign_revoke(
        registry, signer, root=cohort.root, digest=digest, reason=reason, issuer=issuer, deadline=deadline
    )
    return registry.functions.revokeBySig(
        cohort.root, digest, cohort.proof(digest), reason, issuer, deadline, signature
    )


def revoke(registry: Contract, cohort: Cohort, digest: bytes, reason: int) -> Any:
    """The revoke call of credential `digest` of `cohort`, with its proof."""
    return registry.functions.revoke(cohort.root, digest, cohort.proof(digest), reason)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def deployed(w3: Web3, deployer: LocalAccount, issuer: LocalAccount, other_issuer: LocalAccount) -> Contract:
    """Deployed once per chain, before any snapshot: governor `deployer`, two accredited issuers."""
    registry = deploy_contract(w3, "CredentialRegistry", deployer.address, account=deployer)
    send(registry.functions.accreditIssuer(issuer.address, ISSUER_NAME, ISSUER_KEY), deployer)
    send(registry.functions.accreditIssuer(other_issuer.address, OTHER_ISSUER_NAME, OTHER_ISSUER_KEY), deployer)
    return registry


@pytest.fixture
def registry(deployed: Contract, isolate: None) -> Contract:
    """The deployed registry, with every change of the test undone afterwards."""
    return deployed


@pytest.fixture
def wallet(w3: Web3, registry: Contract, deployer: LocalAccount, wallet_owner: LocalAccount) -> Contract:
    """An ERC-1271 contract wallet of `wallet_owner`, accredited as an issuer."""
    wallet = deploy_contract(w3, "ERC1271WalletMock", wallet_owner.address, account=deployer)
    send(registry.functions.accreditIssuer(wallet.address, "Partner with a multisig", NEWCOMER_KEY), deployer)
    return wallet


@pytest.fixture
def cohort() -> Cohort:
    return make_cohort("cohort-2025-cloud", 30)


@pytest.fixture
def anchored(registry: Contract, issuer: LocalAccount, cohort: Cohort) -> Cohort:
    """`cohort` anchored by `issuer`."""
    send(registry.functions.anchor(cohort.root, cohort.count, ZERO32), issuer)
    return cohort


def deadline_from_now(w3: Web3, seconds: int = 3600) -> int:
    return latest_timestamp(w3) + seconds


# ---------------------------------------------------------------- deployment


def test_constructor_sets_governor_and_eip712_domain(w3: Web3, registry: Contract, deployer: LocalAccount) -> None:
    assert registry.functions.governor().call() == deployer.address
    fields, name, version, chain_id, contract, salt, extensions = registry.functions.eip712Domain().call()
    assert (fields, name, version) == (b"\x0f", DOMAIN_NAME, DOMAIN_VERSION)
    assert (chain_id, contract, salt, extensions) == (w3.eth.chain_id, registry.address, ZERO32, [])


def test_constructor_with_zero_governor_reverts(w3: Web3, registry: Contract, deployer: LocalAccount) -> None:
    with reverts(registry, "RegistryInvalidAddress"):
        deploy_contract(w3, "CredentialRegistry", ZERO_ADDRESS, account=deployer)


def test_leaf_of_matches_standard_merkle_tree_leaf(registry: Contract, cohort: Cohort) -> None:
    for digest in cohort.digests[:3]:
        assert registry.functions.leafOf(digest).call() == leaf_of(digest)


# ---------------------------------------------------------------- governance


def test_accredit_issuer_by_governor_records_name_status_and_event(
    w3: Web3, registry: Contract, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    receipt = send(registry.functions.accreditIssuer(newcomer.address, "Alfa-college", NEWCOMER_KEY), deployer)
    t = block_time(w3, receipt)
    assert one_event(registry, "IssuerAccredited", receipt) == {
        "issuer": newcomer.address,
        "name": "Alfa-college",
        "keyHash": NEWCOMER_KEY,
    }
    assert registry.functions.signingKeys(newcomer.address).call() == [(NEWCOMER_KEY, t)]
    assert registry.functions.signingKeyAt(newcomer.address, t).call() == NEWCOMER_KEY
    assert registry.functions.signingKeyAt(newcomer.address, t - 1).call() == ZERO32
    assert issuer_of(registry, newcomer.address) == {
        "name": "Alfa-college",
        "accredited": True,
        "since": t,
        "relayer": ZERO_ADDRESS,
    }
    assert registry.functions.wasAccreditedAt(newcomer.address, t).call() is True


def test_accredit_issuer_by_outsider_reverts(
    registry: Contract, outsider: LocalAccount, newcomer: LocalAccount
) -> None:
    with reverts(registry, "RegistryUnauthorizedGovernor", caller=outsider.address):
        registry.functions.accreditIssuer(newcomer.address, "Alfa-college", NEWCOMER_KEY).transact(
            {"from": outsider.address}
        )


def test_accredit_issuer_by_issuer_reverts(registry: Contract, issuer: LocalAccount, newcomer: LocalAccount) -> None:
    with reverts(registry, "RegistryUnauthorizedGovernor", caller=issuer.address):
        registry.functions.accreditIssuer(newcomer.address, "Alfa-college", NEWCOMER_KEY).transact(
            {"from": issuer.address}
        )


def test_accredit_zero_address_reverts(registry: Contract, deployer: LocalAccount) -> None:
    with reverts(registry, "RegistryInvalidAddress"):
        registry.functions.accreditIssuer(ZERO_ADDRESS, "Nobody", NEWCOMER_KEY).transact({"from": deployer.address})


def test_accredit_with_empty_name_reverts(registry: Contract, deployer: LocalAccount, newcomer: LocalAccount) -> None:
    with reverts(registry, "RegistryEmptyIssuerName"):
        registry.functions.accreditIssuer(newcomer.address, "", NEWCOMER_KEY).transact({"from": deployer.address})


def test_accredit_already_accredited_issuer_reverts(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    with reverts(registry, "RegistryIssuerAlreadyAccredited", issuer=issuer.address):
        registry.functions.accreditIssuer(issuer.address, "Again", ISSUER_KEY).transact({"from": deployer.address})


def test_suspend_issuer_by_governor_records_status_and_event(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    receipt = send(registry.functions.suspendIssuer(issuer.address), deployer)
    t = block_time(w3, receipt)
    assert one_event(registry, "IssuerSuspended", receipt) == {"issuer": issuer.address}
    assert issuer_of(registry, issuer.address) == {
        "name": ISSUER_NAME,
        "accredited": False,
        "since": t,
        "relayer": ZERO_ADDRESS,
    }


def test_suspend_issuer_by_outsider_reverts(registry: Contract, outsider: LocalAccount, issuer: LocalAccount) -> None:
    with reverts(registry, "RegistryUnauthorizedGovernor", caller=outsider.address):
        registry.functions.suspendIssuer(issuer.address).transact({"from": outsider.address})


def test_suspend_never_accredited_account_reverts(
    registry: Contract, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=newcomer.address):
        registry.functions.suspendIssuer(newcomer.address).transact({"from": deployer.address})


def test_suspend_already_suspended_issuer_reverts(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=issuer.address):
        registry.functions.suspendIssuer(issuer.address).transact({"from": deployer.address})


def test_never_accredited_account_has_empty_record(registry: Contract, newcomer: LocalAccount, w3: Web3) -> None:
    assert issuer_of(registry, newcomer.address) == {
        "name": "",
        "accredited": False,
        "since": 0,
        "relayer": ZERO_ADDRESS,
    }
    assert registry.functions.wasAccreditedAt(newcomer.address, latest_timestamp(w3)).call() is False


def test_accreditation_history_answers_status_at_each_moment(
    w3: Web3, registry: Contract, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    advance_time(w3, 100)
    t1 = block_time(
        w3, send(registry.functions.accreditIssuer(newcomer.address, "Alfa-college", NEWCOMER_KEY), deployer)
    )
    advance_time(w3, 100)
    t2 = block_time(w3, send(registry.functions.suspendIssuer(newcomer.address), deployer))
    advance_time(w3, 100)
    was = registry.functions.wasAccreditedAt
    assert t1 < t2
    assert was(newcomer.address, t1 - 1).call() is False  # before accreditation
    assert was(newcomer.address, t1).call() is True
    assert was(newcomer.address, (t1 + t2) // 2).call() is True
    assert was(newcomer.address, t2 - 1).call() is True
    assert was(newcomer.address, t2).call() is False  # suspended at the end of that second
    assert was(newcomer.address, latest_timestamp(w3)).call() is False


def test_reaccreditation_after_suspension_updates_name_and_keeps_history(
    w3: Web3, registry: Contract, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    t1 = block_time(
        w3, send(registry.functions.accreditIssuer(newcomer.address, "Alfa-college", NEWCOMER_KEY), deployer)
    )
    advance_time(w3, 100)
    t2 = block_time(w3, send(registry.functions.suspendIssuer(newcomer.address), deployer))
    advance_time(w3, 100)
    receipt = send(
        registry.functions.accreditIssuer(newcomer.address, "Alfa-college Hoogeveen", NEWCOMER_KEY), deployer
    )
    t3 = block_time(w3, receipt)
    assert one_event(registry, "IssuerAccredited", receipt)["name"] == "Alfa-college Hoogeveen"
    assert issuer_of(registry, newcomer.address) == {
        "name": "Alfa-college Hoogeveen",
        "accredited": True,
        "since": t3,
        "relayer": ZERO_ADDRESS,
    }
    was = registry.functions.wasAccreditedAt
    assert [was(newcomer.address, t).call() for t in (t1, t2, t3 - 1, t3)] == [True, False, False, True]


def test_accredit_with_zero_key_hash_reverts(
    registry: Contract, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    with reverts(registry, "RegistryInvalidKeyHash"):
        registry.functions.accreditIssuer(newcomer.address, "Alfa-college", ZERO32).transact({"from": deployer.address})


# ---------------------------------------------------------------- signing keys


def test_rotate_issuer_key_by_governor_records_history_and_event(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    (first,) = registry.functions.signingKeys(issuer.address).call()
    assert first[0] == ISSUER_KEY
    advance_time(w3, 100)
    receipt = send(registry.functions.rotateIssuerKey(issuer.address, ROTATED_KEY), deployer)
    t = block_time(w3, receipt)
    assert one_event(registry, "IssuerKeyRotated", receipt) == {
        "issuer": issuer.address,
        "previousKeyHash": ISSUER_KEY,
        "keyHash": ROTATED_KEY,
    }
    assert registry.functions.signingKeys(issuer.address).call() == [first, (ROTATED_KEY, t)]
    key_at = registry.functions.signingKeyAt
    assert key_at(issuer.address, t - 1).call() == ISSUER_KEY
    assert key_at(issuer.address, t).call() == ROTATED_KEY
    assert issuer_of(registry, issuer.address)["accredited"] is True  # a rotation leaves the status alone


@pytest.mark.parametrize("caller", ["outsider", "issuer", "other_issuer"])
def test_rotate_issuer_key_by_anyone_but_the_governor_reverts(
    request: pytest.FixtureRequest, registry: Contract, issuer: LocalAccount, caller: str
) -> None:
    sender: LocalAccount = request.getfixturevalue(caller)
    with reverts(registry, "RegistryUnauthorizedGovernor", caller=sender.address):
        registry.functions.rotateIssuerKey(issuer.address, ROTATED_KEY).transact({"from": sender.address})
    assert [k[0] for k in registry.functions.signingKeys(issuer.address).call()] == [ISSUER_KEY]


def test_rotate_issuer_key_to_zero_or_the_same_key_reverts(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    with reverts(registry, "RegistryInvalidKeyHash"):
        registry.functions.rotateIssuerKey(issuer.address, ZERO32).transact({"from": deployer.address})
    with reverts(registry, "RegistrySigningKeyUnchanged", issuer=issuer.address, keyHash=ISSUER_KEY):
        registry.functions.rotateIssuerKey(issuer.address, ISSUER_KEY).transact({"from": deployer.address})


def test_rotate_key_of_suspended_or_unknown_issuer_reverts(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount, newcomer: LocalAccount
) -> None:
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=newcomer.address):
        registry.functions.rotateIssuerKey(newcomer.address, ROTATED_KEY).transact({"from": deployer.address})
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=issuer.address):
        registry.functions.rotateIssuerKey(issuer.address, ROTATED_KEY).transact({"from": deployer.address})


def test_signing_key_history_answers_key_at_each_moment(
    w3: Web3, registry: Contract, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    keys = [NEWCOMER_KEY, ROTATED_KEY, signing_key_hash("third"), signing_key_hash("fourth")]
    advance_time(w3, 100)
    times = [
        block_time(w3, send(registry.functions.accreditIssuer(newcomer.address, "Alfa-college", keys[0]), deployer))
    ]
    for key in keys[1:]:
        advance_time(w3, 100)
        times.append(block_time(w3, send(registry.functions.rotateIssuerKey(newcomer.address, key), deployer)))
    key_at = registry.functions.signingKeyAt
    assert key_at(newcomer.address, times[0] - 1).call() == ZERO32
    for i, (t, key) in enumerate(zip(times, keys, strict=True)):
        assert key_at(newcomer.address, t).call() == key
        assert key_at(newcomer.address, t + 50).call() == key
        if i:
            assert key_at(newcomer.address, t - 1).call() == keys[i - 1]
    assert key_at(newcomer.address, latest_timestamp(w3) + 10**6).call() == keys[-1]
    assert registry.functions.signingKeys(newcomer.address).call() == list(zip(keys, times, strict=True))


def test_reaccreditation_names_the_key_again_and_keeps_the_history(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount, other_issuer: LocalAccount
) -> None:
    (before,) = registry.functions.signingKeys(issuer.address).call()
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    advance_time(w3, 100)
    receipt = send(registry.functions.accreditIssuer(issuer.address, ISSUER_NAME, ROTATED_KEY), deployer)
    t = block_time(w3, receipt)
    assert one_event(registry, "IssuerAccredited", receipt)["keyHash"] == ROTATED_KEY
    assert registry.functions.signingKeys(issuer.address).call() == [before, (ROTATED_KEY, t)]
    # the same key again: its entry and its `since` stay as they were
    (other_before,) = registry.functions.signingKeys(other_issuer.address).call()
    send(registry.functions.suspendIssuer(other_issuer.address), deployer)
    advance_time(w3, 100)
    send(registry.functions.accreditIssuer(other_issuer.address, OTHER_ISSUER_NAME, OTHER_ISSUER_KEY), deployer)
    assert registry.functions.signingKeys(other_issuer.address).call() == [other_before]


def test_verify_answers_each_batch_the_key_accredited_at_its_anchoring(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    before = make_cohort("before-rotation", 3)
    after = make_cohort("after-rotation", 3)
    send(registry.functions.anchor(before.root, before.count, ZERO32), issuer)
    advance_time(w3, 100)
    send(registry.functions.rotateIssuerKey(issuer.address, ROTATED_KEY), deployer)
    advance_time(w3, 100)
    send(registry.functions.anchor(after.root, after.count, ZERO32), issuer)
    for cohort, key in ((before, ISSUER_KEY), (after, ROTATED_KEY)):
        for digest in cohort.digests:
            status = verify(registry, issuer.address, cohort.root, digest, cohort.proof(digest))
            assert (status["anchored"], status["included"], status["signingKeyHash"]) == (True, True, key)


# ---------------------------------------------------------------- anchoring


def test_anchor_by_accredited_issuer_records_batch_and_event(
    w3: Web3, registry: Contract, issuer: LocalAccount, cohort: Cohort
) -> None:
    metadata = keccak(b"cohort metadata")
    receipt = send(registry.functions.anchor(cohort.root, cohort.count, metadata), issuer)
    t = block_time(w3, receipt)
    assert one_event(registry, "BatchAnchored", receipt) == {"root": cohort.root, "issuer": issuer.address}
    assert batch_of(registry, issuer.address, cohort.root) == {
        "anchoredAt": t,
        "count": 30,
        "mode": DIRECT,
        "metadataHash": metadata,
    }


def test_anchor_without_metadata_records_zero_metadata_hash(
    registry: Contract, issuer: LocalAccount, cohort: Cohort
) -> None:
    send(registry.functions.anchor(cohort.root, cohort.count, ZERO32), issuer)
    record = batch_of(registry, issuer.address, cohort.root)
    assert (record["mode"], record["count"], record["metadataHash"]) == (DIRECT, 30, ZERO32)


def test_batch_of_unknown_root_is_empty(registry: Contract, issuer: LocalAccount, cohort: Cohort) -> None:
    assert batch_of(registry, issuer.address, cohort.root) == {
        "anchoredAt": 0,
        "count": 0,
        "mode": 0,
        "metadataHash": ZERO32,
    }


def test_anchor_by_never_accredited_account_reverts(registry: Contract, newcomer: LocalAccount, cohort: Cohort) -> None:
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=newcomer.address):
        registry.functions.anchor(cohort.root, cohort.count, ZERO32).transact({"from": newcomer.address})


def test_anchor_by_issuer_suspended_before_anchoring_reverts(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount, cohort: Cohort
) -> None:
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=issuer.address):
        registry.functions.anchor(cohort.root, cohort.count, ZERO32).transact({"from": issuer.address})
    assert batch_of(registry, issuer.address, cohort.root)["anchoredAt"] == 0


def test_anchor_zero_root_reverts(registry: Contract, issuer: LocalAccount) -> None:
    with reverts(registry, "RegistryInvalidRoot"):
        registry.functions.anchor(ZERO32, 5, ZERO32).transact({"from": issuer.address})


def test_anchor_zero_count_reverts(registry: Contract, issuer: LocalAccount, cohort: Cohort) -> None:
    with reverts(registry, "RegistryEmptyBatch"):
        registry.functions.anchor(cohort.root, 0, ZERO32).transact({"from": issuer.address})


def test_anchor_same_root_twice_by_same_issuer_reverts(
    registry: Contract, issuer: LocalAccount, anchored: Cohort
) -> None:
    with reverts(registry, "RegistryBatchAlreadyAnchored", root=anchored.root, issuer=issuer.address):
        registry.functions.anchor(anchored.root, anchored.count, ZERO32).transact({"from": issuer.address})


def test_anchor_root_already_anchored_by_other_issuer_is_the_other_issuers_own_batch(
    registry: Contract, issuer: LocalAccount, other_issuer: LocalAccount, anchored: Cohort
) -> None:
    """Batches are keyed by (issuer, root): anchoring another issuer's root neither fails nor takes it over."""
    send(registry.functions.anchor(anchored.root, 1, ZERO32), other_issuer)
    mine, theirs = (
        batch_of(registry, issuer.address, anchored.root),
        batch_of(registry, other_issuer.address, anchored.root),
    )
    assert (mine["count"], theirs["count"]) == (anchored.count, 1)
    digest = anchored.digests[0]
    status = verify(registry, issuer.address, anchored.root, digest, anchored.proof(digest))
    assert (status["anchored"], status["issuer"], status["issuerName"]) == (True, issuer.address, ISSUER_NAME)


# ---------------------------------------------------------------- anchoring by signature


def test_anchor_by_sig_relayed_records_issuer_and_relayer(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    metadata = keccak(b"metadata")
    call = anchor_by_sig(registry, issuer, cohort, metadata=metadata, deadline=deadline_from_now(w3))
    assert registry.functions.nonces(issuer.address).call() == 0
    relayer_balance = w3.eth.get_balance(relayer.address)
    issuer_balance = w3.eth.get_balance(issuer.address)
    receipt = send(call, relayer)
    assert one_event(registry, "BatchAnchored", receipt) == {"root": cohort.root, "issuer": issuer.address}
    assert batch_of(registry, issuer.address, cohort.root)["mode"] == SIGNED
    assert batch_of(registry, issuer.address, cohort.root)["anchoredAt"] != 0
    assert registry.functions.nonces(issuer.address).call() == 1
    assert w3.eth.get_balance(issuer.address) == issuer_balance  # the issuer paid nothing
    assert w3.eth.get_balance(relayer.address) < relayer_balance


def test_anchor_by_sig_replayed_signature_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    call = anchor_by_sig(registry, issuer, cohort, deadline=deadline_from_now(w3))
    send(call, relayer)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        call.transact({"from": relayer.address})


def test_anchor_by_sig_with_used_nonce_on_new_root_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, anchored: Cohort
) -> None:
    deadline = deadline_from_now(w3)
    send(anchor_by_sig(registry, issuer, make_cohort("first", 4), deadline=deadline), relayer)
    stale = anchor_by_sig(registry, issuer, make_cohort("second", 4), nonce=0, deadline=deadline)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        stale.transact({"from": relayer.address})


def test_anchor_by_sig_signed_for_other_chain_id_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    call = anchor_by_sig(registry, issuer, cohort, deadline=deadline_from_now(w3), chain_id=w3.eth.chain_id + 1)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        call.transact({"from": relayer.address})


def test_anchor_by_sig_signed_for_other_registry_reverts(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    second = deploy_contract(w3, "CredentialRegistry", deployer.address, account=deployer)
    send(second.functions.accreditIssuer(issuer.address, ISSUER_NAME, ISSUER_KEY), deployer)
    deadline = deadline_from_now(w3)
    for_first = sign_anchor(registry, issuer, root=cohort.root, count=cohort.count, deadline=deadline)
    with reverts(second, "RegistryInvalidSignature", signer=issuer.address):
        second.functions.anchorBySig(cohort.root, cohort.count, ZERO32, issuer.address, deadline, for_first).transact(
            {"from": relayer.address}
        )
    # the same request signed for the second registry is accepted there
    for_second = sign_anchor(second, issuer, root=cohort.root, count=cohort.count, deadline=deadline)
    send(second.functions.anchorBySig(cohort.root, cohort.count, ZERO32, issuer.address, deadline, for_second), relayer)
    assert batch_of(second, issuer.address, cohort.root)["anchoredAt"] != 0


def test_anchor_by_sig_after_deadline_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    deadline = deadline_from_now(w3, 60)
    call = anchor_by_sig(registry, issuer, cohort, deadline=deadline)
    advance_time(w3, 120)
    with reverts(registry, "RegistryExpiredSignature", deadline=deadline):
        call.transact({"from": relayer.address})


def test_anchor_by_sig_signed_by_wrong_key_reverts(
    w3: Web3,
    registry: Contract,
    issuer: LocalAccount,
    other_issuer: LocalAccount,
    relayer: LocalAccount,
    cohort: Cohort,
) -> None:
    call = anchor_by_sig(registry, other_issuer, cohort, issuer=issuer.address, deadline=deadline_from_now(w3))
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        call.transact({"from": relayer.address})


def test_anchor_by_sig_with_altered_count_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    deadline = deadline_from_now(w3)
    signature = sign_anchor(registry, issuer, root=cohort.root, count=cohort.count, deadline=deadline)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        registry.functions.anchorBySig(
            cohort.root, cohort.count + 1, ZERO32, issuer.address, deadline, signature
        ).transact({"from": relayer.address})


def test_anchor_by_sig_of_suspended_issuer_reverts(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    call = anchor_by_sig(registry, issuer, cohort, deadline=deadline_from_now(w3))
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=issuer.address):
        call.transact({"from": relayer.address})


def test_anchor_by_sig_of_erc1271_wallet_issuer(
    w3: Web3, registry: Contract, wallet: Contract, wallet_owner: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    receipt = send(
        anchor_by_sig(registry, wallet_owner, cohort, issuer=wallet.address, deadline=deadline_from_now(w3)), relayer
    )
    event = one_event(registry, "BatchAnchored", receipt)
    assert (event["issuer"], receipt["from"]) == (wallet.address, relayer.address)
    assert registry.functions.nonces(wallet.address).call() == 1


def test_anchor_by_sig_of_erc1271_wallet_signed_by_other_key_reverts(
    w3: Web3, registry: Contract, wallet: Contract, outsider: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    call = anchor_by_sig(registry, outsider, cohort, issuer=wallet.address, deadline=deadline_from_now(w3))
    with reverts(registry, "RegistryInvalidSignature", signer=wallet.address):
        call.transact({"from": relayer.address})


# ---------------------------------------------------------------- revocation


def test_revoke_by_batch_issuer_records_revocation_and_event(
    w3: Web3, registry: Contract, issuer: LocalAccount, anchored: Cohort
) -> None:
    digest = anchored.digests[7]
    receipt = send(revoke(registry, anchored, digest, REASON_FRAUD), issuer)
    t = block_time(w3, receipt)
    assert one_event(registry, "CredentialRevoked", receipt) == {
        "root": anchored.root,
        "credentialDigest": digest,
        "issuer": issuer.address,
        "reason": REASON_FRAUD,
    }
    assert revocation_of(registry, issuer.address, anchored.root, digest) == {"revokedAt": t, "reason": REASON_FRAUD}
    other = anchored.digests[8]
    assert revocation_of(registry, issuer.address, anchored.root, other) == {"revokedAt": 0, "reason": 0}


@pytest.mark.parametrize("revoker", ["other_issuer", "outsider"])
def test_revoke_by_other_than_batch_issuer_reverts(
    request: pytest.FixtureRequest, registry: Contract, issuer: LocalAccount, anchored: Cohort, revoker: str
) -> None:
    """Neither another accredited issuer nor an outsider may revoke `issuer`'s credentials."""
    caller: LocalAccount = request.getfixturevalue(revoker)
    with reverts(registry, "RegistryBatchNotAnchored", root=anchored.root, issuer=caller.address):
        revoke(registry, anchored, anchored.digests[0], REASON_FRAUD).transact({"from": caller.address})


def test_revoke_digest_of_other_issuers_batch_through_own_batch_leaves_it_unrevoked(
    registry: Contract, issuer: LocalAccount, other_issuer: LocalAccount, anchored: Cohort
) -> None:
    victim = anchored.digests[3]
    own = Cohort.of([victim, keccak(b"filler")])  # other_issuer puts the victim's digest into its own batch
    send(registry.functions.anchor(own.root, own.count, ZERO32), other_issuer)
    send(revoke(registry, own, victim, REASON_FRAUD), other_issuer)
    status = verify(registry, issuer.address, anchored.root, victim, anchored.proof(victim))
    assert (status["included"], status["issuer"], status["revoked"]) == (True, issuer.address, False)


def test_revoke_with_bad_proof_reverts(registry: Contract, issuer: LocalAccount, anchored: Cohort) -> None:
    digest = anchored.digests[0]
    wrong_proof = anchored.proof(anchored.digests[1])
    with reverts(registry, "RegistryInvalidProof", root=anchored.root, credentialDigest=digest):
        registry.functions.revoke(anchored.root, digest, wrong_proof, REASON_FRAUD).transact({"from": issuer.address})


def test_revoke_digest_not_in_batch_reverts(registry: Contract, issuer: LocalAccount, anchored: Cohort) -> None:
    stranger = keccak(b"not in the cohort")
    with reverts(registry, "RegistryInvalidProof", root=anchored.root, credentialDigest=stranger):
        registry.functions.revoke(anchored.root, stranger, [], REASON_FRAUD).transact({"from": issuer.address})


def test_revoke_with_zero_reason_reverts(registry: Contract, issuer: LocalAccount, anchored: Cohort) -> None:
    with reverts(registry, "RegistryInvalidReason"):
        revoke(registry, anchored, anchored.digests[0], 0).transact({"from": issuer.address})


def test_revoke_twice_reverts_with_first_revocation_time(
    w3: Web3, registry: Contract, issuer: LocalAccount, anchored: Cohort
) -> None:
    digest = anchored.digests[0]
    t = block_time(w3, send(revoke(registry, anchored, digest, REASON_FRAUD), issuer))
    advance_time(w3, 60)
    with reverts(registry, "RegistryAlreadyRevoked", root=anchored.root, credentialDigest=digest, revokedAt=t):
        revoke(registry, anchored, digest, REASON_ERROR).transact({"from": issuer.address})
    assert revocation_of(registry, issuer.address, anchored.root, digest) == {"revokedAt": t, "reason": REASON_FRAUD}


def test_revoke_in_unknown_root_reverts(registry: Contract, issuer: LocalAccount, cohort: Cohort) -> None:
    with reverts(registry, "RegistryBatchNotAnchored", root=cohort.root, issuer=issuer.address):
        revoke(registry, cohort, cohort.digests[0], REASON_FRAUD).transact({"from": issuer.address})


def test_revoke_by_suspended_issuer_succeeds(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount, anchored: Cohort
) -> None:
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    digest = anchored.digests[5]
    receipt = send(revoke(registry, anchored, digest, REASON_ERROR), issuer)
    assert one_event(registry, "CredentialRevoked", receipt)["issuer"] == issuer.address
    assert revocation_of(registry, issuer.address, anchored.root, digest)["reason"] == REASON_ERROR


# ---------------------------------------------------------------- revocation by signature


def test_revoke_by_sig_relayed_records_revocation(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, anchored: Cohort
) -> None:
    digest = anchored.digests[11]
    receipt = send(revoke_by_sig(registry, issuer, anchored, digest, deadline=deadline_from_now(w3)), relayer)
    assert one_event(registry, "CredentialRevoked", receipt) == {
        "root": anchored.root,
        "credentialDigest": digest,
        "issuer": issuer.address,
        "reason": REASON_FRAUD,
    }
    assert revocation_of(registry, issuer.address, anchored.root, digest) == {
        "revokedAt": block_time(w3, receipt),
        "reason": REASON_FRAUD,
    }
    assert registry.functions.nonces(issuer.address).call() == 1


def test_revoke_by_sig_replayed_signature_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, anchored: Cohort
) -> None:
    call = revoke_by_sig(registry, issuer, anchored, anchored.digests[11], deadline=deadline_from_now(w3))
    send(call, relayer)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        call.transact({"from": relayer.address})


def test_revoke_by_sig_signed_by_other_issuer_reverts(
    w3: Web3,
    registry: Contract,
    issuer: LocalAccount,
    other_issuer: LocalAccount,
    relayer: LocalAccount,
    anchored: Cohort,
) -> None:
    call = revoke_by_sig(
        registry, other_issuer, anchored, anchored.digests[2], issuer=issuer.address, deadline=deadline_from_now(w3)
    )
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        call.transact({"from": relayer.address})


def test_revoke_by_sig_of_other_issuer_for_foreign_batch_reverts(
    w3: Web3,
    registry: Contract,
    issuer: LocalAccount,
    other_issuer: LocalAccount,
    relayer: LocalAccount,
    anchored: Cohort,
) -> None:
    call = revoke_by_sig(registry, other_issuer, anchored, anchored.digests[2], deadline=deadline_from_now(w3))
    with reverts(registry, "RegistryBatchNotAnchored", root=anchored.root, issuer=other_issuer.address):
        call.transact({"from": relayer.address})


def test_revoke_by_sig_after_deadline_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, anchored: Cohort
) -> None:
    deadline = deadline_from_now(w3, 60)
    call = revoke_by_sig(registry, issuer, anchored, anchored.digests[2], deadline=deadline)
    advance_time(w3, 120)
    with reverts(registry, "RegistryExpiredSignature", deadline=deadline):
        call.transact({"from": relayer.address})


def test_revoke_by_sig_with_altered_reason_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, anchored: Cohort
) -> None:
    digest = anchored.digests[2]
    deadline = deadline_from_now(w3)
    signature = sign_revoke(registry, issuer, root=anchored.root, digest=digest, reason=REASON_FRAUD, deadline=deadline)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        registry.functions.revokeBySig(
            anchored.root, digest, anchored.proof(digest), REASON_ERROR, issuer.address, deadline, signature
        ).transact({"from": relayer.address})


# ---------------------------------------------------------------- verify


def test_verify_every_credential_of_anchored_cohort(
    w3: Web3, registry: Contract, issuer: LocalAccount, cohort: Cohort
) -> None:
    t = block_time(w3, send(registry.functions.anchor(cohort.root, cohort.count, ZERO32), issuer))
    head = w3.eth.get_block("latest")
    expected = {
        "included": True,
        "anchored": True,
        "issuer": issuer.address,
        "issuerName": ISSUER_NAME,
        "anchoredAt": t,
        "anchorMode": DIRECT,
        "issuerAccreditedAtAnchor": True,
        "issuerAccreditedNow": True,
        "revoked": False,
        "revokedAt": 0,
        "revocationReason": 0,
        "blockNumber": head["number"],
        "blockTimestamp": head["timestamp"],
        "signingKeyHash": ISSUER_KEY,
    }
    for digest in cohort.digests:
        assert verify(registry, issuer.address, cohort.root, digest, cohort.proof(digest)) == expected


def test_verify_after_later_suspension_keeps_accredited_at_anchor(
    w3: Web3, registry: Contract, deployer: LocalAccount, issuer: LocalAccount, cohort: Cohort
) -> None:
    t = block_time(w3, send(registry.functions.anchor(cohort.root, cohort.count, ZERO32), issuer))
    advance_time(w3, 3600)
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    for digest in cohort.digests:
        status = verify(registry, issuer.address, cohort.root, digest, cohort.proof(digest))
        assert (status["included"], status["anchored"], status["anchoredAt"]) == (True, True, t)
        assert (status["issuerAccreditedAtAnchor"], status["issuerAccreditedNow"]) == (True, False)


def test_verify_revoked_credential_shows_time_and_reason(
    w3: Web3, registry: Contract, issuer: LocalAccount, anchored: Cohort
) -> None:
    digest = anchored.digests[4]
    t = block_time(w3, send(revoke(registry, anchored, digest, REASON_ERROR), issuer))
    status = verify(registry, issuer.address, anchored.root, digest, anchored.proof(digest))
    assert (status["included"], status["anchored"], status["issuer"]) == (True, True, issuer.address)
    assert (status["revoked"], status["revokedAt"], status["revocationReason"]) == (True, t, REASON_ERROR)
    sibling = anchored.digests[5]
    assert verify(registry, issuer.address, anchored.root, sibling, anchored.proof(sibling))["revoked"] is False


def test_verify_non_anchored_root_reports_not_anchored(
    w3: Web3, registry: Contract, issuer: LocalAccount, cohort: Cohort
) -> None:
    digest = cohort.digests[0]
    head = w3.eth.get_block("latest")
    assert verify(registry, issuer.address, cohort.root, digest, cohort.proof(digest)) == {
        "included": True,
        "anchored": False,
        "issuer": ZERO_ADDRESS,
        "issuerName": "",
        "anchoredAt": 0,
        "anchorMode": 0,
        "issuerAccreditedAtAnchor": False,
        "issuerAccreditedNow": False,
        "revoked": False,
        "revokedAt": 0,
        "revocationReason": 0,
        "blockNumber": head["number"],
        "blockTimestamp": head["timestamp"],
        "signingKeyHash": ZERO32,
    }


def test_verify_zero_root_and_empty_proof_does_not_revert(registry: Contract, issuer: LocalAccount) -> None:
    status = verify(registry, issuer.address, ZERO32, ZERO32, [])
    assert (status["included"], status["anchored"], status["revoked"]) == (False, False, False)


def test_verify_wrong_proof_reports_not_included(registry: Contract, issuer: LocalAccount, anchored: Cohort) -> None:
    digest = anchored.digests[0]
    status = verify(registry, issuer.address, anchored.root, digest, anchored.proof(anchored.digests[1]))
    assert (status["included"], status["anchored"], status["issuer"]) == (False, True, issuer.address)


def test_verify_digest_outside_cohort_reports_not_included(
    registry: Contract, issuer: LocalAccount, anchored: Cohort
) -> None:
    outside = keccak(b"forged credential")
    status = verify(registry, issuer.address, anchored.root, outside, anchored.proof(anchored.digests[0]))
    assert (status["included"], status["anchored"]) == (False, True)


def test_verify_cohort_of_one_with_empty_proof(registry: Contract, issuer: LocalAccount) -> None:
    single = Cohort.of([keccak(b"the only credential")])
    assert single.root == leaf_of(single.digests[0]) and single.proof(single.digests[0]) == []
    send(registry.functions.anchor(single.root, 1, ZERO32), issuer)
    status = verify(registry, issuer.address, single.root, single.digests[0], [])
    assert (status["included"], status["anchored"], status["issuer"]) == (True, True, issuer.address)


# ---------------------------------------------------------------- the issuer's relayer (anchorFor)


def sign_set_relayer(
    registry: Contract, signer: LocalAccount, relayer: str, *, deadline: int, nonce: int | None = None
) -> bytes:
    _, name, version, chain_id, contract, _, _ = registry.functions.eip712Domain().call()
    types = {
        "SetRelayer": [
            {"name": "issuer", "type": "address"},
            {"name": "relayer", "type": "address"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ]
    }
    message = {
        "issuer": signer.address,
        "relayer": relayer,
        "deadline": deadline,
        "nonce": registry.functions.nonces(signer.address).call() if nonce is None else nonce,
    }
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract}
    return bytes(signer.sign_typed_data(domain_data=domain, message_types=types, message_data=message).signature)


def test_anchor_for_by_the_authorised_relayer_records_a_relayed_batch(
    w3: Web3, registry: Contract, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    deadline = deadline_from_now(w3)
    receipt = send(
        registry.functions.setRelayerBySig(
            issuer.address,
            relayer.address,
            deadline,
            sign_set_relayer(registry, issuer, relayer.address, deadline=deadline),
        ),
        relayer,
    )
    assert one_event(registry, "RelayerSet", receipt) == {"issuer": issuer.address, "relayer": relayer.address}
    assert issuer_of(registry, issuer.address)["relayer"] == relayer.address
    nonce = registry.functions.nonces(issuer.address).call()
    receipt = send(registry.functions.anchorFor(issuer.address, cohort.root, cohort.count), relayer)
    t = block_time(w3, receipt)
    assert one_event(registry, "BatchAnchored", receipt) == {"root": cohort.root, "issuer": issuer.address}
    assert batch_of(registry, issuer.address, cohort.root) == {
        "anchoredAt": t,
        "count": 30,
        "mode": RELAYED,
        "metadataHash": ZERO32,
    }
    assert registry.functions.nonces(issuer.address).call() == nonce  # no nonce: a root anchors once per issuer
    digest = cohort.digests[0]
    status = verify(registry, issuer.address, cohort.root, digest, cohort.proof(digest))
    assert (status["anchored"], status["anchorMode"], status["issuerAccreditedAtAnchor"]) == (True, RELAYED, True)
    with reverts(registry, "RegistryBatchAlreadyAnchored", root=cohort.root, issuer=issuer.address):
        registry.functions.anchorFor(issuer.address, cohort.root, cohort.count).transact({"from": relayer.address})


@pytest.mark.parametrize("caller", ["outsider", "other_issuer", "issuer"])
def test_anchor_for_by_anyone_but_the_authorised_relayer_reverts(
    request: pytest.FixtureRequest,
    registry: Contract,
    issuer: LocalAccount,
    relayer: LocalAccount,
    cohort: Cohort,
    caller: str,
) -> None:
    sender: LocalAccount = request.getfixturevalue(caller)
    for authorised in (None, relayer):  # before any authorisation, and with the relayer authorised
        if authorised is not None:
            send(registry.functions.setRelayer(authorised.address), issuer)
        with reverts(registry, "RegistryUnauthorizedRelayer", issuer=issuer.address, caller=sender.address):
            registry.functions.anchorFor(issuer.address, cohort.root, cohort.count).transact({"from": sender.address})
    assert batch_of(registry, issuer.address, cohort.root)["anchoredAt"] == 0


def test_anchor_for_a_suspended_issuer_reverts_and_a_withdrawn_relayer_is_refused(
    registry: Contract, deployer: LocalAccount, issuer: LocalAccount, relayer: LocalAccount, cohort: Cohort
) -> None:
    send(registry.functions.setRelayer(relayer.address), issuer)
    send(registry.functions.suspendIssuer(issuer.address), deployer)
    with reverts(registry, "RegistryIssuerNotAccredited", issuer=issuer.address):
        registry.functions.anchorFor(issuer.address, cohort.root, cohort.count).transact({"from": relayer.address})
    send(registry.functions.accreditIssuer(issuer.address, ISSUER_NAME, ISSUER_KEY), deployer)
    assert issuer_of(registry, issuer.address)["relayer"] == relayer.address  # accreditation keeps the relayer
    send(registry.functions.setRelayer(ZERO_ADDRESS), issuer)
    with reverts(registry, "RegistryUnauthorizedRelayer", issuer=issuer.address, caller=relayer.address):
        registry.functions.anchorFor(issuer.address, cohort.root, cohort.count).transact({"from": relayer.address})


def test_set_relayer_by_sig_signed_by_another_key_or_replayed_reverts(
    w3: Web3, registry: Contract, issuer: LocalAccount, outsider: LocalAccount, relayer: LocalAccount
) -> None:
    deadline = deadline_from_now(w3)
    forged = sign_set_relayer(registry, outsider, outsider.address, deadline=deadline)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):
        registry.functions.setRelayerBySig(issuer.address, outsider.address, deadline, forged).transact(
            {"from": outsider.address}
        )
    signature = sign_set_relayer(registry, issuer, relayer.address, deadline=deadline)
    send(registry.functions.setRelayerBySig(issuer.address, relayer.address, deadline, signature), relayer)
    with reverts(registry, "RegistryInvalidSignature", signer=issuer.address):  # its nonce was used
        registry.functions.setRelayerBySig(issuer.address, relayer.address, deadline, signature).transact(
            {"from": relayer.address}
        )


# ---------------------------------------------------------------- front-running (a chain that does not mine at once)


@pytest.mark.anvil_only("orders its mempool by fee with automine off (evm_setAutomine)")
def test_a_front_runner_anchoring_the_same_root_first_neither_blocks_nor_takes_the_issuers_cohort(
    w3: Web3,
    chain: Any,
    registry: Contract,
    issuer: LocalAccount,
    other_issuer: LocalAccount,
    relayer: LocalAccount,
    cohort: Cohort,
) -> None:
    """Partner B sees partner A's relayed anchoring in the mempool and sends anchor(root) itself at a higher fee:
    B's transaction is mined first, in the same block, and A's still anchors A's batch."""
    assert chain.kind == "anvil", "anvil_only: collected on anvil alone"
    send(registry.functions.setRelayer(relayer.address), issuer)
    rpc(w3, "evm_setAutomine", False)
    try:

        def signed(call: Any, account: LocalAccount, tip: int) -> bytes:
            tx = call.build_transaction(
                {
                    "from": account.address,
                    "gas": 200_000,
                    "maxFeePerGas": 100 * 10**9,
                    "maxPriorityFeePerGas": tip,
                    "nonce": w3.eth.get_transaction_count(account.address, "pending"),
                }
            )
            return bytes(account.sign_transaction(tx).raw_transaction)

        honest_raw = signed(registry.functions.anchorFor(issuer.address, cohort.root, cohort.count), relayer, 10**9)
        honest = w3.eth.send_raw_transaction(honest_raw)
        assert w3.eth.get_transaction(honest)["blockNumber"] is None  # pending: B sees it in the mempool
        squat = w3.eth.send_raw_transaction(
            signed(registry.functions.anchor(cohort.root, 1, ZERO32), other_issuer, 50 * 10**9)
        )
        # B's transaction lands first: a block holding only it (A's waits in the mempool, as behind a full block)
        rpc(w3, "anvil_dropTransaction", honest.to_0x_hex())
        rpc(w3, "evm_mine")
        assert w3.eth.get_transaction_receipt(squat)["status"] == 1
        w3.eth.send_raw_transaction(honest_raw)  # the relayer's same transaction, broadcast again
        rpc(w3, "evm_mine")
    finally:
        rpc(w3, "evm_setAutomine", True)
    first, second = w3.eth.get_transaction_receipt(squat), w3.eth.get_transaction_receipt(honest)
    assert first["blockNumber"] < second["blockNumber"]
    assert (first["status"], second["status"]) == (1, 1)  # the squatter did not block A
    assert batch_of(registry, issuer.address, cohort.root)["mode"] == RELAYED
    for digest in cohort.digests[:3]:
        status = verify(registry, issuer.address, cohort.root, digest, cohort.proof(digest))
        assert (status["anchored"], status["issuer"], status["issuerName"], status["anchoredAt"]) == (
            True,
            issuer.address,
            ISSUER_NAME,
            block_time(w3, second),
        )
        theirs = verify(registry, other_issuer.address, cohort.root, digest, cohort.proof(digest))
        assert (theirs["issuer"], theirs["issuerName"]) == (other_issuer.address, OTHER_ISSUER_NAME)
    # B cannot revoke A's credentials through its own batch of the same root
    send(revoke(registry, cohort, cohort.digests[0], REASON_FRAUD), other_issuer)
    assert (
        verify(registry, issuer.address, cohort.root, cohort.digests[0], cohort.proof(cohort.digests[0]))["revoked"]
        is False
    )
