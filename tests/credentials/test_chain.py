"""End to end on real nodes (anvil and ganache): issue, anchor, revoke, suspend, and verify through the
registry's own `verify` view, plus the RegistryClient itself."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from service.chain.devchain import DevChain
from service.chain.registry import RegistryChainFacts, RegistryClient
from service.credentials import RegistryTrust, Status, multikey, select_disclosures, verify_credential
from service.credentials.canonical import from_hex32
from service.credentials.facts import AnchorMode
from service.credentials.merkle import leaf_hash, verify_inclusion
from service.errors import ChainRejected
from service.issuing.signing_keys import dev_signing_key, key_hash, public_multibase
from tests.chain import advance_time, latest_timestamp
from tests.credentials.fixtures import ISSUER_NAME, deploy_registry, issue_on_chain

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

REASON_ERROR = 2


def parts(document: dict[str, Any]) -> tuple[bytes, bytes, list[bytes]]:
    proof = document["proof"][0]
    return (
        from_hex32(proof["merkleRoot"]),
        from_hex32(proof["credentialDigest"]),
        [from_hex32(node) for node in proof["merklePath"]],
    )


# ---------------------------------------------------------------- valid credentials


def test_a_directly_anchored_cohort_verifies_with_one_eth_call(
    chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    issued = issue_on_chain(registry, issuer, 4)
    methods: list[str] = []
    w3 = Web3(Web3.HTTPProvider(chain.url))
    original = w3.provider.make_request

    def counting(method: Any, params: Any) -> Any:
        methods.append(str(method))
        return original(method, params)

    w3.provider.make_request = counting  # type: ignore[method-assign]
    facts = RegistryClient(w3, registry.address).chain_facts()
    for document in issued.credentials:
        report = verify_credential(document, facts)
        assert report.valid, report.to_json_text()
        assert "issuer_signature" not in [check.name for check in report.checks]
        assert report.clock == "local"
        assert report.anchor is not None and report.anchor.anchored_at == issued.anchored_at
        assert report.anchor.transaction_hash == "0x" + issued.transaction_hash.hex()
        assert (
            report.anchor.anchored_in_block
            == registry.w3.eth.get_transaction_receipt(issued.transaction_hash)["blockNumber"]
        )
        assert report.check("anchor_transaction").passed and "directly" in report.check("anchor_transaction").reason
    # per credential: the verify view, whose answer names its block and timestamp, and the receipt of the
    # proof's transactionHash (web3's own validation middleware also asks eth_chainId, which is no chain fact)
    assert methods.count("eth_call") == len(issued.credentials)
    assert methods.count("eth_getTransactionReceipt") == len(issued.credentials)
    assert set(methods) <= {"eth_call", "eth_chainId", "eth_getTransactionReceipt"}


def test_a_relayed_cohort_carries_a_signature_that_verifies(
    registry: RegistryClient, issuer: LocalAccount, relayer: LocalAccount
) -> None:
    nonce = registry.nonce(issuer.address)
    issued = issue_on_chain(registry, issuer, 3, relayer=relayer)
    assert registry.nonce(issuer.address) == nonce + 1
    for document in issued.credentials:
        report = verify_credential(document, registry.chain_facts())
        assert report.valid, report.to_json_text()
        assert report.check("issuer_signature").passed
    batch = registry.batch(issuer.address, issued.batch.root)
    assert batch.anchored and batch.mode == AnchorMode.SIGNED  # the registry checked the signature itself


def test_selective_disclosure_on_chain(registry: RegistryClient, issuer: LocalAccount) -> None:
    document = issue_on_chain(registry, issuer, 2).credentials[1]
    for chosen in ([], ["name"], ["result"], ["name", "result", "activityEndDate"]):
        report = verify_credential(select_disclosures(document, chosen), registry.chain_facts())
        assert report.valid and report.credential is not None
        assert sorted(report.credential.disclosed) == sorted(chosen)


# ---------------------------------------------------------------- invalid credentials


def test_revoked_with_reason_and_time(registry: RegistryClient, issuer: LocalAccount) -> None:
    issued = issue_on_chain(registry, issuer, 3)
    root, digest, path = parts(issued.credentials[1])
    receipt = registry.revoke(root, digest, path, REASON_ERROR, sender=issuer)
    revoked_at = int(registry.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    report = verify_credential(issued.credentials[1], registry.chain_facts())
    assert report.failed == ("not_revoked",)
    when = datetime.fromtimestamp(revoked_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert report.check("not_revoked").reason == f"revoked at {when}: issued in error"
    assert report.anchor is not None and report.anchor.revoked_at == revoked_at
    assert registry.revocation(issuer.address, root, digest).reason == REASON_ERROR
    assert verify_credential(issued.credentials[0], registry.chain_facts()).valid  # the others stay valid


class _Clock:
    """The verifier's wall clock, set by a test (the module's `datetime`, with `now` replaced)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import service.credentials.verifier as verifier

        moment = self.moment

        class Clock(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return moment

        monkeypatch.setattr(verifier, "datetime", Clock)


def test_expired_by_the_verifiers_clock_while_the_latest_block_is_hours_old(
    registry: RegistryClient, issuer: LocalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain that mines only on transactions: the latest block is six hours old when the verifier
    asks; validUntil passed an hour after that block. Chain time says valid; the verifier's clock says
    expired, and the clock decides."""
    block_time = datetime.fromtimestamp(latest_timestamp(registry.w3), UTC)
    issued = issue_on_chain(
        registry, issuer, 1, valid_from=block_time - timedelta(days=10), valid_until=block_time + timedelta(hours=1)
    )
    anchored_block = datetime.fromtimestamp(latest_timestamp(registry.w3), UTC)
    _Clock(anchored_block + timedelta(hours=6)).install(monkeypatch)  # no block since: chain time stands still
    report = verify_credential(issued.credentials[0], registry.chain_facts())
    assert report.failed == ("validity_window",), report.to_json_text()
    assert report.check("validity_window").reason.startswith("expired")
    assert "by this verifier's clock" in report.check("validity_window").reason
    assert report.clock == "local" and report.anchor is not None
    assert report.anchor.block_timestamp is not None and report.anchor.block_timestamp < int(
        (anchored_block + timedelta(hours=1)).timestamp()
    )  # the chain's latest block is before validUntil
    # a moment given (--at) still decides when there is one
    at = verify_credential(issued.credentials[0], registry.chain_facts(), now=anchored_block)
    assert at.valid and at.clock == "given"


def test_not_yet_valid_by_the_verifiers_clock_though_chain_time_is_ahead(
    registry: RegistryClient, issuer: LocalAccount
) -> None:
    wall = datetime.now(UTC)
    advance_time(registry.w3, 3 * 86_400)  # the chain runs days ahead of the wall clock
    issued = issue_on_chain(
        registry, issuer, 1, valid_from=wall + timedelta(days=2), valid_until=wall + timedelta(days=400)
    )
    report = verify_credential(issued.credentials[0], registry.chain_facts())
    assert report.failed == ("validity_window",)
    assert report.check("validity_window").reason.startswith("not yet valid")
    assert verify_credential(issued.credentials[0], registry.chain_facts(), now=wall + timedelta(days=3)).valid


def test_an_unaccredited_issuer_cannot_anchor(registry: RegistryClient, outsider: LocalAccount) -> None:
    with pytest.raises(ChainRejected) as info:
        issue_on_chain(registry, outsider, 2, name="Fake Hogeschool")
    assert info.value.revert.name == "RegistryIssuerNotAccredited"


def test_a_credential_naming_an_issuer_that_did_not_anchor_it(
    registry: RegistryClient, issuer: LocalAccount, other_issuer: LocalAccount
) -> None:
    issued = issue_on_chain(registry, issuer, 2, anchor_as=other_issuer)
    report = verify_credential(issued.credentials[0], registry.chain_facts())
    # batches are keyed by (issuer, root): another account's anchoring of the root is not the named issuer's
    assert report.first_failure == "anchored"
    assert f"not anchored by {issuer.address}" in report.check("anchored").reason


def test_an_accredited_partner_cannot_issue_under_another_partners_name(
    registry: RegistryClient, other_issuer: LocalAccount
) -> None:
    issued = issue_on_chain(registry, other_issuer, 1, name=ISSUER_NAME)  # accredited as NHL Stenden
    report = verify_credential(issued.credentials[0], registry.chain_facts())
    assert report.failed == ("issuer_binding",), report.to_json_text()
    assert "accredited as 'NHL Stenden'" in report.check("issuer_binding").reason


def test_an_issuer_suspended_before_anchoring_is_refused(
    registry: RegistryClient, deployer: LocalAccount, issuer: LocalAccount, relayer: LocalAccount
) -> None:
    registry.suspend_issuer(issuer.address, sender=deployer)
    for relayed_by in (None, relayer):
        with pytest.raises(ChainRejected) as info:
            issue_on_chain(registry, issuer, 2, relayer=relayed_by)
        assert info.value.revert.name == "RegistryIssuerNotAccredited"
    assert not registry.issuer(issuer.address).accredited


def test_suspension_after_anchoring_keeps_credentials_valid(
    registry: RegistryClient, deployer: LocalAccount, issuer: LocalAccount
) -> None:
    issued = issue_on_chain(registry, issuer, 2)
    advance_time(registry.w3, 60)
    registry.suspend_issuer(issuer.address, sender=deployer)
    report = verify_credential(issued.credentials[0], registry.chain_facts())
    assert report.valid
    assert "suspended since" in report.check("issuer_accredited").reason
    assert registry.was_accredited_at(issuer.address, issued.anchored_at)
    assert not registry.was_accredited_at(issuer.address, latest_timestamp(registry.w3))


def test_a_never_anchored_root(registry: RegistryClient, issuer: LocalAccount) -> None:
    document = copy.deepcopy(issue_on_chain(registry, issuer, 2).credentials[0])
    # same body, but the proof claims a one-leaf cohort that was never anchored
    document["proof"][0]["merkleRoot"] = "0x" + leaf_hash(from_hex32(document["proof"][0]["credentialDigest"])).hex()
    document["proof"][0]["merklePath"] = []
    report = verify_credential(document, registry.chain_facts())
    assert report.failed == ("anchored",)


def test_anchored_on_another_chain(registry: RegistryClient, issuer: LocalAccount) -> None:
    issued = issue_on_chain(registry, issuer, 1, profile_chain_id=1)  # says: chain 1 (mainnet)
    report = verify_credential(issued.credentials[0], registry.chain_facts())
    assert report.failed == ("network",)
    assert f"anchored on chain 1; this verifier checks chain {registry.chain_id}" in report.check("network").reason


def test_another_registry_is_not_the_hubs(
    w3: Web3, registry: RegistryClient, deployer: LocalAccount, issuer: LocalAccount, outsider: LocalAccount
) -> None:
    # An outsider deploys its own registry, makes itself governor and "accredits" the hub partner's name.
    forged_registry = deploy_registry(w3, outsider, (outsider, ISSUER_NAME))
    forged = issue_on_chain(forged_registry, outsider, 1)
    hub = registry.chain_facts()
    report = verify_credential(forged.credentials[0], hub)
    assert report.failed == ("network",)
    assert forged_registry.address in report.check("network").reason
    # asked on its own terms the forged registry answers "anchored", but that is not relied on
    report = verify_credential(forged.credentials[0], forged_registry.chain_facts(RegistryTrust.DOCUMENT))
    assert not report.valid and report.check("network").status is Status.NOT_RUN
    assert report.check("anchored").passed
    # and a genuine credential checked against that other registry is not anchored there
    genuine = issue_on_chain(registry, issuer, 1)
    report = verify_credential(genuine.credentials[0], RegistryChainFacts(RegistryClient(w3, forged_registry.address)))
    assert report.failed == ("network",)


def test_no_registry_at_the_address_is_reported(
    registry: RegistryClient, issuer: LocalAccount, outsider: LocalAccount
) -> None:
    issued = issue_on_chain(registry, issuer, 1)
    document = issued.credentials[0]
    nowhere = RegistryClient(registry.w3, outsider.address)
    report = verify_credential(document, nowhere.chain_facts(RegistryTrust.DOCUMENT_ACCEPTED))
    assert report.failed == ("network",)  # the document names the real registry, the verifier another
    document = copy.deepcopy(document)
    document["proof"][0]["registry"] = outsider.address
    report = verify_credential(document, nowhere.chain_facts())
    assert report.check("anchored").status is Status.NOT_RUN
    assert "no CredentialRegistry at" in report.check("anchored").reason


def test_an_unreachable_node_is_reported(registry: RegistryClient, issuer: LocalAccount) -> None:
    document = issue_on_chain(registry, issuer, 1).credentials[0]
    dead = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    report = verify_credential(document, RegistryClient(dead, registry.address).chain_facts())
    assert not report.valid and report.failed == ()
    for name in ("network", "anchored", "issuer_binding", "issuer_accredited", "not_revoked"):
        assert report.check(name).status is Status.NOT_RUN
        assert "could not be asked" in report.check(name).reason


# ---------------------------------------------------------------- the contract agrees with Python


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(1, 12), pick=st.integers(0, 2**16), position=st.integers(0, 2**16))
def test_python_proofs_verify_in_the_contract_and_answers_match(
    registry: RegistryClient, issuer: LocalAccount, size: int, pick: int, position: int
) -> None:
    issued = issue_on_chain(registry, issuer, size)
    for document in issued.credentials:
        root, digest, path = parts(document)
        status = registry.verify(issuer.address, root, digest, path)
        assert status.included and status.anchored and status.issuer == issuer.address
        assert registry.leaf_of(digest) == leaf_hash(digest)
        assert verify_credential(document, registry.chain_facts()).valid
    # a wrong path or a digest of another cohort member: contract and Python agree it is not included
    index = pick % size  # (the cohort's salts are random: draw nothing that depends on its shape)
    root, digest, path = parts(issued.credentials[index])
    other = from_hex32(issued.credentials[(index + 1) % size]["proof"][0]["credentialDigest"])
    candidates = [(other, path)]
    if path:
        at = position % len(path)
        candidates.append((digest, [*path[:at], bytes(32), *path[at + 1 :]]))
    for candidate_digest, candidate_path in candidates:
        if candidate_digest == digest and candidate_path == path:
            continue
        expected = verify_inclusion(root, candidate_digest, candidate_path)
        assert registry.verify(issuer.address, root, candidate_digest, candidate_path).included == expected


# ---------------------------------------------------------------- the client


def test_client_views(
    registry: RegistryClient, deployer: LocalAccount, issuer: LocalAccount, outsider: LocalAccount
) -> None:
    assert registry.governor() == deployer.address
    hanze = registry.issuer(issuer.address)
    assert hanze.name == ISSUER_NAME and hanze.accredited and hanze.since > 0
    assert registry.issuer(outsider.address).name == ""
    domain = registry.eip712_domain()
    assert (domain.name, domain.version) == ("IT Hub Hoogeveen CredentialRegistry", "1")
    assert domain.chain_id == registry.chain_id and domain.verifying_contract == registry.address
    issued = issue_on_chain(registry, issuer, 3)
    batch = registry.batch(issuer.address, issued.batch.root)
    assert batch.anchored and batch.count == 3 and batch.anchored_at == issued.anchored_at
    assert batch.mode == AnchorMode.DIRECT
    assert not registry.batch(issuer.address, b"\x01" * 32).anchored
    assert not registry.batch(outsider.address, issued.batch.root).anchored  # batches are the issuer's own
    root, digest, _ = parts(issued.credentials[0])
    assert not registry.revocation(issuer.address, root, digest).revoked


def test_client_errors_are_decoded(registry: RegistryClient, issuer: LocalAccount, other_issuer: LocalAccount) -> None:
    issued = issue_on_chain(registry, issuer, 2)
    root, digest, path = parts(issued.credentials[0])
    cases = [
        (lambda: registry.anchor(root, 2, sender=issuer), "RegistryBatchAlreadyAnchored"),
        (lambda: registry.revoke(root, digest, path, 1, sender=other_issuer), "RegistryBatchNotAnchored"),
        (lambda: registry.revoke(root, digest, [bytes(32)] * len(path), 1, sender=issuer), "RegistryInvalidProof"),
        (lambda: registry.revoke(root, digest, path, 0, sender=issuer), "RegistryInvalidReason"),
        (
            lambda: registry.accredit_issuer(other_issuer.address, "x", b"\x01" * 32, sender=issuer),
            "RegistryUnauthorizedGovernor",
        ),
    ]
    for action, name in cases:
        with pytest.raises(ChainRejected) as info:
            action()
        assert info.value.revert.name == name, str(info.value)


def test_a_batch_anchored_by_the_issuers_relayer_needs_the_issuers_signature_in_the_proof(
    registry: RegistryClient, issuer: LocalAccount, outsider: LocalAccount, relayer: LocalAccount
) -> None:
    """anchorFor checks no signature on chain: the proof's anchorSignature is what shows the issuer asked."""
    issued = issue_on_chain(registry, issuer, 3, relayer=relayer, authorised=True)
    assert registry.batch(issuer.address, issued.batch.root).mode == AnchorMode.RELAYED
    document = issued.credentials[0]
    report = verify_credential(document, registry.chain_facts())
    assert report.valid, report.to_json_text()
    assert report.check("issuer_signature").passed
    assert document["proof"][0]["anchorSignature"]["nonce"] == 0  # no nonce is used on this path
    assert document["proof"][0]["anchorSignature"]["deadline"] == issued.anchored_at

    stripped = json.loads(json.dumps(document))
    del stripped["proof"][0]["anchorSignature"]
    report = verify_credential(stripped, registry.chain_facts())
    assert not report.valid and report.check("issuer_signature").status == Status.FAILED
    assert "no anchorSignature" in report.check("issuer_signature").reason

    forged = json.loads(json.dumps(document))  # signed by another key (e.g. the relayer acting alone)
    request = registry.relayed_anchor(registry.batch(issuer.address, issued.batch.root), outsider.key)
    forged["proof"][0]["anchorSignature"]["signature"] = "0x" + request.signature.hex()
    report = verify_credential(forged, registry.chain_facts())
    assert not report.valid and report.check("issuer_signature").status == Status.FAILED


# ---------------------------------------------------------------- the proof's transactionHash, checked on chain


def test_a_forged_transaction_hash_or_a_removed_signature_fails_on_chain(
    registry: RegistryClient, issuer: LocalAccount, relayer: LocalAccount
) -> None:
    relayed = issue_on_chain(registry, issuer, 2, relayer=relayer)
    other = issue_on_chain(registry, issuer, 1)  # another cohort of the same issuer, in its own transaction
    good = relayed.credentials[0]
    report = verify_credential(good, registry.chain_facts())
    assert report.valid and report.anchor is not None and report.anchor.relayed
    assert f"through relayer {relayer.address}" in report.check("anchor_transaction").reason
    for forged, words in (
        ("0x" + "cd" * 32, "does not know"),  # no such transaction
        ("0x" + other.transaction_hash.hex(), "did not anchor root"),
    ):  # anchored another root
        document = copy.deepcopy(good)
        document["proof"][0]["transactionHash"] = forged
        report = verify_credential(document, registry.chain_facts())
        assert report.failed == ("anchor_transaction",), report.to_json_text()
        assert words in report.check("anchor_transaction").reason
        assert report.anchor is not None and report.anchor.transaction_hash is None
        assert report.anchor.claimed_transaction_hash == forged
    unsigned = copy.deepcopy(good)
    del unsigned["proof"][0]["anchorSignature"]
    report = verify_credential(unsigned, registry.chain_facts())
    assert report.failed == ("anchor_transaction",)
    assert f"relayer {relayer.address}" in report.check("anchor_transaction").reason
    assert verify_credential(other.credentials[0], registry.chain_facts()).valid  # direct: no signature needed


def test_on_a_fresh_anvil_a_credential_expires_while_no_block_is_mined(tmp_path: Any) -> None:
    """The real case, no clock seam: anvil mines only on transactions (automine). The credential's
    validUntil passes seconds after its anchoring block, and no block follows; the latest block's time
    is still before validUntil, but the verifier's clock is past it, so it is expired."""
    import time

    from service.chain.devchain import dev_accounts, start_chain

    node = start_chain("anvil", log_dir=tmp_path)
    try:
        w3 = node.w3
        deployer, issuer = dev_accounts(2)
        registry = deploy_registry(w3, deployer, (issuer, ISSUER_NAME))
        wall = datetime.now(UTC)
        assert latest_timestamp(w3) <= wall.timestamp() + 1  # a fresh node keeps the wall clock's time
        valid_until = wall.replace(microsecond=0) + timedelta(seconds=4)
        issued = issue_on_chain(registry, issuer, 1, valid_from=wall - timedelta(days=1), valid_until=valid_until)
        assert verify_credential(issued.credentials[0], registry.chain_facts()).valid
        head = w3.eth.block_number
        time.sleep(max(0.0, valid_until.timestamp() - time.time()) + 1.5)
        report = verify_credential(issued.credentials[0], registry.chain_facts())
        assert w3.eth.block_number == head  # no block since the anchoring: chain time stood still
        assert report.anchor is not None and report.anchor.block_timestamp is not None
        assert report.anchor.block_timestamp < valid_until.timestamp()  # chain time would say valid
        assert report.failed == ("validity_window",), report.to_json_text()
        assert report.check("validity_window").reason.startswith("expired")
        assert "by this verifier's clock" in report.check("validity_window").reason
    finally:
        node.stop()


# ---------------------------------------------------------------- the board-accredited signing key


def test_the_key_accredited_at_anchoring_decides_and_a_rotation_keeps_older_credentials_valid(
    registry: RegistryClient, issuer: LocalAccount, deployer: LocalAccount
) -> None:
    """Each cohort's Data Integrity proof must be by the key the board had accredited for its issuer when the
    cohort was anchored (the registry's verify answer): a rotation by the governor keeps what was signed and
    anchored before valid, and from then on only the new key is accepted."""
    facts = registry.chain_facts()
    old_key, new_key, stranger = (
        dev_signing_key(issuer.address),
        Ed25519PrivateKey.generate(),
        Ed25519PrivateKey.generate(),
    )
    before = issue_on_chain(registry, issuer, 2)  # the accredited (development) key
    by_stranger = issue_on_chain(registry, issuer, 2, signing_key=stranger)
    advance_time(registry.w3, 60)
    registry.rotate_issuer_key(issuer.address, key_hash(new_key), sender=deployer)
    advance_time(registry.w3, 60)
    after = issue_on_chain(registry, issuer, 2, signing_key=new_key)
    old_after = issue_on_chain(registry, issuer, 2, signing_key=old_key)

    for document in (*before.credentials, *after.credentials):
        report = verify_credential(document, facts)
        assert report.valid, report.to_json_text()
        assert report.check("issuer_key_accredited").passed
    assert multikey.short_fingerprint(public_multibase(new_key)) in report.check("issuer_key_accredited").reason
    for issued, key in ((by_stranger, stranger), (old_after, old_key)):
        report = verify_credential(issued.credentials[0], facts)
        assert report.failed == ("issuer_key_accredited",), report.to_json_text()
        assert report.check("issuer_signature_di").passed  # the signature is sound: the key is not the board's
        reason = report.check("issuer_key_accredited").reason
        assert multikey.short_fingerprint(public_multibase(key)) in reason and "not the key the board" in reason
    # the chain's answer for an old cohort still names the key of its anchoring time
    digest, root = from_hex32(before.credentials[0]["proof"][0]["credentialDigest"]), before.batch.root
    status = registry.verify(
        issuer.address, root, digest, [from_hex32(n) for n in before.credentials[0]["proof"][0]["merklePath"]]
    )
    assert status.signing_key_hash == key_hash(old_key)
