"""Issuing on a real anvil with the hub deployed and a real SQLite file: the partner flow and every refusal.

On the freshly deployed chain no partner is accredited; `accredited(...)` runs the board decision that
accredits one (tests/api/conftest.py). The catalogue is service.demo.DEMO_PROGRAMMES, added by the admin.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.chain.registry import RegistryClient
from service.credentials.canonical import from_hex32
from service.credentials.document import recipient_matches
from service.credentials.facts import AnchorMode
from service.credentials.verifier import verify_credential
from service.db import models
from service.demo import DEMO_PROGRAMMES, ORGANISATIONS
from service.hub import Hub
from service.issuing.pipeline import hash_token
from tests.credentials.ob3 import assert_ob3

TVM, UNIGARANT, HANZE, RUG, NHL, ALFA = (org.name for org in ORGANISATIONS)
COHORT_CSV = Path(__file__).resolve().parents[2] / "docs" / "examples" / "cohort.csv"


# ---------------------------------------------------------------- helpers


def assert_problem(response: Any, status: int, detail: str | None = None, contains: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if detail is not None:
        assert body["detail"] == detail
    if contains is not None:
        assert contains in body["detail"], body["detail"]
    return body


def graduate(**overrides: Any) -> dict[str, Any]:
    body = {
        "programme_id": "miw-data-analytics",
        "email": "jan.devries@example.org",
        "name": "Jan de Vries",
        "grade": "8.5",
        "valid_from": "2026-07-01",
        "valid_until": "2031-07-01",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def issue(client: TestClient, keys: Any, partner: str = HANZE, **overrides: Any) -> dict[str, Any]:
    response = client.post("/credentials", headers=keys.issuer(partner), json=graduate(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def wait_anchored(client: TestClient, headers: dict[str, str], batch_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/batches/{batch_id}", headers=headers)
        assert response.status_code == 200, response.text
        batch = response.json()
        if batch["status"] in ("anchored", "failed"):
            return batch
        assert time.monotonic() < deadline, f"batch {batch_id} still {batch['status']}: {batch}"
        time.sleep(0.05)


def registry(hub: Hub) -> RegistryClient:
    return RegistryClient(hub.w3, hub.registry_address)


def anchored_roots(hub: Hub) -> list[str]:
    """Every root the registry has anchored (its BatchAnchored logs)."""
    return ["0x" + event.root.hex() for event in registry(hub).anchorings()]


def verifies(hub: Hub, document: dict[str, Any], email: str | None = None) -> Any:
    """The verifier's report on `document` against the hub's registry; `explain(report)` says what failed."""
    return verify_credential(document, registry(hub).chain_facts(), recipient_email=email)


def explain(report: Any) -> str:
    return "; ".join(f"{name}: {report.check(name).reason}" for name in report.failed) or "valid"


def count(hub: Hub, model: Any) -> int:
    with hub.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


@pytest.fixture
def catalogue(client: TestClient, keys: Any) -> dict[str, dict[str, Any]]:
    """The demo programmes, added by the admin."""
    added = {}
    for programme in DEMO_PROGRAMMES:
        response = client.post("/programmes", headers=keys.admin(), json=programme.as_create())
        assert response.status_code == 201, response.text
        added[programme.id] = response.json()
    return added


@pytest.fixture
def hanze(accredited: Any, catalogue: Any) -> str:
    """Hanzehogeschool Groningen accredited, with its programmes in the catalogue."""
    return accredited(HANZE)[0]


# ---------------------------------------------------------------- the catalogue


def test_catalogue_is_public_and_the_admin_adds_programmes(client: TestClient, keys: Any) -> None:
    assert client.get("/programmes").json() == []
    created = client.post("/programmes", headers=keys.admin(), json=DEMO_PROGRAMMES[0].as_create())
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/programmes/miw-data-analytics"
    programme = created.json()
    assert (programme["name"], programme["theme"], programme["ects"], programme["eqf_level"]) == (
        "Make IT Work: Data Analytics",
        "Data analytics",
        30,
        6,
    )
    assert programme["issuer_address"] == keys.addresses[("issuer", HANZE)]
    assert programme["issuer_name"] == HANZE
    assert client.get("/programmes").json() == [programme]
    assert client.get("/programmes/miw-data-analytics").json() == programme
    assert client.get("/programmes", params={"issuer": keys.addresses[("issuer", RUG)]}).json() == []
    assert_problem(client.get("/programmes/nope"), 404, "there is no programme 'nope'")


def test_only_the_admin_adds_programmes_and_ids_are_permanent(client: TestClient, keys: Any) -> None:
    body = DEMO_PROGRAMMES[0].as_create()
    assert_problem(client.post("/programmes", json=body), 401)
    assert_problem(client.post("/programmes", headers=keys.issuer(HANZE), json=body), 403, contains="admin key")
    assert client.post("/programmes", headers=keys.admin(), json=body).status_code == 201
    assert_problem(client.post("/programmes", headers=keys.admin(), json=body), 409, contains="already a programme")
    bad_theme = assert_problem(
        client.post("/programmes", headers=keys.admin(), json={**body, "id": "x-programme", "theme": "Gardening"}), 422
    )
    assert bad_theme["detail"].startswith("theme: ")
    bad_issuer = assert_problem(
        client.post("/programmes", headers=keys.admin(), json={**body, "id": "x-programme", "issuer_address": "0x12"}),
        422,
    )
    assert bad_issuer["detail"].startswith("issuer_address: not an Ethereum address")
    bad_id = assert_problem(client.post("/programmes", headers=keys.admin(), json={**body, "id": "Not A Slug"}), 422)
    assert bad_id["detail"].startswith("id: ")


# ---------------------------------------------------------------- issuing one credential


def test_partner_issues_one_credential_that_verifies(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    response = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert response.status_code == 201, response.text
    issued = response.json()
    assert response.headers["location"] == f"/credentials/{issued['id']}"
    assert issued["status"] == "anchored" and issued["issuer_address"] == hanze
    assert issued["share_url"].startswith("http://testserver/share/")
    assert issued["holder_token"].startswith("hold_")
    document = issued["document"]
    assert document["id"] == f"urn:uuid:{issued['id']}"
    assert document["issuer"]["name"] == HANZE  # the name the board accredited
    # the partner's did:web at this hub, its account beside it; signed with its board-accredited key
    assert (
        document["issuer"]["id"]
        == hub.identity_for(hanze).did
        == "did:web:testserver:issuers:hanzehogeschool-groningen"
    )
    assert document["issuer"]["otherIdentifier"][0]["identifier"] == f"did:pkh:eip155:{hub.chain_id}:{hanze}"
    (signature,) = [item for item in document["proof"] if item["type"] == "DataIntegrityProof"]
    assert signature["verificationMethod"] == hub.identity_for(hanze).verification_method
    assert document["credentialSubject"]["achievement"]["humanCode"] == "miw-data-analytics"
    assert document["validFrom"] == "2026-07-01T00:00:00Z" and document["validUntil"] == "2031-07-01T00:00:00Z"
    assert "jan.devries@example.org" not in str(document)  # only its salted hash, in a disclosure
    assert "identifier" not in document["credentialSubject"]  # nothing personal in the anchored body
    assert_ob3(document)  # the official Open Badges 3.0 schema
    assert recipient_matches(document, "Jan.DeVries@example.org ")
    proof = document["proof"][0]
    assert proof["transactionHash"] == issued["transaction_hash"]
    assert proof["anchorSignature"]["nonce"] == 0  # the partner signed; the relayer paid
    assert sorted(name for _salt, name, _value in proof["disclosures"]) == ["identifier", "name", "result"]

    report = verifies(hub, document, email="jan.devries@example.org")
    assert report.valid, explain(report)
    assert report.check("issuer_signature").passed
    assert report.check("issuer_signature_di").passed and report.check("issuer_key_accredited").passed
    status = registry(hub).verify(
        hanze,
        from_hex32(proof["merkleRoot"]),
        from_hex32(proof["credentialDigest"]),
        [from_hex32(node) for node in proof["merklePath"]],
    )
    assert status.anchored and status.issuer == hanze and status.issuer_accredited_at_anchor and not status.revoked
    receipt = hub.w3.eth.get_transaction_receipt(proof["transactionHash"])
    assert receipt["from"] == hub.relayer.address  # partners need no ether
    assert status.anchor_mode == AnchorMode.RELAYED  # anchorFor: the signature above is the one verifiers check

    with hub.sessions() as session:
        row = session.get(models.Credential, issued["id"])
        assert row.holder_token_hash == hash_token(issued["holder_token"])  # only the hash is kept
        assert issued["holder_token"] not in str(row.document)


def test_the_holder_token_is_not_lost_when_reading_back_fails_after_storing(
    client: TestClient, keys: Any, hub: Hub, hanze: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from service.api import credentials as route

    def database_gone(*_args: Any) -> None:
        raise OperationalError("SELECT", {}, Exception("the connection pool is exhausted"))

    monkeypatch.setattr(route, "_issued", database_gone)
    answer = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert answer.status_code == 202, answer.text  # stored: the answer still carries its holder token
    issued = answer.json()
    monkeypatch.undo()
    credential = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]})
    assert credential.status_code == 200 and credential.json()["digest"] == issued["digest"]


def test_holder_reads_the_credential_with_the_holder_token(client: TestClient, keys: Any, hanze: str) -> None:
    issued = issue(client, keys)
    token = issued.pop("holder_token")
    assert issued.pop("holder_url") == f"http://testserver/holder/{token}"  # her page: shown only at issuing
    by_holder = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": token})
    assert by_holder.status_code == 200, by_holder.text
    assert by_holder.json() == issued
    by_issuer = client.get(f"/credentials/{issued['id']}", headers=keys.issuer(HANZE))
    assert by_issuer.json() == issued

    assert_problem(client.get(f"/credentials/{issued['id']}"), 401, contains="X-Holder-Token")
    assert_problem(
        client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": "hold_wrong"}),
        403,
        contains="does not open this credential",
    )
    assert_problem(
        client.get("/credentials/4f1c0000-0000-4000-8000-000000000000", headers={"X-Holder-Token": token}),
        404,
        "there is no credential 4f1c0000-0000-4000-8000-000000000000",
    )
    assert_problem(client.get(f"/credentials/{issued['id']}", headers={"Authorization": "Bearer hub_unknown"}), 401)


def test_ungraded_programme_and_defaults(
    client: TestClient, keys: Any, hub: Hub, accredited: Any, catalogue: Any
) -> None:
    accredited(ALFA)
    issued = issue(
        client,
        keys,
        ALFA,
        programme_id="iot-technician",
        grade=None,
        valid_from=None,
        valid_until=None,
        name="  Sanne   Jansen ",
    )
    document = issued["document"]
    assert "validUntil" not in document
    assert [name for _salt, name, _value in document["proof"][0]["disclosures"]] == ["identifier", "name"]
    assert document["proof"][0]["disclosures"][1][2] == "Sanne Jansen"
    report = verifies(hub, document)
    assert report.valid, explain(report)
    graded = client.post("/credentials", headers=keys.issuer(ALFA), json=graduate(programme_id="iot-technician"))
    assert_problem(graded, 422, "result: programme 'iot-technician' is not graded: leave the result (grade) out")


# ---------------------------------------------------------------- refusals of a single credential


def test_issuing_needs_an_issuer_key(client: TestClient, keys: Any, hanze: str) -> None:
    assert_problem(client.post("/credentials", json=graduate()), 401)
    for headers in (keys.member(TVM), keys.admin()):
        assert_problem(
            client.post("/credentials", headers=headers, json=graduate()), 403, contains="this needs an issuer key"
        )
        assert_problem(client.post("/credentials/batch", headers=headers, json={"credentials": [graduate()]}), 403)
    assert count(hub=client.app.state.hub, model=models.Credential) == 0


def test_unknown_programme_is_422_naming_the_field(client: TestClient, keys: Any, hanze: str) -> None:
    response = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(programme_id="miw-gardening"))
    body = assert_problem(
        response, 422, "programme_id: there is no programme 'miw-gardening' (GET /programmes lists them)"
    )
    assert body["field"] == "programme_id"


def test_another_partners_programme_is_403(client: TestClient, keys: Any, hanze: str, accredited: Any) -> None:
    accredited(RUG)
    response = client.post("/credentials", headers=keys.issuer(RUG), json=graduate())
    assert_problem(response, 403, contains=f"programme 'miw-data-analytics' is issued by another partner ({hanze})")


def test_malformed_json_is_400_and_wrong_types_are_422(client: TestClient, keys: Any, hanze: str) -> None:
    headers = {**keys.issuer(HANZE), "content-type": "application/json"}
    malformed = assert_problem(
        client.post("/credentials", headers=headers, content=b'{"programme_id": "miw-'),
        400,
        contains="the body is not valid JSON: unterminated string",
    )
    assert malformed["type"].endswith("/not-json")
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(name=123)),
        422,
        "name: Input should be a valid string",
    )
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(email="jan@")),
        422,
        "email: 'jan@' is not a valid email address",
    )
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(grade=True)),
        422,
        "grade: a grade is a number from 1.0 to 10.0",
    )
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(grade="11")),
        422,
        contains="is not a grade from 1.0 to 10.0",
    )
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(valid_from=1782864000)),
        422,
        contains="valid_from: give a date",
    )
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(valid_until="2026-01-01")),
        422,
        contains="valid_until must be later",
    )
    expired = assert_problem(
        client.post(
            "/credentials", headers=keys.issuer(HANZE), json=graduate(valid_from="2020-01-01", valid_until="2021-01-01")
        ),
        422,
        contains="has passed: the credential would be",
    )
    assert "valid_until 2021-01-01T00:00:00+00:00 has passed" in expired["detail"]  # the field named
    assert_problem(client.post("/credentials", headers=keys.issuer(HANZE), json=[graduate()]), 422)
    assert_problem(
        client.post("/credentials", headers=keys.issuer(HANZE), json={**graduate(), "programme": "x"}),
        422,
        "programme: is not a known field",
    )
    missing = graduate()
    del missing["email"]
    assert_problem(client.post("/credentials", headers=keys.issuer(HANZE), json=missing), 422, "email: is required")
    assert count(client.app.state.hub, models.Batch) == 0


def test_an_unaccredited_partner_is_refused_and_nothing_is_stored(
    client: TestClient, keys: Any, hub: Hub, catalogue: Any
) -> None:
    response = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    body = assert_problem(response, 403, contains="is not an accredited issuer now")
    assert body["error"] == "RegistryIssuerNotAccredited"
    assert count(hub, models.Batch) == 0 and count(hub, models.Credential) == 0
    assert anchored_roots(hub) == []


def test_a_partner_suspended_after_the_batch_was_stored_gets_the_decoded_revert(
    client: TestClient, keys: Any, hub: Hub, hanze: str, accredited: Any
) -> None:
    from service.issuing import pipeline
    from service.issuing.requests import CredentialCreate, Row

    hub.stop_background()  # the batch is stored while nothing anchors it; then the partner is suspended
    with hub.sessions() as db:
        cohort = pipeline.prepare(
            db,
            hub.registry,
            hub.signers,
            hanze,
            [Row(1, None, CredentialCreate.model_validate(graduate()))],
            identities=hub.identity_for,
        )
    batch_id = pipeline.persist(hub.sessions, cohort)
    accredited.suspend(HANZE)
    hub.anchoring.run_once()  # the registry refuses for good: no transaction is sent, the batch fails
    batch = client.get(f"/batches/{batch_id}", headers=keys.issuer(HANZE)).json()
    assert (batch["status"], batch["error"], batch["transaction"]) == (
        "failed",
        f"RegistryIssuerNotAccredited: {hanze} is not an accredited issuer now",
        None,
    )
    credential = client.get(f"/credentials/{batch['credentials'][0]['id']}", headers=keys.issuer(HANZE)).json()
    assert (credential["status"], credential["document"]) == ("failed", None)
    assert anchored_roots(hub) == []


def test_a_burst_of_one_partners_batches_asks_the_registry_about_the_partner_once(
    client: TestClient, keys: Any, hub: Hub, hanze: str, accredited: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker keeps "accredited, relayer authorised" for ISSUER_TTL: three batches, one issuer() call. A
    suspension meanwhile still fails the next batch with the registry's decoded refusal, and nothing is sent."""
    from service.issuing import pipeline
    from service.issuing.requests import CredentialCreate, Row

    hub.stop_background()

    def store(email: str) -> str:
        with hub.sessions() as db:
            row = Row(1, None, CredentialCreate.model_validate(graduate(email=email)))
            return pipeline.persist(
                hub.sessions, pipeline.prepare(db, hub.registry, hub.signers, hanze, [row], identities=hub.identity_for)
            )

    first = [store(f"burst{number}@example.org") for number in range(3)]
    asked: list[str] = []
    issuer = hub.anchoring.registry.issuer
    monkeypatch.setattr(hub.anchoring.registry, "issuer", lambda account: asked.append(account) or issuer(account))
    hub.anchoring.run_once()
    assert asked == [hanze]
    assert all(client.get(f"/batches/{b}", headers=keys.issuer(HANZE)).json()["status"] != "failed" for b in first)

    later = store("after.suspension@example.org")
    accredited.suspend(HANZE)
    hub.anchoring.run_once()  # from the kept state: the estimate is refused, so nothing is sent
    batch = client.get(f"/batches/{later}", headers=keys.issuer(HANZE)).json()
    assert (batch["status"], batch["error"], batch["transaction"]) == (
        "failed",
        f"RegistryIssuerNotAccredited: {hanze} is not an accredited issuer now",
        None,
    )


# ---------------------------------------------------------------- cohorts


def test_cohort_as_json_is_anchored_in_one_transaction(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    people = [
        ("Jan de Vries", "jan@example.org", "8.5"),
        ("Fatima El Amrani", "fatima@example.org", "7,9"),
        ("Pieter Bakker", "pieter@example.org", 7),
    ]
    body = {"credentials": [graduate(name=name, email=email, grade=grade) for name, email, grade in people]}
    response = client.post("/credentials/batch", headers=keys.issuer(HANZE), json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["location"] == f"/batches/{accepted['id']}"
    assert (accepted["status"], accepted["count"], accepted["issuer_address"]) == ("pending", 3, hanze)
    assert [(c["row"], c["email"]) for c in accepted["credentials"]] == [
        (1, "jan@example.org"),
        (2, "fatima@example.org"),
        (3, "pieter@example.org"),
    ]
    batch = wait_anchored(client, keys.issuer(HANZE), accepted["id"])
    assert batch["status"] == "anchored" and batch["root"] == accepted["root"] and batch["error"] is None
    assert [c["id"] for c in batch["credentials"]] == [c["id"] for c in accepted["credentials"]]
    status_only = client.get(f"/batches/{accepted['id']}?credentials=false", headers=keys.issuer(HANZE)).json()
    assert status_only == {**batch, "credentials": []}  # for polling a large cohort
    assert anchored_roots(hub) == [accepted["root"]]  # one anchoring transaction for the cohort
    receipt = hub.w3.eth.get_transaction_receipt(batch["transaction_hash"])
    assert receipt["blockNumber"] == batch["block_number"]

    for item, (name, email, grade) in zip(accepted["credentials"], people, strict=True):
        credential = client.get(f"/credentials/{item['id']}", headers={"X-Holder-Token": item["holder_token"]})
        assert credential.status_code == 200, credential.text
        document = credential.json()["document"]
        assert document["proof"][0]["merkleRoot"] == accepted["root"]
        assert 1 <= len(document["proof"][0]["merklePath"]) <= 2
        disclosed = {claim: value for _salt, claim, value in document["proof"][0]["disclosures"]}
        assert disclosed["name"] == name
        assert disclosed["result"][0]["value"] == {"8.5": "8.5", "7,9": "7.9", 7: "7.0"}[grade]
        report = verifies(hub, document, email=email)
        assert report.valid, explain(report)


def test_cohort_as_csv_upload_and_as_text_csv(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    data = COHORT_CSV.read_bytes()
    rows = len(data.decode().strip().splitlines()) - 1
    upload = client.post(
        "/credentials/batch", headers=keys.issuer(HANZE), files={"file": ("cohort.csv", data, "text/csv")}
    )
    assert upload.status_code == 202, upload.text
    assert upload.json()["count"] == rows
    names = [line.split(",")[2] for line in data.decode().strip().splitlines()[1:]]
    assert [c["email"].split("@")[0] for c in upload.json()["credentials"]][0] == "jan.devries"

    # the same file again as text/csv, semicolon separated as Dutch spreadsheets save it, with a BOM
    semicolons = data.decode().replace(",", ";").replace('"7;9"', "7,9").encode("utf-8-sig")
    text = client.post(
        "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/csv"}, content=semicolons
    )
    assert text.status_code == 202, text.text
    for accepted in (upload.json(), text.json()):
        batch = wait_anchored(client, keys.issuer(HANZE), accepted["id"])
        assert batch["status"] == "anchored", batch
        for item, name in zip(accepted["credentials"], names, strict=True):
            document = client.get(
                f"/credentials/{item['id']}", headers={"X-Holder-Token": item["holder_token"]}
            ).json()["document"]
            assert {claim: value for _s, claim, value in document["proof"][0]["disclosures"]}["name"] == name
            assert verifies(hub, document, email=item["email"]).valid
    assert sorted(anchored_roots(hub)) == sorted([upload.json()["root"], text.json()["root"]])


def test_csv_with_a_bad_row_is_refused_whole_and_nothing_is_stored_or_anchored(
    client: TestClient, keys: Any, hub: Hub, hanze: str
) -> None:
    lines = COHORT_CSV.read_text().splitlines()
    lines[3] = lines[3].replace("pieter.bakker@example.org", "pieter.bakker@example")  # row 3, line 4
    response = client.post(
        "/credentials/batch",
        headers={**keys.issuer(HANZE), "content-type": "text/csv"},
        content="\n".join(lines).encode(),
    )
    body = assert_problem(
        response,
        422,
        "row 3 (line 4): email: 'pieter.bakker@example' is not a valid email address (nothing was issued)",
    )
    assert (body["row"], body["line"], body["field"]) == (3, 4, "email")
    assert count(hub, models.Batch) == 0 and count(hub, models.Credential) == 0
    assert anchored_roots(hub) == []


def test_csv_problems_name_every_bad_row(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    csv = (
        "programme_id;email;name;grade\n"
        "miw-data-analytics;a@example.org;Anna;8\n"
        "\n"
        "miw-gardening;b@example.org;Bram;7\n"
        "miw-data-analytics;a@example.org;Anna again;6\n"
        "miw-ai;c@example.org;;12\n"
    )
    response = client.post(
        "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/csv"}, content=csv.encode()
    )
    body = assert_problem(response, 422)
    assert [(e["row"], e["line"], e.get("field")) for e in body["errors"]] == [
        (4, 6, "name"),
        (4, 6, "result"),
    ]  # the rows that do not parse, first
    fixed = csv.replace("miw-ai;c@example.org;;12", "miw-ai;c@example.org;Cas;9")
    response = client.post(
        "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/csv"}, content=fixed.encode()
    )
    body = assert_problem(
        response,
        422,
        "row 2 (line 4): programme_id: there is no programme 'miw-gardening' "
        "(GET /programmes lists them) (1 more problem listed in errors; nothing "
        "was issued)",
    )
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "programme_id"), (3, "email")]
    assert body["errors"][1]["message"] == (
        "repeats row 1: a@example.org already gets 'miw-data-analytics' in this cohort"
    )
    assert count(hub, models.Batch) == 0


def test_csv_columns_are_checked(client: TestClient, keys: Any, hanze: str) -> None:
    def post(text: str) -> Any:
        return client.post(
            "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/csv"}, content=text.encode()
        )

    assert_problem(
        post("programme_id,email,naam\nmiw-ai,a@example.org,Anna\n"),
        422,
        contains="unknown column 'naam'; the columns are programme_id, email, name, result",
    )
    assert_problem(post("programme_id,email\nmiw-ai,a@example.org\n"), 422, contains="no column name")
    assert_problem(post(""), 422, contains="the CSV is empty")
    assert_problem(post("programme_id,email,name\n"), 422, contains="no graduates")
    assert_problem(
        post("programme_id,email,name\nmiw-ai,a@example.org\n"),
        422,
        contains="row 1 (line 2): has 2 cells, the header has 3 columns",
    )
    latin1 = client.post(
        "/credentials/batch",
        headers={**keys.issuer(HANZE), "content-type": "text/csv"},
        content="programme_id,email,name\nmiw-ai,a@example.org,Yılmaz\n".encode("utf-16"),
    )
    assert_problem(latin1, 422, contains="not UTF-8")
    assert_problem(
        client.post("/credentials/batch", headers=keys.issuer(HANZE), files={"other": ("x.csv", b"a")}),
        422,
        contains="no field 'file'",
    )
    assert_problem(
        client.post(
            "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/plain"}, content=b"hello"
        ),
        415,
        contains="application/json, text/csv or multipart/form-data",
    )


def test_json_cohort_problems_name_the_row(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    body = {"credentials": [graduate(), graduate(email="x@example.org", grade="zeven")]}
    response = client.post("/credentials/batch", headers=keys.issuer(HANZE), json=body)
    assert_problem(response, 422, contains="row 2: grade: 'zeven' is not a grade")
    assert_problem(client.post("/credentials/batch", headers=keys.issuer(HANZE), json={"credentials": []}), 422)
    malformed = client.post(
        "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "application/json"}, content=b"{"
    )
    assert assert_problem(malformed, 400, contains="the body is not valid JSON")["type"].endswith("/not-json")
    assert count(hub, models.Batch) == 0


def test_oversized_cohorts_are_413_with_the_limit(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    limit = hub.settings.max_body_bytes
    line = b"miw-data-analytics,someone@example.org,Some One,7.5\n"
    big = b"programme_id,email,name,grade\n" + line * (limit // len(line) + 1)
    response = client.post(
        "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/csv"}, content=big
    )
    assert_problem(response, 413, f"the body exceeds {limit} bytes")
    upload = client.post("/credentials/batch", headers=keys.issuer(HANZE), files={"file": ("big.csv", big)})
    assert_problem(upload, 413, f"the body exceeds {limit} bytes")

    hub.settings.max_batch_size = 3
    rows = b"programme_id,email,name\n" + b"".join(b"miw-ai,p%d@example.org,P %d\n" % (i, i) for i in range(4))
    too_many = client.post(
        "/credentials/batch", headers={**keys.issuer(HANZE), "content-type": "text/csv"}, content=rows
    )
    body = assert_problem(too_many, 413, contains="at most 3 are accepted in one batch")
    assert body["limit"] == 3
    as_json = client.post(
        "/credentials/batch",
        headers=keys.issuer(HANZE),
        json={"credentials": [graduate(email=f"p{i}@example.org") for i in range(4)]},
    )
    assert_problem(
        as_json, 413, "the cohort has 4 credentials; at most 3 are accepted in one batch: split it into several batches"
    )
    assert count(hub, models.Batch) == 0


def test_batches_are_for_their_issuer(client: TestClient, keys: Any, hanze: str, accredited: Any) -> None:
    accepted = client.post("/credentials/batch", headers=keys.issuer(HANZE), json={"credentials": [graduate()]})
    batch_id = accepted.json()["id"]
    wait_anchored(client, keys.issuer(HANZE), batch_id)
    assert_problem(client.get(f"/batches/{batch_id}"), 401)
    assert_problem(client.get(f"/batches/{batch_id}", headers=keys.member(TVM)), 403)
    assert_problem(
        client.get(f"/batches/{batch_id}", headers=keys.issuer(RUG)), 403, contains="issued by another partner"
    )
    assert_problem(client.get("/batches/nope", headers=keys.issuer(HANZE)), 404, "there is no batch nope")


# ---------------------------------------------------------------- other partners and revocation


def test_another_partner_can_neither_read_nor_revoke(
    client: TestClient, keys: Any, hanze: str, accredited: Any
) -> None:
    accredited(RUG)
    issued = issue(client, keys)
    read = client.get(f"/credentials/{issued['id']}", headers=keys.issuer(RUG))
    assert_problem(read, 403, f"this credential was issued by another partner ({hanze}): only that partner may read it")
    revoke = client.post(
        f"/credentials/{issued['id']}/revoke", headers=keys.issuer(RUG), json={"reason": "issued-in-error"}
    )
    assert_problem(
        revoke, 403, f"this credential was issued by another partner ({hanze}): only that partner may revoke it"
    )
    for headers in (keys.member(TVM), keys.admin()):
        assert_problem(client.get(f"/credentials/{issued['id']}", headers=headers), 403)
        assert_problem(
            client.post(f"/credentials/{issued['id']}/revoke", headers=headers, json={"reason": "issued-in-error"}), 403
        )
    assert_problem(client.post(f"/credentials/{issued['id']}/revoke", json={"reason": "issued-in-error"}), 401)


def test_partner_revokes_and_revoking_twice_is_409(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    issued = issue(client, keys)
    assert client.post("/verify", json=issued["document"]).json()["valid"] is True  # cached for this block
    revoked = client.post(
        f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "issued-in-error"}
    )
    assert revoked.status_code == 200, revoked.text
    result = revoked.json()
    assert (result["reason"], result["reason_code"], result["reason_text"]) == ("issued-in-error", 2, "issued in error")
    receipt = hub.w3.eth.get_transaction_receipt(result["transaction_hash"])
    assert receipt["from"] == hub.relayer.address  # revokeBySig: the partner signed, the relayer sent it

    report = verifies(hub, issued["document"])
    assert not report.valid and report.failed == ("not_revoked",)
    assert "issued in error" in report.check("not_revoked").reason
    assert client.post("/verify", json=issued["document"]).json()["valid"] is False  # not from the cache
    credential = client.get(f"/credentials/{issued['id']}", headers=keys.issuer(HANZE)).json()
    assert (credential["revoked"], credential["revocation_reason"]) == (True, "issued-in-error")

    again = client.post(
        f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "fraud-or-misconduct"}
    )
    when = result["revoked_at"].replace("+00:00", "Z")
    body = assert_problem(again, 409, f"this credential was already revoked on {when} (issued in error)")
    assert body["revoked_at"] == when and body["reason"] == "issued-in-error"


def test_revoking_needs_a_known_reason(client: TestClient, keys: Any, hanze: str) -> None:
    issued = issue(client, keys)
    bad = client.post(f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "boredom"})
    assert_problem(bad, 422, contains="reason: Input should be 'fraud-or-misconduct', 'issued-in-error'")
    assert_problem(
        client.post(f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": 2}), 422
    )
    assert_problem(
        client.post(
            "/credentials/4f1c0000-0000-4000-8000-000000000000/revoke",
            headers=keys.issuer(HANZE),
            json={"reason": "superseded"},
        ),
        404,
    )


def test_revocation_made_on_chain_meanwhile_is_409_and_recorded(
    client: TestClient, keys: Any, hub: Hub, hanze: str
) -> None:
    issued = issue(client, keys)
    proof = issued["document"]["proof"][0]
    registry(hub).revoke(
        from_hex32(proof["merkleRoot"]),
        from_hex32(proof["credentialDigest"]),
        [from_hex32(node) for node in proof["merklePath"]],
        4,
        sender=hub.signers.for_address(hanze),
    )
    again = client.post(
        f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "issued-in-error"}
    )
    assert assert_problem(again, 409, contains="already revoked on")["reason"] == "withdrawn-at-graduates-request"
    credential = client.get(f"/credentials/{issued['id']}", headers=keys.issuer(HANZE)).json()
    assert credential["revocation_reason"] == "withdrawn-at-graduates-request"


def test_openapi_documents_the_issuing_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    cohort = spec["paths"]["/credentials/batch"]["post"]
    assert set(cohort["requestBody"]["content"]) == {"application/json", "text/csv", "multipart/form-data"}
    assert "programme_id, email, name, result, valid_from, valid_until" in cohort["requestBody"]["description"]
    read = spec["paths"]["/credentials/{credential_id}"]["get"]
    assert any(p["name"] == "X-Holder-Token" and p["in"] == "header" for p in read["parameters"])
    for path, method, status in (
        ("/credentials", "post", "201"),
        ("/credentials/batch", "post", "202"),
        ("/batches/{batch_id}", "get", "200"),
        ("/programmes", "post", "201"),
        ("/credentials/{credential_id}/revoke", "post", "200"),
    ):
        assert status in spec["paths"][path][method]["responses"]


# ---------------------------------------------------------------- another account's anchoring of the same root


def _stored_batch(hub: Hub, hanze: str) -> tuple[str, bytes, int]:
    """A batch of Hanze's stored while nothing anchors it, marked as sent once before (so that the worker first
    asks the chain whether it is anchored already): its id, root and count."""
    from service.issuing import pipeline
    from service.issuing.requests import CredentialCreate, Row

    hub.stop_background()
    with hub.sessions() as db:
        cohort = pipeline.prepare(
            db,
            hub.registry,
            hub.signers,
            hanze,
            [Row(1, None, CredentialCreate.model_validate(graduate()))],
            identities=hub.identity_for,
        )
    batch_id = pipeline.persist(hub.sessions, cohort)
    with hub.sessions.begin() as db:
        row = db.get(models.Batch, batch_id)
        assert row is not None
        row.attempts, root, count = 1, from_hex32(row.root), row.count
    return batch_id, root, count


def _run_until_anchored(client: TestClient, keys: Any, hub: Hub, batch_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        hub.anchoring.run_once()
        batch = client.get(f"/batches/{batch_id}", headers=keys.issuer(HANZE)).json()
        if batch["status"] in ("anchored", "failed"):
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(0.05)


def test_a_root_another_partner_anchored_first_is_not_taken_as_ours(
    client: TestClient, keys: Any, hub: Hub, hanze: str, accredited: Any
) -> None:
    """Partner B anchors the root of Hanze's stored batch first (front-running it): the worker does not finish
    Hanze's batch from B's anchoring, it anchors Hanze's own, and the credentials verify as Hanze's."""
    (nhl,) = accredited(NHL)
    batch_id, root, count = _stored_batch(hub, hanze)
    squatted = registry(hub).anchor(root, count, sender=hub.signers.for_address(nhl))
    batch = _run_until_anchored(client, keys, hub, batch_id)
    assert batch["status"] == "anchored", batch
    assert batch["transaction_hash"] != "0x" + bytes(squatted["transactionHash"]).hex()
    ours = hub.w3.eth.get_transaction_receipt(batch["transaction_hash"])
    assert ours["from"] == hub.relayer.address and ours["status"] == 1
    assert registry(hub).batch(hanze, root).mode == AnchorMode.RELAYED
    credential = client.get(f"/credentials/{batch['credentials'][0]['id']}", headers=keys.issuer(HANZE)).json()
    document = credential["document"]
    assert document["proof"][0]["transactionHash"] == batch["transaction_hash"]
    report = verifies(hub, document)
    assert report.valid, explain(report)
    assert report.check("issuer_signature").passed


def test_a_later_anchoring_of_our_root_by_another_partner_is_not_taken_for_our_transaction(
    client: TestClient, keys: Any, hub: Hub, hanze: str, accredited: Any
) -> None:
    """Hanze's root is on chain (its relayer's anchorFor, e.g. sent before a crash) and partner B anchored the same
    root after it: finishing from the chain, the worker takes Hanze's own BatchAnchored event, not B's."""
    (nhl,) = accredited(NHL)
    batch_id, root, count = _stored_batch(hub, hanze)
    own = registry(hub).anchor_for(hanze, root, count, sender=hub.relayer.account)
    registry(hub).anchor(root, count, sender=hub.signers.for_address(nhl))
    batch = _run_until_anchored(client, keys, hub, batch_id)
    assert batch["status"] == "anchored", batch
    assert batch["transaction_hash"] == "0x" + bytes(own["transactionHash"]).hex()
    credential = client.get(f"/credentials/{batch['credentials'][0]['id']}", headers=keys.issuer(HANZE)).json()
    assert credential["document"]["proof"][0]["transactionHash"] == batch["transaction_hash"]
    assert verifies(hub, credential["document"]).valid
