"""service.credentials.integrity reproduces the W3C vc-di-eddsa test vectors for eddsa-rdfc-2022 byte for
byte (canonical document, canonical proof configuration, both hashes, signature, proofValue, signed
credential), refuses contexts that are not bundled and terms expansion would drop, and a tampered copy fails."""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.credentials import integrity, multikey

VECTORS = Path(__file__).with_name("vectors")
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
CITIZENSHIP_CONTEXT = "https://w3id.org/citizenship/v4rc1"
# (unsigned document, directory of the expected values, the extra context the document uses)
SETS = {
    "alumni": ("unsigned.json", "eddsa-rdfc-2022", EXAMPLES_CONTEXT, "credentials-examples-v2.jsonld"),
    "employment": ("employmentAuth.json", "eddsa-rdfc-2022/employ", CITIZENSHIP_CONTEXT, "citizenship-v4rc1.jsonld"),
}


def _json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


def _key_pair() -> tuple[Ed25519PrivateKey, bytes]:
    pair = _json("keyPair.json")
    secret = base58.b58decode(pair["privateKeyMultibase"][1:])
    assert secret[:2] == multikey.ED25519_PRIV_PREFIX and len(secret) == 34
    key = Ed25519PrivateKey.from_private_bytes(secret[2:])
    public = multikey.decode_public(pair["publicKeyMultibase"])
    return key, public


@pytest.fixture(params=sorted(SETS))
def vector(request: pytest.FixtureRequest) -> dict[str, Any]:
    unsigned, folder, url, context_file = SETS[request.param]
    return {
        "document": _json(unsigned),
        "dir": folder,
        "loader": integrity.document_loader({url: _json(context_file)}),
    }


def test_canonical_document_and_proof_configuration(vector: dict[str, Any]) -> None:
    folder, loader = vector["dir"], vector["loader"]
    config = _json(f"{folder}/proofConfigDataInt.json")
    assert integrity.canonicalize(vector["document"], loader) == _text(f"{folder}/canonDocDataInt.txt")
    assert integrity.canonicalize(config, loader) == _text(f"{folder}/proofCanonDataInt.txt")
    # the configuration integrity.sign writes is the vector's
    signed = _json(f"{folder}/signedDataInt.json")
    assert integrity.proof_config(vector["document"], signed["proof"]) == config


def test_hashes_signature_and_proof_value(vector: dict[str, Any]) -> None:
    folder, loader = vector["dir"], vector["loader"]
    key, _ = _key_pair()
    config = _json(f"{folder}/proofConfigDataInt.json")
    created = datetime.fromisoformat(config["created"].replace("Z", "+00:00"))
    proof_hash = hashlib.sha256(integrity.canonicalize(config, loader).encode()).hexdigest()
    doc_hash = hashlib.sha256(integrity.canonicalize(vector["document"], loader).encode()).hexdigest()
    assert proof_hash == _text(f"{folder}/proofHashDataInt.txt").strip()
    assert doc_hash == _text(f"{folder}/docHashDataInt.txt").strip()
    data = integrity.hash_data(vector["document"], config, loader)
    assert data.hex() == _text(f"{folder}/combinedHashDataInt.txt").strip()

    proof = integrity.sign(vector["document"], key, config["verificationMethod"], created, loader=loader)
    assert integrity.decode_proof_value(proof["proofValue"]).hex() == _text(f"{folder}/sigHexDataInt.txt").strip()
    assert proof["proofValue"] == _text(f"{folder}/sigBTC58DataInt.txt").strip()
    assert {**vector["document"], "proof": proof} == _json(f"{folder}/signedDataInt.json")


def test_the_signed_vector_verifies_and_tampering_fails(vector: dict[str, Any]) -> None:
    folder, loader = vector["dir"], vector["loader"]
    _, public = _key_pair()
    signed = _json(f"{folder}/signedDataInt.json")
    assert integrity.verify(signed, signed["proof"], public, loader=loader) is True

    tampered = copy.deepcopy(signed)
    tampered["validFrom"] = "2023-01-02T00:00:00Z"
    assert integrity.verify(tampered, tampered["proof"], public, loader=loader) is False

    later = copy.deepcopy(signed)
    later["proof"]["created"] = "2023-02-24T23:36:39Z"  # the proof configuration is signed too
    assert integrity.verify(later, later["proof"], public, loader=loader) is False

    flipped = bytearray(integrity.decode_proof_value(signed["proof"]["proofValue"]))
    flipped[0] ^= 1
    forged = {**signed["proof"], "proofValue": "z" + base58.b58encode(bytes(flipped)).decode()}
    assert integrity.verify(signed, forged, public, loader=loader) is False

    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert integrity.verify(signed, signed["proof"], other, loader=loader) is False


def test_contexts_are_only_the_bundled_copies() -> None:
    """The vectors' example context is not on the service's allowlist: the default loader refuses it (and
    fetches nothing)."""
    document = _json("unsigned.json")
    # first canonicalized where a loader serves the example context (as the vector tests do), in this process:
    # PyLD's process-wide context cache must not let the default loader take it afterwards
    assert integrity.canonicalize(
        document, loader=integrity.document_loader({EXAMPLES_CONTEXT: _json("credentials-examples-v2.jsonld")})
    )
    with pytest.raises(integrity.ContextNotAllowed, match="examples/v2.*never fetched"):
        integrity.canonicalize(document)
    with pytest.raises(integrity.ContextNotAllowed):
        integrity.bundled_context("https://evil.example/context.jsonld")
    for url in integrity.BUNDLED_CONTEXTS:
        assert "@context" in integrity.bundled_context(url)


def _vc_only(**members: Any) -> dict[str, Any]:
    return {
        "@context": [integrity.VC_CONTEXT],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential"],
        "issuer": "did:web:example.org",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh"},
        **members,
    }


def test_terms_expansion_would_drop_are_refused() -> None:
    key, _ = _key_pair()
    assert "credentialSubject" in integrity.canonicalize(_vc_only())  # the baseline canonicalizes
    with pytest.raises(integrity.UndefinedTerm, match="not defined"):
        integrity.canonicalize(_vc_only(favouriteColour="blue"))
    with pytest.raises(integrity.UndefinedTerm, match="not defined"):
        integrity.sign(_vc_only(type=["VerifiableCredential", "AlumniCredential"]), key, "did:web:x#k")
    with pytest.raises(integrity.UndefinedTerm, match="not defined"):
        integrity.canonicalize(_vc_only(credentialSubject={"id": "did:example:a", "alumniOf": "x"}))
    with pytest.raises(integrity.UndefinedTerm, match="absolute IRI"):
        integrity.canonicalize(_vc_only(id="relative/id"))


def test_control_characters_pyld_escapes_differently_are_refused() -> None:
    assert "\\n" in integrity.canonicalize(_vc_only(name="line\nbreak"))  # escaped alike by both
    with pytest.raises(integrity.IntegrityError, match="U\\+0008"):
        integrity.canonicalize(_vc_only(name="back\bspace"))


def test_malformed_proofs_are_refused() -> None:
    key, public = _key_pair()
    document = _vc_only()
    proof = integrity.sign(document, key, "did:web:example.org#key")
    assert integrity.verify(document, proof, public) is True
    for bad, message in [
        ({**proof, "cryptosuite": "eddsa-jcs-2022"}, "cryptosuite eddsa-rdfc-2022"),
        ({**proof, "type": "Ed25519Signature2020"}, "DataIntegrityProof"),
        ({**proof, "proofValue": "u" + proof["proofValue"][1:]}, "base58btc"),
        ({**proof, "proofValue": "z0OIl"}, "not base58btc"),
        ({**proof, "proofValue": proof["proofValue"][:20]}, "64-byte"),
        ({**proof, "verificationMethod": 7}, "verificationMethod"),
        ({**proof, "@context": ["https://www.w3.org/ns/credentials/v2", "x"]}, "@context"),
    ]:
        with pytest.raises(integrity.ProofFormatError, match=message):
            integrity.verify(document, bad, public)


def test_canonicalization_is_safe_from_many_threads_at_once() -> None:
    """PyLD's process-wide context caches are not thread-safe; the API canonicalizes in a thread pool. Without
    the module's lock this failed with KeyError / "OrderedDict mutated during iteration" (three processes' load)."""
    document = json.loads((Path(__file__).parents[2] / "docs" / "examples" / "credential.json").read_text())
    body = integrity.unsecured(document)
    expected = integrity.canonicalize(body)
    errors: list[BaseException] = []
    results: list[str] = []

    def work() -> None:
        try:
            for _ in range(60):
                results.append(integrity.canonicalize(body))
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows within a few documents
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(results) == 480 and set(results) == {expected}
