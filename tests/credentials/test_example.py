"""docs/examples/ stays a valid credential of the format, with the values the specification cites."""

from __future__ import annotations

import json
from pathlib import Path

from service.credentials import credential_digest, multikey, verify_credential
from service.credentials.canonical import from_hex32
from service.credentials.document import parse_datetime, recipient_matches
from service.credentials.merkle import leaf_hash
from tests.credentials.factory import FakeChain

DOCS = Path(__file__).resolve().parents[2] / "docs"


def load(name: str) -> dict[str, object]:
    document: dict[str, object] = json.loads((DOCS / "examples" / name).read_text(encoding="utf-8"))
    return document


def test_the_examples_verify_and_match_the_worked_example() -> None:
    spec = (DOCS / "credential-format.md").read_text(encoding="utf-8")
    full, shared = load("credential.json"), load("credential-shared.json")
    proof = full["proof"][0]
    assert isinstance(proof, dict)
    root, digest = from_hex32(proof["merkleRoot"]), credential_digest(full)
    chain = FakeChain(block_timestamp=int(parse_datetime("2027-01-01T00:00:00Z").timestamp()))
    chain.anchor(  # the FakeChain's accredited key is the development key of the issuer, the key that signed
        root,
        proof["issuerAddress"],
        tx_hash=from_hex32(proof["transactionHash"]),
        submitter="0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    )  # a relayer
    for document, disclosed in ((full, {"identifier", "name", "result"}), (shared, {"name"})):
        report = verify_credential(json.dumps(document), chain)
        assert report.valid, report.to_json_text()
        assert report.credential is not None and set(report.credential.disclosed) == disclosed
    assert credential_digest(shared) == digest
    for value in (digest.hex(), leaf_hash(digest).hex(), root.hex(), *[p[2:] for p in proof["merklePath"]]):
        assert value in spec
    signature = full["proof"][1]
    assert isinstance(signature, dict) and signature["type"] == "DataIntegrityProof"
    key = signature["verificationMethod"].partition("#")[2]
    for value in (signature["verificationMethod"], signature["proofValue"], multikey.key_hash_of(key).hex()):
        assert value in spec
    assert shared["proof"][1] == signature  # a shared copy carries the same signature
    assert recipient_matches(full, "jan.devries@example.org")
    assert not recipient_matches(shared, "jan.devries@example.org") and "identityHash" not in json.dumps(shared)
