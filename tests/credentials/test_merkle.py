"""Our cohort trees against the reference: the npm package @openzeppelin/merkle-tree, run with node."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from service.credentials.merkle import CohortTree, leaf_hash, process_proof, verify_inclusion

ROOT = Path(__file__).resolve().parents[2]
OZ_PACKAGE = ROOT / "node_modules" / "@openzeppelin" / "merkle-tree"

# For each cohort (a list of 0x-hex digests): the tree array, the root and each value's proof, as the
# reference library computes them.
OZ_SCRIPT = """
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const cohorts = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cohorts.map((digests) => {
  const tree = StandardMerkleTree.of(digests.map((d) => [d]), ["bytes32"]);
  return { root: tree.root, tree: tree.dump().tree, proofs: digests.map((_, i) => tree.getProof(i)) };
});
process.stdout.write(JSON.stringify(out));
"""


def openzeppelin(cohorts: list[list[bytes]]) -> list[dict[str, object]]:
    if not OZ_PACKAGE.exists() or shutil.which("node") is None:
        pytest.fail("node and @openzeppelin/merkle-tree are needed: run `npm ci`")
    result = subprocess.run(
        ["node", "-e", OZ_SCRIPT],
        input=json.dumps([["0x" + d.hex() for d in c] for c in cohorts]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    answer: list[dict[str, object]] = json.loads(result.stdout)
    return answer


def ours(digests: list[bytes]) -> dict[str, object]:
    tree = CohortTree(tuple(digests))
    return {
        "root": "0x" + tree.root.hex(),
        "tree": ["0x" + node.hex() for node in tree.nodes],
        "proofs": [["0x" + node.hex() for node in proof] for proof in tree.proofs()],
    }


def test_roots_trees_and_proofs_equal_the_reference_library() -> None:
    rng = random.Random(20260701)
    cohorts = [[rng.randbytes(32) for _ in range(size)] for size in [*range(1, 34), 63, 64, 65, 100, 257]]
    for digests, reference in zip(cohorts, openzeppelin(cohorts), strict=True):
        assert ours(digests) == reference, f"cohort of {len(digests)}"


@settings(max_examples=10, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True))
def test_random_cohorts_equal_the_reference_library(digests: list[bytes]) -> None:
    assert [ours(digests)] == openzeppelin([digests])


def test_the_tree_dump_loads_in_the_reference_format() -> None:
    digests = [bytes([i]) * 32 for i in range(1, 6)]
    dump = CohortTree(tuple(digests)).to_openzeppelin_json()
    assert dump["format"] == "standard-v1" and dump["leafEncoding"] == ["bytes32"]
    assert dump["tree"] == openzeppelin([digests])[0]["tree"]


def test_leaf_is_the_double_keccak_of_the_abi_encoded_digest() -> None:
    digest = bytes(range(32))
    assert leaf_hash(digest) == keccak(keccak(encode(["bytes32"], [digest])))
    assert leaf_hash(digest) == keccak(keccak(digest))  # abi.encode of a bytes32 is the word itself


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70, unique=True), st.data())
def test_every_proof_verifies_and_no_other_digest_does(digests: list[bytes], data: st.DataObject) -> None:
    tree = CohortTree(tuple(digests))
    index = data.draw(st.integers(0, len(digests) - 1))
    proof = tree.proof(index)
    assert verify_inclusion(tree.root, digests[index], proof)
    assert process_proof(digests[index], proof) == tree.root
    other = data.draw(st.binary(min_size=32, max_size=32).filter(lambda d: d != digests[index]))
    assert not verify_inclusion(tree.root, other, proof)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        broken = list(proof)
        broken[position] = bytes(b ^ 1 for b in broken[position])
        assert not verify_inclusion(tree.root, digests[index], broken)


def test_a_single_credential_is_its_own_root() -> None:
    tree = CohortTree((b"\x01" * 32,))
    assert tree.root == leaf_hash(b"\x01" * 32)
    assert tree.proof(0) == []


@pytest.mark.parametrize(
    ("digests", "message"),
    [
        ((), "at least one"),
        ((b"\x01" * 32, b"\x01" * 32), "same digest"),
        ((b"\x01" * 31,), "32 bytes"),
    ],
)
def test_bad_cohorts_are_refused(digests: tuple[bytes, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CohortTree(digests)


def test_proof_elements_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        process_proof(b"\x01" * 32, [b"\x02" * 31])
