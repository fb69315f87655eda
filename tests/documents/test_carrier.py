"""The certificate PDF as the carrier of its credential: the credential is embedded as the PDF/A-3 associated
file with relationship /Source (catalog /AF and /Names /EmbeddedFiles), any PDF library reads it back byte for
byte, and a print that differs from it is caught fact by fact.

The structure is read with pypdf's low-level objects (not through our own reader) so the test states what
another tool sees; the extraction through our reader is tested against that."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pypdf
import pytest
from pypdf.generic import NameObject
from reportlab.pdfgen.canvas import Canvas

from service.credentials import select_disclosures
from service.documents import carrier, certificate
from service.documents.carrier import (
    BrokenPdf,
    NoEmbeddedCredential,
    compare_print,
    credential_file,
    embed_credential,
    extract_credential,
)
from service.documents.certificate import render_certificate
from tests.documents.test_certificate import SHARE_URL, graduate_credential


def embedded(pdf: bytes) -> tuple[Any, Any, bytes]:
    """(catalog, file specification, embedded bytes) as pypdf's object model shows them."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"].get_object()
    names = catalog["/Names"].get_object()["/EmbeddedFiles"].get_object()["/Names"]
    assert len(names) == 2  # one (name, filespec) pair
    filespec = names[1].get_object()
    data = filespec["/EF"]["/F"].get_object().get_data()
    return catalog, filespec, data


def edit_print(pdf: bytes, old: bytes, new: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    content = writer.pages[0].get_contents()
    assert content is not None and old in content.get_data()
    content.set_data(content.get_data().replace(old, new))
    writer.pages[0].replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def credential() -> dict[str, Any]:
    return select_disclosures(graduate_credential("Zo\u00eb Bakker"), ["name", "result"])


def test_the_certificate_embeds_its_credential_as_the_source_associated_file(credential: dict[str, Any]) -> None:
    pdf = render_certificate(credential, SHARE_URL)
    catalog, filespec, data = embedded(pdf)
    assert data == credential_file(credential)
    assert json.loads(data) == credential
    assert filespec["/Type"] == "/Filespec"
    assert filespec["/AFRelationship"] == "/Source"
    name = f"credential-{credential['id'].rsplit(':', 1)[-1]}.json"
    assert filespec["/F"] == name and filespec["/UF"] == name
    assert "credential" in filespec["/Desc"]
    stream = filespec["/EF"]["/F"].get_object()
    assert stream["/Type"] == "/EmbeddedFile"
    assert stream["/Subtype"] == "/application/ld+json"
    assert b"/Subtype /application#2Fld+json" in pdf  # a "/" inside a PDF name is written #2F
    assert stream["/Params"]["/Size"] == len(data)
    assert str(stream["/Params"]["/ModDate"]).startswith("D:" + credential["validFrom"][:10].replace("-", ""))
    # the catalog's /AF lists the same file specification object the name tree holds
    (reference,) = catalog["/AF"]
    assert (
        reference.get_object() is filespec or reference.idnum == catalog["/Names"]["/EmbeddedFiles"]["/Names"][1].idnum
    )
    # pypdf's ordinary API finds it too, as any reader of attachments would
    assert pypdf.PdfReader(io.BytesIO(pdf)).attachments == {name: [data]}


def test_the_certificate_stays_deterministic_and_one_page(credential: dict[str, Any]) -> None:
    first = render_certificate(credential, SHARE_URL, status="Verified: valid")
    assert first == render_certificate(credential, SHARE_URL, status="Verified: valid")
    assert len(pypdf.PdfReader(io.BytesIO(first)).pages) == 1


def test_extract_reads_back_the_credential_and_the_page(credential: dict[str, Any]) -> None:
    pdf = render_certificate(credential, SHARE_URL)
    carried = extract_credential(pdf)
    assert carried.credential == embedded(pdf)[2] == credential_file(credential)
    assert "Zo\u00eb Bakker" in carried.text and carried.file_name.endswith(".json")


def test_an_untouched_certificate_prints_what_its_credential_says(credential: dict[str, Any]) -> None:
    for status in (None, "Verified 1 July 2026: valid"):
        carried = extract_credential(render_certificate(credential, SHARE_URL, status=status))
        comparison = compare_print(carried.text, json.loads(carried.credential))
        assert comparison.matches, comparison.differences
        labels = [fact.label for fact in comparison.facts]
        assert labels[:2] == ["Programme", "Awarded to"] and labels[-1] == "Credential ID"
        assert {"Issued by", "Date of issue", "Study load", "Level", "Theme", "Final grade"} <= set(labels)


def test_a_withheld_name_is_compared_as_the_holder(credential: dict[str, Any]) -> None:
    anonymous = select_disclosures(credential, [])
    carried = extract_credential(render_certificate(anonymous, SHARE_URL))
    comparison = compare_print(carried.text, anonymous)
    awarded = next(fact for fact in comparison.facts if fact.label == "Awarded to")
    assert comparison.matches and awarded.printed == certificate.WITHHELD_RECIPIENT


def test_long_values_cut_short_by_the_layout_still_match() -> None:
    long_name = "Alexandria Wilhelmina Catharina Josephina van Oldenbarnevelt-Stuyvesant de la Court"
    credential = select_disclosures(graduate_credential(long_name), ["name"])
    carried = extract_credential(render_certificate(credential, SHARE_URL))
    awarded = next(fact for fact in compare_print(carried.text, credential).facts if fact.label == "Awarded to")
    assert awarded.printed is not None and awarded.printed.endswith("\u2026")  # ellipsized on the page
    assert awarded.matches


@pytest.mark.parametrize(
    ("old", "new", "label", "shown"),
    [
        (b"Bakker)", b"Smit)", "Awarded to", "Zo\u00eb Smit"),
        (b"(8.5 \\(scale", b"(9.5 \\(scale", "Final grade", "9.5 (scale"),
        (b"(15 ECTS)", b"(30 ECTS)", "Study load", "30 ECTS"),
        (b"(Hanzehogeschool Groningen)", b"(Rijksuniversiteit Groningen)", "Issued by", "Rijksuniversiteit Groningen"),
        (b"(EQF level 6)", b"(EQF level 7)", "Level", "EQF level 7"),
        (b"(Make IT Work: Data Analytics)", b"(Make IT Work: Cyber Security)", "Programme", "Cyber Security"),
    ],
)
def test_an_edited_print_is_caught_by_the_fact_it_changes(
    credential: dict[str, Any], old: bytes, new: bytes, label: str, shown: str
) -> None:
    pdf = render_certificate(credential, SHARE_URL)
    carried = extract_credential(edit_print(pdf, old, new))
    assert carried.credential == credential_file(credential)  # the attachment is untouched
    comparison = compare_print(carried.text, credential)
    assert not comparison.matches
    assert [fact.label for fact in comparison.differences] == [label]
    (fact,) = comparison.differences
    assert fact.printed is not None and shown in fact.printed
    check = carrier.print_check(comparison)
    assert check["status"] == "failed" and label in check["reason"]


def test_a_label_removed_from_the_print_is_a_difference(credential: dict[str, Any]) -> None:
    pdf = edit_print(render_certificate(credential, SHARE_URL), b"(THEME)", b"(TOPIC)")
    comparison = compare_print(extract_credential(pdf).text, credential)
    differences = {fact.label: fact for fact in comparison.differences}
    theme = differences["Theme"]
    assert theme.printed is None and theme.credential == "Data analytics"
    # the orphaned value runs on under the label before it, which then differs too
    assert differences["Level"].printed == "EQF level 6 TOPIC Data analytics"


def test_a_pdf_that_is_not_a_certificate_does_not_match(credential: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Jan de Vries is a very good data analyst")
    canvas.save()
    pdf = embed_credential(buffer.getvalue(), credential)
    comparison = compare_print(extract_credential(pdf).text, credential)
    assert not comparison.matches
    *missing, other = comparison.differences
    assert [fact.label for fact in missing] == [fact.label for fact in comparison.facts[:-1]]
    assert all(fact.printed is None for fact in missing)
    assert other.label == "Other text" and other.printed == "Jan de Vries is a very good data analyst"


def overlay(pdf: bytes, operators: bytes) -> bytes:
    """`pdf` with `operators` drawn after everything else on its page (what a PDF editor's "add text" does),
    using the page's first font."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    font = next(iter(page["/Resources"]["/Font"]))
    content = page.get_contents()
    assert content is not None
    content.set_data(content.get_data() + b"\n" + operators.replace(b"/F", font.encode()))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_name_covered_and_drawn_anew_is_caught(credential: dict[str, Any]) -> None:
    """The cover-up: a white box over the printed name, another name drawn on top. The original text is still
    in the page (under the box), so each fact reads right; the added text is what gives it away."""
    pdf = render_certificate(credential, SHARE_URL)
    forged = overlay(pdf, b"q 1 1 1 rg 60 300 300 40 re f Q BT /F 26 Tf 64 318 Td (Piet Jansen) Tj ET")
    comparison = compare_print(extract_credential(forged).text, credential)
    assert [fact.label for fact in comparison.differences] == ["Other text"]
    assert "Piet Jansen" in (comparison.differences[0].printed or "")
    assert carrier.print_check(comparison)["status"] == "failed"


def test_an_edited_criteria_text_is_caught(credential: dict[str, Any]) -> None:
    pdf = edit_print(render_certificate(credential, SHARE_URL), b"(Completed the twelve-week", b"(Completed a two-day")
    (fact,) = compare_print(extract_credential(pdf).text, credential).differences
    assert fact.label == "Awarded for" and fact.printed is not None and "two-day" in fact.printed


# ---------------------------------------------------------------- refusals


def plain_pdf() -> bytes:
    buffer = io.BytesIO()
    Canvas(buffer).save()
    return buffer.getvalue()


def test_a_pdf_without_attachments_carries_no_credential() -> None:
    with pytest.raises(NoEmbeddedCredential, match="carries no credential"):
        extract_credential(plain_pdf())


def test_an_attachment_that_is_not_the_source_is_not_taken(credential: dict[str, Any]) -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(plain_pdf())))
    attachment = writer.add_attachment("credential.json", credential_file(credential))
    attachment.subtype = NameObject("/application/json")
    attachment.associated_file_relationship = NameObject("/Supplement")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(NoEmbeddedCredential, match="1 other attachment"):
        extract_credential(out.getvalue())


def test_two_embedded_credentials_are_refused(credential: dict[str, Any]) -> None:
    once = embed_credential(plain_pdf(), credential)
    other = select_disclosures(graduate_credential("Jan de Vries"), ["name"])
    twice = embed_credential(once, other)
    with pytest.raises(NoEmbeddedCredential, match="embeds 2 credentials"):
        extract_credential(twice)


def test_an_oversized_attachment_is_refused() -> None:
    huge = {"id": "urn:uuid:big", "padding": "x" * (carrier.MAX_CREDENTIAL_BYTES + 10)}
    with pytest.raises(NoEmbeddedCredential, match="larger than"):
        extract_credential(embed_credential(plain_pdf(), huge))


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a", b"%PDF-1.7\n%%EOF", b"%PDF-" + bytes(range(256)) * 4, b"%PDF-1.4\n" + b"0" * 100],
)
def test_broken_pdfs_are_refused_as_such(data: bytes) -> None:
    with pytest.raises(BrokenPdf):
        extract_credential(data)


def test_an_encrypted_pdf_is_refused(credential: dict[str, Any]) -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(render_certificate(credential, SHARE_URL))))
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(BrokenPdf, match="encrypted"):
        extract_credential(out.getvalue())


def test_a_pdf_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(BrokenPdf, match=re.escape(str(carrier.MAX_PDF_BYTES))):
        extract_credential(b"%PDF-1.7\n" + b" " * carrier.MAX_PDF_BYTES)


# ---------------------------------------------------------------- PDF/A-3b (what can be checked without a validator)

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
XMP_NAMES = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}


def xmp_value(root: Any, name: str) -> str:
    prefix, local = name.split(":")
    element = root.find(f".//{{{XMP_NAMES[prefix]}}}{local}")
    assert element is not None, name
    item = element.find(f".//{RDF}li")
    return (item if item is not None else element).text or ""


def pdf_date_as_xmp(value: str) -> str:
    match = re.fullmatch(r"D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\+00'00'", value)
    assert match, value
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}+00:00"


def test_the_certificate_says_pdfa3b_and_keeps_what_that_asks(credential: dict[str, Any]) -> None:
    from xml.etree import ElementTree

    pdf = render_certificate(credential, SHARE_URL)
    assert pdf.startswith(b"%PDF-1.7\n")  # associated files are PDF/A-3 (PDF 1.7 based)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted and len(reader.trailer["/ID"]) == 2
    catalog = reader.trailer["/Root"]
    metadata = catalog["/Metadata"].get_object()
    assert metadata["/Type"] == "/Metadata" and metadata["/Subtype"] == "/XML" and "/Filter" not in metadata
    root = ElementTree.fromstring(metadata.get_data())
    assert xmp_value(root, "pdfaid:part") == "3" and xmp_value(root, "pdfaid:conformance") == "B"
    info = reader.metadata
    assert info is not None
    # the XMP and the document information dictionary agree, as PDF/A requires
    assert xmp_value(root, "dc:title") == info["/Title"]
    assert xmp_value(root, "dc:creator") == info["/Author"]
    assert xmp_value(root, "dc:description") == info["/Subject"]
    assert xmp_value(root, "xmp:CreatorTool") == info["/Creator"]
    assert xmp_value(root, "pdf:Producer") == info["/Producer"]
    assert xmp_value(root, "xmp:CreateDate") == pdf_date_as_xmp(info["/CreationDate"])
    assert xmp_value(root, "xmp:ModifyDate") == pdf_date_as_xmp(info["/ModDate"])
    assert info["/CreationDate"].startswith("D:" + credential["validFrom"][:10].replace("-", ""))
    (intent,) = catalog["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert profile["/N"] == 3 and icc[36:40] == b"acsp" and icc[16:20] == b"RGB "
    # every font embedded, every annotation printable
    from tests.documents.test_certificate import all_fonts_embedded

    assert all_fonts_embedded(pdf)
    for annotation in reader.pages[0]["/Annots"]:
        assert annotation.get_object()["/F"] == 4


def test_without_an_embeddable_font_the_pdf_does_not_claim_pdfa(
    credential: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(certificate, "_latin_fonts", lambda: certificate.STANDARD_FONTS)
    monkeypatch.setattr(certificate, "FONT_DIRECTORIES", ())
    pdf = render_certificate(credential, SHARE_URL)
    catalog = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert "/Metadata" not in catalog and "/OutputIntents" not in catalog
    assert extract_credential(pdf).credential == credential_file(credential)  # it still carries its credential


@pytest.mark.parametrize(
    "name",
    ["\u0141ukasz Wa\u0142\u0119sa \u738b\u5c0f\u660e", "Ng\u00f4 B\u1ea3o Ch\u00e2u", "Zo\u00eb\u202e Bakker"],
    ids=["replaced letters", "vietnamese", "a bidi override"],
)
def test_names_the_fonts_cannot_draw_as_written_still_match(name: str) -> None:
    """A letter a font replaced ("?", a base letter) or an invisible character dropped is not an edit."""
    credential = select_disclosures(graduate_credential(name), ["name"])
    comparison = compare_print(extract_credential(render_certificate(credential, SHARE_URL)).text, credential)
    assert comparison.matches, comparison.differences


# ---------------------------------------------------------------- another PDF library reads it (qpdf, C++)


def _qpdf() -> str:
    import os
    import shutil

    path = shutil.which("qpdf")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("qpdf is not installed (scripts/setup installs it): the PDF interoperability test must run")
        pytest.skip("qpdf is not installed (apt-get install qpdf)")
    return path


def test_qpdf_finds_the_certificate_sound_and_extracts_the_same_credential(
    credential: dict[str, Any], tmp_path: Any
) -> None:
    import subprocess

    qpdf = _qpdf()
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate(credential, SHARE_URL))
    check = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors found" in check.stdout and "PDF Version: 1.7" in check.stdout
    listing = subprocess.run(
        [qpdf, "--list-attachments", "--verbose", str(path)], capture_output=True, text=True, timeout=60
    ).stdout
    name = f"credential-{credential['id'].rsplit(':', 1)[-1]}.json"
    assert listing.startswith(name) and "mime type: application/ld+json" in listing
    shown = subprocess.run(
        [qpdf, f"--show-attachment={name}", str(path)], capture_output=True, timeout=60, check=True
    ).stdout
    assert shown == credential_file(credential)
