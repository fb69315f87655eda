"""Sign and send transactions from a local account, and wait for them; reverts become TransactionReverted."""

from __future__ import annotations

from typing import Any, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxParams, TxReceipt


def gas_limit(estimate: int) -> int:
    """The gas limit for an estimate, with room for what estimation cannot see: a transaction mined
    a second later than estimated can write a new accreditation checkpoint instead of updating one
    (about 20k more). Unused gas is not charged."""
    return int(estimate) * 13 // 10 + 40_000


class TransactionReverted(RuntimeError):
    """A mined transaction failed (status 0)."""

    def __init__(self, tx_hash: HexBytes, receipt: TxReceipt):
        super().__init__(f"transaction {tx_hash.to_0x_hex()} reverted in block {receipt['blockNumber']}")
        self.tx_hash = tx_hash
        self.receipt = receipt


def send(w3: Web3, tx: dict[str, Any], account: LocalAccount, *, timeout: float = 120) -> TxReceipt:
    """Fill in chain id, nonce and gas, sign with `account`, send, and wait for the receipt.

    Gas estimation runs the transaction first, so a revert surfaces as web3's ContractCustomError
    (decode it with service.chain.errors.decode_revert) before anything is sent.
    """
    tx = {**tx, "from": account.address}
    tx.setdefault("chainId", w3.eth.chain_id)
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    if "gas" not in tx:
        tx["gas"] = gas_limit(w3.eth.estimate_gas(cast(TxParams, tx)))
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise TransactionReverted(HexBytes(tx_hash), receipt)
    return receipt
