"""Cohort Merkle trees: OpenZeppelin's StandardMerkleTree with the single leaf type `bytes32`.

    leaf   = keccak256(bytes.concat(keccak256(abi.encode(bytes32 credentialDigest))))
    parent = keccak256(sorted(a, b))          (sorted-pair hashing, MerkleProof.verify)

Leaves are sorted by hash and laid out as OpenZeppelin's array tree (root at index 0, leaf i of the
sorted leaves at index len(tree) - 1 - i), so the root and every proof equal those of the npm
package @openzeppelin/merkle-tree (cross-checked in tests/credentials/test_merkle.py). The tree is
built by the PyPI package `murky-tree`, a port of that npm package; this module only fixes the leaf
type and speaks bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from murky_tree import StandardMerkleTree
from murky_tree.core import get_proof
from murky_tree.merkletree import build_tree

from service.credentials.canonical import keccak

LEAF_ENCODING = ["bytes32"]


def leaf_hash(digest: bytes) -> bytes:
    """The leaf committing to `digest` (the contract's `leafOf`): standard_leaf_hash([digest], ["bytes32"]),
    where abi.encode of one bytes32 is its 32 bytes."""
    _check32(digest, "digest")
    return keccak(keccak(digest))


def process_proof(digest: bytes, path: Sequence[bytes]) -> bytes:
    """The root implied by `digest` and its Merkle `path` (MerkleProof.processProof: sorted pairs).

    The verifier's hot path, so hashed here with the fast keccak rather than through murky-tree (the
    same function: tests/credentials/test_merkle.py checks both against @openzeppelin/merkle-tree).
    """
    for node in path:
        _check32(node, "proof element")
    node = leaf_hash(digest)
    for sibling in path:
        node = keccak(node + sibling if node < sibling else sibling + node)
    return node


def verify_inclusion(root: bytes, digest: bytes, path: Sequence[bytes]) -> bool:
    """Whether `path` shows `digest` to be a leaf of the tree with `root` (MerkleProof.verify)."""
    return process_proof(digest, path) == root


@dataclass(frozen=True)
class CohortTree:
    """The Merkle tree of one cohort's credential digests."""

    digests: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.digests:
            raise ValueError("a cohort needs at least one credential")
        for digest in self.digests:
            _check32(digest, "digest")
        if len(set(self.digests)) != len(self.digests):
            raise ValueError("two credentials of the cohort have the same digest")

    @cached_property
    def _tree(self) -> StandardMerkleTree[Any]:
        # StandardMerkleTree.of, with the leaf and pair hashes computed by the fast keccak (the same values).
        values = [[digest] for digest in self.digests]
        leaves = [leaf_hash(digest) for digest in self.digests]
        tree, indexed = build_tree(values, leaves, True, _hash_pair)
        return StandardMerkleTree(tree, indexed, LEAF_ENCODING, _leaf_hashes=leaves)

    @property
    def root(self) -> bytes:
        return bytes(self._tree.tree[0])

    @property
    def nodes(self) -> list[bytes]:
        """The whole tree as OpenZeppelin's array (root first)."""
        return [bytes(node) for node in self._tree.tree]

    def proof(self, index: int) -> list[bytes]:
        """The Merkle path of the `index`-th digest (in the order given), leaf to root.

        Read off the built tree (murky-tree's core `get_proof`); StandardMerkleTree.get_proof would also
        re-hash the leaf and re-check the path, a second pass that costs seconds for a 10,000 cohort."""
        if not 0 <= index < len(self.digests):
            raise IndexError(f"the cohort has {len(self.digests)} credentials, no index {index}")
        return [bytes(node) for node in get_proof(self._tree.tree, self._tree.values[index].tree_index)]

    def proofs(self) -> list[list[bytes]]:
        return [self.proof(index) for index in range(len(self.digests))]

    def to_openzeppelin_json(self) -> dict[str, Any]:
        """The tree in @openzeppelin/merkle-tree's `StandardMerkleTree.dump()` format (standard-v1)."""
        return dict(self._tree.to_json())


def _hash_pair(a: bytes, b: bytes) -> bytes:
    """murky-tree's hash_pair (sorted pair, keccak256) with the fast keccak."""
    return keccak(a + b if a < b else b + a)


def _check32(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise ValueError(f"a {what} must be 32 bytes")
