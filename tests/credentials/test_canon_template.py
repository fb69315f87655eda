"""The signer's fast path (service/credentials/canon_template.py) writes exactly what full RDF canonicalization
writes, for every credential of a cohort, and falls back to it for anything else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from service.credentials import canon_template, integrity
from service.credentials.document import Graduate, build_credential
from tests.credentials.factory import DATA_ANALYTICS, NOW, profile

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "credential.json"


def _cohort(count: int, *, status: bool = True, grade: bool = True) -> list[dict[str, Any]]:
    """Bodies as the issuer builds them: fresh ids, disclosure digests and status entries for each graduate."""
    bodies = []
    for index in range(count):
        entry = {
            "id": f"https://hub.example/status/hanzehogeschool-groningen/1#{1000 + 7 * index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(1000 + 7 * index),
            "statusListCredential": "https://hub.example/status/hanzehogeschool-groningen/1",
        }
        draft = build_credential(
            issuer=profile(),
            programme=DATA_ANALYTICS,
            graduate=Graduate(email=f"g{index}@example.org", name=f"Graduate {index}", grade="7.5" if grade else None),
            valid_from=NOW,
            credential_status=entry if status else None,
            decoys=index % 3,
        )
        bodies.append(draft.body)
    return bodies


def _counting(calls: list[int]) -> canon_template.Canonicalize:
    def canonicalize(document: Any) -> str:
        calls.append(1)
        return integrity.canonicalize(document)

    return canonicalize


@pytest.mark.parametrize("status", [True, False])
def test_a_cohort_is_written_from_one_template_exactly_as_full_canonicalization(status: bool) -> None:
    bodies = _cohort(12, status=status)
    calls: list[int] = []
    fast = _counting(calls)
    for body in bodies:
        assert canon_template.canonical_nquads(body, fast) == integrity.canonicalize(body)
    # three shapes (0, 1, 2 decoys), each canonicalized twice to prove its template; no other full run
    assert len(calls) == 3 * 2


def test_values_or_shapes_it_cannot_template_are_canonicalized_in_full() -> None:
    body = _cohort(1)[0]
    odd_id = {**copy.deepcopy(body), "id": "urn:example:not-a-uuid"}
    odd_digest = copy.deepcopy(body)
    odd_digest["credentialSubject"]["disclosureDigests"][0] = "has:colon"
    # a status entry without an id is a blank node: its index would sit beside it, so no template
    blank = copy.deepcopy(body)
    del blank["credentialStatus"]["id"]
    for document in (odd_id, odd_digest, blank):
        calls: list[int] = []
        assert canon_template.canonical_nquads(document, _counting(calls)) == integrity.canonicalize(document)
        assert calls, "a full canonicalization"
    # two documents of that shape: the template is tried once and refused (a value beside a blank node), and
    # each document is canonicalized in full (an accepted template would take 2 calls in all)
    key_calls: list[int] = []
    counting = _counting(key_calls)
    other = {**copy.deepcopy(blank), "id": odd_id["id"].replace("urn:example:not-a-uuid", body["id"])}
    other["credentialSubject"] = {**other["credentialSubject"], "id": "urn:uuid:00000000-0000-4000-8000-000000000001"}
    for document in (blank, other):
        assert canon_template.canonical_nquads(document, counting) == integrity.canonicalize(document)
    assert len(key_calls) == 1 + 2


def test_signatures_made_on_the_fast_path_verify_in_full() -> None:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for body in _cohort(3):
        proof = integrity.sign(body, profile().signing_key, profile().verification_method, NOW)
        public = profile().signing_key.public_key().public_bytes_raw()
        assert integrity.verify(body, proof, public)
        changed = {**body, "id": document["id"]}
        assert not integrity.verify(changed, proof, public)
