"""Transaction fees as a relayer sets them: EIP-1559 from the node's fee history, under a cap, bumped to replace.

    fees = FeeOracle(w3, cap=FeeCap(max_fee=100 * GWEI))
    fresh = fees.suggest()                 # Fees(max_fee, priority_fee), or a legacy gas price
    higher = fees.replacement(fresh)       # both fields up by at least 12.5% (what nodes need to replace)

The suggestion is the next block's base fee (the last entry of `eth_feeHistory`) twice, plus the priority fee
the node suggests (`eth_maxPriorityFeePerGas`): it stays mineable while the base fee doubles. A chain without
EIP-1559 (no base fee in its history) gets a legacy gas price. Every figure is held under the cap: a
transaction whose fees reach the cap waits until the base fee comes down again, and the operator is warned.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from web3 import Web3

log = logging.getLogger(__name__)

GWEI = 10**9
BUMP_NUMERATOR, BUMP_DENOMINATOR = 1125, 1000  # +12.5%: geth's and anvil's minimum to replace a transaction


@dataclass(frozen=True)
class Fees:
    """What a transaction offers per gas, in wei. `priority_fee` None: a legacy transaction at `max_fee`."""

    max_fee: int
    priority_fee: int | None

    @property
    def legacy(self) -> bool:
        return self.priority_fee is None

    def fields(self) -> dict[str, int]:
        """The transaction fields (type 2, or legacy gasPrice)."""
        if self.priority_fee is None:
            return {"gasPrice": self.max_fee}
        return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.priority_fee}

    def __str__(self) -> str:
        if self.priority_fee is None:
            return f"gas price {self.max_fee / GWEI:.3f} gwei"
        return f"max fee {self.max_fee / GWEI:.3f} gwei, priority {self.priority_fee / GWEI:.3f} gwei"


@dataclass(frozen=True)
class FeeCap:
    """The most the relayer pays per gas (max fee), and per gas as a tip (priority fee)."""

    max_fee: int
    priority_fee: int

    def clamp(self, fees: Fees) -> Fees:
        priority = None if fees.priority_fee is None else min(fees.priority_fee, self.priority_fee, self.max_fee)
        return Fees(min(fees.max_fee, self.max_fee), priority)


def bumped(value: int) -> int:
    """`value` raised by 12.5%, rounded up (at least by 1 wei)."""
    return max(value + 1, -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR))


class FeeOracle:
    """Fee suggestions from the node, cached for `ttl` seconds (a burst of transactions asks once)."""

    def __init__(self, w3: Web3, cap: FeeCap, *, ttl: float = 1.0) -> None:
        self.w3 = w3
        self.cap = cap
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, Fees] | None = None
        self._eip1559: bool | None = None

    def suggest(self) -> Fees:
        """Fees for a new transaction now, under the cap.

        :raises OSError, ValueError: the node does not answer (web3's transport errors)."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.ttl:
                return self._cached[1]
            fees = self.cap.clamp(self._ask())
            self._cached = (time.monotonic(), fees)
            return fees

    def replacement(self, previous: Fees) -> Fees | None:
        """Fees to replace a transaction that offered `previous`: both fields at least 12.5% higher and at least
        today's suggestion; None when the cap leaves no room for a replacement a node would accept."""
        now = self.suggest()
        if previous.priority_fee is None or now.priority_fee is None:
            wanted = Fees(max(bumped(previous.max_fee), now.max_fee), None)
        else:
            priority = max(bumped(previous.priority_fee), now.priority_fee)
            wanted = Fees(max(bumped(previous.max_fee), now.max_fee, priority), priority)
        capped = self.cap.clamp(wanted)
        if capped.max_fee < bumped(previous.max_fee) or (
            capped.priority_fee is not None
            and previous.priority_fee is not None
            and capped.priority_fee < bumped(previous.priority_fee)
        ):
            log.warning(
                "fees: a replacement would exceed the cap (%s); the transaction waits at %s", self.cap_text(), previous
            )
            return None
        return capped

    def cap_text(self) -> str:
        return f"max fee {self.cap.max_fee / GWEI:g} gwei, priority {self.cap.priority_fee / GWEI:g} gwei"

    def _ask(self) -> Fees:
        if self._eip1559 is not False:
            history: Any = self.w3.eth.fee_history(1, "latest", [])
            base_fees = history.get("baseFeePerGas") or []
            if base_fees and base_fees[-1] is not None:
                self._eip1559 = True
                next_base = int(base_fees[-1])
                priority = int(self.w3.eth.max_priority_fee)
                return Fees(2 * next_base + priority, priority)
            self._eip1559 = False
            log.info("fees: the chain reports no base fee; legacy gas prices are used")
        return Fees(int(self.w3.eth.gas_price), None)
