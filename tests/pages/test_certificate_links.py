"""Share links made for printed certificates (POST /credentials/{id}/certificate-links), on a real anvil with the
hub deployed: who may make one, what it discloses (exactly the claims asked for, of those a certificate prints),
one per set of claims; and the PDFs behind share links, whose QR code (decoded from the rendered page with
zxing-cpp) opens a page that shows as verified exactly the name and grade the PDF prints (pypdf)."""

from __future__ import annotations

import io
import re
from typing import Any

import pypdfium2
import zxingcpp
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service.documents.certificate import disclosed_claims
from tests.api.test_issuing import assert_problem
from tests.pages.conftest import HANZE, share_path
from tests.pages.test_pages import assert_page

NAME, GRADE = "Jan de Vries", "8.5"


def make_link(client: TestClient, issued: dict[str, Any], claims: list[str], **headers: str) -> Any:
    return client.post(f"/credentials/{issued['id']}/certificate-links", json={"disclose": claims}, headers=headers)


def qr_link(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()
    codes = [item.text for item in zxingcpp.read_barcodes(image) if item.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, codes
    return codes[0]


def pdf_text(pdf: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def shown(client: TestClient, link: str) -> tuple[str | None, str | None]:
    """(name, grade) that the page behind `link` shows as verified; None where it says the copy lacks them."""
    response = client.get(link.removeprefix("http://testserver"))
    text = assert_page(response)
    assert 'class="verdict verdict--valid"' in response.text
    name = re.search(r"Awarded to (.+?) (?:The graduate's name|Issued by)", text)
    grade = re.search(r"Final grade (\S+) on a scale of", text)
    assert name is not None, text
    return (
        None if name.group(1) == "the holder of this credential" else name.group(1),
        grade.group(1) if grade else None,
    )


def test_the_issuer_makes_a_link_that_discloses_exactly_the_printed_claims(
    client: TestClient, keys: Any, issue: Any
) -> None:
    issued = issue(name=NAME, grade=GRADE)
    made = make_link(client, issued, ["result", "name"], **keys.issuer(HANZE))
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["credential_id"] == issued["id"] and link["shared_claims"] == ["name", "result"]
    assert link["share_url"].startswith("http://testserver/share/") and link["share_url"] != issued["share_url"]
    assert shown(client, link["share_url"]) == (NAME, GRADE)
    page = assert_page(client.get(link["share_url"].removeprefix("http://testserver")))
    assert "Micro-credential: the page of its printed certificate" in page
    assert "shared by its holder" not in page
    copy = client.get(link["share_url"].removeprefix("http://testserver") + "/credential.json").json()
    assert sorted(disclosed_claims(copy)) == ["name", "result"]
    assert client.post("/verify", json=copy).json()["valid"] is True

    # asked again: the same link (200); other claims: another link
    again = make_link(client, issued, ["name", "result", "name"], **keys.issuer(HANZE))
    assert again.status_code == 200 and again.json()["share_url"] == link["share_url"]
    name_only = make_link(client, issued, ["name"], **keys.issuer(HANZE))
    assert name_only.status_code == 201 and name_only.json()["share_url"] != link["share_url"]
    assert shown(client, name_only.json()["share_url"]) == (NAME, None)
    # the holder's own share link and choice are untouched
    assert shown(client, issued["share_url"]) == (None, None)
    assert client.get(f"/credentials/{issued['id']}", headers=keys.issuer(HANZE)).json()["shared_claims"] == []


def test_the_holder_may_make_one_too(client: TestClient, issue: Any) -> None:
    issued = issue(name=NAME, grade=GRADE)
    made = make_link(client, issued, ["name"], **{"X-Holder-Token": issued["holder_token"]})
    assert made.status_code == 201, made.text
    assert shown(client, made.json()["share_url"]) == (NAME, None)


def test_who_may_not_make_a_certificate_link(client: TestClient, keys: Any, accredited: Any, issue: Any) -> None:
    issued = issue(name=NAME, grade=GRADE)
    assert_problem(make_link(client, issued, ["name"]), 401, contains="X-Holder-Token")
    assert_problem(
        make_link(client, issued, ["name"], **{"X-Holder-Token": "hold_wrong"}),
        403,
        contains="does not open this credential",
    )
    accredited("Rijksuniversiteit Groningen")
    assert_problem(
        make_link(client, issued, ["name"], **keys.issuer("Rijksuniversiteit Groningen")),
        403,
        contains="issued by another partner",
    )
    assert_problem(make_link(client, issued, ["name"], **keys.member("Unigarant")), 403)
    assert_problem(
        client.post(
            "/credentials/4f1c0000-0000-4000-8000-000000000000/certificate-links",
            headers=keys.issuer(HANZE),
            json={"disclose": []},
        ),
        404,
    )
    # a claim a certificate does not print, or one the credential lacks: 422 naming it; nothing made
    body = assert_problem(make_link(client, issued, ["name", "email"], **keys.issuer(HANZE)), 422, contains="'email'")
    assert "it can print name, result" in body["detail"]
    ungraded = issue(email="anouk@example.org", grade=None, programme_id="miw-cybersecurity")
    assert_problem(make_link(client, ungraded, ["result"], **keys.issuer(HANZE)), 422, contains="'result'")
    assert_problem(
        client.post(
            f"/credentials/{issued['id']}/certificate-links", headers=keys.issuer(HANZE), json={"show": ["name"]}
        ),
        422,
    )


def test_a_share_links_pdf_prints_what_the_page_behind_its_qr_code_verifies(
    client: TestClient, keys: Any, issue: Any
) -> None:
    """The holder disclosed nothing: the PDF of their share link prints no name or grade, and its QR code opens
    the page that shows neither. A certificate link's PDF prints and its page shows both."""
    issued = issue(name=NAME, grade=GRADE)
    pdf = client.get(share_path(issued) + "/certificate.pdf").content
    text = pdf_text(pdf)
    assert NAME not in text and "de Vries" not in text and GRADE not in text and "scale" not in text
    assert "the holder of this credential" in text
    assert qr_link(pdf) == issued["share_url"]
    assert shown(client, qr_link(pdf)) == (None, None)

    link = make_link(client, issued, ["name", "result"], **keys.issuer(HANZE)).json()["share_url"]
    pdf = client.get(link.removeprefix("http://testserver") + "/certificate.pdf").content
    assert qr_link(pdf) == link
    name, grade = shown(client, qr_link(pdf))
    assert (name, grade) == (NAME, GRADE)
    assert name in pdf_text(pdf) and f"{grade} (scale 1.0\u201310.0)" in pdf_text(pdf)


def test_no_certificate_link_before_the_credential_is_anchored(
    client: TestClient, keys: Any, hub: Any, issue: Any
) -> None:
    from service.db import models
    from service.db.session import transaction

    issued = issue(name=NAME, grade=GRADE)
    with transaction(hub.sessions) as db:
        batch = db.get(models.Batch, issued["batch_id"])
        assert batch is not None
        batch.status = "submitted"  # its transaction sent, not mined yet
    assert_problem(make_link(client, issued, ["name"], **keys.issuer(HANZE)), 409, contains="not anchored yet")
    with transaction(hub.sessions) as db:
        assert db.query(models.ShareLink).count() == 0  # nothing made
