"""The issuer and the verifier apply the same rules (docs/credential-format.md section 1): a body the
issuer refuses to anchor, the verifier's `format` check refuses; what one accepts, the other accepts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from service.credentials import Status, prepare_batch, verify_credential
from service.credentials.document import DraftCredential, FormatError, IssuerProfile, Programme
from service.issuing.signing_keys import dev_signing_key
from tests.credentials.factory import DATA_ANALYTICS, ISSUER, drafts, issue

KEY = dev_signing_key(ISSUER.address)

Change = Callable[[dict[str, Any]], None]


def _set(*path: Any) -> Callable[[Any], Change]:
    def value(new: Any) -> Change:
        def change(body: dict[str, Any]) -> None:
            target = body
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = new

        return change

    return value


achievement = ("credentialSubject", "achievement")
# (case, change of the body, accepted by both sides)
CASES: list[tuple[str, Change, bool]] = [
    ("fieldOfStudy outside the hub's themes", _set(*achievement, "fieldOfStudy")("Gardening"), False),
    (
        "achievement.id naming another programme than humanCode",
        _set(*achievement, "id")("urn:ithub-hoogeveen:programme:cyber-basics"),
        False,
    ),
    ("an id that is not urn:uuid", _set("id")("https://example.org/credentials/1"), False),
    ("an urn:uuid in uppercase", _set("id")("urn:uuid:3F0C2A6E-8D1B-4C5E-9A7F-2B6D4E8F1A30"), False),
    ("a grade scale up to 5.0", _set(*achievement, "resultDescription", 0, "valueMax")("5.0"), False),
    ("a grade scale as numbers", _set(*achievement, "resultDescription", 0, "valueMin")(1.0), False),
    ("issuer.url a number", _set("issuer", "url")(42), False),
    ("issuer.url not a URI", _set("issuer", "url")("hanze"), False),
    ("type as a string", _set("type")("OpenBadgeCredential"), False),
    ("achievement type as a string", _set(*achievement, "type")("Achievement"), False),
    ("a repeated type", _set("type")(["VerifiableCredential", "OpenBadgeCredential", "OpenBadgeCredential"]), False),
    (
        "the recipient identifier in the body",
        _set("credentialSubject", "identifier")(
            [
                {
                    "type": "IdentityObject",
                    "identityHash": "sha256$" + "0" * 64,
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": "s" * 16,
                }
            ]
        ),
        False,
    ),
    ("a subject id that is not urn:uuid", _set("credentialSubject", "id")("mailto:jan@example.org"), False),
    ("a timestamp with 10 fraction digits", _set("validFrom")("2026-07-01T00:00:00.0000000001Z"), True),
    ("a timestamp with an offset", _set("validFrom")("2026-07-01T02:00:00+02:00"), True),
    ("a timestamp without a zone", _set("validFrom")("2026-07-01T00:00:00"), False),
    (
        "a type beside the required ones",
        _set("type")(["VerifiableCredential", "OpenBadgeCredential", "AchievementCredential"]),
        True,
    ),
    ("an extra member (covered by the digest)", _set("description")("A twelve-week track"), True),
]


def _issuer_accepts(change: Change) -> bool:
    (draft,) = drafts(1)
    body = copy.deepcopy(draft.body)
    change(body)
    try:
        prepare_batch([DraftCredential(body, draft.disclosures)])
    except FormatError:
        return False
    return True


def _verifier_accepts(change: Change) -> bool:
    document = copy.deepcopy(issue(1).credentials[0])
    change(document)
    report = verify_credential(json.dumps(document))
    return report.check("format").status is Status.PASSED


@pytest.mark.parametrize(("case", "change", "accepted"), CASES, ids=[case for case, _, _ in CASES])
def test_issuer_and_verifier_decide_alike(case: str, change: Change, accepted: bool) -> None:
    assert _issuer_accepts(change) is accepted, f"issuer: {case}"
    assert _verifier_accepts(change) is accepted, f"verifier: {case}"


def _proof(document: dict[str, Any]) -> dict[str, Any]:
    proof: dict[str, Any] = document["proof"][0]
    return proof


# Rules of the proof (the verifier's alone: the issuer writes the proof itself), as text: the JSON as sent.
PROOF_CASES: list[tuple[str, Callable[[str], str], bool]] = [
    ("chainId 31337.0 is not an integer", lambda text: text.replace('"chainId": 31337', '"chainId": 31337.0'), False),
    ("chainId 3.1337e4 is not an integer", lambda text: text.replace('"chainId": 31337', '"chainId": 3.1337e4'), False),
    (
        "signature hex in uppercase",
        lambda text: text.replace(
            json.loads(text)["proof"][0]["anchorSignature"]["signature"][2:],
            json.loads(text)["proof"][0]["anchorSignature"]["signature"][2:].upper(),
        ),
        False,
    ),
    (
        "an extra member of anchorSignature.domain",
        lambda text: text.replace('"version": "1"', '"version": "1", "chainId": 31337'),
        False,
    ),
    ("count as a string", lambda text: text.replace('"count": 1,', '"count": "1",'), False),
    ("nonce with a fraction", lambda text: text.replace('"nonce": 0,', '"nonce": 0.0,'), False),
    ("deadline as hex", lambda text: text.replace(f'"deadline": {_deadline()}', '"deadline": "0x70c8c100"'), False),
    (
        "metadataHash in uppercase hex",
        lambda text: text.replace('"metadataHash": "0x' + "0" * 64, '"metadataHash": "0X' + "0" * 64),
        False,
    ),
    (
        "the proof as an object (not the array OB 3.0 asks for)",
        lambda text: json.dumps({**json.loads(text), "proof": json.loads(text)["proof"][0]}),
        False,
    ),
    ("two proofs", lambda text: json.dumps({**json.loads(text), "proof": json.loads(text)["proof"] * 2}), False),
    ("as issued", lambda text: text, True),
]


def _deadline() -> int:
    return int(_proof(issue(1).credentials[0])["anchorSignature"]["deadline"])


@pytest.mark.parametrize(("case", "change", "accepted"), PROOF_CASES, ids=[case for case, _, _ in PROOF_CASES])
def test_proof_types(case: str, change: Callable[[str], str], accepted: bool) -> None:
    issued = issue(1)
    text = json.dumps(issued.credentials[0])
    changed = change(text)
    assert changed != text or accepted, f"the change of {case!r} did not apply"
    report = verify_credential(changed, issued.chain)
    assert (report.check("format").status is Status.PASSED) is accepted, report.check("format").reason
    if accepted:
        assert report.valid, report.to_json_text()


def test_the_issuers_own_inputs_follow_the_rules() -> None:
    with pytest.raises(ValueError, match="not a URI"):
        IssuerProfile(ISSUER.address, 31337, "Hanze", 42, did="did:web:x", signing_key=KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a did:web"):
        IssuerProfile(ISSUER.address, 31337, "Hanze", did=f"did:pkh:eip155:31337:{ISSUER.address}", signing_key=KEY)
    with pytest.raises(ValueError, match="grade scale"):
        Programme(**{**DATA_ANALYTICS.__dict__, "grade_scale": ("1.0", "5.0")})
    with pytest.raises(ValueError, match="hub's themes"):
        Programme(**{**DATA_ANALYTICS.__dict__, "theme": "Gardening"})
