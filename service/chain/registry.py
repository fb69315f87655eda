"""The Python client of the CredentialRegistry contract (contracts/ICredentialRegistry.sol).

    registry = RegistryClient(w3, address)
    status = registry.verify(root, digest, proof)      # CredentialStatus: one eth_call
    registry.batch(root), registry.issuer(account), registry.revocation(root, digest)

Views return frozen dataclasses. Transactions (`accredit_issuer`, `anchor`, `anchor_by_sig`, `revoke`,
...) are signed by a `LocalAccount` and sent with service.chain.transactions.send; they are what the
issuing pipeline and the tests use. `RegistryChainFacts` adapts the client to the verifier's
`ChainFacts` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3Exception
from web3.types import BlockIdentifier, RPCEndpoint, TxReceipt

from service.chain.artifacts import load_artifact
from service.chain.errors import decode_revert
from service.chain.transactions import send
from service.credentials.facts import AnchorMode, ChainSnapshot, CredentialStatus, RegistryTrust
from service.credentials.receipt import AnchorReceipt, read_receipt
from service.credentials.signature import AnchorRequest, SignedAnchor, eip712_typed_data, sign_typed_data
from service.errors import ChainRejected, ChainUnavailable

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class Issuer:
    """A partner organisation that is, or was, accredited (ICredentialRegistry.Issuer)."""

    address: str
    name: str  # empty when never accredited
    accredited: bool
    since: int  # unix seconds when the current status began
    relayer: str = ZERO_ADDRESS  # the account it authorised to anchor for it (anchorFor); zero when none


@dataclass(frozen=True)
class SigningKey:
    """An issuer's signing key accredited by the board from `since` on (ICredentialRegistry.SigningKey)."""

    key_hash: bytes  # multikey.key_hash of the Ed25519 public key
    since: int  # unix seconds


@dataclass(frozen=True)
class Batch:
    """The cohort `root` as anchored by `issuer` (ICredentialRegistry.Batch); `anchored_at` is 0 when that issuer did
    not anchor it (whatever other accounts did with the same root)."""

    issuer: str
    root: bytes
    anchored_at: int
    count: int
    mode: AnchorMode
    metadata_hash: bytes

    @property
    def anchored(self) -> bool:
        return self.anchored_at != 0


@dataclass(frozen=True)
class Revocation:
    """The revocation of one credential of one batch; `revoked_at` is 0 when not revoked."""

    revoked_at: int
    reason: int

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0


@dataclass(frozen=True)
class Eip712Domain:
    name: str
    version: str
    chain_id: int
    verifying_contract: str


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


@dataclass(frozen=True)
class RevokeRequest:
    """What the issuer signs so that a relayer may revoke credential `digest` of `root` for it
    (EIP-712 `Revoke(bytes32 root,bytes32 credentialDigest,uint16 reason,address issuer,uint256 nonce,
    uint256 deadline)` in the registry's domain)."""

    domain: Eip712Domain
    root: bytes
    digest: bytes
    reason: int
    issuer: str
    nonce: int
    deadline: int

    def typed_data(self) -> dict[str, Any]:
        """The full EIP-712 message (eth_signTypedData_v4 form)."""
        message = {
            "root": self.root,
            "credentialDigest": self.digest,
            "reason": self.reason,
            "issuer": to_checksum_address(self.issuer),
            "nonce": self.nonce,
            "deadline": self.deadline,
        }
        return eip712_typed_data(
            REVOKE_TYPES,
            "Revoke",
            message,
            name=self.domain.name,
            version=self.domain.version,
            chain_id=self.domain.chain_id,
            verifying_contract=self.domain.verifying_contract,
        )

    def sign(self, private_key: Any) -> bytes:
        """The 65-byte signature r || s || v by `private_key` (a key or a LocalAccount's key)."""
        return sign_typed_data(private_key, self.typed_data())


SET_RELAYER_TYPES = {
    "SetRelayer": [
        {"name": "issuer", "type": "address"},
        {"name": "relayer", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


@dataclass(frozen=True)
class SetRelayerRequest:
    """What the issuer signs once so that `relayer` may anchor for it with anchorFor (EIP-712
    `SetRelayer(address issuer,address relayer,uint256 nonce,uint256 deadline)` in the registry's domain)."""

    domain: Eip712Domain
    issuer: str
    relayer: str
    nonce: int
    deadline: int

    def typed_data(self) -> dict[str, Any]:
        message = {
            "issuer": to_checksum_address(self.issuer),
            "relayer": to_checksum_address(self.relayer),
            "nonce": self.nonce,
            "deadline": self.deadline,
        }
        return eip712_typed_data(
            SET_RELAYER_TYPES,
            "SetRelayer",
            message,
            name=self.domain.name,
            version=self.domain.version,
            chain_id=self.domain.chain_id,
            verifying_contract=self.domain.verifying_contract,
        )

    def sign(self, private_key: Any) -> bytes:
        return sign_typed_data(private_key, self.typed_data())


@dataclass(frozen=True)
class AnchoringEvent:
    """A BatchAnchored event: where an issuer anchored a root (who sent it is the transaction's `from`)."""

    root: bytes
    issuer: str
    transaction_hash: bytes
    block_number: int
    log_index: int


class RegistryClient:
    """A CredentialRegistry at `address` on `w3`'s chain."""

    def __init__(self, w3: Web3, address: str):
        self.w3 = w3
        self.address = to_checksum_address(address)
        self._domain: Eip712Domain | None = None
        self._artifact = load_artifact("CredentialRegistry")
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self._artifact.abi)

    def __repr__(self) -> str:
        return f"RegistryClient({self.address})"

    @cached_property
    def chain_id(self) -> int:
        """The chain id of the node (asked once).

        :raises ChainUnavailable: when the node does not answer.
        """
        try:
            return int(self.w3.eth.chain_id)
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc) from exc

    # ---------------------------------------------------------------- views

    def verify(
        self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], *, block: BlockIdentifier = "latest"
    ) -> CredentialStatus:
        """The registry's answer for one credential: `verify(issuer, root, credentialDigest, proof)`, one eth_call.

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        raw = self._view("verify", to_checksum_address(issuer), root, digest, list(proof), block=block)
        (
            included,
            anchored,
            anchored_by,
            issuer_name,
            anchored_at,
            mode,
            accredited_then,
            accredited_now,
            revoked,
            revoked_at,
            reason,
            block_number,
            block_timestamp,
            signing_key_hash,
        ) = raw
        return CredentialStatus(
            included=bool(included),
            anchored=bool(anchored),
            issuer=to_checksum_address(anchored_by),
            issuer_name=str(issuer_name),
            anchored_at=int(anchored_at),
            anchor_mode=AnchorMode(int(mode)),
            issuer_accredited_at_anchor=bool(accredited_then),
            issuer_accredited_now=bool(accredited_now),
            revoked=bool(revoked),
            revoked_at=int(revoked_at),
            revocation_reason=int(reason),
            block_number=int(block_number),
            block_timestamp=int(block_timestamp),
            signing_key_hash=bytes(signing_key_hash),
        )

    def batch(self, issuer: str, root: bytes) -> Batch:
        """The batch `root` as `issuer` anchored it (anchored_at 0 when it did not: another account's batch of the
        same root is not its batch).

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        anchored_at, count, mode, metadata_hash = self._view("batch", to_checksum_address(issuer), root)
        return Batch(
            issuer=to_checksum_address(issuer),
            root=bytes(root),
            anchored_at=int(anchored_at),
            count=int(count),
            mode=AnchorMode(int(mode)),
            metadata_hash=bytes(metadata_hash),
        )

    def issuer(self, account: str) -> Issuer:
        """The partner `account`: its name, current accreditation and the relayer it authorised.

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        name, accredited, since, relayer = self._view("issuer", to_checksum_address(account))
        return Issuer(
            address=to_checksum_address(account),
            name=str(name),
            accredited=bool(accredited),
            since=int(since),
            relayer=to_checksum_address(relayer),
        )

    def signing_key_at(self, account: str, timestamp: int) -> bytes:
        """The `multikey.key_hash` of `account`'s signing key accredited at the end of second `timestamp` (zero
        bytes when none).

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        return bytes(self._view("signingKeyAt", to_checksum_address(account), timestamp))

    def signing_keys(self, account: str) -> list[SigningKey]:
        """Every signing key the board accredited for `account`, oldest first (the last is the current one).

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        return [
            SigningKey(key_hash=bytes(key_hash), since=int(since))
            for key_hash, since in self._view("signingKeys", to_checksum_address(account))
        ]

    def was_accredited_at(self, account: str, timestamp: int) -> bool:
        """Whether `account` was accredited at the end of second `timestamp`.

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        return bool(self._view("wasAccreditedAt", to_checksum_address(account), timestamp))

    def revocation(self, issuer: str, root: bytes, digest: bytes) -> Revocation:
        """`issuer`'s revocation of credential `digest` in its batch `root` (revoked_at 0 when not revoked).

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        revoked_at, reason = self._view("revocation", to_checksum_address(issuer), root, digest)
        return Revocation(revoked_at=int(revoked_at), reason=int(reason))

    def leaf_of(self, digest: bytes) -> bytes:
        """The contract's leaf for `digest` (StandardMerkleTree, bytes32)."""
        return bytes(self._view("leafOf", digest))

    def governor(self) -> str:
        return to_checksum_address(self._view("governor"))

    def nonce(self, account: str, *, block: BlockIdentifier = "latest") -> int:
        """The next nonce of `account` for signed requests (anchorBySig and revokeBySig share it)."""
        return int(self._view("nonces", to_checksum_address(account), block=block))

    def eip712_domain(self) -> Eip712Domain:
        """The registry's EIP-712 domain (ERC-5267 `eip712Domain()`), read once: it never changes."""
        if self._domain is None:
            self._domain = self._read_domain()
        return self._domain

    def _read_domain(self) -> Eip712Domain:
        _fields, name, version, chain_id, verifying_contract, _salt, _extensions = self._view("eip712Domain")
        return Eip712Domain(
            name=str(name),
            version=str(version),
            chain_id=int(chain_id),
            verifying_contract=to_checksum_address(verifying_contract),
        )

    def anchor_request(
        self,
        root: bytes,
        count: int,
        issuer: str,
        deadline: int,
        metadata_hash: bytes = ZERO32,
        *,
        nonce: int | None = None,
    ) -> AnchorRequest:
        """The request `issuer` signs so a relayer can anchor `root` for it (with `nonce`, by default its current
        one)."""
        domain = self.eip712_domain()
        return AnchorRequest(
            domain_name=domain.name,
            domain_version=domain.version,
            chain_id=domain.chain_id,
            registry=domain.verifying_contract,
            root=bytes(root),
            count=count,
            metadata_hash=bytes(metadata_hash),
            issuer=to_checksum_address(issuer),
            nonce=self.nonce(issuer) if nonce is None else nonce,
            deadline=deadline,
        )

    # ---------------------------------------------------------------- transactions

    def accredit_issuer(self, account: str, name: str, key_hash: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Accredit `account` under `name` with the signing key `key_hash` (`multikey.key_hash`; the governor only).

        :raises ChainRejected: RegistryUnauthorizedGovernor, RegistryInvalidAddress, RegistryEmptyIssuerName,
            RegistryInvalidKeyHash or RegistryIssuerAlreadyAccredited.
        """
        return self._transact(sender, "accreditIssuer", to_checksum_address(account), name, bytes(key_hash))

    def rotate_issuer_key(self, account: str, key_hash: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Make `key_hash` the signing key of the accredited `account` (the governor only).

        :raises ChainRejected: RegistryUnauthorizedGovernor, RegistryInvalidKeyHash, RegistryIssuerNotAccredited
            or RegistrySigningKeyUnchanged.
        """
        return self._transact(sender, "rotateIssuerKey", to_checksum_address(account), bytes(key_hash))

    def suspend_issuer(self, account: str, *, sender: LocalAccount) -> TxReceipt:
        """Suspend `account` (the governor only).

        :raises ChainRejected: RegistryUnauthorizedGovernor or RegistryIssuerNotAccredited.
        """
        return self._transact(sender, "suspendIssuer", to_checksum_address(account))

    def anchor(self, root: bytes, count: int, metadata_hash: bytes = ZERO32, *, sender: LocalAccount) -> TxReceipt:
        """Anchor the cohort `root` of `count` credentials as `sender`, an accredited issuer.

        :raises ChainRejected: RegistryIssuerNotAccredited, RegistryInvalidRoot, RegistryEmptyBatch or
            RegistryBatchAlreadyAnchored.
        """
        return self._transact(sender, "anchor", root, count, metadata_hash)

    def set_relayer(self, relayer: str, *, sender: LocalAccount) -> TxReceipt:
        """Authorise `relayer` to anchor for `sender` with anchorFor (the zero address withdraws it)."""
        return self._transact(sender, "setRelayer", to_checksum_address(relayer))

    def set_relayer_request(
        self, issuer: str, relayer: str, deadline: int, *, nonce: int | None = None
    ) -> SetRelayerRequest:
        """The request `issuer` signs once so that `relayer` may anchor for it (with `nonce`, by default its current
        one)."""
        return SetRelayerRequest(
            domain=self.eip712_domain(),
            issuer=to_checksum_address(issuer),
            relayer=to_checksum_address(relayer),
            nonce=self.nonce(issuer) if nonce is None else nonce,
            deadline=int(deadline),
        )

    def set_relayer_by_sig(self, request: SetRelayerRequest, signature: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Send the issuer's signed authorisation `request` from `sender` (who pays).

        :raises ChainRejected: RegistryExpiredSignature or RegistryInvalidSignature.
        """
        return self._transact(sender, "setRelayerBySig", request.issuer, request.relayer, request.deadline, signature)

    def set_relayer_by_sig_tx(self, request: SetRelayerRequest, signature: bytes) -> dict[str, Any]:
        """setRelayerBySig for a relayer to send; refusals: RegistryExpiredSignature, RegistryInvalidSignature."""
        return self._tx("setRelayerBySig", request.issuer, request.relayer, request.deadline, signature)

    def anchor_for(self, issuer: str, root: bytes, count: int, *, sender: LocalAccount) -> TxReceipt:
        """Anchor `issuer`'s cohort `root` as the relayer it authorised (`sender`).

        :raises ChainRejected: RegistryUnauthorizedRelayer, and as `anchor`.
        """
        return self._transact(sender, "anchorFor", to_checksum_address(issuer), root, count)

    def anchor_for_tx(self, issuer: str, root: bytes, count: int) -> dict[str, Any]:
        """anchorFor as the service's relayer sends it: the issuer's authorised relayer anchors `root`; the issuer's
        signature is not sent (it goes into the credentials' proofs, see `relayed_anchor`). Refusals:
        RegistryUnauthorizedRelayer, RegistryIssuerNotAccredited, RegistryBatchAlreadyAnchored, ..."""
        return self._tx("anchorFor", to_checksum_address(issuer), bytes(root), int(count))

    def relayed_anchor(self, batch: Batch, private_key: Any) -> SignedAnchor:
        """The issuer's `Anchor` signature for a batch its relayer anchored (mode Relayed), for the proofs: the
        chain did not check it, verifiers do. It is deterministic, so any process can make it again: nonce 0 (no
        nonce is used) and deadline = the batch's `anchoredAt`, the moment the issuer vouches for."""
        request = self.anchor_request(
            batch.root, batch.count, batch.issuer, batch.anchored_at, batch.metadata_hash, nonce=0
        )
        return SignedAnchor(request, request.sign(private_key))

    def anchor_by_sig(self, signed: SignedAnchor, *, sender: LocalAccount) -> TxReceipt:
        """Anchor a cohort on behalf of the issuer that signed `signed`; `sender` relays and pays.

        :raises ChainRejected: as `anchor`, and RegistryExpiredSignature or RegistryInvalidSignature.
        """
        request = signed.request
        return self._transact(
            sender,
            "anchorBySig",
            request.root,
            request.count,
            request.metadata_hash,
            to_checksum_address(request.issuer),
            request.deadline,
            signed.signature,
        )

    def revoke(
        self, root: bytes, digest: bytes, proof: Sequence[bytes], reason: int, *, sender: LocalAccount
    ) -> TxReceipt:
        """Revoke credential `digest` of `sender`'s batch `root` with a nonzero `reason`.

        :raises ChainRejected: RegistryBatchNotAnchored (`sender` did not anchor `root`), RegistryInvalidProof,
            RegistryInvalidReason or RegistryAlreadyRevoked.
        """
        return self._transact(sender, "revoke", root, digest, list(proof), reason)

    # ---------------------------------------------------------------- relayed (tx dicts for TransactionSender.send)

    def anchor_by_sig_tx(self, signed: SignedAnchor) -> dict[str, Any]:
        """anchorBySig for a relayer to send (service.chain.sender.TransactionSender, which estimates gas and
        decodes a refusal: RegistryIssuerNotAccredited, RegistryBatchAlreadyAnchored, RegistryExpiredSignature,
        RegistryInvalidSignature, ...)."""
        request = signed.request
        return self._tx(
            "anchorBySig",
            request.root,
            request.count,
            request.metadata_hash,
            to_checksum_address(request.issuer),
            request.deadline,
            signed.signature,
        )

    def revoke_request(
        self, root: bytes, digest: bytes, reason: int, issuer: str, deadline: int, *, nonce: int | None = None
    ) -> RevokeRequest:
        """The request `issuer` signs so a relayer can revoke `digest` of `root` for it (with `nonce`, by default
        its current one)."""
        return RevokeRequest(
            domain=self.eip712_domain(),
            root=bytes(root),
            digest=bytes(digest),
            reason=int(reason),
            issuer=to_checksum_address(issuer),
            nonce=self.nonce(issuer) if nonce is None else nonce,
            deadline=int(deadline),
        )

    def signed_anchor_from_call(self, data: str | bytes, nonce: int) -> SignedAnchor | None:
        """The signed request in anchorBySig calldata `data` the relayer sent with the issuer's `nonce`; None when
        `data` is not an anchorBySig call."""
        try:
            function, arguments = self.contract.decode_function_input(data)
        except ValueError:
            return None
        if function.abi["name"] != "anchorBySig":
            return None
        root, count, metadata_hash, issuer, deadline, signature = (
            arguments[item["name"]] for item in function.abi["inputs"]
        )
        request = self.anchor_request(bytes(root), int(count), issuer, int(deadline), bytes(metadata_hash), nonce=nonce)
        return SignedAnchor(request, bytes(signature))

    def revoke_by_sig_tx(self, request: RevokeRequest, signature: bytes, proof: Sequence[bytes]) -> dict[str, Any]:
        """revokeBySig for a relayer to send; refusals as `revoke`, and RegistryExpiredSignature or
        RegistryInvalidSignature."""
        return self._tx(
            "revokeBySig",
            request.root,
            request.digest,
            list(proof),
            request.reason,
            to_checksum_address(request.issuer),
            request.deadline,
            signature,
        )

    # ---------------------------------------------------------------- events

    def find_anchoring(
        self, issuer: str, root: bytes, *, from_block: int = 0, page_blocks: int = 2_000
    ) -> AnchoringEvent | None:
        """The BatchAnchored event of `issuer`'s batch `root` (a topic filter on both: another account's anchoring
        of the same root is not this batch's), searched from the latest block back to `from_block` in pages; None
        when there is none.

        :raises ChainUnavailable: when the node does not answer.
        """
        event = self.contract.events.BatchAnchored()
        try:
            to_block = int(self.w3.eth.block_number)
            while to_block >= from_block:
                start = max(from_block, to_block - page_blocks + 1)
                logs = list(
                    event.get_logs(
                        argument_filters={"issuer": to_checksum_address(issuer), "root": bytes(root)},
                        from_block=start,
                        to_block=to_block,
                    )
                )
                if logs:
                    item = logs[-1]
                    args = item["args"]
                    return AnchoringEvent(
                        root=bytes(args["root"]),
                        issuer=to_checksum_address(args["issuer"]),
                        transaction_hash=bytes(item["transactionHash"]),
                        block_number=int(item["blockNumber"]),
                        log_index=int(item["logIndex"]),
                    )
                to_block = start - 1
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, "eth_getLogs") from exc
        return None

    def signed_anchor_of(self, anchoring: AnchoringEvent) -> SignedAnchor | None:
        """The issuer's signed request behind `anchoring` when a relayer sent it with anchorBySig, read back
        from the transaction; None for a direct `anchor` (or a call through another contract).

        The nonce is not in the calldata: it is the issuer's nonce consumed by that transaction, found
        between the issuer's nonce before and after its block by recovering the signature.

        :raises ChainUnavailable: when the node does not answer.
        """
        try:
            tx = self.w3.eth.get_transaction(Hash32(anchoring.transaction_hash))
            if tx["to"] is None or to_checksum_address(tx["to"]) != self.address:
                return None
            function, arguments = self.contract.decode_function_input(tx["input"])
        except (OSError, Web3Exception) as exc:
            raise ChainUnavailable.no_answer(
                exc, f"eth_getTransactionByHash(0x{anchoring.transaction_hash.hex()})"
            ) from exc
        except ValueError:  # not a call of this contract's ABI
            return None
        if function.abi["name"] != "anchorBySig":
            return None
        root, count, metadata_hash, issuer, deadline, signature = (
            arguments[item["name"]] for item in function.abi["inputs"]
        )
        if bytes(root) != anchoring.root or to_checksum_address(issuer) != anchoring.issuer:
            return None
        domain = self.eip712_domain()
        before = self.nonce(issuer, block=max(anchoring.block_number - 1, 0))
        after = self.nonce(issuer, block=anchoring.block_number)
        for nonce in range(before, max(after, before + 1)):
            request = AnchorRequest(
                domain_name=domain.name,
                domain_version=domain.version,
                chain_id=domain.chain_id,
                registry=domain.verifying_contract,
                root=bytes(root),
                count=int(count),
                metadata_hash=bytes(metadata_hash),
                issuer=to_checksum_address(issuer),
                nonce=nonce,
                deadline=int(deadline),
            )
            try:
                if request.signer(bytes(signature)) == request.issuer:
                    return SignedAnchor(request, bytes(signature))
            except ValueError:
                return None
        return None

    def chain_facts(self, trust: RegistryTrust = RegistryTrust.CONFIGURED) -> RegistryChainFacts:
        """This registry as the verifier's `ChainFacts` provider."""
        return RegistryChainFacts(self, trust)

    # ---------------------------------------------------------------- plumbing

    def _view(self, name: str, *args: Any, block: BlockIdentifier = "latest") -> Any:
        try:
            return getattr(self.contract.functions, name)(*args).call(block_identifier=block)
        except BadFunctionCallOutput as exc:
            raise ChainUnavailable(f"no CredentialRegistry at {self.address} on chain {self.chain_id}") from exc
        except ContractLogicError as exc:
            raise _rejected(exc, self._artifact.error_abis()) from exc
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, f"{name}()") from exc

    def _tx(self, name: str, *args: Any) -> dict[str, Any]:
        return {"to": self.address, "data": self.contract.encode_abi(name, args=list(args))}

    def _transact(self, sender: LocalAccount, name: str, *args: Any) -> TxReceipt:
        function = getattr(self.contract.functions, name)(*args)
        try:
            tx = function.build_transaction({"from": sender.address, "gas": 0})
            del tx["gas"]  # send() estimates with a margin (service.chain.transactions.gas_limit)
            return send(self.w3, tx, sender)
        except ContractLogicError as exc:
            raise _rejected(exc, self._artifact.error_abis()) from exc


def _rejected(exc: ContractLogicError, error_abis: list[dict[str, Any]]) -> Exception:
    decoded = decode_revert(exc, error_abis)
    return ChainRejected(decoded) if decoded is not None else exc


@dataclass(frozen=True)
class RegistryChainFacts:
    """The verifier's `ChainFacts` from a live registry: the `verify` view, pinned to the latest block."""

    client: RegistryClient
    trust: RegistryTrust = RegistryTrust.CONFIGURED

    @property
    def chain_id(self) -> int:
        return self.client.chain_id

    @property
    def registry(self) -> str:
        return self.client.address

    def __call__(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]) -> ChainSnapshot:
        """One eth_call of `verify` at the latest block; the answer names that block and its timestamp.

        :raises ChainUnavailable: when the node does not answer or there is no registry at the address.
        """
        try:
            status = self.client.verify(issuer, root, digest, path)
        except ChainRejected as exc:  # the view never reverts: this is not a CredentialRegistry
            raise ChainUnavailable(f"{self.client.address} is not a CredentialRegistry: {exc}") from exc
        return ChainSnapshot(
            chain_id=self.chain_id,
            registry=self.client.address,
            block_number=status.block_number,
            block_timestamp=status.block_timestamp,
            status=status,
        )

    def anchor_receipt(self, transaction_hash: str) -> AnchorReceipt:
        """The receipt of `transaction_hash` read for the verifier (service.credentials.receipt).

        :raises ChainUnavailable: when the node does not answer.
        """
        try:
            answer = self.client.w3.provider.make_request(RPCEndpoint("eth_getTransactionReceipt"), [transaction_hash])
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, "eth_getTransactionReceipt") from exc
        if "error" in answer:
            raise ChainUnavailable(f"the node refused eth_getTransactionReceipt: {answer['error']}")
        return read_receipt(transaction_hash, answer.get("result"))
