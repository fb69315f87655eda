"""Test helpers for the chain: snapshots, time travel, revert assertions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from service.chain.errors import DecodedRevert, decode_revert


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method} failed: {response['error']}")
    return response["result"]


def snapshot(w3: Web3) -> Any:
    return rpc(w3, "evm_snapshot")


def revert_to(w3: Web3, snapshot_id: Any) -> None:
    assert rpc(w3, "evm_revert", snapshot_id), "evm_revert refused the snapshot"


def advance_time(w3: Web3, seconds: int) -> int:
    """Move the chain's clock forward by `seconds` and mine a block; return the new block timestamp."""
    rpc(w3, "evm_increaseTime", seconds)
    rpc(w3, "evm_mine")
    return int(w3.eth.get_block("latest")["timestamp"])


def latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


class RevertCapture:
    """What `reverts` caught: the decoded custom error, for further assertions."""

    decoded: DecodedRevert | None = None


@contextmanager
def reverts(contract: Contract, name: str, **expected_args: Any) -> Iterator[RevertCapture]:
    """Assert the block reverts with custom error `name` of `contract` (and with these argument values)."""
    capture = RevertCapture()
    with pytest.raises(ContractLogicError) as info:
        yield capture
    error_abis = [item for item in contract.abi if item["type"] == "error"]
    decoded = decode_revert(info.value, error_abis)
    assert decoded is not None, f"revert not decodable: {info.value!r}"
    assert decoded.name == name, f"expected {name}, reverted with {decoded}"
    for key, value in expected_args.items():
        assert key in decoded.args, f"{decoded} has no argument {key}"
        actual = decoded.args[key]
        if isinstance(value, str) and isinstance(actual, str):
            assert actual.lower() == value.lower(), f"{name}.{key}: expected {value}, got {actual}"
        else:
            assert actual == value, f"{name}.{key}: expected {value!r}, got {actual!r}"
    capture.decoded = decoded


PROPOSE_SIGNATURE = "propose((uint8,address,string,bytes32,(uint16,uint16,uint16,uint32,uint32)),string,bytes32)"


def propose_calldata(
    title: bytes,
    *,
    kind: int = 0,
    subject: str = "0x" + "00" * 20,
    name: bytes = b"",
    key_hash: bytes = b"\x00" * 32,
) -> str:
    """HubBoard.propose calldata encoded by hand: `title` and the action's `name` are any bytes, UTF-8 or not
    (web3's contract functions only take text), the document hash keccak(title)."""
    from eth_abi import encode
    from eth_utils import keccak

    arguments = encode(
        ["(uint8,address,bytes,bytes32,(uint16,uint16,uint16,uint32,uint32))", "bytes", "bytes32"],
        [(kind, subject, name, key_hash, (0, 0, 0, 0, 0)), title, keccak(title)],
    )
    return "0x" + (keccak(text=PROPOSE_SIGNATURE)[:4] + arguments).hex()
