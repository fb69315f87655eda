"""The registry's BatchAnchored log and the packed first word of its hub path (contracts/ICredentialRegistry.sol).

Every anchoring logs BatchAnchored as a log without topics (LOG0: an anonymous event Solidity cannot declare,
so it is not in the ABI) whose data is 52 bytes, the issuer's address (20 bytes) followed by the root (32 bytes).
It is the registry's only log without topics: every declared event has its signature hash as first topic. So a
log of the registry is an anchoring exactly when it has no topics, and it is found by reading the registry's
logs and filtering on the data (a node cannot filter on data). Topics were given up for gas (issue 12): 791 gas
for the log, where the issuer and the root as indexed topics cost 1,500.

The hub's path, `anchorFor_oC8da(uint256 issuerAndCount, bytes32 root)` (its name mined for the selector
0x0000003f), takes the issuer and the batch's count in one word: the issuer in the low 160 bits, the count above.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import to_checksum_address

EVENT_NAME = "BatchAnchored"
DATA_LENGTH = 52  # issuer (20 bytes) ‖ root (32 bytes)

ANCHOR_FOR = "anchorFor_oC8da"  # the registry function of the hub's path (see the module's docstring)
ANCHOR_FOR_SELECTOR = bytes.fromhex("0000003f")
ISSUER_BITS = 160
MAX_COUNT = 2**32 - 1  # a batch's count is 32 bits on chain: the registry refuses more (RegistryBatchTooLarge)


def decode_batch_anchored(topics: Sequence[bytes], data: bytes) -> tuple[str, bytes] | None:
    """(issuer as a checksum address, root) of a registry log that is a BatchAnchored; None for any other log
    (one with topics, or data of another length)."""
    if topics or len(data) != DATA_LENGTH:
        return None
    return to_checksum_address(data[:20]), bytes(data[20:])


def issuer_and_count(issuer: str, count: int) -> int:
    """The first argument of anchorFor_oC8da: `count << 160 | issuer`. A count of 0 or above MAX_COUNT is
    encoded as it is, for the registry to refuse (RegistryEmptyBatch, RegistryBatchTooLarge).

    :raises ValueError: for a count that does not fit the word's 96 bits above the issuer.
    """
    if not 0 <= count < 2 ** (256 - ISSUER_BITS):
        raise ValueError(f"a count of {count} does not fit anchorFor's word")
    return (count << ISSUER_BITS) | int(to_checksum_address(issuer), 16)
