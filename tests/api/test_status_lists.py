"""The partners' W3C Bitstring Status Lists on a real anvil: every credential points into its partner's list, the
served list follows the chain's revocation events (after the indexer's catch-up), and a reorg takes a bit back.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.credentials import integrity
from service.credentials.canonical import from_hex32
from service.credentials.status_list import (
    LIST_BITS,
    bit,
    decode_list,
    encode_list,
    list_credential,
    parse_entry,
    status_entry,
)
from service.db import models
from service.db.session import make_sessionmaker
from service.demo import DEMO_PROGRAMMES
from service.hub import Hub
from service.issuing.status_lists import StatusLists
from tests.api.test_issuing import HANZE, RUG, assert_problem, graduate, issue, registry
from tests.chain import revert_to, snapshot
from tests.credentials.ob3 import assert_ob3

BASE = "http://testserver"


@pytest.fixture
def partners(client: TestClient, keys: Any, accredited: Any) -> dict[str, str]:
    """Hanzehogeschool and the RUG accredited, the demo programmes in the catalogue."""
    for programme in DEMO_PROGRAMMES:
        response = client.post("/programmes", headers=keys.admin(), json=programme.as_create())
        assert response.status_code == 201, response.text
    hanze, rug = accredited(HANZE, RUG)
    return {HANZE: hanze, RUG: rug}


def served(client: TestClient, entry: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The status list credential an entry points to, fetched as a verifier would, and its HTTP response."""
    url, _ = parse_entry(entry)
    assert url.startswith(BASE + "/status/")
    response = client.get(url.removeprefix(BASE))
    assert response.status_code == 200, response.text
    return response.json(), response


def status_bit(client: TestClient, document: dict[str, Any]) -> int:
    entry = document["credentialStatus"]
    credential, _ = served(client, entry)
    return bit(decode_list(credential["credentialSubject"]["encodedList"]), parse_entry(entry)[1])


def revoke_on_chain(hub: Hub, document: dict[str, Any], issuer: str, reason: int = 2) -> int:
    """Revoke directly on the registry (not through the API): the block it is in."""
    proof = document["proof"][0]
    receipt = registry(hub).revoke(
        from_hex32(proof["merkleRoot"]),
        from_hex32(proof["credentialDigest"]),
        [from_hex32(node) for node in proof["merklePath"]],
        reason,
        sender=hub.signers.for_address(issuer),
    )
    return int(receipt["blockNumber"])


def test_each_credential_points_into_its_partners_signed_list_with_bit_0(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    first = issue(client, keys, HANZE)["document"]
    second = issue(client, keys, HANZE, email="fatima@example.org")["document"]
    other = issue(client, keys, RUG, programme_id="blockchain-foundations")["document"]
    identity = hub.status_lists.identities(partners[HANZE])
    url, index = parse_entry(first["credentialStatus"])
    assert first["credentialStatus"]["id"] == f"{url}#{index}"
    assert url == f"{BASE}/status/{identity.slug}/1" and 0 <= index < LIST_BITS
    assert parse_entry(second["credentialStatus"])[0] == url and parse_entry(second["credentialStatus"])[1] != index
    assert parse_entry(other["credentialStatus"])[0] != url  # each partner its own list
    # the anchored digest covers credentialStatus: the credential still verifies with our verifier
    assert_ob3(first)  # the official 1EdTech OB 3.0 schema accepts the credential with its credentialStatus
    assert client.post("/verify", json=first).json()["valid"] is True

    last = hub.indexer.catch_up()
    credential, response = served(client, first["credentialStatus"])
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["id"] == url and credential["issuer"] == identity.did
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == int(hub.settings.index_interval * 1000)
    assert credential["statusListBlock"] == last
    bits = decode_list(subject["encodedList"])
    assert len(bits) * 8 == LIST_BITS and not any(bits)
    assert bit(bits, index) == 0
    valid_from = datetime.fromisoformat(credential["validFrom"])
    valid_until = datetime.fromisoformat(credential["validUntil"])
    assert valid_until - valid_from == timedelta(seconds=hub.settings.status_list_validity)
    assert valid_from <= datetime.now(UTC) < valid_until
    # signed by the partner's key (Data Integrity, eddsa-rdfc-2022)
    proof = credential["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022" and proof["verificationMethod"] == identity.verification_method
    public = identity.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert integrity.verify(credential, proof, public)
    # public and cacheable
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["cache-control"] == f"public, max-age={int(hub.settings.index_interval)}"
    assert parsedate_to_datetime(response.headers["expires"]) == valid_until
    again = client.get(url.removeprefix(BASE), headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    as_vc = client.get(url.removeprefix(BASE), headers={"Accept": "application/vc"})
    assert as_vc.headers["content-type"] == "application/vc" and as_vc.json() == credential


def test_a_revocation_on_chain_is_in_the_served_list_after_the_indexer_runs(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    hub.indexer.stop()  # this test runs the catch-ups itself
    revoked = issue(client, keys, HANZE)["document"]
    kept = issue(client, keys, HANZE, email="fatima@example.org")["document"]
    hub.indexer.catch_up()
    assert status_bit(client, revoked) == 0
    block = revoke_on_chain(hub, revoked, partners[HANZE])
    assert status_bit(client, revoked) == 0  # not indexed yet: the list states the block it reflects
    # our verifier asks the chain, not the list: it sees the revocation as soon as its head watcher has seen the
    # block (within HUB_HEAD_INTERVAL; polled here, as a busy machine may not have run the watcher yet)
    hub.verification_cache.head.poll()
    report = client.post("/verify", json=revoked).json()
    assert [check["name"] for check in report["checks"] if check["status"] == "failed"] == ["not_revoked"]
    hub.indexer.catch_up()
    assert status_bit(client, revoked) == 1 and status_bit(client, kept) == 0
    credential, _ = served(client, revoked["credentialStatus"])
    assert credential["statusListBlock"] >= block
    bits = decode_list(credential["credentialSubject"]["encodedList"])
    assert sum(bin(byte).count("1") for byte in bits) == 1  # exactly the revoked credential's bit
    # revoking through the API ends in the same list
    response = client.post(
        f"/credentials/{kept['id'].removeprefix('urn:uuid:')}/revoke",
        headers=keys.issuer(HANZE),
        json={"reason": "superseded"},
    )
    assert response.status_code == 200, response.text
    hub.indexer.catch_up()
    assert status_bit(client, kept) == 1 and status_bit(client, revoked) == 1


def test_a_reorg_that_drops_the_revocation_clears_its_bit(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    hub.indexer.stop()
    document = issue(client, keys, HANZE)["document"]
    hub.indexer.catch_up()
    before = snapshot(hub.w3)
    revoke_on_chain(hub, document, partners[HANZE])
    hub.indexer.catch_up()
    assert status_bit(client, document) == 1
    revert_to(hub.w3, before)  # the block with the revocation is gone
    for _ in range(3):
        hub.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    hub.indexer.catch_up()
    assert status_bit(client, document) == 0


def test_status_indexes_are_recorded_with_the_credentials_and_never_shared(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    body = {"credentials": [graduate(email=f"graduate{n}@example.org") for n in range(12)]}
    response = client.post("/credentials/batch", headers=keys.issuer(HANZE), json=body)
    assert response.status_code == 202, response.text
    single = issue(client, keys, HANZE, email="late@example.org")
    with hub.sessions() as session:
        rows = session.execute(
            select(models.StatusEntry.status_index, models.Credential.document, models.Credential.digest).join(
                models.Credential, models.Credential.id == models.StatusEntry.credential_id
            )
        ).all()
        lists = session.scalars(select(models.StatusList)).all()
    assert len(rows) == 13 and len({index for index, _, _ in rows}) == 13
    for index, document, _digest in rows:
        assert parse_entry(document["credentialStatus"])[1] == index
    assert [(item.number, item.allocated) for item in lists] == [(1, 13)]
    assert single["document"]["credentialStatus"]["statusListIndex"] in {str(index) for index, _, _ in rows}


def test_a_cohort_that_does_not_fit_opens_the_partners_next_list(hub: Hub, partners: dict[str, str]) -> None:
    lists = hub.status_lists
    first = lists.allocate(partners[HANZE], LIST_BITS - 5)
    second = lists.allocate(partners[HANZE], 10)
    assert (first.list_number, second.list_number) == (1, 2)
    assert second.url.endswith("/2") and len(set(second.indexes)) == 10
    assert lists.allocate(partners[HANZE], 5).list_number == 2  # the newest list's room
    with pytest.raises(ValueError, match="1 to"):
        lists.allocate(partners[HANZE], LIST_BITS + 1)


def test_an_entry_whose_list_number_is_not_ascii_digits_is_not_one_of_ours(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    """A forged credentialStatus naming list "²" (a digit to isdigit(), not to int()) or another script's digits is
    another hub's list to `locate`, never a crash; its own entry still points into list 1."""
    entry = dict(issue(client, keys, HANZE)["document"]["credentialStatus"])
    where = hub.status_lists.locate(entry)
    assert where is not None and where.number == 1
    for number in ("²", "1²", "٣"):
        url = where.url.rsplit("/", 1)[0] + "/" + number
        forged = {**entry, "statusListCredential": url, "id": f"{url}#{where.index}"}
        assert hub.status_lists.locate(forged) is None, number


def test_a_new_list_is_served_before_its_first_credential(
    hub: Hub, client: TestClient, partners: dict[str, str]
) -> None:
    hub.indexer.stop()  # no catch-up: opening the list signs it
    allocation = hub.status_lists.allocate(partners[HANZE], 1)
    credential, response = served(client, status_entry(allocation.url, allocation.indexes[0]))
    assert not any(decode_list(credential["credentialSubject"]["encodedList"]))
    with hub.sessions() as session:
        indexed = session.scalar(select(func.min(models.IndexCursor.last_block)))
    assert credential["statusListBlock"] == (indexed or 0)


def test_unknown_list_is_404_and_a_list_not_signed_yet_is_503(
    client: TestClient, hub: Hub, partners: dict[str, str]
) -> None:
    hub.indexer.stop()

    def unavailable(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("the signing key is not available")

    # a process that could not sign the list it opened (its key unavailable): the indexer's catch-up will
    failing = StatusLists(
        hub.sessions,
        public_url=hub.settings.public_url,
        registry_address=hub.registry_address,
        identities=hub.identity_for,
        sign=unavailable,
    )
    allocation = failing.allocate(partners[HANZE], 1)
    path = allocation.url.removeprefix(BASE)
    response = client.get(path)
    assert_problem(response, 503, contains="built at the indexer's next catch-up")
    assert response.headers["retry-after"]
    assert_problem(client.get(path[:-1] + "9"), 404, contains="no status list 9")
    assert_problem(client.get("/status/nobody/1"), 404)
    assert_problem(client.get(path[:-1] + "0"), 422)
    hub.indexer.catch_up()
    assert client.get(path).status_code == 200


def test_the_list_is_signed_again_when_half_its_validity_has_passed(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    hub.indexer.stop()
    document = issue(client, keys, HANZE)["document"]
    last = hub.indexer.catch_up()
    first, _ = served(client, document["credentialStatus"])
    assert hub.status_lists.refresh(last) == 0  # nothing changed, still fresh: not signed again
    later = datetime.now(UTC) + timedelta(seconds=hub.settings.status_list_validity / 2 + 1)
    hub.status_lists._clock = lambda: later  # noqa: SLF001 - time travel
    assert hub.status_lists.refresh(last) == 1
    second, _ = served(client, document["credentialStatus"])
    assert datetime.fromisoformat(second["validUntil"]) > datetime.fromisoformat(first["validUntil"])
    assert second["credentialSubject"]["encodedList"] == first["credentialSubject"]["encodedList"]


# ---------------------------------------------------------------- the independent verifier (Node, not our code)

ROOT = Path(__file__).resolve().parents[2]


def independent_status_check(client: TestClient, hub: Hub, document: dict[str, Any], **replace: Any) -> dict:
    """@digitalbazaar/vc-bitstring-status-list's checkStatus on `document` (tests/interop/status_check.mjs), with
    the status list credential as GET serves it (or `replace["list"]`), the bundled contexts and the issuer's DID
    document (its Ed25519 key as a Multikey)."""
    identity = hub.status_lists.identities(document_issuer(hub, document))
    url, _ = parse_entry(document["credentialStatus"])
    served_list = replace.get("list") or served(client, document["credentialStatus"])[0]
    method = {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": identity.verification_method,
        "type": "Multikey",
        "controller": identity.did,
        "publicKeyMultibase": identity.public_key_multibase,
    }
    did_document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": identity.did,
        "verificationMethod": [{k: v for k, v in method.items() if k != "@context"}],
        "assertionMethod": [identity.verification_method],
    }
    assert document["issuer"]["id"] == identity.did  # checkStatus requires the list's issuer to be the credential's
    documents = {context: integrity.bundled_context(context) for context in integrity.BUNDLED_CONTEXTS}
    documents.update({url: served_list, identity.did: did_document, identity.verification_method: method})
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "interop" / "status_check.mjs")],
        input=json.dumps({"credential": document, "documents": documents}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def document_issuer(hub: Hub, document: dict[str, Any]) -> str:
    with hub.sessions() as session:
        row = session.get(models.Credential, document["id"].removeprefix("urn:uuid:"))
        assert row is not None
        return row.issuer_address


def test_the_independent_verifier_sees_the_revocation_within_one_catch_up(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str]
) -> None:
    hub.indexer.stop()
    document = issue(client, keys, HANZE)["document"]
    hub.indexer.catch_up()
    before = independent_status_check(client, hub, document)
    assert before == {"verified": True, "status": False, "error": None}
    revoke_on_chain(hub, document, partners[HANZE])
    hub.indexer.catch_up()
    after = independent_status_check(client, hub, document)
    assert after == {"verified": True, "status": True, "error": None}

    # a list whose bits were changed after signing is refused, as is one signed by another partner's key
    listed, _ = served(client, document["credentialStatus"])
    forged = {**listed, "credentialSubject": {**listed["credentialSubject"], "encodedList": encode_list([])}}
    refused = independent_status_check(client, hub, document, list=forged)
    assert refused["verified"] is False and "not verified" in refused["error"]
    rug = hub.status_lists.identities(partners[RUG])
    unsigned = {key: value for key, value in listed.items() if key != "proof"}
    other = {**unsigned, "proof": integrity.sign(unsigned, rug.signing_key, rug.verification_method)}
    refused = independent_status_check(client, hub, document, list=other)
    assert refused["verified"] is False and "not verified" in refused["error"]
    # a list signed by the right key but past its validUntil (the hub stopped following the chain) is refused too
    hanze = hub.status_lists.identities(partners[HANZE])
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    expired = list_credential(
        url=listed["id"],
        issuer=hanze.did,
        encoded_list=encode_list([]),
        block=listed["statusListBlock"],
        valid_from=past,
        valid_until=past + timedelta(hours=1),
        ttl_ms=5000,
    )
    expired["proof"] = integrity.sign(expired, hanze.signing_key, hanze.verification_method, past)
    refused = independent_status_check(client, hub, document, list=expired)
    assert refused["verified"] is False and 'is after "validUntil"' in refused["error"], refused


def test_issuing_never_holds_two_pooled_connections_at_once(hub: Hub, partners: dict[str, str]) -> None:
    """prepare's read transaction ends before the identity lookup and the allocation take a connection: with a
    pool of one (the state of a busy pool) a cohort is still prepared, where a nested checkout would wait for
    itself until the pool's timeout (200 concurrent requests on three processes got 500s that way)."""
    from sqlalchemy import create_engine

    from service.issuing import pipeline
    from service.issuing.issuers import IssuerDirectory
    from service.issuing.requests import cohort_from_json
    from service.issuing.status_lists import StatusLists

    engine = create_engine(hub.settings.database_url, pool_size=1, max_overflow=0, pool_timeout=2)
    sessions = make_sessionmaker(engine)
    directory = IssuerDirectory(sessions, hub.registry, hub.signing_keys, hub.settings.public_url, hub.chain_id)
    lists = StatusLists(
        sessions,
        public_url=hub.settings.public_url,
        registry_address=hub.registry_address,
        identities=directory.identity_for,
        sign=integrity.sign,
    )
    rows = cohort_from_json({"credentials": [graduate(email=f"g{n}@example.org") for n in range(3)]}, 10)
    with sessions() as db:
        cohort = pipeline.prepare(
            db, hub.registry, hub.signers, partners[HANZE], rows, identities=directory.identity_for, status_lists=lists
        )
    assert cohort.status is not None and len(set(cohort.status.indexes)) == 3
    engine.dispose()


def test_our_verifier_reports_the_list_beside_the_chain_which_decides(
    client: TestClient, keys: Any, hub: Hub, partners: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.issuing import status_lists as module

    hub.indexer.stop()
    document = issue(client, keys, HANZE)["document"]
    last = hub.indexer.catch_up()
    url, index = parse_entry(document["credentialStatus"])
    report = client.post("/verify", json=document).json()
    assert report["valid"] is True
    listed = report["status_list"]
    assert (listed["url"], listed["index"], listed["revoked"], listed["agrees_with_chain"]) == (url, index, False, True)
    assert (
        listed["block"] == last
        and listed["valid_until"] == served(client, document["credentialStatus"])[0]["validUntil"]
    )

    revoke_on_chain(hub, document, partners[HANZE])
    hub.verification_cache.clear()  # as the revoke route does: POST /verify's chain answers are cached per block
    hub.indexer.catch_up()
    report = client.post("/verify", json=document).json()
    # the chain decides at once; the list as this process last read it (at most ttl seconds ago) is behind
    assert [check["name"] for check in report["checks"] if check["status"] == "failed"] == ["not_revoked"]
    assert report["status_list"]["revoked"] is False and report["status_list"]["agrees_with_chain"] is False
    later = module._monotonic() + hub.status_lists.ttl  # noqa: SLF001 - the list's ttl has passed
    monkeypatch.setattr(module, "_monotonic", lambda: later)
    report = client.post("/verify", json=document).json()
    assert report["status_list"]["revoked"] is True and report["status_list"]["agrees_with_chain"] is True

    # a credential pointing to another hub's list, or to none, gets no status_list
    elsewhere = {
        **document,
        "credentialStatus": {
            **document["credentialStatus"],
            "statusListCredential": "https://other.example/status/x/1",
        },
    }
    assert client.post("/verify", json=elsewhere).json()["status_list"] is None
