"""The document: what build_credential writes, identifiers, recipient hashing, disclosures."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.credentials import integrity, multikey
from service.credentials.disclosure import Disclosure, disclosure_digest, make_disclosure
from service.credentials.document import (
    CONTEXTS,
    FormatError,
    Graduate,
    IssuerProfile,
    Programme,
    build_credential,
    identity_hash,
    issuer_account,
    issuer_did,
    parse_datetime,
    parse_issuer_did,
    recipient_matches,
    validate_body,
)
from service.issuing.signing_keys import dev_signing_key
from tests.credentials.factory import CYBERSECURITY, DATA_ANALYTICS, ISSUER, NOW, issue, issuer_did_web, profile


def test_a_built_body_is_an_open_badges_credential() -> None:
    draft = build_credential(
        issuer=profile(),
        programme=DATA_ANALYTICS,
        graduate=Graduate("Jan@Example.org", name="Jan de Vries", grade="8.0"),
        valid_from=NOW,
        valid_until=datetime(2031, 7, 1, tzinfo=UTC),
    )
    body = draft.body
    validate_body(body)
    assert body["@context"] == list(CONTEXTS)
    assert body["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert body["issuer"]["id"] == issuer_did_web()
    assert issuer_account(body["issuer"]) == (31337, ISSUER.address)
    # the issuer's Data Integrity proof over the body, by its key
    proof = draft.integrity_proof
    assert proof is not None and proof["verificationMethod"] == profile().verification_method
    public = dev_signing_key(ISSUER.address).public_key().public_bytes_raw()
    assert integrity.verify(body, proof, public)
    assert not integrity.verify({**body, "name": "Another programme"}, proof, public)
    assert body["issuer"]["name"] == "Hanzehogeschool Groningen"
    assert body["validUntil"] == "2031-07-01T00:00:00Z"
    achievement = body["credentialSubject"]["achievement"]
    assert achievement["id"] == "urn:ithub-hoogeveen:programme:miw-data-analytics"
    assert achievement["name"] == "Make IT Work: Data Analytics"
    assert achievement["creditsAvailable"] == 15
    assert achievement["fieldOfStudy"] == "Data analytics"
    assert achievement["alignment"][0]["targetCode"] == "6"
    assert achievement["alignment"][0]["targetFramework"] == "European Qualifications Framework"
    assert [item.name for item in draft.disclosures] == ["identifier", "name", "result"]
    assert sorted(item.digest for item in draft.disclosures) == body["credentialSubject"]["disclosureDigests"]
    assert "identifier" not in body["credentialSubject"]  # personal: a disclosure, not in the anchored body
    assert body["credentialSubject"]["id"].startswith("urn:uuid:")
    result = draft.disclosures[2].value
    assert result == [
        {"type": ["Result"], "resultDescription": achievement["resultDescription"][0]["id"], "value": "8.0"}
    ]


def test_a_programme_without_grades_has_no_result() -> None:
    draft = build_credential(issuer=profile(), programme=CYBERSECURITY, graduate=Graduate("a@b.nl"), valid_from=NOW)
    assert "resultDescription" not in draft.body["credentialSubject"]["achievement"]
    assert [item.name for item in draft.disclosures] == ["identifier"]
    assert draft.body["credentialSubject"]["disclosureDigests"] == [draft.disclosures[0].digest]
    assert "validUntil" not in draft.body
    assert "credentialStatus" not in draft.body
    with pytest.raises(ValueError, match="no grade scale"):
        build_credential(
            issuer=profile(), programme=CYBERSECURITY, graduate=Graduate("a@b.nl", grade="7"), valid_from=NOW
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"theme": "Gardening"}, "not one of the hub's themes"),
        ({"eqf_level": 9}, "eqf_level"),
        ({"ects": -1}, "ects"),
    ],
)
def test_programmes_are_checked(changes: dict[str, object], message: str) -> None:
    fields = {**DATA_ANALYTICS.__dict__, **changes}
    with pytest.raises(ValueError, match=message):
        Programme(**fields)  # type: ignore[arg-type]


def test_the_recipient_is_an_open_badges_identity_hash() -> None:
    draft = build_credential(
        issuer=profile(), programme=DATA_ANALYTICS, graduate=Graduate(" Jan@Example.org"), valid_from=NOW
    )
    (disclosure,) = [item for item in draft.disclosures if item.name == "identifier"]
    identity = disclosure.value[0]
    expected = "sha256$" + hashlib.sha256(("jan@example.org" + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == expected == identity_hash("JAN@example.org", identity["salt"])
    assert identity["hashed"] is True and identity["identityType"] == "emailAddress"
    holder_copy = {**draft.body, "proof": [{"type": "MerkleAnchor2026", "disclosures": [disclosure.to_json()]}]}
    assert recipient_matches(holder_copy, "jan@example.org")
    assert not recipient_matches(holder_copy, "piet@example.org")
    assert not recipient_matches(draft.body, "jan@example.org")  # the body alone names nobody
    assert not recipient_matches({"credentialSubject": "nonsense"}, "jan@example.org")


def test_issuer_did_round_trip() -> None:
    did = issuer_did(31337, ISSUER.address.lower())
    assert did == f"did:pkh:eip155:31337:{ISSUER.address}"
    assert parse_issuer_did(did) == (31337, ISSUER.address)
    for bad in [
        "did:pkh:eip155:0:" + ISSUER.address,
        "did:pkh:eip155:1:" + ISSUER.address.lower(),
        "did:pkh:solana:1:abc",
        "did:web:hanze.nl",
        42,
    ]:
        with pytest.raises(ValueError):
            parse_issuer_did(bad)  # type: ignore[arg-type]


def test_issuer_profile_json() -> None:
    """issuer.id is the partner's did:web; its Ethereum account is an OB 3.0 IdentifierEntry (did:pkh)."""
    key = Ed25519PrivateKey.generate()
    profile = IssuerProfile(ISSUER.address, 1, "NHL Stenden", did="did:web:hub.example:issuers:nhl", signing_key=key)
    assert profile.to_json() == {
        "id": "did:web:hub.example:issuers:nhl",
        "type": ["Profile"],
        "name": "NHL Stenden",
        "otherIdentifier": [
            {
                "type": "IdentifierEntry",
                "identifier": f"did:pkh:eip155:1:{ISSUER.address}",
                "identifierType": "accountId",
            }
        ],
    }
    assert issuer_account(profile.to_json()) == (1, ISSUER.address)
    assert profile.verification_method == "did:web:hub.example:issuers:nhl#" + multikey.encode_public(
        key.public_key().public_bytes_raw()
    )
    for bad in [{}, {"otherIdentifier": []}, {"otherIdentifier": profile.to_json()["otherIdentifier"] * 2}]:
        with pytest.raises(ValueError, match="exactly one accountId"):
            issuer_account(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01T00:00:00Z", datetime(2026, 7, 1, tzinfo=UTC)),
        ("2026-07-01T02:00:00+02:00", datetime(2026, 7, 1, tzinfo=UTC)),
        ("2026-07-01T00:00:00.123456789Z", datetime(2026, 7, 1, 0, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_datetimes(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


def test_a_body_with_a_proof_is_not_a_body() -> None:
    draft = build_credential(issuer=profile(), programme=DATA_ANALYTICS, graduate=Graduate("a@b.nl"), valid_from=NOW)
    with pytest.raises(FormatError, match="no proof"):
        validate_body({**draft.body, "proof": {}})


def test_disclosure_digest_is_sha256_of_the_canonical_array() -> None:
    disclosure = Disclosure("_26bc4LT-ac6q2KI6cBW5es", "name", "Jan de Vries")
    canonical = b'["_26bc4LT-ac6q2KI6cBW5es","name","Jan de Vries"]'
    import base64

    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert disclosure.digest == expected == disclosure_digest(["_26bc4LT-ac6q2KI6cBW5es", "name", "Jan de Vries"])
    assert Disclosure.from_json(disclosure.to_json()) == disclosure


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("name", "JSON array"),
        (["_26bc4LT-ac6q2KI6cBW5es", "name"], "JSON array"),
        (["salt", "name", "x"], "salt"),
        (["_26bc4LT-ac6q2KI6cBW5es", "1name", "x"], "claim name"),
        (["_26bc4LT-ac6q2KI6cBW5es", "achievement", "x"], "anchored body"),
        ([123, "name", "x"], "salt"),
    ],
)
def test_bad_disclosures(item: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Disclosure.from_json(item)


def test_salts_are_fresh() -> None:
    assert make_disclosure("name", "A").salt != make_disclosure("name", "A").salt


def test_the_credential_status_given_is_in_the_signed_body() -> None:
    entry = {
        "id": "http://127.0.0.1:8000/status/hanze/1#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": "http://127.0.0.1:8000/status/hanze/1",
    }
    draft = build_credential(
        issuer=profile(), programme=CYBERSECURITY, graduate=Graduate("a@b.nl"), valid_from=NOW, credential_status=entry
    )
    assert draft.body["credentialStatus"] == entry
    assert list(draft.body).index("credentialStatus") < list(draft.body).index("credentialSubject")
    validate_body(draft.body)
    public = dev_signing_key(ISSUER.address).public_key().public_bytes_raw()
    assert draft.integrity_proof is not None
    assert integrity.verify(draft.body, draft.integrity_proof, public)
    changed = {**draft.body, "credentialStatus": {**entry, "statusListIndex": "43", "id": entry["id"][:-2] + "43"}}
    assert not integrity.verify(changed, draft.integrity_proof, public)


def test_every_member_of_an_issued_credential_is_defined_by_the_bundled_contexts() -> None:
    """The whole credential, both proofs included, expands without dropping anything (safe mode): the hub's
    context defines MerkleAnchor2026 and each of its members, the VC context the DataIntegrityProof's."""
    full = issue(2).credentials[0]
    quads = integrity.canonicalize(full)
    hub = "https://ithubhoogeveen.nl/ns/credentials#"
    anchor = full["proof"][0]
    for member in anchor:
        if member != "type":
            assert f"<{hub}{member}>" in quads, member
    assert f"<{hub}MerkleAnchor2026>" in quads and f"<{hub}disclosureDigests>" in quads
    assert "<https://w3id.org/security#proofValue>" in quads
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#otherIdentifier>" in quads
    unknown = copy.deepcopy(full)
    unknown["proof"][0]["batchLabel"] = "cohort 7"
    with pytest.raises(integrity.UndefinedTerm, match="not defined"):
        integrity.canonicalize(unknown)
