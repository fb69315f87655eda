"""What the chain says about a credential's `proof.transactionHash`: the registry's BatchAnchored events in
that transaction's receipt.

`proof.transactionHash` is not in the anchored body, so anyone can change it; the verifier treats it as a
hint it checks (docs/credential-format.md section 5): the receipt of that transaction on the verifier's
chain must hold the registry's `BatchAnchored` event for the proof's root and issuer. The event also says
who submitted the transaction, so a relayed anchoring is seen even when `anchorSignature` was removed.

This module reads a receipt as plain JSON-RPC data (`eth_getTransactionReceipt`'s answer), so that the
synchronous CLI and the asyncio API can fetch it their own way. The event is a log without topics whose
52 bytes of data are the issuer and the root (service.chain.anchor_log); the submitting account is the
transaction's sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils import to_checksum_address

from service.chain.anchor_log import EVENT_NAME, decode_batch_anchored
from service.errors import ChainUnavailable

__all__ = ["EVENT_NAME", "AnchorEvent", "AnchorReceipt", "ReceiptCache", "read_receipt"]


@dataclass(frozen=True)
class AnchorEvent:
    """One BatchAnchored event of a receipt, where the chain recorded it."""

    registry: str  # the contract that emitted it (checksum address)
    root: bytes
    issuer: str
    submitter: str  # the account that sent the transaction (a relayer, or the issuer itself)
    block_number: int
    transaction_hash: str


@dataclass(frozen=True)
class AnchorReceipt:
    """The receipt of `transaction_hash` as the chain has it: None when the chain knows no such transaction."""

    transaction_hash: str
    found: bool
    succeeded: bool = False
    events: tuple[AnchorEvent, ...] = ()

    def event_for(self, registry: str, root: bytes, issuer: str) -> AnchorEvent | None:
        """The registry's BatchAnchored event of this receipt for `root` and `issuer`, if there is one."""
        for event in self.events:
            if event.registry == registry and event.root == root and event.issuer == issuer:
                return event
        return None


def _bytes(text: Any) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"not hex: {text!r:.80}")
    return bytes.fromhex(text[2:])


def _int(text: Any) -> int:
    if isinstance(text, int):
        return text
    if not isinstance(text, str):
        raise ValueError(f"not a quantity: {text!r:.80}")
    return int(text, 16)


def read_receipt(transaction_hash: str, receipt: Mapping[str, Any] | None) -> AnchorReceipt:
    """The BatchAnchored events of `receipt` (eth_getTransactionReceipt's JSON answer, None when unknown).

    :raises ChainUnavailable: when the answer is not a receipt (a node that answers nonsense).
    """
    if receipt is None:
        return AnchorReceipt(transaction_hash, found=False)
    try:
        status = _int(receipt.get("status", "0x1"))
        events = []
        for log in receipt.get("logs") or ():
            decoded = decode_batch_anchored(
                [_bytes(topic) for topic in log.get("topics") or ()], _bytes(log.get("data", "0x"))
            )
            if decoded is None:
                continue
            events.append(
                AnchorEvent(
                    registry=to_checksum_address(log["address"]),
                    root=decoded[1],
                    issuer=decoded[0],
                    submitter=to_checksum_address(receipt["from"]),
                    block_number=_int(log.get("blockNumber", receipt.get("blockNumber"))),
                    transaction_hash=transaction_hash,
                )
            )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ChainUnavailable(f"the node's receipt of {transaction_hash} cannot be read: {exc}") from exc
    return AnchorReceipt(transaction_hash, found=True, succeeded=status == 1, events=tuple(events))


class JsonRpcCaller(Protocol):
    """A JSON-RPC client (service.chain.jsonrpc.JsonRpc): `result` of a method, blocking or on the loop."""

    def call(self, method: str, params: list[Any]) -> Any: ...

    async def acall(self, method: str, params: list[Any]) -> Any: ...


class ReceiptCache:
    """Receipts read for the verifier, kept once they confirm an anchoring (a mined receipt does not
    change; one that confirms nothing is asked again, so a transaction mined later is seen).

    `__call__` blocks (from a thread); `ask` runs on the event loop.
    """

    def __init__(self, rpc: JsonRpcCaller, *, max_entries: int = 4096) -> None:
        self.rpc = rpc
        self.max_entries = max_entries
        self._entries: dict[str, AnchorReceipt] = {}

    def __call__(self, transaction_hash: str) -> AnchorReceipt:
        """:raises ChainUnavailable: when the node cannot be asked."""
        if (kept := self._entries.get(transaction_hash)) is not None:
            return kept
        return self._keep(read_receipt(transaction_hash, self.rpc.call(METHOD, [transaction_hash])))

    async def ask(self, transaction_hash: str) -> AnchorReceipt:
        """:raises ChainUnavailable: when the node cannot be asked."""
        if (kept := self._entries.get(transaction_hash)) is not None:
            return kept
        return self._keep(read_receipt(transaction_hash, await self.rpc.acall(METHOD, [transaction_hash])))

    def _keep(self, receipt: AnchorReceipt) -> AnchorReceipt:
        if receipt.found and receipt.events:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[receipt.transaction_hash] = receipt
        return receipt


METHOD = "eth_getTransactionReceipt"
