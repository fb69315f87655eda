"""POST /verify of what carries a credential, on a real anvil with the hub deployed: the certificate PDF (its
embedded credential is verified, what it prints is compared with it) and a share link of this hub (resolved
from the database, never fetched). Unhappy paths: an edited print, a PDF without a credential, a broken or
oversized PDF, a foreign, unknown or pending link."""

from __future__ import annotations

import io
import json
from typing import Any

import pypdf
import pytest
from fastapi.testclient import TestClient
from pypdf.generic import NameObject
from reportlab.pdfgen.canvas import Canvas

from service.credentials import verify_credential
from service.documents.carrier import MAX_PDF_BYTES, embed_credential
from service.hub import Hub
from tests.api.test_issuing import registry
from tests.api.test_sharing import GRADE, NAME, issued, share, share_path  # noqa: F401 - the `issued` fixture

PROBLEM_JSON = "application/problem+json"


def post_pdf(client: TestClient, pdf: bytes) -> Any:
    return client.post("/verify", content=pdf, headers={"Content-Type": "application/pdf"})


def post_link(client: TestClient, link: str, media: str = "text/uri-list") -> Any:
    return client.post("/verify", content=link.encode(), headers={"Content-Type": media})


def certificate(client: TestClient, issued: dict[str, Any]) -> bytes:  # noqa: F811
    response = client.get(share_path(issued) + "/certificate.pdf")
    assert response.status_code == 200, response.text[:300]
    return response.content


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"].endswith("/" + slug), body
    return body


def checks(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def edit_print(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """`pdf` with `old` replaced by `new` in its page's drawn text, the attachment untouched (what a PDF editor
    does to the print)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    content = page.get_contents()
    assert content is not None
    data = content.get_data()
    assert old in data, "the text to edit is not drawn as such"
    content.set_data(data.replace(old, new))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- a certificate PDF


def test_a_certificate_pdf_verifies_by_its_embedded_credential(
    client: TestClient,
    hub: Hub,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    assert share(client, issued, ["name", "result"]).status_code == 200
    pdf = certificate(client, issued)
    response = post_pdf(client, pdf)
    assert response.status_code == 200, response.text
    report = response.json()
    served = client.get(share_path(issued) + "/credential.json").json()
    expected = verify_credential(served, registry(hub).chain_facts())  # the same copy, verified directly
    assert expected.valid
    assert report["valid"] is True and report["source"] == "pdf"
    assert report["credential"]["id"] == issued["document"]["id"] and report["credential"]["disclosed"]["name"] == NAME
    assert [c["name"] for c in report["checks"]] == [c.name for c in expected.checks] + ["certificate_print"]
    assert set(checks(report).values()) == {"passed"}
    printed = {fact["label"]: fact for fact in report["printed"]}
    assert printed["Awarded to"] == {"label": "Awarded to", "printed": NAME, "credential": NAME, "matches": True}
    assert printed["Final grade"]["printed"].startswith(GRADE) and printed["Final grade"]["matches"]
    assert printed["Credential ID"]["printed"] == issued["document"]["id"]


def test_an_edited_print_is_caught_though_the_embedded_credential_is_genuine(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    assert share(client, issued, ["name", "result"]).status_code == 200
    pdf = certificate(client, issued)
    forged = edit_print(pdf, b"(Jan de Vries)", b"(Piet Jansen)")
    report = post_pdf(client, forged).json()
    assert report["valid"] is False and report["source"] == "pdf"
    statuses = checks(report)
    assert statuses.pop("certificate_print") == "failed"
    assert set(statuses.values()) == {"passed"}  # the credential inside is genuine
    failed = next(c for c in report["checks"] if c["name"] == "certificate_print")
    assert "Piet Jansen" in failed["reason"] and NAME in failed["reason"]
    awarded = next(fact for fact in report["printed"] if fact["label"] == "Awarded to")
    assert awarded == {"label": "Awarded to", "printed": "Piet Jansen", "credential": NAME, "matches": False}


def test_a_grade_printed_on_a_copy_that_withholds_it_is_caught(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    assert share(client, issued, ["name", "result"]).status_code == 200
    with_grade = certificate(client, issued)
    assert share(client, issued, ["name"]).status_code == 200  # the link now withholds the grade
    without_grade = certificate(client, issued)
    # a forger puts the earlier page (with the grade) over the later copy's credential (without it)
    carried = pypdf.PdfReader(io.BytesIO(without_grade)).attachments
    (credential,) = next(iter(carried.values()))
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(with_grade)))
    writer.root_object.pop(NameObject("/Names"))
    writer.root_object.pop(NameObject("/AF"))
    plain = io.BytesIO()
    writer.write(plain)
    forged = embed_credential(plain.getvalue(), json.loads(credential))
    report = post_pdf(client, forged).json()
    assert report["valid"] is False and checks(report)["certificate_print"] == "failed"
    grade = next(fact for fact in report["printed"] if fact["label"] == "Final grade")
    assert grade["printed"].startswith(GRADE) and grade["credential"] is None and not grade["matches"]


def test_a_pdf_without_an_embedded_credential_is_refused(client: TestClient) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Certificate: Make IT Work, awarded to Jan de Vries")
    canvas.save()
    body = problem(post_pdf(client, buffer.getvalue()), 422, "no-embedded-credential")
    assert "carries no credential" in body["detail"]


def test_a_pdf_whose_attachment_is_not_a_credential_is_refused(client: TestClient) -> None:
    buffer = io.BytesIO()
    Canvas(buffer).save()
    pdf = embed_credential(buffer.getvalue(), {"id": "urn:uuid:1", "hello": "world"})
    body = problem(post_pdf(client, pdf), 422, "no-embedded-credential")
    assert "credential-1.json" in body["detail"] and "not a credential of this format" in body["detail"]


@pytest.mark.parametrize(
    "body",
    [b"", b"%PDF-1.7\n", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 9 0 R >>\n%%EOF", b"{}"],
    ids=["empty", "header only", "dangling root", "json as pdf"],
)
def test_a_broken_pdf_is_a_400(client: TestClient, body: bytes) -> None:
    problem(post_pdf(client, body), 400, "unreadable-pdf")


def test_a_truncated_certificate_is_refused_not_a_500(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    pdf = certificate(client, issued)
    response = post_pdf(client, pdf[: len(pdf) // 3])
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM_JSON


def test_an_oversized_pdf_is_a_413(client: TestClient) -> None:
    body = problem(post_pdf(client, b"%PDF-1.7\n" + b"0" * MAX_PDF_BYTES), 413, "payload-too-large")
    assert str(MAX_PDF_BYTES) in body["detail"]


# ---------------------------------------------------------------- a share link


def test_a_share_link_of_this_hub_verifies_its_shared_copy(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    assert share(client, issued, ["name"]).status_code == 200
    for link in (issued["share_url"], issued["share_url"] + "/certificate.pdf", issued["share_url"] + "/"):
        for media in ("text/uri-list", "text/plain; charset=utf-8"):
            response = post_link(client, f"# from an email\r\n{link}\r\n", media)
            assert response.status_code == 200, response.text
            report = response.json()
            assert report["valid"] is True and report["source"] == "share_link" and report["printed"] is None
            assert report["credential"]["disclosed"] == {"name": NAME}  # what the link shows, no more


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf",
        "http://testserver.evil.example/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf",
        "https://testserver/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf",  # another scheme
        "http://testserver:8080/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf",  # another port
        "http://testserver/verify",
        "http://testserver/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf/../../verify",
        "ftp://testserver/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf",
        "file:///etc/passwd",
        "not a link at all",
    ],
)
def test_a_foreign_link_is_refused_and_never_fetched(client: TestClient, link: str) -> None:
    body = problem(post_link(client, link), 422, "foreign-link")
    assert "share link" in body["detail"] or "not this hub" in body["detail"]


def test_an_unknown_share_link_is_a_404(client: TestClient) -> None:
    problem(post_link(client, "http://testserver/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf"), 404, "not-found")


def test_more_than_one_link_is_refused(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    body = problem(post_link(client, f"{issued['share_url']}\n{issued['share_url']}"), 422, "invalid-input")
    assert "exactly one" in body["detail"]


def test_an_unsupported_media_type_names_the_three_accepted(client: TestClient) -> None:
    response = client.post("/verify", content=b"<x/>", headers={"Content-Type": "application/xml"})
    body = problem(response, 415, "unsupported-media-type")
    assert "application/pdf" in body["detail"] and "text/uri-list" in body["detail"]


def test_a_credential_sent_as_text_is_told_to_use_json(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    body = problem(post_link(client, json.dumps(issued["document"]), "text/plain"), 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


def test_a_long_text_is_not_a_link(client: TestClient) -> None:
    body = problem(post_link(client, "http://testserver/share/" + "a" * 9000), 413, "payload-too-large")
    assert "share link" in body["detail"]


# ---------------------------------------------------------------- baked badges behind a share link


def test_the_share_links_baked_badges_carry_its_credential_which_verifies(
    client: TestClient,
    hub: Hub,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    from service.documents.badge import unbake

    assert share(client, issued, ["name"]).status_code == 200
    served = client.get(share_path(issued) + "/credential.json")
    for suffix, media in (("/badge.png", "image/png"), ("/badge.svg", "image/svg+xml")):
        response = client.get(share_path(issued) + suffix)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment;")
        baked = unbake(response.content)
        assert json.loads(baked) == served.json()
        report = client.post("/verify", content=baked, headers={"Content-Type": "application/json"}).json()
        assert report["valid"] is True and report["credential"]["disclosed"] == {"name": NAME}
    svg = client.get(share_path(issued) + "/badge.svg")
    assert svg.headers["content-security-policy"] == "default-src 'none'"
    assert client.get("/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf/badge.png").status_code == 404


def test_a_baked_badge_is_verified_by_the_credential_baked_into_it(
    client: TestClient,
    issued: dict[str, Any],  # noqa: F811
) -> None:
    assert share(client, issued, ["name"]).status_code == 200
    for suffix, media in (("/badge.png", "image/png"), ("/badge.svg", "image/svg+xml")):
        image = client.get(share_path(issued) + suffix).content
        response = client.post("/verify", content=image, headers={"Content-Type": media})
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["valid"] is True and report["source"] == "badge" and report["printed"] is None
        assert report["credential"]["disclosed"] == {"name": NAME}


def test_a_badge_image_without_a_credential_is_refused(client: TestClient) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    response = client.post("/verify", content=out.getvalue(), headers={"Content-Type": "image/png"})
    body = problem(response, 422, "no-embedded-credential")
    assert "this image carries no credential" in body["detail"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text>badge</text></svg>'
    response = client.post("/verify", content=svg, headers={"Content-Type": "image/svg+xml"})
    problem(response, 422, "no-embedded-credential")
