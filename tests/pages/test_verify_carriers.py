"""The verify page with a certificate PDF (uploaded: its embedded credential verified, its print shown beside
what verified, an edited print called out) and a share link of this hub (pasted: looked up, never fetched;
any other link refused in words). TestClient on a real anvil; the browser test is in test_browser.py."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_verify_carriers import edit_print
from tests.pages.conftest import share_path
from tests.pages.test_pages import assert_page, checks_on

NAME = "Jan de Vries"


def upload(client: TestClient, data: bytes, filename: str = "certificate.pdf", text: str = "") -> Any:
    files = {"file": (filename, data, "application/pdf")}
    return client.post("/verify/check", data={"credential": text, "email": ""}, files=files)


def paste(client: TestClient, text: str) -> Any:
    files = {"file": ("", b"", "application/octet-stream")}
    return client.post("/verify/check", data={"credential": text, "email": ""}, files=files)


def shared_with_name(client: TestClient, issued: dict[str, Any]) -> bytes:
    """The certificate PDF of the holder's link, once the holder shares the name and the grade."""
    response = client.put(
        f"/credentials/{issued['id']}/sharing",
        headers={"X-Holder-Token": issued["holder_token"]},
        json={"disclose": ["name", "result"]},
    )
    assert response.status_code == 200, response.text
    pdf = client.get(share_path(issued) + "/certificate.pdf")
    assert pdf.status_code == 200
    return pdf.content


def printed_rows(html: str) -> dict[str, tuple[str, str, str]]:
    """{fact: (printed, in the credential, match)} from the page's table."""
    rows = re.findall(
        r'<tr class="printed__row[^"]*">\s*<th scope="row">([^<]+)</th>'
        r'<td><span class="printed__column"[^>]*>Printed: </span>([^<]*)</td>'
        r'<td><span class="printed__column"[^>]*>Credential: </span>([^<]*)</td>'
        r"\s*<td>.*?<span>(\w+)</span></td>",
        html,
        flags=re.S,
    )
    return {label: (printed, credential, mark) for label, printed, credential, mark in rows}


def test_an_uploaded_certificate_pdf_is_verified_and_its_print_shown(client: TestClient, issue: Any) -> None:
    issued = issue()
    pdf = shared_with_name(client, issued)
    response = upload(client, pdf)
    text = assert_page(response)
    assert "Valid" in text and "This credential is valid" in text
    assert "The PDF beside its credential" in text
    checks = checks_on(response)
    assert checks["Printed certificate"] == "passed" and set(checks.values()) == {"passed"}
    rows = printed_rows(response.text)
    assert rows["Awarded to"] == (NAME, NAME, "Same")
    assert rows["Credential ID"][0] == issued["document"]["id"]
    assert f"Awarded to {NAME}" in text


def test_an_edited_certificate_pdf_is_called_out(client: TestClient, issue: Any) -> None:
    pdf = shared_with_name(client, issue())
    forged = edit_print(pdf, b"(Jan de Vries)", b"(Piet Jansen)")
    response = upload(client, forged)
    text = assert_page(response)
    assert "This PDF was changed: what it prints is not what its credential says." in text
    assert "differs from it in: Awarded to" in text
    assert checks_on(response)["Printed certificate"] == "failed"
    assert printed_rows(response.text)["Awarded to"] == ("Piet Jansen", NAME, "Differs")
    assert "This credential is valid" not in text


def test_a_pdf_without_a_credential_or_broken_gets_a_readable_message(client: TestClient) -> None:
    import io

    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    Canvas(buffer).save()
    text = assert_page(upload(client, buffer.getvalue()), 422)
    assert "This PDF does not carry a credential." in text
    text = assert_page(upload(client, b"%PDF-1.7\nnot really"), 422)
    assert "This PDF cannot be read" in text


def test_a_pasted_share_link_of_this_hub_is_verified(client: TestClient, issue: Any) -> None:
    issued = issue()
    shared_with_name(client, issued)
    response = paste(client, "  " + issued["share_url"] + "  ")
    text = assert_page(response)
    assert "This credential is valid" in text and f"Awarded to {NAME}" in text
    assert "The PDF beside its credential" not in text  # a link carries no print


def test_a_foreign_link_is_refused_in_words(client: TestClient) -> None:
    response = paste(client, "https://evil.example/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf")
    text = assert_page(response, 422)
    assert "This link cannot be checked here" in text and "never opens other links" in text
    response = paste(client, "http://testserver/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf")
    text = assert_page(response, 422)
    assert "This share link does not lead to a credential" in text


def test_an_uploaded_badge_image_is_verified(client: TestClient, issue: Any) -> None:
    issued = issue()
    shared_with_name(client, issued)
    badge = client.get(share_path(issued) + "/badge.png").content
    files = {"file": ("badge.png", badge, "image/png")}
    response = client.post("/verify/check", data={"credential": "", "email": ""}, files=files)
    text = assert_page(response)
    assert "This credential is valid" in text and f"Awarded to {NAME}" in text
    files = {"file": ("badge.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")}
    response = client.post("/verify/check", data={"credential": "", "email": ""}, files=files)
    assert "This image does not carry a credential" in assert_page(response, 422)


def test_an_oversized_pdf_upload_is_refused_in_words(client: TestClient) -> None:
    from service.documents.carrier import MAX_PDF_BYTES

    text = assert_page(upload(client, b"%PDF-1.7\n" + b"0" * MAX_PDF_BYTES), 422)
    assert f"This PDF is too large: a certificate PDF is at most {MAX_PDF_BYTES // 1024} KB." in text
