"""The certificate PDF as a carrier of its credential: embed the credential file, read it back, and compare
what the PDF prints with the credential it carries.

Embedding follows PDF/A-3 (ISO 19005-3) associated files, as Factur-X/ZUGFeRD invoices carry their XML: the
credential file is an embedded file stream (`/Type /EmbeddedFile`, `/Subtype /application#2Fld+json`, `/Params`
with its size and date) in a file specification (`/F` and `/UF` the file name, `/Desc`,
`/AFRelationship /Source`: the document the page was rendered from), listed in the catalog's `/AF` array and in
its `/Names /EmbeddedFiles` name tree, so that any PDF reader shows it as an attachment and any PDF library
(pypdf, pikepdf, PDFBox) extracts it. The bytes embedded are exactly the credential file the share link serves
(`credential_file`).

Reading (`extract_credential`) takes a PDF from anyone, so it is strict and bounded: the PDF must parse
(pypdf, non-strict, its own decompression limits), and the credential is the one embedded file whose
relationship is `/Source` and whose media type is JSON (any other attachments are ignored); none, or more
than one, is refused, as is one larger than a credential may be (MAX_CREDENTIAL_BYTES).

What the PDF prints (`compare_print`): a certificate is a picture of its credential, and a picture can be
edited while the attachment stays genuine. The page's text is read back (pypdf's text extraction) and each
fact a reader relies on — the programme, to whom it was awarded, the issuer, the dates, the study load,
the level, the theme, a grade, the credential id — is compared with what the embedded credential says
(through the same wording the certificate uses, `certificate.printed_facts`). A fact the renderer cut short
with an ellipsis matches when the printed part is the beginning of the credential's; whitespace is not
compared (line breaks fall where the layout puts them); a letter the fonts replaced (e.g. "Ł" printed as
"L" on a system without DejaVu) matches its replacement. A fact printed that the credential does not
support (e.g. a grade the copy withholds) is a mismatch too.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

import pypdf
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from service import i18n
from service.credentials.canonical import MAX_CREDENTIAL_BYTES

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/ld+json"  # the credential is JSON-LD (VC 2.0, OB 3.0); PDF names escape the "/"
JSON_MEDIA_TYPES = frozenset({"application/ld+json", "application/json", "application/vc", "application/vc+ld+json"})
RELATIONSHIP = "/Source"
DESCRIPTION = "The verifiable credential (Open Badges 3.0) this certificate was printed from"
MAX_PDF_BYTES = 2 * MAX_CREDENTIAL_BYTES  # a certificate is ~10-60 KB with its credential; this leaves room
PDF_MEDIA_TYPE = "application/pdf"
ELLIPSIS = "\u2026"
PRINT_CHECK = "certificate_print"  # the check a PDF adds to a report: it prints what its credential says


class CarrierError(ValueError):
    """A PDF that cannot give a credential."""


class BrokenPdf(CarrierError):
    """Not a PDF, or one that cannot be read."""


class NoEmbeddedCredential(CarrierError):
    """A readable PDF without (exactly one) embedded credential."""


def credential_file(credential: Mapping[str, Any]) -> bytes:
    """The credential as a file: the bytes the share link serves (`/share/{token}/credential.json`) and the
    certificate embeds (indented UTF-8 JSON with a final newline)."""
    return (json.dumps(credential, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def file_name(credential: Mapping[str, Any]) -> str:
    identifier = str(credential.get("id", "")).rsplit(":", 1)[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]", "", identifier)[:64]
    return f"credential-{safe}.json" if safe else "credential.json"


# ---------------------------------------------------------------- writing


def embed_credential(
    pdf: bytes, credential: Mapping[str, Any], *, modified: datetime | None = None, archival: bool = False
) -> bytes:
    """`pdf` with `credential` embedded as its `/Source` associated file (see the module's docstring).

    :param modified: the file's date in `/Params /ModDate`, and with `archival` the document's dates
        (deterministic output: the caller passes a date of the credential, not the clock).
    :param archival: also mark the file PDF/A-3b (`mark_pdfa3`); only for a PDF whose fonts are all embedded.
    """
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    data = credential_file(credential)
    name = file_name(credential)
    attachment = writer.add_attachment(name, data)
    attachment.subtype = NameObject("/" + MEDIA_TYPE)  # pypdf writes it escaped: /application#2Fld+json
    attachment.associated_file_relationship = NameObject(RELATIONSHIP)
    attachment.description = TextStringObject(DESCRIPTION)
    attachment.alternative_name = TextStringObject(name)  # /UF, the Unicode file name (PDF/A-3 wants both)
    attachment.size = NumberObject(len(data))
    if modified is not None:
        attachment.modification_date = modified
    filespec = attachment.pdf_object
    reference = next(  # the indirect reference the name tree holds: /AF must point at the same object
        item for item in (attachment._parent or ()) if hasattr(item, "get_object") and item.get_object() is filespec
    )
    writer.root_object[NameObject("/AF")] = ArrayObject([reference])
    if archival:
        mark_pdfa3(writer, modified or datetime(2000, 1, 1, tzinfo=UTC))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDFA_PART, PDFA_CONFORMANCE = 3, "B"
SRGB = "sRGB IEC61966-2.1"


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in, through Pillow, which reportlab already requires): the
    output intent PDF/A asks of a file that paints in DeviceRGB."""
    from PIL import ImageCms

    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def mark_pdfa3(writer: pypdf.PdfWriter, moment: datetime) -> None:
    """Make the document say what PDF/A-3b (ISO 19005-3, level B) asks beyond embedded fonts, which the
    renderer provides: XMP metadata with `pdfaid:part` 3 and `pdfaid:conformance` B that agrees with the
    document information dictionary (both dated `moment`), an sRGB output intent, the print flag on every
    annotation, and the PDF 1.7 header (associated files are a PDF/A-3 feature). Not checked here by a
    validator: see docs/credential-format.md for what was and was not validated."""
    stamp = moment.astimezone(UTC)
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%S+00'00'")
    writer.add_metadata({"/CreationDate": pdf_date, "/ModDate": pdf_date})
    info = {str(key): str(value) for key, value in (writer.metadata or {}).items()}
    writer.pdf_header = b"%PDF-1.7"

    xmp = _xmp(info, stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    metadata = StreamObject()  # unfiltered, as PDF/A wants the XMP readable without decoding
    metadata.set_data(xmp)
    metadata.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(metadata)

    profile = StreamObject()
    profile.set_data(srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
            NameObject("/Info"): TextStringObject(SRGB),
            NameObject("/DestOutputProfile"): writer._add_object(profile.flate_encode()),
        }
    )
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    for page in writer.pages:
        for annotation in page.get("/Annots") or ():
            annotation.get_object()[NameObject("/F")] = NumberObject(4)  # Print; not hidden, not invisible


def _xmp(info: Mapping[str, str], date: str) -> bytes:
    def text(key: str) -> str:
        return escape(info.get(key, ""))

    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>{PDFA_PART}</pdfaid:part>
   <pdfaid:conformance>{PDFA_CONFORMANCE}</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{text("/Title")}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{text("/Author")}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{text("/Subject")}</rdf:li></rdf:Alt></dc:description>
   <xmp:CreatorTool>{text("/Creator")}</xmp:CreatorTool>
   <xmp:CreateDate>{date}</xmp:CreateDate>
   <xmp:ModifyDate>{date}</xmp:ModifyDate>
   <pdf:Producer>{text("/Producer")}</pdf:Producer>
   <pdf:Keywords>{text("/Keywords")}</pdf:Keywords>
   <pdf:Trapped>False</pdf:Trapped>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Carried:
    """A PDF's embedded credential and the text of its pages."""

    credential: bytes
    file_name: str
    text: str


def _read(pdf: bytes) -> pypdf.PdfReader:
    if not pdf.lstrip()[:5].startswith(b"%PDF-"):
        raise BrokenPdf("this is not a PDF (it does not start with %PDF-)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(pdf), strict=False)
        if reader.is_encrypted:
            raise BrokenPdf("the PDF is encrypted; a certificate is not")
        reader.root_object  # noqa: B018 - parse the catalog now, so a broken one fails here
        return reader
    except BrokenPdf:
        raise
    except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise BrokenPdf(f"the PDF cannot be read: {exc}") from exc
    except RecursionError as exc:
        raise BrokenPdf("the PDF cannot be read: its objects nest too deep") from exc


def _media_type(filespec: Mapping[str, Any]) -> str | None:
    try:
        stream = filespec["/EF"].get_object()["/F"].get_object()
        subtype = stream.get("/Subtype")
    except (KeyError, AttributeError, TypeError):
        return None
    return str(subtype).lstrip("/").lower() if subtype is not None else None


def extract_credential(pdf: bytes) -> Carried:
    """The credential a certificate PDF carries, and the text of its pages.

    :raises BrokenPdf: not a PDF, encrypted, or unreadable.
    :raises NoEmbeddedCredential: no embedded JSON file with relationship /Source, more than one, or one
        larger than a credential may be.
    """
    if len(pdf) > MAX_PDF_BYTES:
        raise BrokenPdf(f"a certificate PDF is at most {MAX_PDF_BYTES} bytes")
    reader = _read(pdf)
    try:
        candidates = list(reader.attachment_list)
        sources = [
            item
            for item in candidates
            if str(item.associated_file_relationship) == RELATIONSHIP
            and (_media_type(item.pdf_object) or "") in JSON_MEDIA_TYPES
        ]
        if not sources:
            others = f" (it has {len(candidates)} other attachment(s))" if candidates else ""
            raise NoEmbeddedCredential(
                "this PDF carries no credential: a certificate of the hub embeds its credential as a JSON "
                f"attachment with relationship /Source{others}"
            )
        if len(sources) > 1:
            raise NoEmbeddedCredential(f"this PDF embeds {len(sources)} credentials; a certificate carries one")
        source = sources[0]
        declared = source.size
        if isinstance(declared, int) and declared > MAX_CREDENTIAL_BYTES:
            raise NoEmbeddedCredential(f"the embedded credential is larger than {MAX_CREDENTIAL_BYTES} bytes")
        data = source.content
        if len(data) > MAX_CREDENTIAL_BYTES:
            raise NoEmbeddedCredential(f"the embedded credential is larger than {MAX_CREDENTIAL_BYTES} bytes")
        text = "\n".join(page.extract_text() or "" for page in reader.pages[:2])
    except CarrierError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise BrokenPdf(f"the PDF cannot be read: {exc}") from exc
    return Carried(credential=bytes(data), file_name=source.name, text=text)


# ---------------------------------------------------------------- what the PDF prints


@dataclass(frozen=True)
class PrintedFact:
    """One fact of the certificate: as the PDF prints it (None: not found on the page) and as the embedded
    credential says it."""

    label: str
    printed: str | None
    credential: str | None  # None: the credential does not state it (printed without support)
    matches: bool


@dataclass(frozen=True)
class PrintComparison:
    facts: tuple[PrintedFact, ...]

    @property
    def matches(self) -> bool:
        return all(fact.matches for fact in self.facts)

    @property
    def differences(self) -> list[PrintedFact]:
        return [fact for fact in self.facts if not fact.matches]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _same(printed: str, expected: Sequence[str]) -> bool:
    """Whether `printed` shows one of the `expected` spellings, whitespace aside, maybe cut short with "…"."""
    shown = _flat(printed)
    for spelling in expected:
        want = _flat(spelling)
        if shown == want:
            return True
        if shown.endswith(ELLIPSIS) and len(shown) > 1 and want.startswith(shown[:-1]):
            return True
    return False


def print_language(text: str) -> str:
    """The language a certificate's page `text` is printed in (the one whose "awarded to" it has), else the
    language of the moment."""
    lines = {line.strip() for line in text.splitlines()}
    for language in i18n.LOCALES:
        with i18n.use(language):
            if i18n.gettext("awarded to") in lines:
                return language
    return i18n.current()


def compare_print(text: str, credential: Mapping[str, Any]) -> PrintComparison:
    """Compare the certificate's page `text` (as extracted) with what `credential` says it prints, in the
    language the page is printed in (`print_language`: a Dutch certificate is read by its Dutch landmarks and
    compared with the Dutch print of the credential). The facts' labels are in the language of the moment (the
    reader's), whatever the print's."""
    from service.documents.certificate import printed_facts

    reader = i18n.current()
    labels = [label for label, _spellings in printed_facts(credential).details]  # the reader's words, print order

    def label(message: str) -> str:  # named `gettext` below, so that the messages are extracted
        with i18n.use(reader):
            return i18n.gettext(message)

    with i18n.use(print_language(text)):
        return _compare_print(text, credential, label, labels)


def _compare_print(
    text: str, credential: Mapping[str, Any], gettext: Callable[[str], str], detail_labels: Sequence[str]
) -> PrintComparison:
    """Compare the certificate's page `text` (as extracted) with what `credential` says it prints.

    The page is read by its layout's landmarks: the programme stands above "awarded to", the holder's name
    right under it, the criteria under the name, each fact under its upper-case label, the link after "SCAN
    TO VERIFY", the credential id after "CREDENTIAL ID". Every line of the page must be accounted for: text
    added anywhere else (e.g. a new name drawn over a covered one) is a difference of its own, "Other text".
    """
    from service.documents.certificate import HUB_NAME, printed_facts

    expected = printed_facts(credential)  # (label, spellings) in print order; raises FormatError
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    upper_labels = {label.upper(): label for label, _ in expected.details}
    known_labels = set(upper_labels) | {label.upper() for label in expected.possible_labels}
    facts: list[PrintedFact] = []
    used: set[int] = set()

    def index(test: Any, after: int = -1) -> int | None:
        return next((i for i, line in enumerate(lines) if i > after and test(line)), None)

    _ = i18n.gettext
    scan_label, id_label, hint_label = _("SCAN TO VERIFY"), _("CREDENTIAL ID"), _("HOW TO VERIFY")
    header = index(lambda line: _("CERTIFICATE") in line)  # "MICRO-CREDENTIAL CERTIFICATE", "CERTIFICAAT ..."
    awarded = index(lambda line: line == _("awarded to"), header if header is not None else -1)
    if header is not None:
        used.add(header)
        if header > 0 and lines[header - 1] == HUB_NAME:
            used.add(header - 1)

    # The programme: the lines between the header (and the optional status line) and "awarded to".
    printed_programme: str | None = None
    if awarded is not None and header is not None:
        block = lines[header + 1 : awarded]
        used.update(range(header + 1, awarded))
        for skip in range(min(2, len(block))):
            if _same(" ".join(block[skip:]), expected.programme):
                printed_programme = " ".join(block[skip:])
                break
        else:
            printed_programme = " ".join(block[1:] if len(block) > 1 else block) or None
    facts.append(_fact(gettext("Programme"), printed_programme, expected.programme))

    printed_name = None
    if awarded is not None and awarded + 1 < len(lines):
        printed_name = lines[awarded + 1]
        used.update((awarded, awarded + 1))
    facts.append(_fact(gettext("Awarded to"), printed_name, expected.recipient))

    # The facts under their labels; a label's value runs until the next label or the QR code's heading.
    scan = index(lambda line: line == scan_label)
    identity = index(lambda line: line.startswith(id_label))
    stops = known_labels | {scan_label}
    found: dict[str, str] = {}
    first_label: int | None = None
    for i, line in enumerate(lines):
        if line in known_labels and line not in found and (awarded is None or i > awarded + 1):
            first_label = i if first_label is None else first_label
            used.add(i)
            parts: list[str] = []
            for j in range(i + 1, len(lines)):
                if lines[j] in stops or lines[j].startswith((id_label, hint_label)):
                    break
                parts.append(lines[j])
                used.add(j)
            found[line] = " ".join(parts)
    for (label, spellings), shown_label in zip(expected.details, detail_labels, strict=True):
        facts.append(_fact(shown_label, found.get(label.upper()), spellings))
    for upper, shown in found.items():
        if upper not in upper_labels:  # printed, but the credential does not say it (e.g. a withheld grade)
            facts.append(PrintedFact(upper.capitalize(), shown, None, False))

    # The criteria under the name, as much of them as the layout had room for (maybe none).
    if awarded is not None:
        end = first_label if first_label is not None else (scan if scan is not None else len(lines))
        criteria = list(range(awarded + 2, end))
        if criteria:
            shown = " ".join(lines[i] for i in criteria)
            if _same(shown, expected.narrative) or _same(shown + ELLIPSIS, expected.narrative):
                used.update(criteria)
            else:
                facts.append(PrintedFact(gettext("Awarded for"), shown, expected.narrative[0], False))
                used.update(criteria)

    # The link written under the QR code: a URL, whatever it is (the QR code leads to the page that verifies).
    if scan is not None:
        used.add(scan)
        end = identity if identity is not None and identity > scan else len(lines)
        link = "".join(lines[scan + 1 : end])
        if re.fullmatch(r"https?://\S+", link):
            used.update(range(scan + 1, end))

    printed_id = None
    if identity is not None:
        used.add(identity)
        printed_id = lines[identity].removeprefix(id_label).split("\u00b7")[0].strip()
    facts.append(_fact(gettext("Credential ID"), printed_id, expected.credential_id))
    hint = index(lambda line: line.startswith(hint_label))
    if hint is not None:
        used.add(hint)
    footer = index(lambda line: line == f"{HUB_NAME} \u00b7 Drenthe")
    if footer is not None:
        used.add(footer)

    extra = [line for i, line in enumerate(lines) if i not in used]
    if extra:
        facts.append(PrintedFact(gettext("Other text"), " / ".join(extra), None, False))
    return PrintComparison(tuple(facts))


def _fact(label: str, printed: str | None, spellings: Sequence[str]) -> PrintedFact:
    shown = spellings[0] if spellings else None
    return PrintedFact(label, printed, shown, printed is not None and _same(printed, spellings))


def print_check(printed: PrintComparison) -> dict[str, str]:
    """The `certificate_print` check: whether the PDF prints what its embedded credential says."""
    if printed.matches:
        reason = f"the PDF prints what its credential says ({len(printed.facts)} facts compared)"
        return {"name": PRINT_CHECK, "title": "Printed certificate", "status": "passed", "reason": reason}
    differences = "; ".join(
        f"{fact.label}: printed {fact.printed!r}"
        + (f", the credential says {fact.credential!r}" if fact.credential is not None else ", not in the credential")
        if fact.printed is not None
        else f"{fact.label}: not printed (the credential says {fact.credential!r})"
        for fact in printed.differences
    )
    reason = f"the PDF prints something else than its credential: {differences}"
    return {"name": PRINT_CHECK, "title": "Printed certificate", "status": "failed", "reason": reason}
