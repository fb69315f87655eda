"""Fees as the relayer sets them (service.chain.fees): EIP-1559 from the node's fee history on anvil and ganache,
legacy where a chain has no base fee, replacements at least 12.5% higher on both fields, never above the cap."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from service.chain.fees import GWEI, FeeCap, FeeOracle, Fees, bumped
from tests.chain import rpc

GENEROUS = FeeCap(max_fee=1_000 * GWEI, priority_fee=100 * GWEI)


def test_suggestion_is_eip1559_from_the_next_base_fee(w3: Web3, isolate: None) -> None:
    fees = FeeOracle(w3, GENEROUS, ttl=0).suggest()
    history: Any = w3.eth.fee_history(1, "latest", [])
    next_base = int(history["baseFeePerGas"][-1])
    assert not fees.legacy and fees.priority_fee == int(w3.eth.max_priority_fee)
    assert fees.max_fee == 2 * next_base + fees.priority_fee  # mineable while the base fee doubles
    assert set(fees.fields()) == {"maxFeePerGas", "maxPriorityFeePerGas"}


@pytest.mark.parametrize("chain", ["anvil"], indirect=True)  # only anvil can set the next block's base fee
def test_the_suggestion_follows_a_base_fee_spike(w3: Web3, isolate: None) -> None:
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(50 * GWEI))
    try:
        fees = FeeOracle(w3, GENEROUS, ttl=0).suggest()
    finally:
        rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(GWEI))
    assert fees.max_fee >= 100 * GWEI


def test_the_cap_holds_every_figure(w3: Web3, isolate: None) -> None:
    cap = FeeCap(max_fee=GWEI // 2, priority_fee=GWEI // 4)
    fees = FeeOracle(w3, cap, ttl=0).suggest()
    assert fees.max_fee == GWEI // 2 and fees.priority_fee == GWEI // 4


class _LegacyEth:
    """A node without EIP-1559: no base fee in its history."""

    gas_price = 7 * GWEI
    max_priority_fee = GWEI

    def fee_history(self, *_args: Any) -> dict[str, Any]:
        return {"baseFeePerGas": [], "gasUsedRatio": []}


class _LegacyWeb3:
    eth = _LegacyEth()


def test_a_chain_without_base_fee_gets_a_legacy_gas_price() -> None:
    oracle = FeeOracle(_LegacyWeb3(), GENEROUS, ttl=0)  # type: ignore[arg-type]
    fees = oracle.suggest()
    assert fees == Fees(7 * GWEI, None) and fees.fields() == {"gasPrice": 7 * GWEI}
    higher = oracle.replacement(fees)
    assert higher is not None and higher.legacy and higher.max_fee == bumped(7 * GWEI) == 7_875_000_000


def test_a_replacement_raises_both_fields_by_at_least_an_eighth(w3: Web3, isolate: None) -> None:
    oracle = FeeOracle(w3, GENEROUS, ttl=0)
    before = Fees(max_fee=40 * GWEI, priority_fee=2 * GWEI)
    after = oracle.replacement(before)
    assert after is not None
    assert after.max_fee * 1000 >= before.max_fee * 1125 and after.priority_fee * 1000 >= before.priority_fee * 1125
    assert after.max_fee >= after.priority_fee


def test_no_replacement_beyond_the_cap(w3: Web3, isolate: None) -> None:
    oracle = FeeOracle(w3, FeeCap(max_fee=10 * GWEI, priority_fee=2 * GWEI), ttl=0)
    assert oracle.replacement(Fees(max_fee=9_500_000_000, priority_fee=GWEI)) is None  # +12.5% passes the cap
    assert oracle.replacement(Fees(max_fee=8 * GWEI, priority_fee=GWEI)) == Fees(9 * GWEI, 1_125_000_000)


def test_bumped_rounds_up_and_moves_at_least_one_wei() -> None:
    assert bumped(8) == 9 and bumped(1) == 2 and bumped(1000) == 1125 and bumped(1001) == 1127
