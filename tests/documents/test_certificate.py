"""The printable certificate: a one-page PDF whose text says what the shared copy discloses (and nothing
it withholds), and whose QR code decodes to the share URL.

The PDF is read with pypdf, rasterised with pypdfium2 and its QR code decoded with zxing-cpp: all
wheels from PyPI, no system packages. Renderings are saved under test-results/certificates/ to look at.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from service.credentials import Graduate, build_credential, select_disclosures, validate_credential
from service.credentials.batch import Anchoring, attach_proofs, prepare_batch
from service.credentials.document import FormatError
from service.documents import certificate
from service.documents.certificate import format_date, render_certificate, verify_page
from service.documents.dates import moment_text
from tests.credentials.factory import CHAIN_ID, DATA_ANALYTICS, NOW, REGISTRY, TX_HASH, issue, profile, signed_anchor

RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "certificates"
SHARE_URL = "https://credentials.ithubhoogeveen.nl/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf"


def graduate_credential(name: str, *, grade: str | None = "8.5", valid_from: datetime = NOW) -> dict[str, Any]:
    """One anchored credential for a graduate called `name`, issued like factory.issue does."""
    draft = build_credential(
        issuer=profile(),
        programme=DATA_ANALYTICS,
        graduate=Graduate("zoe@example.org", name=name, grade=grade),
        valid_from=valid_from,
    )
    batch = prepare_batch([draft])
    return attach_proofs(batch, Anchoring(CHAIN_ID, REGISTRY, batch.issuer, TX_HASH, signed_anchor(batch)))[0]


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(_stream(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def flat(text: str) -> str:
    """Text without whitespace: a URL broken over two lines reads whole again."""
    return re.sub(r"\s+", "", text)


LATIN_FAMILIES = {"LiberationSans", "LiberationSans-Bold", "LiberationSans-Italic"} | {
    "BitstreamVeraSans-Roman",
    "BitstreamVeraSans-Bold",
    "BitstreamVeraSans-Oblique",
}


def all_fonts_embedded(pdf: bytes) -> bool:
    """Every font of the page has its font program in the file (PDF/A: no font left to the reader)."""
    fonts = pypdf.PdfReader(_stream(pdf)).pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object().get("/FontDescriptor") for font in fonts.values()]
    return all(d is not None and "/FontFile2" in d.get_object() for d in descriptors)


def font_names(pdf: bytes) -> set[str]:
    resources: Any = pypdf.PdfReader(_stream(pdf)).pages[0]["/Resources"]
    fonts = resources["/Font"]
    return {str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1] for font in fonts.values()}


def rasterise(pdf: bytes, name: str) -> Image.Image:
    """The page at 144 dpi, saved as test-results/certificates/<name>.png."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    image.save(RESULTS / f"{name}.png")
    return image


def qr_codes(image: Image.Image) -> list[str]:
    return [item.text for item in zxingcpp.read_barcodes(image) if item.format == zxingcpp.BarcodeFormat.QRCode]


def _stream(pdf: bytes) -> io.BytesIO:
    return io.BytesIO(pdf)


@pytest.fixture(scope="module")
def credential() -> dict[str, Any]:
    """The holder's full copy (name and grade disclosed), from the credential tests' factory."""
    return issue(1).credentials[0]


def test_the_full_copy_prints_as_a_certificate(credential: dict[str, Any]) -> None:
    pdf = render_certificate(credential, SHARE_URL, status="Verified on chain: valid")
    assert pdf.startswith(b"%PDF-")
    page = pypdf.PdfReader(_stream(pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)  # A4 landscape
    text = pdf_text(pdf)
    for expected in (
        "IT Hub Hoogeveen",
        "Make IT Work: Data Analytics",
        "Hanzehogeschool Groningen",
        "15 ECTS",
        "EQF level 6",
        "Data analytics",
        "Graduate 0 de Vries",
        "awarded to",
        "6.5",
        format_date(credential["validFrom"]),
        credential["id"],
        "Verified on chain: valid",
        "Scan the code or open the link",
        "https://credentials.ithubhoogeveen.nl/verify",
    ):
        assert expected in text, expected
    assert SHARE_URL in flat(text)
    assert "the holder of this credential" not in text
    metadata = pypdf.PdfReader(_stream(pdf)).metadata
    assert metadata is not None and metadata.title == "Make IT Work: Data Analytics \u2013 certificate"


def test_the_footer_sends_readers_to_the_hubs_verify_page() -> None:
    assert verify_page(SHARE_URL) == "https://credentials.ithubhoogeveen.nl/verify"
    assert verify_page("http://127.0.0.1:8000/hub/share/abc") == "http://127.0.0.1:8000/hub/verify"
    assert verify_page("https://example.org/elsewhere") == "https://example.org/verify"


def test_a_copy_that_withholds_the_name_never_prints_it(credential: dict[str, Any]) -> None:
    name = "Graduate 0 de Vries"
    grade_only = pdf_text(render_certificate(select_disclosures(credential, ["result"]), SHARE_URL))
    assert name not in grade_only and "de Vries" not in grade_only
    assert "awarded to" in grade_only and "the holder of this credential" in grade_only
    assert "6.5 (scale 1.0\u201310.0)" in grade_only

    nothing = render_certificate(select_disclosures(credential, []), SHARE_URL)
    text = pdf_text(nothing)
    assert "de Vries" not in text and "6.5" not in text and "grade" not in text.lower()
    for expected in ("Make IT Work: Data Analytics", "Hanzehogeschool Groningen", "15 ECTS", "EQF level 6"):
        assert expected in text
    info = pypdf.PdfReader(_stream(nothing)).metadata
    assert info is not None and not any("Vries" in str(value) for value in info.values())
    rasterise(nothing, "certificate-name-withheld")


def test_a_disclosure_the_body_does_not_list_is_not_printed(credential: dict[str, Any]) -> None:
    forged = select_disclosures(credential, [])
    forged["proof"][0]["disclosures"] = [["c2FsdHNhbHRzYWx0c2FsdHNhbHQ", "name", "Mallory Forger"]]
    text = pdf_text(render_certificate(forged, SHARE_URL))
    assert "Mallory" not in text and "the holder of this credential" in text


def test_the_qr_code_decodes_to_the_share_url(credential: dict[str, Any]) -> None:
    image = rasterise(render_certificate(credential, SHARE_URL, status="Verified on chain: valid"), "certificate")
    assert qr_codes(image) == [SHARE_URL]
    # A long link (query string and all) still decodes exactly, and is written out in full under the code.
    long_url = SHARE_URL + "?lang=nl&utm_source=printed-certificate&ref=" + "x" * 60
    pdf = render_certificate(credential, long_url)
    assert qr_codes(rasterise(pdf, "certificate-long-link")) == [long_url]
    assert long_url in flat(pdf_text(pdf))


@pytest.mark.parametrize("name", ["Siebe de Vries-\u00c5ngstr\u00f6m", "Zo\u00eb Bakker", "Ren\u00e9e van \u2019t Hof"])
def test_dutch_names_print_with_the_embedded_latin_fonts(name: str) -> None:
    pdf = render_certificate(graduate_credential(name), SHARE_URL)
    assert name in pdf_text(pdf)
    latin = certificate._latin_fonts()
    assert latin is not certificate.STANDARD_FONTS  # reportlab's own Vera at least
    assert font_names(pdf) <= LATIN_FAMILIES
    assert all_fonts_embedded(pdf)


def test_a_name_outside_latin1_does_not_break_the_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "\u0141ukasz Wa\u0142\u0119sa \u738b\u5c0f\u660e"  # Łukasz Wałęsa 王小明
    credential = graduate_credential(name)
    validate_credential(credential)

    pdf = render_certificate(credential, SHARE_URL)
    text = pdf_text(pdf)
    if certificate._dejavu(tuple(certificate.FONT_DIRECTORIES)) is not None:  # fonts-dejavu-core installed
        assert "\u0141ukasz Wa\u0142\u0119sa ???" in text  # DejaVu has Polish, not Chinese
        assert "DejaVuSans" in font_names(pdf)
        rasterise(pdf, "certificate-dejavu")

    monkeypatch.setattr(certificate, "FONT_DIRECTORIES", ())  # a system without DejaVu ...
    monkeypatch.setattr(certificate, "LATIN_FONT_DIRECTORIES", ())  # ... nor Liberation: reportlab's Vera
    pdf = render_certificate(credential, SHARE_URL)
    # Vera has Latin-1 and a few more (Ł, ł, not ę): each letter it lacks becomes its base letter
    assert re.search(r"[\u0141L]ukasz Wa[\u0142l]esa \?\?\?", pdf_text(pdf))
    assert font_names(pdf) == {"BitstreamVeraSans-Roman", "BitstreamVeraSans-Bold"}
    assert all_fonts_embedded(pdf)
    assert qr_codes(rasterise(pdf, "certificate-without-dejavu")) == [SHARE_URL]


def test_rendering_is_deterministic_and_checks_its_input(credential: dict[str, Any]) -> None:
    assert render_certificate(credential, SHARE_URL) == render_certificate(credential, SHARE_URL)
    for url in ("javascript:alert(1)", "credentials.ithubhoogeveen.nl/share/x", "https://a.nl/x y", "https://"):
        with pytest.raises(ValueError, match="share URL"):
            render_certificate(credential, url)
    broken = {key: value for key, value in credential.items() if key != "issuer"}
    with pytest.raises(FormatError):
        render_certificate(broken, SHARE_URL)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-07-01T00:00:00Z", "1 July 2026 (CEST)"),
        ("2026-12-03T23:30:00Z", "4 December 2026 (CET)"),  # half past midnight in the Netherlands: the 4th
        ("2026-12-03T22:59:59Z", "3 December 2026 (CET)"),
        ("2026-06-30T22:00:00Z", "1 July 2026 (CEST)"),  # midnight in summer: UTC+2
        ("2026-12-31T23:30:00-01:00", "1 January 2027 (CET)"),  # an instant in any zone: its day in Dutch time
        ("2027-02-09T10:00:00.5+01:00", "9 February 2027 (CET)"),
    ],
)
def test_dates_read_day_month_year_in_dutch_time(moment: str, expected: str) -> None:
    assert format_date(moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-12-03T23:30:00Z", "4 December 2026, 00:30 CET"),
        ("2026-12-03T22:59:00Z", "3 December 2026, 23:59 CET"),
        (1_782_863_999, "1 July 2026, 01:59 CEST"),  # 2026-06-30T23:59:59Z as unix seconds
        (datetime(2026, 12, 3, 23, 30), "4 December 2026, 00:30 CET"),  # naive: taken as UTC (the database's)
        ("2026-03-29T01:00:00Z", "29 March 2026, 03:00 CEST"),  # the change to summer time
        ("2026-10-25T00:59:00Z", "25 October 2026, 02:59 CEST"),  # the hour that happens twice, first
        ("2026-10-25T01:00:00Z", "25 October 2026, 02:00 CET"),  # ... and again
    ],
)
def test_times_read_in_dutch_time_with_their_zone(moment: Any, expected: str) -> None:
    assert moment_text(moment) == expected


def test_an_issue_date_and_a_moment_a_minute_later_read_the_same_day(credential: dict[str, Any]) -> None:
    """The review's case: issued at 23:59:30 UTC, revoked a minute later: both on the same Dutch day."""
    issued, revoked = "2026-12-03T23:59:30Z", datetime(2026, 12, 4, 0, 0, 30, tzinfo=UTC)
    assert format_date(issued) == "4 December 2026 (CET)"
    assert moment_text(revoked).startswith("4 December 2026, ")
    late = graduate_credential("Zo\u00eb Bakker", valid_from=datetime(2026, 12, 3, 23, 59, 30, tzinfo=UTC))
    assert "4 December 2026 (CET)" in pdf_text(render_certificate(late, SHARE_URL))
