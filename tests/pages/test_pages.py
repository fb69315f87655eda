"""The HTML pages on a real anvil with the hub deployed: share, verify, the board's register, home.

Credentials are issued through the API as Hanzehogeschool Groningen (accredited by a board decision) to
Jan de Vries, grade 8.5. Until the holder chooses otherwise (PUT /credentials/{id}/sharing, see
tests/api/test_sharing.py), a share link serves the holder's copy with every disclosure withheld, so
his name and grade do not appear on it; a copy that discloses them shows them on the verify page.
"""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service.chain.facts_cache import VerificationCache
from service.credentials.verifier import CHECK_TITLES
from service.db import models
from service.db.session import transaction
from service.errors import ChainUnavailable
from service.hub import Hub
from tests.pages.conftest import ending_soon, pass_the_end, set_verifier_clock, share_path

HTML = "text/html; charset=utf-8"


def text_of(response: Any) -> str:
    """The page's text as a person reads it: tags dropped, entities decoded, whitespace collapsed."""
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", response.text, flags=re.S)
    body = re.sub(r"</?(?:span|strong|code|a|em)\b[^>]*>", "", body)  # inline: no word break
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def checks_on(response: Any) -> dict[str, str]:
    """{check title: its mark} as the page lists them."""
    found = re.findall(
        r'<li class="check check--(\w+)">.*?<h3 class="check__title">([^<]+)</h3>', response.text, flags=re.S
    )
    return {unescape(title): status for status, title in found}


def assert_page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == HTML
    assert response.text.startswith("<!doctype html>")
    assert '<html lang="en">' in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return text_of(response)


def verify_form(client: TestClient, text: str = "", *, file: bytes | None = None, email: str = "") -> Any:
    files = {"file": ("credential.json", file or b"", "application/json")}
    return client.post("/verify/check", data={"credential": text, "email": email}, files=files)


# ---------------------------------------------------------------- home


def test_home_names_the_hub_and_links_every_page(client: TestClient) -> None:
    text = assert_page(client.get("/"))
    assert "IT Hub Hoogeveen credentials" in text
    for link in ('href="/verify"', 'href="/board/register"', 'href="/docs"'):
        assert link in client.get("/").text
    assert client.get("/static/hub.css").status_code == 200


# ---------------------------------------------------------------- share pages


def test_share_page_of_a_valid_credential_reads_as_a_certificate(client: TestClient, issue: Any) -> None:
    issued = issue()
    response = client.get(share_path(issued))
    text = assert_page(response)
    assert "This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)." in text
    assert 'class="verdict verdict--valid"' in response.text
    for fact in (
        "Make IT Work: Data Analytics",
        "Issued by Hanzehogeschool Groningen",
        "Date of issue 1 July 2026 (CEST)",
        "Valid until 1 July 2031 (CEST)",
        "Study load 30 ECTS (about 840 hours of study)",
        "Level EQF level 6 (bachelor level)",
        "Theme Data analytics",
        issued["id"],
    ):
        assert fact in text, fact
    # every check, with its title, its mark and its reason
    marks = checks_on(response)
    assert set(marks) == {
        CHECK_TITLES[name]
        for name in (
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
        )
    }
    assert set(marks.values()) == {"passed"}
    assert "14 of 14 checks passed." in text
    assert "Technical detail: no claims disclosed" in text
    assert f'href="{share_path(issued)}/certificate.pdf"' in response.text
    assert f'href="{share_path(issued)}/credential.json"' in response.text
    # a share link is public: it is not indexed or cached
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert response.headers["cache-control"] == "no-store"


def test_share_page_withholds_the_name_and_the_grade(client: TestClient, issue: Any) -> None:
    issued = issue(name="Jan de Vries", grade="8.5")
    full = {item[1] for item in issued["document"]["proof"][0]["disclosures"]}
    assert full == {"identifier", "name", "result"}  # the holder's copy has all; the share link shows none
    text = assert_page(client.get(share_path(issued)))
    assert "Jan de Vries" not in text and "8.5" not in text
    assert "Awarded to the holder of this credential" in text
    assert "The graduate's name is not part of this copy of the credential." in text
    assert "Final grade Not included in this copy" in text
    assert "Recipient's email address Not included in this copy" in text
    assert "identityHash" not in text and "jan" not in text.lower().replace("january", "")


def test_share_page_of_a_revoked_credential_says_when_and_why(client: TestClient, keys: Any, issue: Any) -> None:
    issued = issue()
    revoked = client.post(
        f"/credentials/{issued['id']}/revoke",
        headers=keys.issuer("Hanzehogeschool Groningen"),
        json={"reason": "issued-in-error"},
    )
    assert revoked.status_code == 200, revoked.text
    response = client.get(share_path(issued))
    text = assert_page(response)
    assert 'class="verdict verdict--revoked"' in response.text and "verdict--valid" not in response.text
    assert re.search(r"REVOKED|Revoked", text)
    assert re.search(
        r"Not valid: it was revoked on \d{1,2} \w+ \d{4} \(CES?T\) because it was issued in error\.", text
    ), text
    assert "It was issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)." in text
    assert checks_on(response)["Not revoked"] == "failed"
    assert "Do not rely on what follows: this credential is not valid." in text


def test_share_page_of_an_expired_credential(
    client: TestClient, hub: Hub, issue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    valid_until, in_words = ending_soon()
    issued = issue(valid_until=valid_until)
    pass_the_end(hub, valid_until, monkeypatch)
    response = client.get(share_path(issued))
    text = assert_page(response)
    assert 'class="verdict verdict--expired"' in response.text
    assert f"Not valid: it expired on {in_words}." in text
    assert checks_on(response)["Validity period"] == "failed"
    assert checks_on(response)["Not revoked"] == "passed"


def test_share_page_turns_expired_when_the_clock_passes_valid_until_without_a_new_block(
    client: TestClient, hub: Hub, issue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain mines only on transactions: no block after 1 January 2027, yet the page says expired
    once the verifier's clock is past it (chain time would say valid until the next transaction)."""
    issued = issue(valid_from="2026-07-01", valid_until="2027-01-01")
    assert "verdict--valid" in client.get(share_path(issued)).text
    head = hub.w3.eth.block_number
    assert hub.w3.eth.get_block(head)["timestamp"] < datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    set_verifier_clock(monkeypatch, datetime(2027, 1, 2, tzinfo=UTC))
    response = client.get(share_path(issued))
    assert "Not valid: it expired on 1 January 2027 (CET)." in assert_page(response)
    assert hub.w3.eth.block_number == head  # no block was mined: chain time stood still


def test_valid_revoked_and_expired_look_different_without_colour(
    client: TestClient, hub: Hub, keys: Any, issue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The badge's word and icon differ for each state, not only its colour."""
    valid_until, _ = ending_soon()
    valid, revoked, expired = (
        issue(),
        issue(email="a@example.org"),
        issue(email="b@example.org", valid_until=valid_until),
    )
    pass_the_end(hub, valid_until, monkeypatch)
    client.post(
        f"/credentials/{revoked['id']}/revoke",
        headers=keys.issuer("Hanzehogeschool Groningen"),
        json={"reason": "superseded"},
    )
    badges = {}
    for name, issued in (("valid", valid), ("revoked", revoked), ("expired", expired)):
        html = client.get(share_path(issued)).text
        label = re.search(
            r'<h2 class="verdict__label" id="verdict-label">(<svg class="icon icon--([\w-]+)".*?</svg>)'
            r"<span>([^<]+)</span>",
            html,
            flags=re.S,
        )
        assert label is not None, name
        badges[name] = (label.group(2), label.group(3))
    assert badges == {
        "valid": ("check-circle", "Valid"),
        "revoked": ("block", "Revoked"),
        "expired": ("hourglass", "Expired"),
    }


def test_json_download_is_the_shared_copy_and_verifies(client: TestClient, issue: Any) -> None:
    issued = issue()
    response = client.get(share_path(issued) + "/credential.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == f'attachment; filename="credential-{issued["id"]}.json"'
    shared = response.json()
    assert shared["proof"][0]["disclosures"] == []
    assert "Jan de Vries" not in response.text
    holder = {key: value for key, value in issued["document"].items() if key != "proof"}
    assert {key: value for key, value in shared.items() if key != "proof"} == holder  # the same anchored body
    report = client.post("/verify", json=shared).json()
    assert report["valid"] is True and report["credential"]["disclosed"] == {}


def test_pdf_download_is_the_certificate_with_the_live_status(client: TestClient, issue: Any) -> None:
    issued = issue()
    response = client.get(share_path(issued) + "/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "Make IT Work: Data Analytics" in text
    assert re.search(r"Checked \d{1,2} \w+ \d{4} \(CES?T\): valid", text), text
    assert "http://testserver" + share_path(issued) in "".join(text.split())  # the link under the QR code
    assert "Jan de Vries" not in text and "the holder of this credential" in text


def test_an_unknown_share_link_is_a_friendly_404_page(client: TestClient, hub: Hub) -> None:
    for path in (
        "/share/nosuchtokennosuchtoken",
        "/share/nosuchtokennosuchtoken/credential.json",
        "/share/nosuchtokennosuchtoken/certificate.pdf",
        "/share/%3Cscript%3E",
        "/share/" + "x" * 300,
    ):
        text = assert_page(client.get(path), 404)
        assert "This share link does not work" in text
        assert "ask the graduate for a new one" in text


@pytest.mark.parametrize(
    ("status", "title"),
    [("pending", "This credential is still being issued"), ("failed", "This credential was not issued")],
)
def test_share_page_of_a_credential_not_anchored(
    client: TestClient, hub: Hub, issue: Any, status: str, title: str
) -> None:
    issued = issue()
    with transaction(hub.sessions) as session:
        session.get(models.Batch, issued["batch_id"]).status = status
    for suffix in ("", "/credential.json", "/certificate.pdf"):
        text = assert_page(client.get(share_path(issued) + suffix), 409)
        assert title in text


def test_share_page_when_the_chain_does_not_answer(
    client: TestClient, issue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue()

    def down(self: VerificationCache, *args: Any) -> Any:
        raise ChainUnavailable("the chain node does not answer eth_call: connection refused")

    monkeypatch.setattr(VerificationCache, "__call__", down)
    response = client.get(share_path(issued))
    text = assert_page(response, 503)
    assert "Not checked" in text
    assert "This credential could not be checked right now: the hub's public register did not answer." in text
    assert checks_on(response)["Not revoked"] == "not_run"


# ---------------------------------------------------------------- verify


def test_verify_page_has_a_labelled_form_posting_to_its_own_path(client: TestClient) -> None:
    response = client.get("/verify")
    assert_page(response)
    html = response.text
    assert '<form class="verify-form" method="post" action="/verify/check" enctype="multipart/form-data">' in html
    for control in re.findall(r"<(?:textarea|input|select)\b[^>]*>", html):
        control_id = re.search(r'\bid="([^"]+)"', control)
        assert control_id is not None, control
        assert f'<label for="{control_id.group(1)}">' in html, control
    assert client.post("/verify", json={}).headers["content-type"] == "application/problem+json"  # the API is kept
    again = client.get("/verify/check", follow_redirects=False)  # a reopened answer page
    assert (again.status_code, again.headers["location"]) == (303, "/verify")


def test_verify_page_checks_the_email_only_when_the_copy_discloses_the_identifier(
    client: TestClient, issue: Any
) -> None:
    issued = issue()
    full = issued["document"]
    response = verify_form(client, json.dumps(full), email="Jan.DeVries@example.org")
    assert "This credential is valid" in assert_page(response)
    assert checks_on(response)["Recipient"] == "passed"
    withheld = copy.deepcopy(full)
    withheld["proof"][0]["disclosures"] = [item for item in full["proof"][0]["disclosures"] if item[1] != "identifier"]
    response = verify_form(client, json.dumps(withheld), email="jan.devries@example.org")
    text = assert_page(response)
    assert response.status_code == 200
    assert checks_on(response)["Recipient"] == "not_run"
    assert "this copy does not include the recipient's (hashed) email address" in text
    assert "did not answer" not in text


def test_verify_a_pasted_credential_that_discloses_the_name_and_grade(client: TestClient, issue: Any) -> None:
    issued = issue()
    response = verify_form(client, json.dumps(issued["document"], indent=2))
    text = assert_page(response)
    assert "This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)." in text
    assert "<title>Valid credential – Verify a credential – IT Hub Hoogeveen</title>" in response.text
    assert "Awarded to Jan de Vries" in text
    assert "Final grade 8.5 on a scale of 1.0 to 10.0" in text
    assert set(checks_on(response).values()) == {"passed"}
    assert "Technical detail: 3 disclosed, each matching its digest: identifier, name, result" in text
    assert "Recipient's email address Included as a salted hash" in text
    assert "jan.devries@example.org" not in text  # the address itself is never shown
    assert re.search(r'<textarea id="credential"[^>]*></textarea>', response.text)  # empty, for the next one


def test_verify_an_uploaded_file(client: TestClient, issue: Any) -> None:
    issued = issue()
    shared = client.get(share_path(issued) + "/credential.json").content
    text = assert_page(verify_form(client, file=shared))
    assert "This credential is valid" in text and "Awarded to the holder of this credential" in text


def test_verify_a_tampered_credential_shows_the_failed_check(client: TestClient, issue: Any) -> None:
    tampered = copy.deepcopy(issue()["document"])
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 60
    response = verify_form(client, json.dumps(tampered))
    text = assert_page(response)
    assert "Not valid: the file was changed after it was issued." in text
    assert 'class="verdict verdict--invalid"' in response.text
    marks = checks_on(response)
    assert marks["Integrity"] == "failed"
    assert marks["Anchored on chain"] == "not_run"
    assert "the document was changed after issuing" in text  # the verifier's own reason
    # the forged claims are not shown as a certificate: only muted, folded away, labelled as not confirmed
    assert "What the file claims — not confirmed" in text and 'class="certificate ' not in response.text


def test_verify_a_credential_with_the_graduates_email(client: TestClient, issue: Any) -> None:
    document = json.dumps(issue()["document"])
    right = text_of(verify_form(client, document, email=" Jan.deVries@example.org "))
    assert "This credential is valid" in right and "It was issued to the email address you gave." in right
    wrong = verify_form(client, document, email="someone.else@example.org")
    assert "Not valid: it was not issued to the email address you gave." in assert_page(wrong)
    assert checks_on(wrong)["Recipient"] == "failed"


@pytest.mark.parametrize("garbage", ["hello", '{"name": "Jan"}', "[1, 2, 3]", "%PDF-1.7 \x00\x01"])
def test_verify_garbage_is_not_a_credential_file(client: TestClient, garbage: str) -> None:
    response = verify_form(client, garbage)
    text = assert_page(response, 422)
    assert "This is not a credential file." in text
    assert "Not a credential" in text
    assert "What was checked" not in text  # ten checks "not checked" would say nothing more
    assert garbage.split()[0] in unescape(response.text)  # the pasted text is kept to correct it


def test_verify_a_file_with_a_byte_order_mark_says_so(client: TestClient, issue: Any) -> None:
    document = json.dumps(issue()["document"]).encode()
    text = assert_page(verify_form(client, file=b"\xef\xbb\xbf" + document), 422)
    assert "This is not a credential file." in text
    assert "The file starts with an invisible mark that some text editors add" in text
    assert "Technical detail: input starts with a byte order mark" in text


def test_verify_without_input_asks_for_it(client: TestClient) -> None:
    response = verify_form(client, "   ")
    text = assert_page(response, 422)
    assert "There is a problem" in text
    assert "Paste the credential's text (JSON) or its share link into the box, or choose its file." in text
    assert 'aria-invalid="true"' in response.text


def test_verify_something_too_large_to_be_a_credential(client: TestClient) -> None:
    text = assert_page(verify_form(client, "x" * 300_000), 422)
    assert "This is too large to be a credential" in text


def test_api_docs_load_nothing_from_the_internet(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    script = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 1_000_000
    assert client.get("/static/vendor/swagger-ui/swagger-ui.css").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_the_hub_serves_its_json_ld_context_at_its_urls_path(client: TestClient) -> None:
    """The context the credentials name (https://ithubhoogeveen.nl/ns/credentials/v1) is the bundled copy the
    Data Integrity proofs are made with, and it defines every hub term (MerkleAnchor2026 and its members)."""
    from service.credentials import integrity

    response = client.get("/ns/credentials/v1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.headers["access-control-allow-origin"] == "*"
    served = response.json()
    assert served == integrity.bundled_context(integrity.HUB_CONTEXT)
    terms = served["@context"]
    assert {"disclosureDigests", "MerkleAnchor2026"} <= set(terms)
    anchor_terms = set(terms["MerkleAnchor2026"]["@context"])
    assert {"credentialDigest", "merkleRoot", "merklePath", "chainId", "registry", "issuerAddress"} <= anchor_terms
    assert {"transactionHash", "anchorSignature", "disclosures"} <= anchor_terms
