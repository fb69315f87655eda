"""An independent verifier from the npm registry (Digital Bazaar's @digitalbazaar/vc, data-integrity and
eddsa-rdfc-2022-cryptosuite; tests/interop/verify.mjs) accepts the hub's credentials' Data Integrity proof,
full and shared with claims withheld, and rejects tampered and forged ones."""

from __future__ import annotations

import base64
import copy
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.credentials import integrity, multikey, select_disclosures
from service.credentials.document import Graduate, build_credential
from service.issuing.identity import did_web, public_multibase
from tests.credentials.factory import (
    CHAIN_ID,
    DATA_ANALYTICS,
    ISSUER,
    OTHER_ISSUER,
    issue,
    issuer_did_web,
    profile,
)
from tests.interop import node_verifier
from tests.interop.node_verifier import did_document
from tests.live import LiveHub, live_hub, wait_for
from tests.pages.conftest import GRADUATE, HANZE

pytestmark = pytest.mark.skipif(not node_verifier.node_available(), reason="needs node and node_modules")


def _integrity_proof(document: dict[str, Any]) -> dict[str, Any]:
    (proof,) = [item for item in document["proof"] if item["type"] == "DataIntegrityProof"]
    return proof


def _resigned(document: dict[str, Any], key: Ed25519PrivateKey, method: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    proof = integrity.sign(integrity.unsecured(changed), key, method)
    changed["proof"] = [item if item["type"] != "DataIntegrityProof" else proof for item in changed["proof"]]
    return changed


def test_the_independent_verifier_accepts_full_and_shared_copies_and_rejects_tampering(tmp_path: Path) -> None:
    issued = issue(2)
    full = issued.credentials[0]
    did = issuer_did_web()
    dids = {did: did_document(did, ISSUER.address, CHAIN_ID)}

    tampered = copy.deepcopy(full)
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    renamed = copy.deepcopy(full)
    renamed["issuer"]["name"] = "Another School"
    stranger = Ed25519PrivateKey.generate()
    forged = _resigned(full, stranger, _integrity_proof(full)["verificationMethod"])  # names the issuer's key
    # a key the issuer's DID document does not list, named honestly
    unlisted = _resigned(full, stranger, f"{did}#{public_multibase(stranger)}")
    # the issuer's key, but the proof claims another issuer's DID (whose document lists the same key)
    other_did = issuer_did_web("Drenthe College")
    dids[other_did] = did_document(other_did, OTHER_ISSUER.address, CHAIN_ID, public_multibase(_dev(ISSUER.address)))
    elsewhere = _resigned(full, _dev(ISSUER.address), f"{other_did}#{public_multibase(_dev(ISSUER.address))}")

    results = node_verifier.run(
        tmp_path,
        {
            "full": full,
            "shared-nothing": select_disclosures(full, []),
            "shared-name": select_disclosures(full, ["name"]),
            "second": issued.credentials[1],
            "tampered": tampered,
            "renamed": renamed,
            "forged": forged,
            "unlisted": unlisted,
            "elsewhere": elsewhere,
            "undefined-term": _with(full, ("credentialSubject", "favouriteColour"), "blue"),
        },
        dids=dids,
    )
    for name in ("full", "shared-nothing", "shared-name", "second"):
        assert results[name].verified, (name, results[name].errors)
    for name in ("tampered", "renamed", "forged", "unlisted", "elsewhere", "undefined-term"):
        assert not results[name].verified, name
    for name in ("tampered", "renamed", "forged"):
        assert "Invalid signature." in results[name].errors, (name, results[name].errors)
    # a member no context defines: the independent verifier's safe mode refuses it, as ours does
    assert "Safe mode validation error." in results["undefined-term"].errors
    assert any("verification method" in error.lower() for error in results["unlisted"].errors), results["unlisted"]
    assert any("controller" in error.lower() or "issuer" in error.lower() for error in results["elsewhere"].errors)
    # our verifier agrees on the signature (its chain checks are not run here)
    assert (
        multikey.encode_public(_dev(ISSUER.address).public_key().public_bytes_raw())
        in _integrity_proof(full)["verificationMethod"]
    )


def _with(document: dict[str, Any], path: tuple[str, str], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed[path[0]][path[1]] = value
    return changed


def _dev(address: str) -> Ed25519PrivateKey:
    from service.issuing.signing_keys import dev_signing_key

    return dev_signing_key(address)


# ---------------------------------------------------------------- through the real service on anvil


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with live_hub(tmp_path_factory.mktemp("interop")) as live:
        yield live


def _issue(hub: LiveHub) -> dict[str, Any]:
    """One credential issued by Hanzehogeschool Groningen through POST /credentials, once anchored."""
    response = httpx.post(f"{hub.url}/credentials", headers=hub.auth("issuer", HANZE), json=GRADUATE, timeout=60)
    assert response.status_code in (201, 202), response.text
    issued = response.json()

    def anchored() -> dict[str, Any] | None:
        answer = httpx.get(f"{hub.url}/credentials/{issued['id']}", headers=hub.auth("issuer", HANZE), timeout=30)
        body = answer.json()
        return body if answer.status_code == 200 and body["status"] == "anchored" and body["document"] else None

    return {**issued, **wait_for(anchored, 120, "the credential to be anchored")}


def test_the_independent_verifier_accepts_what_the_service_issues(hub: LiveHub, tmp_path: Path) -> None:
    issued = _issue(hub)
    full = issued["document"]
    share_path = issued["share_url"].removeprefix(hub.url)
    shared = httpx.get(f"{hub.url}{share_path}/credential.json", timeout=30).json()  # no claim shared: all withheld
    assert shared["proof"][0]["disclosures"] == [] and full["proof"][0]["disclosures"]
    did = full["issuer"]["id"]
    assert did.startswith("did:web:127.0.0.1%3A") and did == did_web(hub.url, did.rsplit(":", 1)[1])

    # the issuer's DID document, as the hub serves it at /issuers/<slug>/did.json: the Node verifier resolves
    # the did:web there (the live server stands in for https://<host>), nothing is given to it
    slug = did.rsplit(":", 1)[1]
    served = httpx.get(f"{hub.url}/issuers/{slug}/did.json", timeout=30)
    assert served.status_code == 200, served.text
    key = _integrity_proof(full)["verificationMethod"]
    assert key in served.json()["assertionMethod"]
    assert served.json()["verificationMethod"][0]["controller"] == did
    dids: dict[str, Any] = {}

    tampered = copy.deepcopy(shared)
    tampered["validUntil"] = "2040-07-01T00:00:00Z"
    results = node_verifier.run(
        tmp_path, {"full": full, "shared": shared, "tampered": tampered}, dids=dids, did_server=hub.url
    )
    assert results["full"].verified, results["full"].errors
    assert results["shared"].verified, results["shared"].errors
    assert not results["tampered"].verified and "Invalid signature." in results["tampered"].errors

    # our verifier, over HTTP, agrees on the signature and names the key
    report = httpx.post(f"{hub.url}/verify", json=shared, timeout=60).json()
    checks = {item["name"]: item for item in report["checks"]}
    multibase = key.partition("#")[2]
    assert checks["issuer_signature_di"]["status"] == "passed" and multibase in checks["issuer_signature_di"]["reason"]
    assert report["credential"]["signing_key"] == multibase
    assert checks["issuer_key_accredited"]["status"] == "passed", checks["issuer_key_accredited"]
    assert report["valid"] is True, report
    bad = httpx.post(f"{hub.url}/verify", json=tampered, timeout=60).json()
    assert {item["name"]: item["status"] for item in bad["checks"]}["issuer_signature_di"] == "failed"


# ---------------------------------------------------------------- a status list signed the same way


def _status_list(url: str, did: str, revoked: set[int], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A W3C BitstringStatusListCredential (131,072 bits; bit i = the i-th from the left) signed with `key`."""
    bits = bytearray(131_072 // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")
    document: dict[str, Any] = {
        "@context": [integrity.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }
    document["proof"] = integrity.sign(document, key, f"{did}#{public_multibase(key)}")
    return document


def test_a_credential_status_entry_is_signed_and_checked_by_the_independent_verifier(tmp_path: Path) -> None:
    """The credential's BitstringStatusListEntry is in the signed body, and a status list credential signed by
    integrity.sign is accepted by @digitalbazaar/vc-bitstring-status-list: bit 42 set reads revoked."""
    key = _dev(ISSUER.address)
    did = issuer_did_web()
    url = "http://127.0.0.1:8000/status/hanze/1"
    entry = {
        "id": f"{url}#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": url,
    }
    now = datetime.now(UTC)
    draft = build_credential(
        issuer=profile(),
        programme=DATA_ANALYTICS,
        graduate=Graduate("jan@example.org", name="Jan"),
        valid_from=now - timedelta(days=1),
        credential_status=entry,
    )
    assert draft.integrity_proof is not None
    credential = {**draft.body, "proof": [draft.integrity_proof]}
    dids = {did: did_document(did, ISSUER.address, CHAIN_ID)}
    active = node_verifier.run(
        tmp_path, {"c": credential}, dids=dids, documents={url: _status_list(url, did, {7, 43}, key)}
    )["c"]
    assert active.verified and active.status is not None, active
    assert active.status["verified"] and active.status["results"][0]["status"] is False  # bit 42 clear
    revoked = node_verifier.run(
        tmp_path, {"c": credential}, dids=dids, documents={url: _status_list(url, did, {42}, key)}
    )["c"]
    assert revoked.status is not None and revoked.status["results"][0]["status"] is True, revoked
    # a status list signed by another key is not trusted
    forged = node_verifier.run(
        tmp_path,
        {"c": credential},
        dids=dids,
        documents={url: _status_list(url, did, set(), Ed25519PrivateKey.generate())},
    )["c"]
    assert not forged.verified, forged
