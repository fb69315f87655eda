"""Partners' identities and DID documents: Hub.identity_for and GET /issuers/{slug}/did.json, on a real anvil
with the accreditations made by board decisions (tests/api/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from service.chain.board import Action
from service.chain.devchain import dev_accounts
from service.credentials import multikey
from service.errors import Conflict, NotFound
from service.hub import Hub
from service.issuing.identity import did_web
from service.issuing.signing_keys import dev_signing_key, key_hash, public_multibase
from tests.chain import advance_time

HANZE = "Hanzehogeschool Groningen"
TVM, UNIGARANT, ALFA = "TVM verzekeringen", "Unigarant", "Alfa-college"


def test_identity_for_an_accredited_partner_names_its_did_and_accredited_key(hub: Hub, accredited: Any) -> None:
    (address,) = accredited(HANZE)
    identity = hub.identity_for(address.lower())
    assert (identity.address, identity.slug) == (address, "hanzehogeschool-groningen")
    assert identity.did == did_web(hub.settings.public_url, "hanzehogeschool-groningen")
    assert identity.public_key_multibase == public_multibase(dev_signing_key(address))
    assert identity.verification_method == f"{identity.did}#{identity.public_key_multibase}"
    # the key it signs with is the key the board accredited for it
    (accredited_key,) = hub.registry.signing_keys(address)
    assert multikey.key_hash_of(identity.public_key_multibase) == accredited_key.key_hash
    assert hub.identity_for(address).slug == identity.slug  # kept, not made again


def test_identity_for_an_account_the_board_never_accredited_is_not_found(hub: Hub) -> None:
    stranger = dev_accounts()[19].address
    with pytest.raises(NotFound, match="not a partner the board accredited"):
        hub.identity_for(stranger)


def test_did_document_lists_every_accredited_key_and_the_ethereum_account(
    client: TestClient, hub: Hub, accredited: Any, keys: Any
) -> None:
    (address,) = accredited(HANZE)
    identity = hub.identity_for(address)
    first = identity.public_key_multibase
    advance_time(hub.w3, 60)
    second = public_multibase(Ed25519PrivateKey.generate())
    body = {
        "kind": "rotate-issuer-key",
        "subject": address,
        "public_key_multibase": second,
        "title": "Nieuwe sleutel Hanzehogeschool",
        "document": "Het bestuur accrediteert de nieuwe ondertekeningssleutel van de Hanzehogeschool.",
    }
    created = client.post("/board/proposals", headers=keys.member(TVM), json=body)
    assert created.status_code == 201, created.text
    for member in (TVM, UNIGARANT, ALFA, "Rijksuniversiteit Groningen"):
        voted = client.post(
            f"/board/proposals/{created.json()['id']}/votes", headers=keys.member(member), json={"support": "for"}
        )
        assert voted.status_code == 201, voted.text
    executed = client.post(f"/board/proposals/{created.json()['id']}/execute", headers=keys.member(TVM))
    assert executed.status_code == 200, executed.text

    response = client.get(f"/issuers/{identity.slug}/did.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    did = identity.did
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [f"did:pkh:eip155:{hub.chain_id}:{address}"],
        "verificationMethod": [
            {"id": f"{did}#{key}", "type": "Multikey", "controller": did, "publicKeyMultibase": key}
            for key in (first, second)
        ],
        "assertionMethod": [f"{did}#{first}", f"{did}#{second}"],
    }
    # the hashes of the listed keys are the board's, in its order
    assert [multikey.key_hash_of(k) for k in (first, second)] == [
        k.key_hash for k in hub.registry.signing_keys(address)
    ]


def test_did_document_of_an_unknown_slug_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/issuers/nobody-here/did.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no issuer 'nobody-here' at this hub"


def test_did_document_of_a_malformed_slug_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/issuers/Not%20A%20Slug/did.json")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("path.slug: ")


def test_a_partner_whose_accredited_name_gives_anothers_did_name_is_refused(hub: Hub, accredited: Any) -> None:
    """The slug is the accredited name's (the verifier requires it), so two names that write the same slug cannot
    both issue: the second is refused with a clear Conflict, and the first keeps its DID."""
    (hanze,) = accredited(HANZE)
    assert hub.identity_for(hanze).slug == "hanzehogeschool-groningen"
    lookalike = dev_accounts()[19].address
    accredited._decide(
        Action.accredit_issuer(lookalike, "Hanzehogeschool  Groningen!", key_hash(dev_signing_key(lookalike))),
        "Het bestuur accrediteert een partner met bijna dezelfde naam.",
    )
    with pytest.raises(Conflict, match="already has: the board must accredit a distinct name"):
        hub.identity_for(lookalike)
    assert hub.identity_for(hanze).slug == "hanzehogeschool-groningen"
