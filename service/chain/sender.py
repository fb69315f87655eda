"""A transaction sender that is safe under concurrency: one serialized nonce per sending account.

Threads (FastAPI runs `def` routes in a thread pool) call `send`. Nonces are assigned under a lock, in
order, from a local counter seeded from the chain's pending count; the receipt is awaited outside the
lock so many transactions can be in flight. Recovery:
- "nonce too low" / "already known" when sending: the counter is re-read from the chain and the
  transaction re-signed with the fresh nonce (bounded retries);
- a transaction that is not mined within `resend_after` seconds (dropped by the node) is broadcast
  again, the same signed bytes, so it can never be mined twice;
- the node goes away while a transaction waits for its receipt, or it is not mined in `receipt_timeout`:
  the counter is re-read from the chain at the next send, since a restarted node may have lost its
  mempool (anvil does) and a counter running ahead would leave a gap no later transaction could pass;
- a transaction that reverts in gas estimation consumes no nonce and raises ChainRejected with the
  contract's decoded custom error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxParams, TxReceipt

from service.chain.errors import decode_revert
from service.chain.transactions import gas_limit
from service.errors import ChainRejected, ChainUnavailable

log = logging.getLogger(__name__)

_NONCE_ERRORS = ("nonce too low", "already known", "replacement transaction underpriced", "nonce has already been used",
                 "the tx doesn't have the correct nonce", "already imported")


class SendFailed(RuntimeError):
    """A mined transaction reverted (status 0) or could not be sent after retries."""

    def __init__(self, message: str, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class TransactionSender:
    """Sends transactions from one account; see the module docstring for the guarantees."""

    def __init__(self, w3: Web3, account: LocalAccount, *, error_abis: Iterable[dict[str, Any]] = (),
                 confirmations: int = 0, receipt_timeout: float = 120, resend_after: float = 15,
                 max_nonce_retries: int = 5) -> None:
        self.w3 = w3
        self.account = account
        self.error_abis = list(error_abis)
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self.resend_after = resend_after
        self.max_nonce_retries = max_nonce_retries
        self._lock = threading.Lock()
        self._next_nonce: int | None = None
        self._chain_id: int | None = None

    @property
    def address(self) -> str:
        return self.account.address

    def resync(self) -> None:
        """Forget the local nonce counter; the next send re-reads it from the chain."""
        with self._lock:
            self._next_nonce = None

    def send(self, tx: dict[str, Any]) -> TxReceipt:
        """Sign and send `tx` (to, data, value...), wait for its receipt and the configured confirmations.

        :raises ChainRejected: the contract refuses it (decoded custom error); no nonce is used.
        :raises ChainUnavailable: the node does not answer.
        :raises SendFailed: it was mined but reverted, or could not be sent after retries.
        """
        tx_hash, raw = self._sign_and_send(tx)
        try:
            receipt = self._await_receipt(tx_hash, raw)
        except (ConnectionError, OSError) as exc:  # requests' errors are OSErrors
            self.resync()
            raise ChainUnavailable.no_answer(exc, f"eth_getTransactionReceipt({tx_hash.to_0x_hex()})") from exc
        except SendFailed:
            self.resync()
            raise
        if receipt["status"] != 1:
            raise SendFailed(f"transaction {tx_hash.to_0x_hex()} reverted in block {receipt['blockNumber']}",
                             tx_hash.to_0x_hex())
        self._await_confirmations(receipt)
        return receipt

    # ------------------------------------------------------------------ internals

    def _sign_and_send(self, tx: dict[str, Any]) -> tuple[HexBytes, bytes]:
        tx = {**tx, "from": self.account.address}
        for attempt in range(self.max_nonce_retries + 1):
            with self._lock:
                try:
                    if self._chain_id is None:
                        self._chain_id = self.w3.eth.chain_id
                    if self._next_nonce is None:
                        self._next_nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
                    full = {**tx, "chainId": self._chain_id, "nonce": self._next_nonce}
                    if "gas" not in full:
                        full["gas"] = self._estimate(full)
                    if "gasPrice" not in full and "maxFeePerGas" not in full:
                        full["gasPrice"] = self.w3.eth.gas_price
                    signed = self.account.sign_transaction(full)
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                    self._next_nonce += 1
                    return HexBytes(tx_hash), bytes(signed.raw_transaction)
                except Web3RPCError as exc:
                    if not _is_nonce_error(exc) or attempt == self.max_nonce_retries:
                        raise
                    log.warning("nonce %s refused (%s); re-reading the nonce", self._next_nonce, exc)
                    self._next_nonce = None
                except (ConnectionError, OSError) as exc:
                    self._next_nonce = None
                    raise ChainUnavailable.no_answer(exc) from exc
        raise SendFailed("could not find a usable nonce")  # pragma: no cover - loop always returns or raises

    def _estimate(self, tx: dict[str, Any]) -> int:
        try:
            estimate = self.w3.eth.estimate_gas(cast(TxParams, {k: v for k, v in tx.items() if k != "nonce"}))
        except ContractLogicError as exc:
            decoded = decode_revert(exc, self.error_abis)
            if decoded is None:
                raise
            raise ChainRejected(decoded) from exc
        return gas_limit(estimate)

    def _await_receipt(self, tx_hash: HexBytes, raw: bytes) -> TxReceipt:
        deadline = time.monotonic() + self.receipt_timeout
        next_resend = time.monotonic() + self.resend_after
        delay = 0.005
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                pass
            now = time.monotonic()
            if now > deadline:
                raise SendFailed(f"transaction {tx_hash.to_0x_hex()} was not mined in {self.receipt_timeout:.0f} s",
                                 tx_hash.to_0x_hex())
            if now > next_resend:
                self._rebroadcast(tx_hash, raw)
                next_resend = now + self.resend_after
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _rebroadcast(self, tx_hash: HexBytes, raw: bytes) -> None:
        """Send the same signed bytes again: a dropped transaction returns, a known one is a no-op."""
        try:
            self.w3.eth.send_raw_transaction(raw)
            log.warning("re-broadcast %s, not mined yet", tx_hash.to_0x_hex())
        except Web3RPCError as exc:
            if not _is_nonce_error(exc):
                raise

    def _await_confirmations(self, receipt: TxReceipt) -> None:
        if self.confirmations <= 0:
            return
        target = receipt["blockNumber"] + self.confirmations
        while self.w3.eth.block_number < target:
            time.sleep(0.2)


def _is_nonce_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _NONCE_ERRORS)
