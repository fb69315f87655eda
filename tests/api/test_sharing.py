"""PUT /credentials/{id}/sharing on a real anvil with the hub deployed: the graduate chooses which claims
the share link (its page, credential.json and certificate.pdf) shows. Nothing personal by default; only the
holder token may change it, never an API key (not even the issuer's)."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service.credentials import Status, select_disclosures, verify_credential
from service.demo import DEMO_PROGRAMMES
from service.hub import Hub
from tests.api.test_issuing import HANZE, assert_problem, issue
from tests.credentials.ob3 import assert_ob3

NAME, GRADE, EMAIL = "Jan de Vries", "8.5", "jan.devries@example.org"


@pytest.fixture
def issued(client: TestClient, keys: Any, accredited: Any) -> dict[str, Any]:
    """One credential issued by Hanzehogeschool Groningen (accredited, its programmes in the catalogue)."""
    for programme in DEMO_PROGRAMMES:
        response = client.post("/programmes", headers=keys.admin(), json=programme.as_create())
        assert response.status_code == 201, response.text
    accredited(HANZE)
    return issue(client, keys, name=NAME, grade=GRADE)


def share_path(issued: dict[str, Any]) -> str:
    return issued["share_url"].removeprefix("http://testserver")


def page_text(client: TestClient, issued: dict[str, Any]) -> str:
    response = client.get(share_path(issued))
    assert response.status_code == 200, response.text[:500]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def shared_json(client: TestClient, issued: dict[str, Any]) -> dict[str, Any]:
    response = client.get(share_path(issued) + "/credential.json")
    assert response.status_code == 200, response.text[:500]
    return response.json()


def pdf_text(client: TestClient, issued: dict[str, Any]) -> str:
    response = client.get(share_path(issued) + "/certificate.pdf")
    assert response.status_code == 200
    return " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())


def share(client: TestClient, issued: dict[str, Any], claims: list[str], **headers: str) -> Any:
    headers = headers or {"X-Holder-Token": issued["holder_token"]}
    return client.put(f"/credentials/{issued['id']}/sharing", headers=headers, json={"disclose": claims})


def test_by_default_the_share_link_shows_nothing_personal(client: TestClient, issued: dict[str, Any]) -> None:
    text = page_text(client, issued)
    assert NAME not in text and GRADE not in text
    assert "Awarded to the holder of this credential" in text
    shared = shared_json(client, issued)
    assert shared["proof"][0]["disclosures"] == []
    assert_ob3(shared)
    identity = next(
        value[0] for _salt, name, value in issued["document"]["proof"][0]["disclosures"] if name == "identifier"
    )
    for personal in (EMAIL, NAME, GRADE, identity["identityHash"], identity["salt"], "identityHash"):
        assert personal not in str(shared) and personal not in text
    assert NAME not in pdf_text(client, issued)
    holder = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]})
    assert holder.json()["shared_claims"] == []


def test_the_holder_shares_the_name_and_withdraws_it(client: TestClient, hub: Hub, issued: dict[str, Any]) -> None:
    response = share(client, issued, ["name"])
    assert response.status_code == 200, response.text
    assert response.json() == {
        "credential_id": issued["id"],
        "share_url": issued["share_url"],
        "shared_claims": ["name"],
        "available_claims": ["identifier", "name", "result"],
    }

    text = page_text(client, issued)
    assert f"Awarded to {NAME}" in text
    assert GRADE not in text and "Final grade Not included in this copy" in text
    shared = shared_json(client, issued)
    assert [item[1] for item in shared["proof"][0]["disclosures"]] == ["name"]
    assert_ob3(shared)
    holder_body = {key: value for key, value in issued["document"].items() if key != "proof"}
    assert {key: value for key, value in shared.items() if key != "proof"} == holder_body
    report = client.post("/verify", json=shared).json()
    assert report["valid"] is True, report
    assert report["credential"]["disclosed"] == {"name": NAME}
    assert NAME in pdf_text(client, issued)
    holder = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]})
    assert holder.json()["shared_claims"] == ["name"]

    both = share(client, issued, ["result", "name"])
    assert both.json()["shared_claims"] == ["name", "result"]
    assert f"Final grade {GRADE}" in page_text(client, issued)
    assert_ob3(shared_json(client, issued))

    # disclosing the identifier lets a verifier who knows the email address check it
    everything = share(client, issued, ["identifier", "name", "result"])
    assert everything.json()["shared_claims"] == ["identifier", "name", "result"]
    shared = shared_json(client, issued)
    assert_ob3(shared)
    assert verify_credential(shared, hub.verification_cache, recipient_email=EMAIL).check("recipient").passed
    assert (
        not verify_credential(shared, hub.verification_cache, recipient_email="piet@example.org")
        .check("recipient")
        .passed
    )
    without = select_disclosures(shared, ["name"])
    assert (
        verify_credential(without, hub.verification_cache, recipient_email=EMAIL).check("recipient").status
        is Status.NOT_RUN
    )

    withdrawn = share(client, issued, [])
    assert withdrawn.status_code == 200 and withdrawn.json()["shared_claims"] == []
    text = page_text(client, issued)
    assert NAME not in text and GRADE not in text
    assert shared_json(client, issued)["proof"][0]["disclosures"] == []


def test_only_the_holder_token_chooses(client: TestClient, keys: Any, issued: dict[str, Any]) -> None:
    assert_problem(
        client.put(f"/credentials/{issued['id']}/sharing", json={"disclose": ["name"]}), 401, contains="X-Holder-Token"
    )
    assert_problem(
        share(client, issued, ["name"], **{"X-Holder-Token": "hold_wrong"}),
        403,
        contains="does not open this credential",
    )
    assert_problem(share(client, issued, ["name"], **keys.issuer(HANZE)), 403, contains="only the graduate")
    assert_problem(share(client, issued, ["name"], **keys.admin()), 403, contains="only the graduate")
    assert_problem(
        client.put(
            "/credentials/4f1c0000-0000-4000-8000-000000000000/sharing",
            headers={"X-Holder-Token": issued["holder_token"]},
            json={"disclose": []},
        ),
        404,
    )
    assert NAME not in page_text(client, issued)


def test_an_unknown_claim_is_refused_by_name(client: TestClient, issued: dict[str, Any]) -> None:
    body = assert_problem(share(client, issued, ["name", "email"]), 422, contains="'email'")
    assert "name, result" in body["detail"]
    assert_problem(
        client.put(
            f"/credentials/{issued['id']}/sharing",
            headers={"X-Holder-Token": issued["holder_token"]},
            json={"show": ["name"]},
        ),
        422,
    )
    assert NAME not in page_text(client, issued)  # nothing changed


def test_the_grade_is_result_everywhere_and_grade_is_accepted_for_it(
    client: TestClient, keys: Any, hub: Hub, issued: dict[str, Any], tmp_path: Any
) -> None:
    """One public name: the CSV column, the JSON field, the claim shared, printed and presented is `result`;
    `grade` (the name first used for the column) is accepted for it wherever a name is given."""
    import json

    from typer.testing import CliRunner

    from service.cli import app
    from service.documents.certificate import disclosed_claims
    from service.issuing.requests import CSV_COLUMNS, parse_cohort_csv
    from tests.api.test_issuing import graduate

    assert "result" in CSV_COLUMNS and "grade" not in CSV_COLUMNS
    by_result = parse_cohort_csv(b"programme_id,email,name,result\nmiw-ai,a@example.org,Anna,8\n", 10)
    by_grade = parse_cohort_csv(b"programme_id,email,name,grade\nmiw-ai,a@example.org,Anna,8\n", 10)
    assert by_result[0].request.grade == by_grade[0].request.grade == "8.0"
    both = client.post(
        "/credentials/batch",
        headers={**keys.issuer(HANZE), "content-type": "text/csv"},
        content=b"programme_id,email,name,grade,result\nmiw-ai,a@example.org,Anna,8,8\n",
    )
    assert_problem(both, 422, contains="grade and result are one column")
    # the JSON field by its name, and by the alias; a bad value is named result
    by_name = issue(client, keys, email="r@example.org", grade=None, result="7,5")
    assert "result" in disclosed_claims(by_name["document"])
    bad = client.post("/credentials", headers=keys.issuer(HANZE), json={**graduate(grade=None), "result": "11"})
    assert_problem(bad, 422, contains="result")

    # the credential discloses it as result: sharing "grade" shares result
    shared = share(client, issued, ["name", "grade"])
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared_claims"] == ["name", "result"] and "result" in shared.json()["available_claims"]
    assert set(disclosed_claims(shared_json(client, issued))) == {"name", "result"}
    link = client.post(
        f"/credentials/{issued['id']}/certificate-links",
        headers={"X-Holder-Token": issued["holder_token"]},
        json={"disclose": ["grade"]},
    )
    assert link.status_code in (200, 201), link.text
    assert link.json()["shared_claims"] == ["result"]
    # an unknown name is refused naming the public one
    body = assert_problem(share(client, issued, ["cijfer"]), 422, contains="'cijfer'")
    assert "result" in body["detail"] and "grade" not in body["detail"].split("can disclose")[-1]

    # hub present -d grade keeps the result disclosure, as -d result does
    full = client.get(f"/credentials/{issued['id']}", headers={"X-Holder-Token": issued["holder_token"]}).json()
    source = tmp_path / "credential.json"
    source.write_text(json.dumps(full["document"]), encoding="utf-8")
    outputs = {}
    for name in ("grade", "result"):
        result = CliRunner().invoke(app, ["present", str(source), "-d", name, "-o", str(tmp_path / f"{name}.json")])
        assert result.exit_code == 0, result.output
        outputs[name] = list(disclosed_claims(json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))))
    assert outputs["grade"] == outputs["result"] == ["result"]
    unknown = CliRunner().invoke(app, ["present", str(source), "-d", "cijfer"])
    assert unknown.exit_code == 2 and "result" in unknown.output
