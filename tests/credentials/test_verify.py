"""The verifier without a node: every check, its failure cases and the tamper properties (FakeChain)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.credentials import (
    MAX_CREDENTIAL_BYTES,
    Anchoring,
    Status,
    attach_proofs,
    integrity,
    multikey,
    prepare_batch,
    select_disclosures,
    verify_credential,
)
from service.credentials.canonical import from_hex32
from service.credentials.disclosure import make_disclosure
from service.credentials.document import FormatError, format_datetime, validate_credential
from service.credentials.facts import ChainUnavailable, RegistryTrust
from service.credentials.verifier import Verification
from service.issuing.signing_keys import dev_signing_key
from tests.credentials.factory import (
    CHAIN_ID,
    ISSUER,
    NOW,
    OTHER_ISSUER,
    OTHER_REGISTRY,
    REGISTRY,
    RELAYER,
    TX_HASH,
    FakeChain,
    Issued,
    drafts,
    issue,
    issuer_did_web,
    profile,
    signed_anchor,
)

# The fixtures' reprs are large; hypothesis warns when it prints them for a failing example.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

ALL_CHECKS = [
    "format",
    "integrity",
    "disclosures",
    "issuer_signature_di",
    "merkle_inclusion",
    "network",
    "anchored",
    "issuer_binding",
    "anchor_transaction",
    "issuer_signature",
    "issuer_accredited",
    "issuer_key_accredited",
    "not_revoked",
    "validity_window",
]


@pytest.fixture(scope="module")
def cohort() -> Issued:
    return issue(5)


@pytest.fixture
def chain(cohort: Issued) -> FakeChain:
    fake = FakeChain()
    fake.anchor(cohort.batch.root, cohort.batch.issuer, submitter=RELAYER.address)  # the cohort was relayed
    return fake


def credential(cohort: Issued, index: int = 0) -> dict[str, Any]:
    return copy.deepcopy(cohort.credentials[index])


def digest_and_root(document: dict[str, Any]) -> tuple[bytes, bytes]:
    return from_hex32(document["proof"][0]["credentialDigest"]), from_hex32(document["proof"][0]["merkleRoot"])


# ---------------------------------------------------------------- the valid case


def test_an_issued_credential_is_valid_with_every_check_passed(cohort: Issued, chain: FakeChain) -> None:
    for document in cohort.credentials:
        report = verify_credential(json.dumps(document), chain)
        assert report.valid, report.to_json_text()
        assert [check.name for check in report.checks] == ALL_CHECKS
        assert all(check.status is Status.PASSED for check in report.checks)
    assert chain.calls == len(cohort.credentials)  # one question to the chain per credential


def test_the_report_is_json_and_says_what_was_verified(cohort: Issued, chain: FakeChain) -> None:
    report = verify_credential(credential(cohort), chain)
    data = json.loads(report.to_json_text())
    assert data["valid"] is True
    assert [item["name"] for item in data["checks"]] == ALL_CHECKS
    assert {item["status"] for item in data["checks"]} == {"passed"}
    assert data["credential"]["programme"] == "Make IT Work: Data Analytics"
    assert data["credential"]["issuer_name"] == "Hanzehogeschool Groningen"
    assert data["credential"]["ects"] == 15
    assert data["credential"]["eqf_level"] == "6"
    assert data["credential"]["disclosed"]["name"] == "Graduate 0 de Vries"
    assert data["anchor"]["relayed"] is True
    assert data["clock"] == "local"
    assert data["anchor"]["transaction_hash"] == data["anchor"]["claimed_transaction_hash"] == "0x" + "ab" * 32
    assert data["anchor"]["anchored_in_block"] == 42


def test_a_directly_anchored_credential_has_no_signature_check() -> None:
    issued = issue(2, relayed=False)
    report = verify_credential(issued.credentials[1], issued.chain)
    assert report.valid
    assert "issuer_signature" not in [check.name for check in report.checks]


def test_a_single_credential_cohort_has_an_empty_path() -> None:
    issued = issue(1)
    assert issued.credentials[0]["proof"][0]["merklePath"] == []
    assert verify_credential(issued.credentials[0], issued.chain).valid


def test_the_anchored_body_holds_no_personal_data_in_clear(cohort: Issued) -> None:
    body = {key: value for key, value in credential(cohort).items() if key != "proof"}
    text = json.dumps(body)
    assert "graduate0@example.org" not in text
    assert "Graduate 0" not in text
    assert "7.5" not in text and "6.5" not in text


# ---------------------------------------------------------------- selective disclosure


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_disclosing_any_subset_keeps_the_credential_valid(
    cohort: Issued, chain: FakeChain, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(cohort.credentials) - 1))
    full = credential(cohort, index)
    names = [item[1] for item in full["proof"][0]["disclosures"]]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True))
    shared = select_disclosures(full, chosen)
    order = data.draw(st.permutations(shared["proof"][0]["disclosures"]))
    shared["proof"][0]["disclosures"] = list(order)
    report = verify_credential(shared, chain)
    assert report.valid, report.to_json_text()
    assert report.credential is not None and set(report.credential.disclosed) == set(chosen)
    assert shared["proof"][0]["credentialDigest"] == full["proof"][0]["credentialDigest"]


def test_every_subset_of_disclosures_has_the_same_digest(cohort: Issued, chain: FakeChain) -> None:
    full = credential(cohort)
    names = [item[1] for item in full["proof"][0]["disclosures"]]
    for size in range(len(names) + 1):
        for chosen in combinations(names, size):
            report = verify_credential(select_disclosures(full, chosen), chain)
            assert report.valid and report.anchor is not None
            assert report.anchor.credential_digest == full["proof"][0]["credentialDigest"]


def test_select_disclosures_refuses_a_claim_it_does_not_have(cohort: Issued) -> None:
    with pytest.raises(KeyError, match="email"):
        select_disclosures(credential(cohort), ["email"])


def test_decoy_digests_hide_the_number_of_claims() -> None:
    issued = issue(1, decoys=4)
    document = issued.credentials[0]
    assert len(document["credentialSubject"]["disclosureDigests"]) == len(document["proof"][0]["disclosures"]) + 4
    assert verify_credential(document, issued.chain).valid


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["proof"][0]["disclosures"][0].__setitem__(2, "Someone Else"), "matches no digest"),
        (lambda d: d["proof"][0]["disclosures"][0].__setitem__(0, "A" * 22), "matches no digest"),
        (lambda d: d["proof"][0]["disclosures"][0].__setitem__(0, "short"), "salt"),
        (lambda d: d["proof"][0]["disclosures"][0].__setitem__(1, "achievement"), "anchored body"),
        (lambda d: d["proof"][0]["disclosures"].append(list(d["proof"][0]["disclosures"][0])), "twice"),
        (lambda d: d["proof"][0]["disclosures"].append(["x"]), "disclosure 5"),
        (lambda d: d["proof"][0]["disclosures"].append(["A" * 22, "nickname", "Grad"]), "matches no digest"),
    ],
)
def test_a_changed_or_foreign_disclosure_fails_the_disclosures_check(
    cohort: Issued, chain: FakeChain, change: Any, reason: str
) -> None:
    document = credential(cohort)
    change(document)
    report = verify_credential(document, chain)
    assert not report.valid
    assert report.failed == ("disclosures",)
    assert reason in report.check("disclosures").reason


def test_a_disclosure_from_another_credential_does_not_fit(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort, 0)
    document["proof"][0]["disclosures"] = credential(cohort, 1)["proof"][0]["disclosures"][:1]
    report = verify_credential(document, chain)
    assert report.failed == ("disclosures",)


# ---------------------------------------------------------------- tampering: the right check fails


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list) and value:
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [path]


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(document, path[:-1])[path[-1]] = value


def _changed(value: Any, salt: int) -> Any:
    """A different value of the same JSON type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 + salt
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        if value.startswith("0x") and len(value) in (42, 66, 132):  # hex: change one digit, keep the form
            position = 2 + salt % (len(value) - 2)
            digit = "0" if value[position] != "0" else "1"
            changed = value[:position] + digit + value[position + 1 :]
            if len(value) == 42:  # keep addresses checksummed so the change is not a mere format error
                from eth_utils import to_checksum_address

                changed = to_checksum_address(changed.lower())
            return changed
        return value + "x"
    if isinstance(value, list):  # an empty list
        return ["x"]
    return {"x": 1}


# The proof members and the check a change of each must fail. transactionHash is a hint the verifier
# checks against the chain's receipt (see docs/credential-format.md section 5).
PROOF_EXPECTATIONS = {
    "transactionHash": "anchor_transaction",
    "type": "format",
    "credentialDigest": "integrity",
    "merkleRoot": "merkle_inclusion",
    "merklePath": "merkle_inclusion",
    "chainId": "network",
    "registry": "network",
    "issuerAddress": "anchored",  # the registry is asked about that issuer's batch: it has none
    "anchorSignature": "issuer_signature",
    "disclosures": "disclosures",
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_single_body_field_makes_it_invalid_with_the_right_check(
    cohort: Issued, chain: FakeChain, data: st.DataObject
) -> None:
    document = credential(cohort, data.draw(st.integers(0, 4)))
    body_paths = [path for path in _leaves(document) if path[0] != "proof"]
    path = data.draw(st.sampled_from(body_paths))
    _set(document, path, _changed(_get(document, path), data.draw(st.integers(0, 1000))))
    report = verify_credential(document, chain)
    assert not report.valid
    try:
        validate_credential(document)
        expected = "integrity"
    except FormatError:
        expected = "format"
    assert report.first_failure == expected, (path, report.to_json_text())
    if expected == "integrity":  # what depends on the digest is not run; a changed digest list can also
        # the DataIntegrityProof signs the body too; an orphaned disclosure fails too
        assert set(report.failed) <= {"integrity", "disclosures", "issuer_signature_di"}


@pytest.mark.parametrize(
    "path",
    [
        ("name",),
        ("issuer", "name"),
        ("credentialSubject", "achievement", "creditsAvailable"),
        ("credentialSubject", "achievement", "name"),
        ("credentialSubject", "achievement", "criteria", "narrative"),
        ("credentialSubject", "achievement", "description"),
        ("credentialSubject", "achievement", "alignment", 0, "targetName"),
    ],
)
def test_a_well_formed_change_of_the_body_fails_integrity(
    cohort: Issued, chain: FakeChain, path: tuple[Any, ...]
) -> None:
    document = credential(cohort)
    _set(document, path, _changed(_get(document, path), 0))
    report = verify_credential(document, chain)
    assert report.failed == ("integrity", "issuer_signature_di")
    assert report.check("merkle_inclusion").status is Status.NOT_RUN


@pytest.mark.parametrize(
    "change", ["add member", "remove validUntil", "reorder digests", "add digest", "remove digest", "extend validity"]
)
def test_structural_changes_of_the_body_fail(cohort: Issued, chain: FakeChain, change: str) -> None:
    document = credential(cohort)
    subject = document["credentialSubject"]
    if change == "add member":
        document["credentialSubject"]["creditsEarned"] = 15
    elif change == "remove validUntil":
        del document["validUntil"]
    elif change == "reorder digests":
        subject["disclosureDigests"].reverse()
    elif change == "add digest":
        subject["disclosureDigests"] = sorted([*subject["disclosureDigests"], "A" * 43])
    elif change == "remove digest":
        subject["disclosureDigests"] = subject["disclosureDigests"][1:]
    else:
        document["validUntil"] = "2099-01-01T00:00:00Z"
    report = verify_credential(document, chain)
    assert not report.valid
    assert report.first_failure == ("format" if change == "reorder digests" else "integrity")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_single_proof_element_makes_it_invalid_with_the_right_check(
    cohort: Issued, chain: FakeChain, data: st.DataObject
) -> None:
    document = credential(cohort, data.draw(st.integers(0, 4)))
    proof_paths = [path for path in _leaves(document) if path[0] == "proof" and path[2] in PROOF_EXPECTATIONS]
    path = data.draw(st.sampled_from(proof_paths))
    _set(document, path, _changed(_get(document, path), data.draw(st.integers(0, 1000))))
    report = verify_credential(document, chain)
    assert not report.valid
    expected = "format" if path[2:] == ("anchorSignature", "type") else PROOF_EXPECTATIONS[path[2]]
    assert report.first_failure == expected, (path, report.to_json_text())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 64), delta=st.integers(1, 255))
def test_changing_any_signature_byte_fails_the_signature_check(
    cohort: Issued, chain: FakeChain, position: int, delta: int
) -> None:
    document = credential(cohort)
    signature = bytearray.fromhex(document["proof"][0]["anchorSignature"]["signature"][2:])
    signature[position] = (signature[position] + delta) % 256
    document["proof"][0]["anchorSignature"]["signature"] = "0x" + signature.hex()
    report = verify_credential(document, chain)
    assert report.failed == ("issuer_signature",)


def test_a_signature_by_another_key_is_refused(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort)
    request = signed_anchor(cohort.batch).request  # the issuer's request, signed with another key
    document["proof"][0]["anchorSignature"]["signature"] = "0x" + request.sign(OTHER_ISSUER.key).hex()
    report = verify_credential(document, chain)
    assert report.failed == ("issuer_signature",)
    assert OTHER_ISSUER.address in report.check("issuer_signature").reason


def test_a_changed_transaction_hash_fails_and_is_not_reported_as_the_anchoring(
    cohort: Issued, chain: FakeChain
) -> None:
    document = credential(cohort)
    forged = "0x" + "cd" * 32
    document["proof"][0]["transactionHash"] = forged
    report = verify_credential(document, chain)
    assert report.failed == ("anchor_transaction",)
    assert "does not know" in report.check("anchor_transaction").reason
    assert report.anchor is not None and report.anchor.transaction_hash is None
    assert report.anchor.claimed_transaction_hash == forged
    document["proof"][0]["transactionHash"] = "0xnothex"
    assert verify_credential(document, chain).first_failure == "format"


def test_a_transaction_that_anchored_something_else_fails(cohort: Issued, chain: FakeChain) -> None:
    other = issue(2)  # another cohort, anchored in its own transaction on this chain
    other_hash = bytes.fromhex("cd" * 32)
    chain.anchor(other.batch.root, other.batch.issuer, tx_hash=other_hash)
    document = credential(cohort)
    document["proof"][0]["transactionHash"] = "0x" + other_hash.hex()
    report = verify_credential(document, chain)
    assert report.failed == ("anchor_transaction",)
    assert "did not anchor root" in report.check("anchor_transaction").reason
    chain.receipts.pop("0x" + other_hash.hex())
    chain.batches.pop(other.batch.root)


def test_a_removed_anchor_signature_fails_when_the_chain_says_a_relayer_anchored(
    cohort: Issued, chain: FakeChain
) -> None:
    document = credential(cohort)
    del document["proof"][0]["anchorSignature"]
    report = verify_credential(document, chain)
    assert report.failed == ("anchor_transaction",)
    assert "no anchorSignature" in report.check("anchor_transaction").reason
    # directly anchored: no signature is needed, and the chain says so
    direct = issue(1, relayed=False)
    assert verify_credential(direct.credentials[0], direct.chain).valid


def test_a_receipt_that_cannot_be_had_leaves_the_check_not_run(cohort: Issued, chain: FakeChain) -> None:
    class NoReceipts:
        chain_id, registry, trust = chain.chain_id, chain.registry, chain.trust

        def __call__(self, *question: Any) -> Any:
            return chain(*question)

    report = verify_credential(credential(cohort), NoReceipts())
    assert not report.valid and report.check("anchor_transaction").status is Status.NOT_RUN


# ---------------------------------------------------------------- chain facts


def test_revoked(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort)
    digest, root = digest_and_root(document)
    chain.revoke(root, digest, 2, at=int(NOW.timestamp()) - 7200)
    report = verify_credential(document, chain)
    assert report.failed == ("not_revoked",)
    revoked_at = format_datetime(NOW - timedelta(hours=2))
    assert report.check("not_revoked").reason == f"revoked at {revoked_at}: issued in error"
    assert report.anchor is not None and report.anchor.revocation_reason == 2
    # the others of the cohort stay valid
    assert verify_credential(credential(cohort, 1), chain).valid


def test_an_unknown_revocation_reason_is_shown_by_number(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort)
    digest, root = digest_and_root(document)
    chain.revoke(root, digest, 4242)
    assert "reason code 4242" in verify_credential(document, chain).check("not_revoked").reason


def test_not_anchored(cohort: Issued) -> None:
    report = verify_credential(credential(cohort), FakeChain())
    assert report.failed == ("anchored",)
    assert report.check("issuer_binding").status is Status.NOT_RUN
    assert report.check("issuer_accredited").status is Status.NOT_RUN


def test_an_accredited_partner_using_another_partners_name_fails_the_issuer_binding(cohort: Issued) -> None:
    chain = FakeChain()
    chain.anchor(cohort.batch.root, cohort.batch.issuer, issuer_name="NHL Stenden")
    report = verify_credential(credential(cohort), chain)
    assert report.failed == ("issuer_binding",)
    assert "accredited as 'NHL Stenden'" in report.check("issuer_binding").reason
    assert "'Hanzehogeschool Groningen'" in report.check("issuer_binding").reason


def test_an_accredited_partner_signing_as_another_partners_did_fails_the_issuer_binding() -> None:
    """Partner "Drenthe College" names itself truthfully, signs with its own accredited key, anchors itself, but
    writes Hanzehogeschool's did:web as issuer.id: the DID must be that of the anchoring issuer's accredited name."""
    squatter = profile(name="Drenthe College", did=issuer_did_web("Hanzehogeschool Groningen"))
    issued = issue(2, anchor=False, issuer=squatter)
    chain = FakeChain()
    chain.anchor(issued.batch.root, issued.batch.issuer, submitter=RELAYER.address, issuer_name="Drenthe College")
    report = verify_credential(copy.deepcopy(issued.credentials[0]), chain)
    assert report.failed == ("issuer_binding",)
    reason = report.check("issuer_binding").reason
    assert ":issuers:drenthe-college" in reason and "issuers:hanzehogeschool-groningen" in reason
    # the same partner under its own DID passes
    honest = issue(2, anchor=False, issuer=profile(name="Drenthe College"))
    chain.anchor(honest.batch.root, honest.batch.issuer, submitter=RELAYER.address, issuer_name="Drenthe College")
    assert verify_credential(copy.deepcopy(honest.credentials[0]), chain).valid


def test_issuer_not_accredited_at_anchor_time(cohort: Issued) -> None:
    chain = FakeChain()
    chain.anchor(cohort.batch.root, cohort.batch.issuer, accredited_at_anchor=False, accredited_now=False)
    report = verify_credential(credential(cohort), chain)
    assert report.failed == ("issuer_accredited",)
    assert "was not accredited when it anchored" in report.check("issuer_accredited").reason


def test_suspension_after_anchoring_keeps_the_credential_valid(cohort: Issued) -> None:
    chain = FakeChain()
    chain.anchor(cohort.batch.root, cohort.batch.issuer, accredited_now=False)
    report = verify_credential(credential(cohort), chain)
    assert report.valid
    assert "suspended since" in report.check("issuer_accredited").reason


def test_anchored_by_another_account(cohort: Issued) -> None:
    chain = FakeChain()
    chain.anchor(cohort.batch.root, OTHER_ISSUER.address)
    report = verify_credential(credential(cohort), chain)
    # batches are keyed by (issuer, root): the root anchored by another account is not the issuer's batch
    assert report.first_failure == "anchored"
    assert f"not anchored by {ISSUER.address}" in report.check("anchored").reason


def test_issuer_in_proof_and_document_must_agree() -> None:
    issued = issue(2, relayed=False)
    document = copy.deepcopy(issued.credentials[0])
    document["proof"][0]["issuerAddress"] = OTHER_ISSUER.address
    issued.chain.anchor(issued.batch.root, OTHER_ISSUER.address)
    report = verify_credential(document, issued.chain)
    # and the other account's accredited key is not the key that signed
    assert report.failed == ("issuer_binding", "issuer_key_accredited")
    assert "document's issuer" in report.check("issuer_binding").reason


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (NOW - timedelta(days=31), "not yet valid"),
        (NOW + timedelta(days=366), "expired"),
    ],
)
def test_validity_window_by_given_time(cohort: Issued, chain: FakeChain, moment: Any, expected: str) -> None:
    report = verify_credential(credential(cohort), chain, now=moment)
    assert report.failed == ("validity_window",)
    assert report.check("validity_window").reason.startswith(expected)
    assert report.clock == "given"


def test_validity_window_by_the_verifiers_clock_not_chain_time() -> None:
    """The latest block can be hours old on a chain that mines only on transactions: the window is
    judged by this machine's clock, whatever the block's timestamp."""
    expired = issue(
        1,
        valid_from=NOW - timedelta(days=30),
        valid_until=datetime.now(UTC) - timedelta(seconds=5),
        chain=FakeChain(block_timestamp=int((NOW - timedelta(hours=6)).timestamp())),
    )
    report = verify_credential(expired.credentials[0], expired.chain)
    assert report.failed == ("validity_window",)
    assert report.clock == "local" and "by this verifier's clock" in report.check("validity_window").reason
    future_chain = FakeChain(block_timestamp=int((NOW + timedelta(days=400)).timestamp()))
    valid = issue(1, chain=future_chain)
    assert verify_credential(valid.credentials[0], future_chain).valid


def test_without_valid_until_it_never_expires() -> None:
    issued = issue(1, valid_until=None)
    report = verify_credential(issued.credentials[0], issued.chain, now=NOW + timedelta(days=365 * 50))
    assert report.valid
    assert "without end" in report.check("validity_window").reason


def test_valid_until_is_exclusive(cohort: Issued, chain: FakeChain) -> None:
    until = NOW + timedelta(days=365)
    assert not verify_credential(credential(cohort), chain, now=until).valid
    assert verify_credential(credential(cohort), chain, now=until - timedelta(seconds=1)).valid


def test_another_chain(cohort: Issued) -> None:
    chain = FakeChain(chain_id=1)
    chain.anchor(cohort.batch.root, cohort.batch.issuer)
    report = verify_credential(credential(cohort), chain)
    assert report.failed == ("network",)
    assert "chain 31337; this verifier checks chain 1" in report.check("network").reason
    for name in ("anchored", "issuer_binding", "issuer_accredited", "not_revoked"):
        assert report.check(name).status is Status.NOT_RUN
    assert chain.calls == 0  # the wrong registry is not even asked


def test_another_registry(cohort: Issued) -> None:
    chain = FakeChain(registry=OTHER_REGISTRY)
    report = verify_credential(credential(cohort), chain)
    assert report.failed == ("network",)
    assert OTHER_REGISTRY in report.check("network").reason


def test_issuer_id_naming_another_chain_than_the_proof() -> None:
    batch = prepare_batch(drafts(1, issuer=profile(chain_id=5)))
    document = attach_proofs(batch, Anchoring(5, REGISTRY, batch.issuer, TX_HASH))[0]
    document["proof"][0]["chainId"] = CHAIN_ID  # the proof is not digested: it can claim another chain
    chain = FakeChain()
    chain.anchor(batch.root, batch.issuer)
    report = verify_credential(document, chain)
    assert report.failed == ("network",)
    assert "the issuer's account names chain 5" in report.check("network").reason


def test_the_documents_own_registry_is_not_relied_on(cohort: Issued) -> None:
    chain = FakeChain(trust=RegistryTrust.DOCUMENT)
    chain.anchor(cohort.batch.root, cohort.batch.issuer)
    report = verify_credential(credential(cohort), chain)
    assert not report.valid
    assert report.failed == ()
    assert report.check("network").status is Status.NOT_RUN
    assert report.check("anchored").passed  # the answers are still shown


def test_the_documents_registry_when_the_caller_accepts_it(cohort: Issued) -> None:
    chain = FakeChain(trust=RegistryTrust.DOCUMENT_ACCEPTED)
    chain.anchor(cohort.batch.root, cohort.batch.issuer)
    report = verify_credential(credential(cohort), chain)
    assert report.valid
    assert "taken from the document" in report.check("network").reason


def test_without_a_chain_nothing_on_chain_is_claimed(cohort: Issued) -> None:
    report = verify_credential(credential(cohort), None)
    assert not report.valid and report.failed == ()
    for name in ("network", "anchored", "issuer_binding", "issuer_accredited", "not_revoked"):
        assert report.check(name).status is Status.NOT_RUN
    assert report.check("merkle_inclusion").passed and report.check("issuer_signature").passed
    assert report.clock == "local"


def test_an_unreachable_chain_is_reported_not_raised(cohort: Issued) -> None:
    chain = FakeChain(unavailable="connection refused")
    report = verify_credential(credential(cohort), chain)
    assert not report.valid
    assert report.check("anchored").status is Status.NOT_RUN
    assert "connection refused" in report.check("anchored").reason


def test_in_two_steps_the_verifier_asks_its_one_question_and_reports_alike(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort, 1)
    verification = Verification(json.dumps(document), chain)
    batch = cohort.batch
    assert verification.question == (ISSUER.address, batch.root, batch.digests[1], tuple(batch.tree.proof(1)))
    with pytest.raises(TypeError, match="answer"):
        verification.finish()
    answer = chain(*verification.question)
    receipt = chain.anchor_receipt(verification.transaction_hash)
    first = verification.finish(answer, receipt)
    second = verify_credential(json.dumps(document), chain, now=None)
    assert first.checks == second.checks and first.anchor == second.anchor
    down = Verification(json.dumps(document), chain).finish(
        ChainUnavailable("connection refused"), ChainUnavailable("connection refused")
    )
    assert down.check("anchored").status is Status.NOT_RUN and "connection refused" in down.check("anchored").reason


def test_in_two_steps_nothing_is_asked_when_nothing_can_be_relied_on(cohort: Issued, chain: FakeChain) -> None:
    changed = credential(cohort)
    changed["name"] = "Something else"
    elsewhere = credential(cohort)
    elsewhere["proof"][0]["chainId"] = 1
    for source, chain_facts in ((b"[]", chain), (changed, chain), (elsewhere, chain), (credential(cohort), None)):
        verification = Verification(source, chain_facts)
        assert verification.question is None
        assert not verification.finish().valid


def test_the_registry_view_disagreeing_on_inclusion_fails_it(
    cohort: Issued, chain: FakeChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tests.credentials.factory as factory

    monkeypatch.setattr(factory, "verify_inclusion", lambda *args: False)
    report = verify_credential(credential(cohort), chain)
    assert report.failed == ("merkle_inclusion",)
    assert "registry's verify view" in report.check("merkle_inclusion").reason


def test_recipient_check(cohort: Issued, chain: FakeChain) -> None:
    document = select_disclosures(credential(cohort, 2), ["identifier"])
    assert verify_credential(document, chain, recipient_email="  Graduate2@Example.org ").valid
    report = verify_credential(document, chain, recipient_email="graduate1@example.org")
    assert report.failed == ("recipient",)


def test_a_default_shared_copy_holds_nothing_personal(cohort: Issued, chain: FakeChain) -> None:
    """The holder shares nothing about themselves unless they choose to: no name, no email hash, no salt
    that would let anyone test guessed addresses against it."""
    full = credential(cohort, 2)
    shared = select_disclosures(full, [])
    text = json.dumps(shared)
    identity = next(item[2][0] for item in full["proof"][0]["disclosures"] if item[1] == "identifier")
    for personal in (
        "graduate2@example.org",
        "Graduate 2 de Vries",
        identity["identityHash"],
        identity["salt"],
        "identityHash",
        "IdentityObject",
    ):
        assert personal not in text
    assert verify_credential(shared, chain).valid
    report = verify_credential(shared, chain, recipient_email="graduate2@example.org")
    assert report.check("recipient").status is Status.NOT_RUN and not report.valid
    assert "does not disclose the recipient identifier" in report.check("recipient").reason


def test_an_identifier_disclosure_must_hold_identity_objects(chain: FakeChain) -> None:
    issued = issue(1, chain=chain)
    document = copy.deepcopy(issued.credentials[0])
    bad = make_disclosure("identifier", ["jan@example.org"])
    document["credentialSubject"]["disclosureDigests"] = sorted(
        [*document["credentialSubject"]["disclosureDigests"], bad.digest]
    )
    document["proof"][0]["disclosures"] = [bad.to_json()]
    report = verify_credential(document, chain)
    assert "IdentityObjects" in report.check("disclosures").reason


# ---------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b'{"a": 1,}', "not JSON"),
        (b"[]", "JSON object"),
        (b'"a credential"', "JSON object"),
        (b'{"a": 1, "a": 2}', "duplicate member name 'a'"),
        (b'{"a": NaN}', "NaN is not JSON"),
        (b'{"a": 9007199254740993}', "I-JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b"{}", "is required"),
    ],
)
def test_malformed_input_fails_format_and_nothing_else_runs(data: bytes, reason: str) -> None:
    report = verify_credential(data, FakeChain())
    assert not report.valid and not report.usable
    assert report.failed == ("format",)
    assert reason in report.check("format").reason
    assert all(check.status is Status.NOT_RUN for check in report.checks[1:])


def test_huge_input_is_refused_with_a_clear_error(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort)
    document["credentialSubject"]["padding"] = "x" * MAX_CREDENTIAL_BYTES
    for source in (json.dumps(document), json.dumps(document).encode(), document):
        report = verify_credential(source, chain)
        assert report.failed == ("format",)
        assert f"limit of {MAX_CREDENTIAL_BYTES} bytes" in report.check("format").reason
    assert chain.calls == 0


def test_the_size_limit_is_configurable(cohort: Issued, chain: FakeChain) -> None:
    assert verify_credential(credential(cohort), chain, max_bytes=1000).failed == ("format",)


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("type",), ["VerifiableCredential"], "OpenBadgeCredential"),
        (("@context",), ["https://www.w3.org/ns/credentials/v2"], "@context must include"),
        (("@context",), "https://www.w3.org/ns/credentials/v2", "valid list"),
        (("issuer",), "did:pkh:eip155:31337:0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "issuer"),
        (("issuer", "id"), "did:pkh:eip155:31337:0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "did:web"),
        (
            ("issuer", "otherIdentifier", 0, "identifier"),
            "did:pkh:eip155:31337:0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "checksum",
        ),
        (("issuer", "otherIdentifier", 0, "identifier"), "did:web:hanze.nl", "did:pkh"),
        (("issuer", "otherIdentifier"), [], "otherIdentifier"),
        (("validFrom",), "1 July 2026", "date-time"),
        (("validFrom",), "2026-07-01T00:00:00", "date-time"),
        (("validUntil",), "2020-01-01T00:00:00Z", "later than validFrom"),
        (("credentialSubject", "achievement", "creditsAvailable"), "15", "valid number"),
        (("credentialSubject", "achievement", "creditsAvailable"), True, "valid number"),
        (("credentialSubject", "achievement", "achievementType"), "Trophy", "AchievementType"),
        (("credentialSubject", "achievement", "alignment"), [], "European Qualifications Framework"),
        (("credentialSubject", "achievement", "alignment", 0, "targetCode"), "9", "level from 1 to 8"),
        # the recipient's identifier is a disclosure, never in the anchored body (section 2)
        (("credentialSubject", "identifier"), [], "identifier must not be in the anchored body"),
        (("credentialSubject", "id"), "did:example:graduate", "urn:uuid"),
        (("credentialSubject", "disclosureDigests"), ["A" * 44], "disclosureDigests"),
        (("proof", 0, "anchorSignature", "signature"), "0x" + "ab" * 65 + "ff", "signature"),
        (("credentialSubject", "disclosureDigests"), ["not a digest"], "disclosureDigests"),
        (("proof",), [], "proof"),
        (("proof",), {}, "proof"),
        (("proof", 0, "type"), "DataIntegrityProof", "proof.0.cryptosuite: is required"),
        (("proof", 0, "type"), "Ed25519Signature2020", "proof.0"),
        (("proof", 1, "type"), "MerkleAnchor2026", "proof.1.credentialDigest: is required"),
        (("proof", 1, "cryptosuite"), "eddsa-jcs-2022", "proof.1.cryptosuite"),
        (("proof", 1, "proofPurpose"), "authentication", "proof.1.proofPurpose"),
        (("proof", 1, "proofValue"), "uAAAA", "proof.1.proofValue"),
        (("proof", 0, "chainId"), "31337", "proof.0.chainId"),
        (("proof", 0, "chainId"), 0, "proof.0.chainId"),
        (("proof", 0, "registry"), REGISTRY.lower(), "checksum"),
        (("proof", 0, "merkleRoot"), "0x" + "AB" * 32, "lowercase"),
        (("proof", 0, "merklePath"), ["0x" + "00" * 32] * 65, "proof.0.merklePath"),
        (("proof", 0, "anchorSignature", "signature"), "0x1234", "signature"),
        (("proof", 0, "anchorSignature", "count"), 0, "count"),
        (("proof", 0, "surprise"), 1, "is not a known field"),
    ],
)
def test_wrong_types_and_values_fail_format(
    cohort: Issued, chain: FakeChain, path: tuple[Any, ...], value: Any, reason: str
) -> None:
    document = credential(cohort)
    _set(document, path, value)
    report = verify_credential(document, chain)
    assert report.failed == ("format",), report.to_json_text()
    assert reason in report.check("format").reason
    assert chain.calls == 0


@pytest.mark.parametrize(
    ("extra", "words"), [("1e999", "outside the range of a double"), ('"\\ud800"', "cannot canonicalise")]
)
def test_json_the_canonical_form_cannot_write_fails_format_not_raises(cohort: Issued, extra: str, words: str) -> None:
    text = json.dumps(credential(cohort))[:-1] + f', "extra": {extra}}}'
    report = verify_credential(text)
    assert report.first_failure == "format" and words in report.check("format").reason
    assert not report.usable


def test_a_credential_without_proof_is_not_one(cohort: Issued) -> None:
    document = credential(cohort)
    del document["proof"]
    assert "proof: is required" in verify_credential(document).check("format").reason


def test_chain_id_in_did_uses_the_proof_chain(cohort: Issued) -> None:
    document = credential(cohort)
    assert document["issuer"]["id"] == issuer_did_web()
    (account,) = document["issuer"]["otherIdentifier"]
    assert account == {
        "type": "IdentifierEntry",
        "identifier": f"did:pkh:eip155:{CHAIN_ID}:{ISSUER.address}",
        "identifierType": "accountId",
    }


# ---------------------------------------------------------------- the issuer's Data Integrity proof


def _integrity_proof(document: dict[str, Any]) -> dict[str, Any]:
    (proof,) = [item for item in document["proof"] if item["type"] == "DataIntegrityProof"]
    return proof


def _resign(document: dict[str, Any], key: Ed25519PrivateKey, verification_method: str) -> dict[str, Any]:
    """`document` with its DataIntegrityProof replaced by one `key` makes over the same body."""
    proof = integrity.sign(integrity.unsecured(document), key, verification_method)
    document["proof"] = [item if item["type"] != "DataIntegrityProof" else proof for item in document["proof"]]
    return document


def test_the_report_names_the_key_that_signed(cohort: Issued, chain: FakeChain) -> None:
    report = verify_credential(credential(cohort), chain)
    key = multikey.encode_public(dev_signing_key(ISSUER.address).public_key().public_bytes_raw())
    assert report.credential is not None and report.credential.signing_key == key
    assert key in report.check("issuer_signature_di").reason
    assert issuer_did_web() in report.check("issuer_signature_di").reason
    assert multikey.short_fingerprint(key) in report.check("issuer_key_accredited").reason
    assert report.to_json()["credential"]["signing_key"] == key


def test_a_key_the_board_did_not_accredit_for_the_issuer_fails(cohort: Issued) -> None:
    """Self-consistent: a fresh key signs and the proof names it; the signature verifies, but the board had
    accredited another key for the anchoring issuer."""
    other = Ed25519PrivateKey.generate()
    document = _resign(credential(cohort), other, f"{issuer_did_web()}#{_multibase(other)}")
    chain = FakeChain()
    chain.anchor(cohort.batch.root, cohort.batch.issuer, submitter=RELAYER.address)
    report = verify_credential(document, chain)
    assert report.failed == ("issuer_key_accredited",)
    assert report.check("issuer_signature_di").passed
    reason = report.check("issuer_key_accredited").reason
    assert multikey.short_fingerprint(_multibase(other)) in reason and "not the key the board had accredited" in reason
    # the same credential verifies where the board accredited that key at anchoring (a rotated key, say)
    rotated = FakeChain()
    rotated.anchor(cohort.batch.root, cohort.batch.issuer, submitter=RELAYER.address, signing_key_hash=_hash(other))
    assert verify_credential(document, rotated).valid


def test_an_issuer_without_an_accredited_key_fails(cohort: Issued) -> None:
    chain = FakeChain()
    chain.anchor(cohort.batch.root, cohort.batch.issuer, submitter=RELAYER.address, signing_key_hash=b"\0" * 32)
    report = verify_credential(credential(cohort), chain)
    assert report.failed == ("issuer_key_accredited",)
    assert "accredited no signing key" in report.check("issuer_key_accredited").reason


def test_a_forged_signature_fails(cohort: Issued, chain: FakeChain) -> None:
    """Another key signs but the proof names the issuer's key; or the signature is flipped."""
    issuer_method = _integrity_proof(credential(cohort))["verificationMethod"]
    forged = _resign(credential(cohort), Ed25519PrivateKey.generate(), issuer_method)
    report = verify_credential(forged, chain)
    assert report.failed == ("issuer_signature_di",)
    assert "does not verify" in report.check("issuer_signature_di").reason
    assert report.check("issuer_key_accredited").status is Status.NOT_RUN

    flipped = credential(cohort)
    signature = bytearray(integrity.decode_proof_value(_integrity_proof(flipped)["proofValue"]))
    signature[10] ^= 0x40
    _integrity_proof(flipped)["proofValue"] = "z" + base58.b58encode(bytes(signature)).decode()
    assert verify_credential(flipped, chain).failed == ("issuer_signature_di",)

    later = credential(cohort)
    _integrity_proof(later)["created"] = "2030-01-01T00:00:00Z"  # the proof's own members are signed too
    assert verify_credential(later, chain).failed == ("issuer_signature_di",)


def test_a_proof_by_another_did_fails(cohort: Issued, chain: FakeChain) -> None:
    key = dev_signing_key(ISSUER.address)
    other_did = issuer_did_web("Drenthe College")
    document = _resign(credential(cohort), key, f"{other_did}#{_multibase(key)}")
    report = verify_credential(document, chain)
    assert report.failed == ("issuer_signature_di",)
    assert "is not a key of the issuer" in report.check("issuer_signature_di").reason

    # the issuer's DID, but a fragment that is not a Multikey
    odd = _resign(credential(cohort), key, f"{issuer_did_web()}#key-1")
    assert "not an Ed25519 Multikey" in verify_credential(odd, chain).check("issuer_signature_di").reason


def test_a_credential_without_its_issuers_signature_fails(cohort: Issued, chain: FakeChain) -> None:
    document = credential(cohort)
    document["proof"] = [item for item in document["proof"] if item["type"] != "DataIntegrityProof"]
    report = verify_credential(document, chain)
    assert report.failed == ("issuer_signature_di",)
    assert "no DataIntegrityProof" in report.check("issuer_signature_di").reason
    assert report.check("issuer_key_accredited").status is Status.NOT_RUN


def test_a_term_no_context_defines_fails_the_signature_check(cohort: Issued, chain: FakeChain) -> None:
    """A member outside the contexts would be dropped from what is signed: the issuer cannot have signed it."""
    document = credential(cohort)
    document["credentialSubject"]["favouriteColour"] = "blue"
    report = verify_credential(document, chain)
    assert "issuer_signature_di" in report.failed
    assert "not defined" in report.check("issuer_signature_di").reason


@given(data=st.data())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_shared_copy_keeps_the_issuers_signature(cohort: Issued, chain: FakeChain, data: st.DataObject) -> None:
    """The holder withholds any claims: the disclosures sit in the anchor proof, so the DI proof verifies."""
    full = credential(cohort)
    names = [item[1] for item in full["proof"][0]["disclosures"]]
    kept = data.draw(st.lists(st.sampled_from(names), unique=True))
    shared = select_disclosures(full, kept)
    report = verify_credential(shared, chain)
    assert report.valid, report.to_json_text()
    assert report.check("issuer_signature_di").passed and report.check("issuer_key_accredited").passed
    assert _integrity_proof(shared) == _integrity_proof(full)


def _multibase(key: Ed25519PrivateKey) -> str:
    return multikey.encode_public(key.public_key().public_bytes_raw())


def _hash(key: Ed25519PrivateKey) -> bytes:
    return multikey.key_hash(key.public_key().public_bytes_raw())


def test_a_signature_verified_once_is_not_canonicalized_again(
    cohort: Issued, chain: FakeChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verifier remembers the outcome by body, proof and key: a shared copy verified again costs no RDF
    canonicalization, and any change to the body (even 15 -> 15.0, the same JCS bytes but another RDF literal)
    is verified afresh."""
    from service.credentials import verifier

    calls: list[int] = []
    original = integrity.verify

    def counting(*args: Any, **kwargs: Any) -> bool:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(verifier, "SIGNATURES", verifier._SignatureCache(size=2))
    monkeypatch.setattr(integrity, "verify", counting)
    shared = select_disclosures(credential(cohort), [])
    for _ in range(3):
        assert verify_credential(shared, chain).valid
    assert len(calls) == 1
    as_float = copy.deepcopy(shared)
    as_float["credentialSubject"]["achievement"]["creditsAvailable"] = 15.0
    report = verify_credential(as_float, chain)
    assert len(calls) == 2  # another JSON body: verified afresh (its RDF literal is still "15", so it holds)
    assert report.valid
    renamed = copy.deepcopy(shared)
    renamed["name"] = "Make IT Work: Data Analytics (honours)"
    assert "issuer_signature_di" in verify_credential(renamed, chain).failed and len(calls) == 3
    for index in (1, 2):  # the cache is bounded: the oldest outcome goes first
        verify_credential(credential(cohort, index), chain)
    verify_credential(shared, chain)
    assert len(calls) == 6
