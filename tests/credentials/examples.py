"""Writes docs/examples/credential.json and credential-shared.json, and prints the worked example's values
(docs/credential-format.md section 9).

    .venv/bin/python -m tests.credentials.examples          # rewrite the examples, print the values

The example is one credential of a cohort of three: the other two are represented by the Merkle path's
sibling hashes alone, so only this credential is written. Every salt and id is fixed, so the output is
the same on every run; the anchoring signature is made with the development key of anvil's account 1
(the example runs on a local chain 31337).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils import keccak

from service.chain.devchain import dev_accounts
from service.credentials import integrity, multikey
from service.credentials.batch import disclosures_of
from service.credentials.canonical import canonical_json, credential_body, credential_digest, to_hex32, with_proof
from service.credentials.disclosure import Disclosure, select_disclosures
from service.credentials.document import IDENTIFIER_CLAIM, PROOF_TYPE, IssuerProfile, identity_object, issuer_slug
from service.credentials.merkle import leaf_hash
from service.credentials.signature import AnchorRequest, SignedAnchor
from service.issuing.identity import did_web
from service.issuing.signing_keys import dev_signing_key

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EMAIL = "jan.devries@example.org"
IDENTITY_SALT = "i_WS2bWeIP3fIyJU0YdKGQ"
DISCLOSURES = (
    Disclosure("pQ3vN8kZr1TyH6bW0sLm4g", IDENTIFIER_CLAIM, [identity_object(EMAIL, IDENTITY_SALT)]),
    Disclosure("R-34TNtCDerrNDPcnFjI9g", "name", "Jan de Vries"),
    Disclosure(
        "G2dlEWJo8qelOR66JfyDbg",
        "result",
        [
            {
                "type": ["Result"],
                "resultDescription": "urn:ithub-hoogeveen:programme:miw-data-analytics:grade",
                "value": "8.0",
            }
        ],
    ),
)
DECOY = "LQr8A7rT_grQZQF45fN_P7M66HREAHLg5Oew2hM60kw"
SUBJECT_ID = "urn:uuid:9b2e4f61-7c3a-4d85-b1e0-5a6f8c2d7e94"  # random, per credential: names nobody
# The sibling hashes of the other two credentials of the cohort (a leaf, then a node).
SIBLINGS = (
    "0x4430359574ca2e3b2ff2e143036e48ca4fd5ed5eefa46a6192c91b5ab5906d1c",
    "0xe69cfd168c583977749245c7507379728777547e658976c583319a3f34818089",
)
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TRANSACTION = "0x504900a57099575340687615802ecb3309dcf252b856557fcb01f0c95d7b7e1b"
DEADLINE = 1893456000
DOMAIN = ("IT Hub Hoogeveen CredentialRegistry", "1")
SHARED_CLAIMS = ("name",)
HUB_URL = "https://ithubhoogeveen.nl"
SIGNED_AT = datetime(2026, 7, 1, tzinfo=UTC)  # the Data Integrity proof's `created`
ISSUER_ACCOUNT = dev_accounts(2)[1]
ISSUER_PROFILE = IssuerProfile(
    ISSUER_ACCOUNT.address,
    31337,
    "Hanzehogeschool Groningen",
    "https://www.hanze.nl",
    did=did_web(HUB_URL, issuer_slug("Hanzehogeschool Groningen")),
    signing_key=dev_signing_key(ISSUER_ACCOUNT.address),
)


def _body(previous: dict[str, Any]) -> dict[str, Any]:
    body = credential_body(previous)
    subject = dict(body["credentialSubject"])
    subject.pop(IDENTIFIER_CLAIM, None)
    subject.pop("id", None)
    digests = sorted([item.digest for item in DISCLOSURES] + [DECOY])
    body["credentialSubject"] = {"id": SUBJECT_ID, **subject, "disclosureDigests": digests}
    issuer = dict(body["issuer"])
    issuer.pop("otherIdentifier", None)
    body["issuer"] = {**issuer, **ISSUER_PROFILE.to_json()}
    return body


def _fold(leaf: bytes, path: tuple[str, ...]) -> bytes:
    node = leaf
    for sibling in path:
        other = bytes.fromhex(sibling[2:])
        node = keccak(min(node, other) + max(node, other))
    return node


def build() -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    previous = json.loads((EXAMPLES / "credential.json").read_text(encoding="utf-8"))
    body = _body(previous)
    digest = credential_digest(body)
    leaf = leaf_hash(digest)
    root = _fold(leaf, SIBLINGS)
    issuer = ISSUER_ACCOUNT
    request = AnchorRequest(
        domain_name=DOMAIN[0],
        domain_version=DOMAIN[1],
        chain_id=31337,
        registry=REGISTRY,
        root=root,
        count=3,
        metadata_hash=b"\x00" * 32,
        issuer=issuer.address,
        nonce=0,
        deadline=DEADLINE,
    )
    signed = SignedAnchor(request, request.sign(issuer.key))
    proof = {
        "type": PROOF_TYPE,
        "credentialDigest": to_hex32(digest),
        "merkleRoot": to_hex32(root),
        "merklePath": list(SIBLINGS),
        "chainId": 31337,
        "registry": REGISTRY,
        "issuerAddress": issuer.address,
        "transactionHash": TRANSACTION,
        "anchorSignature": signed.to_proof_json(),
        "disclosures": [item.to_json() for item in DISCLOSURES],
    }
    message = encode_typed_data(full_message=request.typed_data())
    signature = integrity.sign(body, ISSUER_PROFILE.signing_key, ISSUER_PROFILE.verification_method, SIGNED_AT)
    full = with_proof(body, proof, signature)
    shared = select_disclosures(full, SHARED_CLAIMS)
    assert [item.name for item in disclosures_of(shared)] == list(SHARED_CLAIMS)
    values = {
        "body bytes": str(len(canonical_json(body))),
        "digest": to_hex32(digest),
        "first keccak": to_hex32(keccak(digest)),
        "leaf": to_hex32(leaf),
        "after first sibling": to_hex32(_fold(leaf, SIBLINGS[:1])),
        "root": to_hex32(root),
        "name disclosure digest": DISCLOSURES[1].digest,
        "identifier disclosure digest": DISCLOSURES[0].digest,
        "signature": proof["anchorSignature"]["signature"],
        "domain separator": "0x" + bytes(message.header).hex(),
        "struct hash": "0x" + bytes(message.body).hex(),
        "signed digest": "0x" + keccak(b"\x19\x01" + bytes(message.header) + bytes(message.body)).hex(),
        "issuer key": ISSUER_PROFILE.verification_method.partition("#")[2],
        "issuer key hash": to_hex32(multikey.key_hash_of(ISSUER_PROFILE.verification_method.partition("#")[2])),
        "proofValue": signature["proofValue"],
    }
    return full, shared, values


def main() -> None:
    full, shared, values = build()
    for name, document in (("credential.json", full), ("credential-shared.json", shared)):
        (EXAMPLES / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for key, value in values.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
