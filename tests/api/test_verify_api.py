"""POST /verify on a real anvil with the hub deployed: reports, the per-block cache, refusals, a down chain.

Credentials are issued on the hub's own registry the production way: the board accredits the issuing
partner (the `accredited` fixture: a proposal, four of six members for, execution), then the partner
anchors its cohort.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from service.chain.devchain import dev_accounts
from service.chain.facts_cache import VerificationCache
from service.chain.jsonrpc import JsonRpc
from service.chain.registry import RegistryClient
from service.chain.registry_view import RegistryView
from service.credentials.canonical import MAX_CREDENTIAL_BYTES
from service.credentials.verifier import CHECK_ORDER, verify_credential
from service.demo import DEPLOYER_ACCOUNT, ORGANISATIONS
from service.documents.dates import date_text
from service.errors import ChainUnavailable
from service.hub import Hub
from tests.credentials.fixtures import ChainIssued, deploy_registry, issue_on_chain

HANZE = next(org for org in ORGANISATIONS if org.name == "Hanzehogeschool Groningen")
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def issuer(accredited: Any) -> LocalAccount:
    """Hanzehogeschool's issuing account, accredited by the board (tests/api/conftest.py)."""
    accredited(HANZE.name)
    return dev_accounts()[HANZE.issuer_account]


@pytest.fixture
def registry(hub: Hub) -> RegistryClient:
    return RegistryClient(hub.w3, hub.registry_address)


@pytest.fixture
def cohort(registry: RegistryClient, issuer: LocalAccount) -> ChainIssued:
    return issue_on_chain(registry, issuer, 3, name=HANZE.name)


def post(client: TestClient, credential: dict[str, Any] | bytes | str, **headers: str) -> Any:
    body = credential if isinstance(credential, bytes | str) else json.dumps(credential)
    return client.post("/verify", content=body, headers={"Content-Type": "application/json", **headers})


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status and body["type"].endswith("/" + slug), body
    assert body["instance"] == "/verify"
    return body


# ---------------------------------------------------------------- reports


def test_a_valid_credential_is_valid_with_every_check_passed(
    client: TestClient, hub: Hub, cohort: ChainIssued, registry: RegistryClient
) -> None:
    credential = cohort.credentials[1]
    response = post(client, credential)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["valid"] is True
    assert [check["name"] for check in report["checks"]] == [
        name for name in CHECK_ORDER if name not in ("issuer_signature", "recipient")
    ]
    assert set(statuses(report).values()) == {"passed"}
    assert report["clock"] == "local"  # validity by the verifier's clock, not the latest block's
    assert "by this verifier's clock" in next(c["reason"] for c in report["checks"] if c["name"] == "validity_window")
    assert report["anchor"]["block_number"] == hub.w3.eth.block_number
    assert report["anchor"]["transaction_hash"] == "0x" + cohort.transaction_hash.hex()
    assert (
        report["anchor"]["anchored_in_block"]
        == hub.w3.eth.get_transaction_receipt(cohort.transaction_hash)["blockNumber"]
    )
    assert report["credential"]["issuer_name"] == HANZE.name
    # the same report the library gives with a live registry read (the clock's reading aside)
    direct = verify_credential(json.dumps(credential), registry.chain_facts()).to_json()

    def without_clock(data: dict[str, Any]) -> dict[str, Any]:
        checks = [
            {k: v for k, v in c.items() if k != "explanation"} for c in data["checks"] if c["name"] != "validity_window"
        ]
        return {**{k: v for k, v in data.items() if k != "checked_at"}, "checks": checks}

    # ... and the plain words for people, in the language asked for (the client asks for English)
    assert report.pop("language") == "en"
    issued_on = date_text(credential["validFrom"], "en")
    assert report.pop("summary") == f"This credential is valid: issued by {HANZE.name} on {issued_on}."
    explained = {c["name"]: c["explanation"] for c in report["checks"]}
    assert explained["integrity"] == "Nothing in it was changed after it was issued."
    assert explained["not_revoked"] == "The issuer has not withdrawn it."

    # the route adds the credential's bit in this hub's status list (none here: the cohort was built without one)
    assert report.pop("status_list") is None
    # ... plus what was posted: the credential itself, so no print to compare (a PDF has one: test_verify_carriers)
    assert report.pop("source") == "credential" and report.pop("printed") is None
    assert without_clock(report) == without_clock(direct)


def test_a_forged_transaction_hash_is_not_reported_as_the_anchoring(client: TestClient, cohort: ChainIssued) -> None:
    forged = json.loads(json.dumps(cohort.credentials[1]))
    forged["proof"][0]["transactionHash"] = "0x" + "cd" * 32
    report = post(client, forged).json()
    assert report["valid"] is False and statuses(report)["anchor_transaction"] == "failed"
    assert report["anchor"]["transaction_hash"] is None
    assert report["anchor"]["claimed_transaction_hash"] == "0x" + "cd" * 32


def test_disclosed_claims_are_reported(client: TestClient, cohort: ChainIssued) -> None:
    report = post(client, cohort.credentials[0]).json()
    assert report["valid"] is True
    assert report["credential"]["disclosed"]["name"] == "Graduate 0 de Vries"
    assert statuses(report)["disclosures"] == "passed"


def test_a_tampered_credential_fails_integrity(client: TestClient, cohort: ChainIssued) -> None:
    tampered = json.loads(json.dumps(cohort.credentials[0]))
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 60
    response = post(client, tampered)
    assert response.status_code == 200
    report = response.json()
    assert report["valid"] is False
    assert statuses(report)["integrity"] == "failed"
    assert "the document was changed after issuing" in statuses_reasons(report)["integrity"]
    assert statuses(report)["anchored"] == "not_run"


def test_a_revocation_on_chain_shows_at_the_next_block_although_the_answer_was_cached(
    client: TestClient, hub: Hub, cohort: ChainIssued, registry: RegistryClient, issuer: LocalAccount
) -> None:
    credential = cohort.credentials[2]
    cache = hub.verification_cache
    assert post(client, credential).json()["valid"] is True
    hits = cache.stats.hits
    assert post(client, credential).json()["valid"] is True
    assert cache.stats.hits == hits + 1  # answered from the cache

    index = 2
    receipt = registry.revoke(
        cohort.batch.root, cohort.batch.digests[index], cohort.batch.tree.proof(index), 2, sender=issuer
    )  # directly on chain, not through the API
    assert cache.head.wait_for(receipt["blockNumber"], timeout=5) is not None  # the watcher saw the new block
    report = post(client, credential).json()
    assert report["valid"] is False
    assert statuses(report)["not_revoked"] == "failed"
    assert "issued in error" in next(c["reason"] for c in report["checks"] if c["name"] == "not_revoked")
    assert report["anchor"]["block_number"] >= receipt["blockNumber"]
    assert report["anchor"]["revocation_reason"] == 2


def test_clear_makes_a_revocation_show_on_the_very_next_request(
    client: TestClient, hub: Hub, cohort: ChainIssued, registry: RegistryClient, issuer: LocalAccount
) -> None:
    credential = cohort.credentials[0]
    cache = hub.verification_cache
    assert post(client, credential).json()["valid"] is True
    cache.head.stop()  # the watcher sees nothing more: only clear() can make the next answer new
    registry.revoke(cohort.batch.root, cohort.batch.digests[0], cohort.batch.tree.proof(0), 1, sender=issuer)
    cache.clear()  # what the revocation route does
    report = post(client, credential).json()
    assert report["valid"] is False and statuses(report)["not_revoked"] == "failed"


def test_a_credential_of_another_registry_fails_the_network_check(
    client: TestClient, hub: Hub, issuer: LocalAccount
) -> None:
    deployer = dev_accounts()[DEPLOYER_ACCOUNT]
    elsewhere = deploy_registry(hub.w3, deployer, (issuer, HANZE.name))  # a look-alike, governed by anyone
    issued = issue_on_chain(elsewhere, issuer, 2, name=HANZE.name)
    response = post(client, issued.credentials[0])
    assert response.status_code == 200
    report = response.json()
    assert report["valid"] is False
    assert statuses(report)["network"] == "failed"
    network = next(c for c in report["checks"] if c["name"] == "network")
    assert f"this verifier trusts registry {hub.registry_address}" in network["reason"]
    assert {statuses(report)[name] for name in ("anchored", "issuer_accredited", "not_revoked")} == {"not_run"}


def statuses_reasons(report: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["reason"] for item in report["checks"]}


def test_a_credential_of_another_chain_fails_the_network_check(
    client: TestClient, registry: RegistryClient, issuer: LocalAccount
) -> None:
    issued = issue_on_chain(registry, issuer, 1, name=HANZE.name, profile_chain_id=1)
    report = post(client, issued.credentials[0]).json()
    assert report["valid"] is False
    assert "anchored on chain 1; this verifier checks chain 31337" in statuses_reasons(report)["network"]


def test_json_ld_and_vc_media_types_are_accepted(client: TestClient, cohort: ChainIssued) -> None:
    for media in ("application/ld+json", "application/vc+ld+json", "application/json; charset=utf-8"):
        response = post(client, cohort.credentials[0], **{"Content-Type": media})
        assert response.status_code == 200 and response.json()["valid"] is True, media


def test_the_route_asks_the_cache_the_verifiers_one_question(
    client: TestClient, hub: Hub, cohort: ChainIssued, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = hub.verification_cache
    asked: list[tuple[Any, ...]] = []
    real_ask = cache.ask

    async def ask(issuer: str, root: bytes, digest: bytes, path: Any) -> Any:
        asked.append((issuer, root, digest, tuple(path)))
        return await real_ask(issuer, root, digest, path)

    monkeypatch.setattr(cache, "ask", ask)
    assert post(client, cohort.credentials[2]).json()["valid"] is True
    issuer = cohort.credentials[2]["proof"][0]["issuerAddress"]
    assert asked == [(issuer, cohort.batch.root, cohort.batch.digests[2], tuple(cohort.batch.tree.proof(2)))]
    elsewhere = json.loads(json.dumps(cohort.credentials[2]))
    elsewhere["proof"][0]["chainId"] = 1  # anchored elsewhere: the network check fails, nothing is asked
    assert post(client, elsewhere).json()["valid"] is False
    assert len(asked) == 1


def test_the_lean_view_answers_as_the_registry_client(
    hub: Hub, cohort: ChainIssued, registry: RegistryClient, issuer: LocalAccount
) -> None:
    view = RegistryView(JsonRpc(hub.settings.rpc_url), hub.registry_address)
    block = hub.w3.eth.block_number
    batch = cohort.batch
    for index in range(batch.count):
        question = (issuer.address, batch.root, batch.digests[index], batch.tree.proof(index))
        assert view.verify(*question, block=block) == registry.verify(*question, block=block)
    registry.revoke(batch.root, batch.digests[0], batch.tree.proof(0), 3, sender=issuer)
    revoked = (issuer.address, batch.root, batch.digests[0], batch.tree.proof(0))
    assert view.verify(*revoked) == registry.verify(*revoked)
    assert view.verify(*revoked).revoked
    unknown = (issuer.address, b"\x07" * 32, batch.digests[0], [])
    assert view.verify(*unknown) == registry.verify(*unknown)
    assert not view.verify(*unknown).anchored
    with pytest.raises(ChainUnavailable, match="no CredentialRegistry"):  # an account without code
        RegistryView(JsonRpc(hub.settings.rpc_url), dev_accounts()[19].address).verify(*revoked)
    with pytest.raises(ChainUnavailable, match="is not a CredentialRegistry"):  # another contract
        RegistryView(JsonRpc(hub.settings.rpc_url), hub.board_address).verify(*revoked)


# ---------------------------------------------------------------- not a credential: 4xx problem+json


def test_a_body_that_is_not_json_is_400(client: TestClient) -> None:
    body = assert_problem(post(client, "{not json"), 400, "not-json")
    assert body["detail"].startswith("not JSON")


def test_a_body_that_is_not_utf8_is_400(client: TestClient) -> None:
    body = assert_problem(post(client, '{"name": "Jos\xe9"}'.encode("latin-1")), 400, "not-json")
    assert "not UTF-8" in body["detail"]


def test_nan_and_a_byte_order_mark_are_not_json(client: TestClient) -> None:
    assert_problem(post(client, '{"x": NaN}'), 400, "not-json")
    assert_problem(post(client, "\ufeff{}".encode()), 400, "not-json")


def test_a_wrong_or_missing_content_type_is_415(client: TestClient, cohort: ChainIssued) -> None:
    text = json.dumps(cohort.credentials[0])
    for headers in (
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/json; charset=latin-1"},
    ):
        assert_problem(client.post("/verify", content=text, headers=headers), 415, "unsupported-media-type")
    missing = client.post("/verify", content=text.encode())
    body = assert_problem(missing, 415, "unsupported-media-type")
    assert "Content-Type: application/json" in body["detail"]


def test_a_body_over_the_credential_size_limit_is_413(client: TestClient) -> None:
    huge = '{"padding": "' + "x" * MAX_CREDENTIAL_BYTES + '"}'
    body = assert_problem(post(client, huge), 413, "payload-too-large")
    assert str(MAX_CREDENTIAL_BYTES) in body["detail"]

    def chunks() -> Any:  # no Content-Length: the limit holds while reading
        yield b'{"padding": "'
        for _ in range(MAX_CREDENTIAL_BYTES // 65_536 + 1):
            yield b"x" * 65_536
        yield b'"}'

    streamed = client.post("/verify", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(streamed, 413, "payload-too-large")


def test_an_integer_too_long_to_convert_is_422_not_a_crash(client: TestClient) -> None:
    body = assert_problem(post(client, '{"n": ' + "7" * 5_000 + "}"), 422, "invalid-input")
    assert "(5000 digits) is outside the I-JSON range" in body["detail"]


def test_json_the_canonical_form_cannot_write_is_422_not_a_crash(client: TestClient, cohort: ChainIssued) -> None:
    shared = json.dumps(cohort.credentials[0])[:-1]
    infinite = assert_problem(post(client, shared + ', "extra": 1e999}'), 422, "invalid-input")
    assert "number 1e999 is outside the range of a double" in infinite["detail"]
    surrogate = assert_problem(post(client, shared + ', "extra": "\\ud800"}'), 422, "invalid-input")
    assert "cannot canonicalise" in surrogate["detail"]


def test_deeply_nested_json_is_422(client: TestClient) -> None:
    body = assert_problem(post(client, "[" * 10_000 + "]" * 10_000), 422, "invalid-input")
    assert "nested deeper than 32 levels" in body["detail"]


def test_json_that_is_not_a_credential_is_422_naming_what_is_wrong(client: TestClient, cohort: ChainIssued) -> None:
    assert "must be a JSON object" in assert_problem(post(client, "[1, 2]"), 422, "invalid-input")["detail"]
    empty = assert_problem(post(client, "{}"), 422, "invalid-input")
    assert "@context: is required" in empty["detail"] and "@context: is required" in empty["errors"]
    no_proof = {key: value for key, value in cohort.credentials[0].items() if key != "proof"}
    assert "proof: is required" in assert_problem(post(client, no_proof), 422, "invalid-input")["detail"]
    duplicate = '{"id": "a", "id": "b"}'
    assert "duplicate member name 'id'" in assert_problem(post(client, duplicate), 422, "invalid-input")["detail"]


# ---------------------------------------------------------------- the chain is down


def _dead_cache(hub: Hub) -> VerificationCache:
    return VerificationCache.for_hub("http://127.0.0.1:9", hub.registry_address, hub.chain_id)


def test_a_down_chain_is_503_with_retry_after(client: TestClient, hub: Hub, cohort: ChainIssued) -> None:
    working, hub.verification_cache = hub.verification_cache, _dead_cache(hub)
    try:
        response = post(client, cohort.credentials[0])
        body = assert_problem(response, 503, "chain-unavailable")
        assert "try again" in body["detail"]
        assert response.headers["retry-after"] == "2"
        # a credential the chain would not be asked about is still answered
        other_chain = json.loads(json.dumps(cohort.credentials[1]))
        other_chain["proof"][0]["chainId"] = 1
        assert post(client, other_chain).status_code == 200
        assert client.get("/health/live").json() == {"status": "ok"}
    finally:
        dead, hub.verification_cache = hub.verification_cache, working
        client.portal.call(dead.aclose)  # its connections belong to the app's event loop
    assert post(client, cohort.credentials[0]).json()["valid"] is True


# ---------------------------------------------------------------- liveness and documentation


def test_liveness_is_ok_without_touching_the_chain(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_openapi_documents_the_report_with_a_valid_and_an_invalid_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/verify"]["post"]
    assert operation["operationId"] == "verifyCredential"
    assert "security" not in operation
    ok = operation["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/VerificationReportPublic"}
    examples = ok["examples"]
    assert examples["valid"]["value"]["valid"] is True and examples["revoked"]["value"]["valid"] is False
    assert {"400", "413", "415", "422", "503"} <= set(operation["responses"])
    assert "application/json" in operation["requestBody"]["content"]


def test_the_lean_view_decodes_as_eth_abi(hub: Hub, cohort: ChainIssued) -> None:
    import eth_abi

    view = RegistryView(JsonRpc(hub.settings.rpc_url), hub.registry_address)
    batch = cohort.batch
    issuer = cohort.credentials[1]["proof"][0]["issuerAddress"]
    params = view._params(issuer, batch.root, batch.digests[1], batch.tree.proof(1), "latest")
    assert (
        params[0]["data"]
        == "0x"
        + (
            view._selector
            + eth_abi.encode(
                ["address", "bytes32", "bytes32", "bytes32[]"],
                [issuer, batch.root, batch.digests[1], batch.tree.proof(1)],
            )
        ).hex()
    )
    raw = bytes.fromhex(view.rpc.call("eth_call", params)[2:])
    assert view._decode_fast(raw) == eth_abi.decode([view._output], raw)[0]
    with pytest.raises(ValueError):
        view._decode_fast(raw[:32] + (2).to_bytes(32, "big") + raw[64:])  # "included" is not a bool
