"""Decode reverted calls and transactions into the contracts' custom errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from eth_abi import decode
from eth_typing import ABIError
from eth_utils import function_abi_to_4byte_selector
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError

_PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
    0x41: "out of memory",
}


@dataclass(frozen=True)
class DecodedRevert:
    """A revert reason: a custom error with its named arguments, `Error(string)`, or `Panic(uint256)`."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        inner = ", ".join(f"{key}={_show(value)}" for key, value in self.args.items())
        return f"{self.name}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _types(inputs: list[dict[str, Any]]) -> list[str]:
    out = []
    for item in inputs:
        if item["type"].startswith("tuple"):
            out.append("(" + ",".join(_types(item["components"])) + ")" + item["type"][5:])
        else:
            out.append(item["type"])
    return out


def revert_data(exc: BaseException | str | bytes) -> bytes | None:
    """The raw revert data carried by a web3 exception (or given directly)."""
    if isinstance(exc, (str, bytes)):
        return bytes(HexBytes(exc))
    data = getattr(exc, "data", None)
    if isinstance(data, dict):  # anvil puts the bytes in "data", ganache 7 in "result"
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes(HexBytes(data))
    return None


def decode_revert(exc: BaseException | str | bytes, error_abis: Iterable[dict[str, Any]]) -> DecodedRevert | None:
    """Match revert data against `error_abis` (and the builtin Error/Panic); None when it is unknown."""
    data = revert_data(exc)
    if data is None or len(data) < 4:
        message = getattr(exc, "message", None)
        if isinstance(exc, ContractLogicError) and message:
            return DecodedRevert("Error", {"message": str(message)})
        return None
    selector, body = data[:4], data[4:]
    if selector == bytes.fromhex("08c379a0"):
        return DecodedRevert("Error", {"message": decode(["string"], body)[0]})
    if selector == bytes.fromhex("4e487b71"):
        code = decode(["uint256"], body)[0]
        return DecodedRevert("Panic", {"code": code, "reason": _PANIC_CODES.get(code, "unknown")})
    for abi in error_abis:
        if function_abi_to_4byte_selector(cast(ABIError, abi)) == selector:
            values = decode(_types(abi["inputs"]), body)
            names = [item["name"] for item in abi["inputs"]]
            return DecodedRevert(abi["name"], dict(zip(names, values, strict=True)))
    return None
