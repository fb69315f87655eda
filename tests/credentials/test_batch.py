"""Preparing a cohort and attaching proofs after anchoring."""

from __future__ import annotations

import pytest

from service.credentials import Anchoring, FormatError, attach_proofs, credential_digest, prepare_batch
from service.credentials.merkle import verify_inclusion
from tests.credentials.factory import (
    CHAIN_ID,
    OTHER_ISSUER,
    OTHER_REGISTRY,
    REGISTRY,
    TX_HASH,
    drafts,
    profile,
    signed_anchor,
)


def test_prepare_and_attach() -> None:
    batch = prepare_batch(drafts(4))
    assert batch.count == 4 and batch.issuer == profile().address and batch.issuer_chain_id == CHAIN_ID
    credentials = attach_proofs(batch, Anchoring(CHAIN_ID, REGISTRY, batch.issuer, TX_HASH))
    for draft, digest, document in zip(batch.drafts, batch.digests, credentials, strict=True):
        proof = document["proof"][0]
        assert credential_digest(document) == digest == bytes.fromhex(proof["credentialDigest"][2:])
        assert verify_inclusion(batch.root, digest, [bytes.fromhex(p[2:]) for p in proof["merklePath"]])
        assert proof["merkleRoot"] == "0x" + batch.root.hex()
        assert proof["disclosures"] == [item.to_json() for item in draft.disclosures]
        assert "anchorSignature" not in proof
        assert {key: value for key, value in document.items() if key != "proof"} == draft.body
    credentials[0]["credentialSubject"]["achievement"]["name"] = "changed"
    assert batch.drafts[0].body["credentialSubject"]["achievement"]["name"] != "changed"  # copies, not shares


def test_plain_bodies_are_accepted() -> None:
    batch = prepare_batch([item.body for item in drafts(2)])
    assert all(not item.disclosures for item in batch.drafts)


def test_a_relayed_anchoring_carries_the_signature() -> None:
    batch = prepare_batch(drafts(2))
    signed = signed_anchor(batch)
    document = attach_proofs(batch, Anchoring(CHAIN_ID, REGISTRY, batch.issuer, TX_HASH, signed))[1]
    assert document["proof"][0]["anchorSignature"]["signature"] == "0x" + signed.signature.hex()
    assert document["proof"][0]["anchorSignature"]["count"] == 2


def test_cohorts_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one"):
        prepare_batch([])
    mixed = drafts(1) + drafts(1, issuer=profile(OTHER_ISSUER, "NHL Stenden"))
    with pytest.raises(ValueError, match="same issuer"):
        prepare_batch(mixed)
    same = drafts(1)
    with pytest.raises(ValueError, match="same digest"):
        prepare_batch(same + same)
    broken = drafts(1)[0].body
    broken["validFrom"] = "yesterday"
    with pytest.raises(FormatError, match="credential 1: validFrom"):
        prepare_batch([broken])


def test_attach_refuses_an_anchoring_that_does_not_fit() -> None:
    batch = prepare_batch(drafts(2))
    with pytest.raises(ValueError, match="anchoring was by"):
        attach_proofs(batch, Anchoring(CHAIN_ID, REGISTRY, OTHER_ISSUER.address, TX_HASH))
    with pytest.raises(ValueError, match="anchoring was by"):
        attach_proofs(batch, Anchoring(1, REGISTRY, batch.issuer, TX_HASH))
    with pytest.raises(ValueError, match="not for this batch"):
        attach_proofs(batch, Anchoring(CHAIN_ID, OTHER_REGISTRY, batch.issuer, TX_HASH, signed_anchor(batch)))
    other = prepare_batch(drafts(1))
    with pytest.raises(ValueError, match="not for this batch"):
        attach_proofs(batch, Anchoring(CHAIN_ID, REGISTRY, batch.issuer, TX_HASH, signed_anchor(other)))
