"""The registry's `verify` view as one raw `eth_call` through JsonRpc, decoded with eth_abi from the
committed ABI (about 0.3 ms of CPU, against about 6 for web3's contract call)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from functools import lru_cache
from typing import Any

import eth_abi
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from service.chain.artifacts import load_artifact
from service.chain.jsonrpc import JsonRpc, JsonRpcError
from service.credentials.facts import AnchorMode, CredentialStatus
from service.errors import ChainUnavailable


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@lru_cache(maxsize=1024)
def checksummed(address: str) -> str:
    return str(to_checksum_address(address))


Key = tuple[str, bytes, bytes, tuple[bytes, ...]]  # the verifier's question: (issuer, root, digest, Merkle path)


class RegistryView:
    """The registry's `verify(issuer, root, credentialDigest, proof)` view as one raw `eth_call` (see JsonRpc).

    Calldata and answer are encoded and decoded with eth_abi from the committed ABI
    (artifacts/CredentialRegistry.json); the answer is the same CredentialStatus as
    RegistryClient.verify gives (tests/api/test_verify_api.py compares them on a node).
    """

    def __init__(self, rpc: JsonRpc, address: str) -> None:
        self.rpc = rpc
        self.address = to_checksum_address(address)
        function = next(
            item
            for item in load_artifact("CredentialRegistry").abi
            if item.get("type") == "function" and item.get("name") == "verify"
        )
        self._inputs = [item["type"] for item in function["inputs"]]
        self._selector = function_signature_to_4byte_selector(f"verify({','.join(self._inputs)})")
        (output,) = function["outputs"]
        self._components = [item["type"] for item in output["components"]]
        self._output = "(" + ",".join(self._components) + ")"
        known = {item.name for item in fields(CredentialStatus)}
        self._names = [_snake(item["name"]) for item in output["components"]]
        missing = known - set(self._names)
        if missing:
            raise ValueError(f"the ABI's verify() answer lacks {sorted(missing)}")

    def verify(
        self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], *, block: int | str = "latest"
    ) -> CredentialStatus:
        """The registry's answer for one credential at `block` (a number, or "latest").

        :raises ChainUnavailable: when the node does not answer, or there is no registry at the address.
        """
        params = self._params(issuer, root, digest, proof, block)
        try:
            result = self.rpc.call("eth_call", params)
        except JsonRpcError as exc:
            raise ChainUnavailable(f"{self.address} is not a CredentialRegistry ({exc})") from exc
        return self._decode(result)

    def _decode_fast(self, raw: bytes) -> tuple[Any, ...] | None:
        """The answer tuple decoded by hand when it holds only bool, address, uintN, bytes32 and one string (as
        CredentialStatus does), with the checks eth_abi's strict decoder makes; None for other shapes."""
        types = self._components
        if not all(
            kind in ("bool", "address", "string", "bytes32") or re.fullmatch(r"uint(8|16|32|48|64|128|256)", kind)
            for kind in types
        ) or len(raw) < 32 * (1 + len(types)):
            return None
        if int.from_bytes(raw[:32], "big") != 32:  # the tuple is dynamic: its offset comes first
            raise ValueError("unexpected offset of the answer")
        head = raw[32:]
        values: list[Any] = []
        for index, kind in enumerate(types):
            word = head[32 * index : 32 * index + 32]
            number = int.from_bytes(word, "big")
            if kind == "bool":
                if number > 1:
                    raise ValueError("not a bool")
                values.append(bool(number))
            elif kind == "address":
                if number >> 160:
                    raise ValueError("not an address")
                values.append("0x" + word[12:].hex())
            elif kind == "bytes32":
                values.append(bytes(word))
            elif kind == "string":
                if number % 32 or number + 32 > len(head):
                    raise ValueError("bad string offset")
                length = int.from_bytes(head[number : number + 32], "big")
                if number + 32 + length > len(head):
                    raise ValueError("string runs past the answer")
                values.append(head[number + 32 : number + 32 + length].decode("utf-8"))
            else:
                if number >> int(kind[4:]):
                    raise ValueError(f"not a {kind}")
                values.append(number)
        return tuple(values)

    async def averify(
        self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], *, block: int | str = "latest"
    ) -> CredentialStatus:
        """The same, on the event loop.

        :raises ChainUnavailable: as `verify`.
        """
        params = self._params(issuer, root, digest, proof, block)
        try:
            result = await self.rpc.acall("eth_call", params)
        except JsonRpcError as exc:
            raise ChainUnavailable(f"{self.address} is not a CredentialRegistry ({exc})") from exc
        return self._decode(result)

    def _params(self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], block: int | str) -> list[Any]:
        address = bytes.fromhex(issuer[2:]) if issuer.startswith("0x") and len(issuer) == 42 else b""
        if (
            self._inputs == ["address", "bytes32", "bytes32", "bytes32[]"]
            and len(address) == 20
            and all(len(item) == 32 for item in (root, digest, *proof))
        ):
            # the ABI encoding written out: three words, the array's offset (4 words) and length, its words
            data = b"".join(
                (
                    self._selector,
                    address.rjust(32, b"\x00"),
                    root,
                    digest,
                    (128).to_bytes(32, "big"),
                    len(proof).to_bytes(32, "big"),
                    *proof,
                )
            )
        else:
            data = self._selector + eth_abi.encode(self._inputs, [issuer, root, digest, list(proof)])
        return [{"to": self.address, "data": "0x" + data.hex()}, hex(block) if isinstance(block, int) else block]

    def _decode(self, result: Any) -> CredentialStatus:
        raw = bytes.fromhex(result[2:]) if isinstance(result, str) and result.startswith("0x") else b""
        if not raw:
            raise ChainUnavailable(f"no CredentialRegistry at {self.address}")
        try:
            values = self._decode_fast(raw)
            if values is None:
                (values,) = eth_abi.decode([self._output], raw)
        except Exception as exc:  # noqa: BLE001 - eth_abi raises several types for malformed data
            raise ChainUnavailable(f"{self.address} is not a CredentialRegistry: {exc}") from exc
        answer = dict(zip(self._names, values, strict=True))
        answer["issuer"] = checksummed(answer["issuer"])
        answer["anchor_mode"] = AnchorMode(answer["anchor_mode"])
        return CredentialStatus(**{item.name: answer[item.name] for item in fields(CredentialStatus)})
