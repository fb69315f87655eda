"""The printable certificate of a credential: one A4 landscape PDF page with a QR code to its share page.

`render_certificate(credential, share_url)` prints what a person reads on a certificate: the hub's name,
the programme, to whom it was awarded, the issuing partner, the date, the study load (ECTS), the EQF
level, the theme, the grade, the credential id, a QR code of the share URL with the URL written under
it, and how to verify. It prints only what the given copy discloses: a holder's shared copy that
withholds the name says "awarded to the holder of this credential", and a grade appears only when
the `result` claim is disclosed. A disclosure counts only when its digest is listed in the body (read
with `service.credentials.disclosure.Disclosure`, as the verifier does); anything else in
`proof.disclosures` is ignored, never printed. Dates are the days in Dutch time, labelled with the zone
("1 July 2026 (CEST)"), as the share page shows them.

A certificate prints exactly what the page behind its QR code shows as verified: `credential` must be
the copy that `share_url` serves. The share page's own PDF is rendered from the copy of that link;
`hub cohort export` asks the service for a share link made for the certificate
(POST /credentials/{id}/certificate-links), which discloses exactly the claims printed
(`PRINTED_CLAIMS` that the copy discloses), and renders the copy with only those disclosures.

Language: the certificate is printed in the language of the moment (service.i18n: the request's, so
`/share/{t}/certificate.pdf?lang=nl`, or `with i18n.use("en"): render_certificate(...)`): its labels, the
dates ("1 juli 2026 (CEST)"), the study load and the grade ("8,5") in Dutch, or in English; the PDF's /Lang
says which. The issuer's own words (programme, criteria, the name of a result) are printed as written.

The certificate is a rendering, not a proof: the credential (its JSON file) is what verifies, and the
QR code leads to the share page, which verifies it. The PDF is deterministic for the same input
(reportlab's invariant mode: no creation time, fixed document id).

Libraries: segno draws the QR code (drawn as vector squares, so it stays sharp in print), reportlab
writes the PDF.

Fonts: every font is embedded (as a subset), as PDF/A requires. Latin text is set in Liberation Sans
(Debian's `fonts-liberation`; metrically compatible with Helvetica, so the layout is Helvetica's; see
`LATIN_FONT_DIRECTORIES`), or, on a system without it, in Bitstream Vera, which ships inside reportlab;
either covers the Dutch names met in practice ("Siebe de Vries-Ångström", "Zoë Bakker"). When some text
needs a character the Latin font lacks ("Ngô Bảo Châu", and for Vera also "Łukasz", Greek, Cyrillic), the
whole page uses DejaVu Sans instead, if its TTF files are on the system (Debian's `fonts-dejavu-core`;
see `FONT_DIRECTORIES`). It is not a requirement: without DejaVu, and for characters DejaVu lacks too
(e.g. Chinese, Japanese), each
unsupported character is replaced, by its base letter when it has one ("Ł" → "L", "ả" → "a"),
otherwise by "?". Right-to-left scripts are drawn as stored, without bidirectional reordering or
shaping. Control and invisible format characters (e.g. bidi overrides) are always dropped.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import reportlab
import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from service import i18n
from service.credentials.canonical import proof_of
from service.credentials.disclosure import Disclosure
from service.credentials.document import EQF_FRAMEWORK, validate_credential
from service.documents.carrier import embed_credential
from service.documents.dates import MONTHS, date_text
from service.i18n import N_, _

HUB_NAME = "IT Hub Hoogeveen"
VERIFY_HINT = N_(
    "Scan the code or open the link, or upload this PDF (it carries the credential) or its JSON file at "
    "%(verify_page)s; anyone can also check it on Ethereum without the hub."
)
WITHHELD_RECIPIENT = N_("the holder of this credential")
MAX_SHARE_URL = 2_000  # a QR code holds ~2 300 bytes at level M; longer links would not scan well anyway

# Where Liberation Sans is looked for (Debian's fonts-liberation, Fedora, Alpine, Arch). Tests may replace this.
LATIN_FONT_DIRECTORIES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/liberation-sans",
    "/usr/share/fonts/liberation",
    "/usr/share/fonts/TTF",
)
# Where DejaVu Sans is looked for (Debian/Ubuntu, Fedora, Alpine, Arch). Tests may replace this.
FONT_DIRECTORIES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
)

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 64.0  # content inset from the page edge
FRAME_INSET = 26.0  # the thin frame, inside what home printers can print
QR_COLUMN = 200.0  # width of the right column (QR code and its link)
COLUMN_GAP = 40.0
LEFT = MARGIN
RIGHT = PAGE_WIDTH - MARGIN
TEXT_WIDTH = RIGHT - QR_COLUMN - COLUMN_GAP - LEFT
QR_SIZE = 150.0
FOOTER_TOP = 106.0  # the rule above the footer

# Colours: dark text on white, all at least 4.5:1 (WCAG AA for small text).
INK = HexColor("#16222D")  # ~15:1
MUTED = HexColor("#4F5B66")  # ~7:1
ACCENT = HexColor("#0A5A69")  # the hub's teal, ~7.5:1
RULE = HexColor("#C5D1D6")  # lines only, never text

# The claims a certificate can print; a certificate prints those its copy discloses, and the share link made
# for it (POST /credentials/{id}/certificate-links) discloses exactly those.
PRINTED_CLAIMS = ("name", "result")
ACHIEVEMENT_TYPE_LABELS = {
    "MicroCredential": N_("Micro-credential"),
    "CoCurricular": N_("Co-curricular"),
    "Certificate": N_("Certificate"),
    "Course": N_("Course"),
    "Badge": N_("Badge"),
}
# The result names the hub itself writes into credentials (service.credentials.document), shown translated.
HUB_RESULT_NAMES = {"Final grade": N_("Final grade")}
# The printed labels, in the language of the moment (upper-cased where printed).
PRINTED_LABELS = {
    "issued_by": N_("Issued by"),
    "date_of_issue": N_("Date of issue"),
    "valid_until": N_("Valid until"),
    "study_load": N_("Study load"),
    "level": N_("Level"),
    "theme": N_("Theme"),
    "result": N_("Result"),
}
# Letters that have no Unicode decomposition but an obvious base letter.
BASE_LETTERS = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ı": "i",
        "Ŧ": "T",
        "ŧ": "t",
        "Ŀ": "L",
        "ŀ": "l",
        "ẞ": "SS",
        "ĸ": "k",
    }
)


# ---------------------------------------------------------------- fonts


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    italic: str
    covers: Callable[[str], bool]

    def clean(self, text: str) -> str:
        """`text` as this font set can draw it: whitespace runs as one space, control and format
        characters dropped, unsupported characters replaced (base letter, else "?")."""
        out: list[str] = []
        for char in unicodedata.normalize("NFC", text):
            if char.isspace():
                out.append(" ")
            elif unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
                continue
            elif self.covers(char):
                out.append(char)
            else:
                out.append(self._substitute(char))
        return re.sub(r" {2,}", " ", "".join(out)).strip()

    def _substitute(self, char: str) -> str:
        base = char.translate(BASE_LETTERS)
        if base == char:
            base = "".join(part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part))
        return base if base and all(self.covers(part) for part in base) else "?"


def _in_winansi(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


STANDARD_FONTS = _Fonts("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", _in_winansi)


# (family, file name stem, regular/bold/italic suffixes) of the TrueType families the certificate embeds.
DEJAVU = ("DejaVuSans", "DejaVuSans", ("", "-Bold", "-Oblique"))
LIBERATION = ("LiberationSans", "LiberationSans", ("-Regular", "-Bold", "-Italic"))
VERA = ("Vera", "Vera", ("", "Bd", "It"))
REPORTLAB_FONTS = str(Path(reportlab.__file__).resolve().parent / "fonts")  # Bitstream Vera ships with reportlab


@lru_cache(maxsize=16)
def _ttf_family(directories: tuple[str, ...], family: tuple[str, str, tuple[str, str, str]]) -> _Fonts | None:
    """A TrueType family (regular, bold, italic) from the first directory that has it, registered with
    reportlab (embedded as subsets); None when no directory has a readable copy."""
    label, stem, suffixes = family
    for directory in directories:
        files = {style: Path(directory) / f"{stem}{suffix}.ttf" for style, suffix in zip(STYLES, suffixes, strict=True)}
        if not (files["regular"].is_file() and files["bold"].is_file()):
            continue
        if not files["italic"].is_file():
            files["italic"] = files["regular"]
        tag = f"{zlib.crc32(directory.encode()):08x}"
        names: dict[str, str] = {}
        glyphs: set[int] | None = None
        try:
            for style, path in files.items():
                font = TTFont(f"Hub{label}-{style}-{tag}", str(path))
                pdfmetrics.registerFont(font)
                names[style] = font.fontName
                covered = set(font.face.charToGlyph)
                glyphs = covered if glyphs is None else glyphs & covered
        except Exception:  # noqa: BLE001 - a broken or unreadable font file: try the next place, or none
            continue
        return _Fonts(names["regular"], names["bold"], names["italic"], _has_glyph(frozenset(glyphs or ())))
    return None


STYLES = ("regular", "bold", "italic")


def _dejavu(directories: tuple[str, ...]) -> _Fonts | None:
    """DejaVu Sans from the first of `directories` that has it (None when none has)."""
    return _ttf_family(directories, DEJAVU)


def _latin_fonts() -> _Fonts:
    """The fonts for Latin text, embedded: Liberation Sans (metrically Helvetica's twin, so the layout is
    Helvetica's) if the system has it, else Bitstream Vera from reportlab's own package; the PDF standard
    fonts (not embedded, so the PDF is not PDF/A) only if neither can be read."""
    return (
        _ttf_family(tuple(LATIN_FONT_DIRECTORIES), LIBERATION)
        or _ttf_family((REPORTLAB_FONTS,), VERA)
        or STANDARD_FONTS
    )


def _has_glyph(code_points: frozenset[int]) -> Callable[[str], bool]:
    return lambda char: ord(char) in code_points


def _fonts_for(texts: Iterable[str]) -> _Fonts:
    """The Latin fonts when they can draw every character of `texts`, else DejaVu Sans if present."""
    latin = _latin_fonts()
    if all(latin.clean(text) == _drop_invisible(text) for text in texts):
        return latin
    return _dejavu(tuple(FONT_DIRECTORIES)) or latin


def _font_sets() -> list[_Fonts]:
    """Every font set a certificate may have been printed with, on this system or another."""
    candidates = [
        _latin_fonts(),
        _dejavu(tuple(FONT_DIRECTORIES)),
        _ttf_family((REPORTLAB_FONTS,), VERA),
        STANDARD_FONTS,
    ]
    return list(dict.fromkeys(fonts for fonts in candidates if fonts is not None))


def _drop_invisible(text: str) -> str:
    return _Fonts("", "", "", lambda char: True).clean(text)


# ---------------------------------------------------------------- what the certificate says


@dataclass(frozen=True)
class _Content:
    kind: str
    programme: str
    recipient: str | None  # None: withheld (or not a usable name)
    narrative: str
    details: tuple[tuple[str, str], ...]  # (label, value) in reading order
    credential_id: str
    chain_id: int
    share_url: str
    status: str | None

    def texts(self) -> list[str]:
        texts = [self.kind, self.programme, self.narrative, self.credential_id, self.share_url]
        texts += [value for _, value in self.details] + [label for label, _ in self.details]
        texts += [self.recipient] if self.recipient else []
        texts += [self.status] if self.status else []
        return texts


def disclosure_items(credential: Mapping[str, Any]) -> list[Any]:
    """The items of the copy's `proof.disclosures`, as they are (not checked)."""
    proof = proof_of(credential)
    items = proof.get("disclosures") if proof is not None else None
    return items if isinstance(items, list) else []


def disclosed_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The claims a copy discloses: each item of `proof.disclosures` that is a well formed disclosure
    whose digest the body lists, and that neither replaces a member of `credentialSubject` nor is
    disclosed twice (as the verifier's `disclosures` check reads them; anything else is left out)."""
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    digests = set(subject.get("disclosureDigests") or ())
    items = disclosure_items(credential)
    claims: dict[str, Any] = {}
    repeated: set[str] = set()
    for item in items:
        try:
            disclosure = Disclosure.from_json(item)
            digest = disclosure.digest
        except ValueError:
            continue
        if digest not in digests or disclosure.name in subject:
            continue
        if disclosure.name in claims:
            repeated.add(disclosure.name)
        claims[disclosure.name] = disclosure.value
    for name in repeated:
        del claims[name]
    return claims


def format_date(text: str) -> str:
    """The calendar day of a credential date-time in Dutch time, labelled with its zone, as the pages show it:
    "1 July 2026 (CEST)", "1 juli 2026 (CEST)" (service.documents.dates, in the language of the moment)."""
    return date_text(text)


def _number(value: float) -> str:
    return i18n.number(value)


def _kind(achievement_type: str) -> str:
    name = achievement_type.removeprefix("ext:")
    if name in ACHIEVEMENT_TYPE_LABELS:
        return str(ACHIEVEMENT_TYPE_LABELS[name])
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
    return " ".join([words[0]] + [word.lower() for word in words[1:]]) if words else _("Credential")


def _results(value: Any, achievement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each disclosed OB Result with a value: "Final grade", "8.5 (scale 1.0–10.0)" ("8,5 (schaal
    1,0–10,0)" in Dutch: the decimal point as the reader writes it; the label is the issuer's own)."""
    descriptions = {
        item.get("id"): item for item in achievement.get("resultDescription") or () if isinstance(item, Mapping)
    }
    results: list[tuple[str, str]] = []
    for result in value if isinstance(value, list) else []:
        if not isinstance(result, Mapping) or not isinstance(result.get("value"), str) or not result["value"].strip():
            continue
        description = descriptions.get(result.get("resultDescription"), {})
        name = description.get("name")
        label = result_label(name) if isinstance(name, str) and name.strip() else str(PRINTED_LABELS["result"])
        text = i18n.grade(result["value"].strip())
        low, high = description.get("valueMin"), description.get("valueMax")
        if isinstance(low, str) and isinstance(high, str):
            text = _("%(grade)s (scale %(low)s–%(high)s)", grade=text, low=i18n.grade(low), high=i18n.grade(high))
        results.append((label, text))
    return results


def result_label(name: str) -> str:
    """A result's name as printed: the hub's own name for a programme's grade ("Final grade", which the hub writes
    into every graded credential) in the reader's language; any other name as the issuer wrote it."""
    return str(HUB_RESULT_NAMES[name]) if name in HUB_RESULT_NAMES else name


def _check_share_url(share_url: str) -> str:
    if not isinstance(share_url, str) or len(share_url) > MAX_SHARE_URL:
        raise ValueError(f"the share URL must be a string of at most {MAX_SHARE_URL} characters")
    parts = urlsplit(share_url)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.netloc
        or any(char.isspace() or unicodedata.category(char) == "Cc" for char in share_url)
    ):
        raise ValueError(f"the share URL must be an http(s) URL without spaces, not {share_url!r:.80}")
    return share_url


def verify_page(share_url: str) -> str:
    """The hub's verify page beside the share page `share_url` (same origin and path prefix)."""
    parts = urlsplit(share_url)
    prefix, found, _ = parts.path.rpartition("/share/")
    return f"{parts.scheme}://{parts.netloc}{prefix if found else ''}/verify"


def _content(credential: Mapping[str, Any], share_url: str, status: str | None) -> _Content:
    model = validate_credential(credential)  # FormatError when it is not a credential of this format
    achievement = credential["credentialSubject"]["achievement"]
    claims = disclosed_claims(credential)
    name = claims.get("name")
    recipient = name if isinstance(name, str) and _drop_invisible(name) else None
    eqf = next(item for item in model.credentialSubject.achievement.alignment if item.targetFramework == EQF_FRAMEWORK)
    label = {key: str(text) for key, text in PRINTED_LABELS.items()}
    details: list[tuple[str, str]] = [
        (label["issued_by"], model.issuer.name),
        (label["date_of_issue"], format_date(model.validFrom)),
    ]
    if model.validUntil is not None:
        details.append((label["valid_until"], format_date(model.validUntil)))
    details += [
        (label["study_load"], f"{_number(model.credentialSubject.achievement.creditsAvailable)} ECTS"),
        (label["level"], _("EQF level %(level)s", level=eqf.targetCode)),
        (label["theme"], model.credentialSubject.achievement.fieldOfStudy),
    ]
    if "result" in claims:
        details += _results(claims["result"], achievement)
    return _Content(
        kind=_kind(model.credentialSubject.achievement.achievementType),
        programme=model.credentialSubject.achievement.name,
        recipient=recipient,
        narrative=model.credentialSubject.achievement.criteria.narrative,
        details=tuple(details),
        credential_id=model.id,
        chain_id=model.anchor_proof.chainId,
        share_url=share_url,
        status=status if status and _drop_invisible(status) else None,
    )


@dataclass(frozen=True)
class PrintedFacts:
    """What the certificate of a credential prints, each fact with the spellings it may be printed in (as
    written, and as each font set draws it), for comparing a PDF's print with its credential
    (service.documents.carrier.compare_print)."""

    programme: tuple[str, ...]
    recipient: tuple[str, ...]
    details: tuple[tuple[str, tuple[str, ...]], ...]  # (label, spellings) in print order
    possible_labels: tuple[str, ...]  # every label a certificate of this achievement could print
    credential_id: tuple[str, ...]
    narrative: tuple[str, ...]  # the criteria, printed under the name as far as there is room


def printed_facts(credential: Mapping[str, Any]) -> PrintedFacts:
    """The facts the certificate of `credential` prints (see PrintedFacts).

    :raises FormatError: when `credential` is not a credential of this format."""
    content = _content(credential, "https://hub.invalid/share/x", None)
    font_sets = _font_sets()

    def spellings(text: str) -> tuple[str, ...]:
        variants = [_drop_invisible(text)] + [fonts.clean(text) for fonts in font_sets]
        return tuple(dict.fromkeys(variants))

    achievement = credential["credentialSubject"]["achievement"]
    result_labels = [
        result_label(str(item["name"]))
        for item in achievement.get("resultDescription") or ()
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    ]
    labels = [str(text) for text in PRINTED_LABELS.values()] + result_labels
    return PrintedFacts(
        programme=spellings(content.programme),
        recipient=spellings(content.recipient) if content.recipient is not None else (str(WITHHELD_RECIPIENT),),
        details=tuple((label, spellings(value)) for label, value in content.details),
        possible_labels=tuple(labels),
        credential_id=spellings(content.credential_id),
        narrative=spellings(content.narrative),
    )


# ---------------------------------------------------------------- layout helpers


class _Page:
    def __init__(self, canvas: Canvas, fonts: _Fonts):
        self.canvas = canvas
        self.fonts = fonts

    def width(self, text: str, font: str, size: float, spacing: float = 0.0) -> float:
        return float(pdfmetrics.stringWidth(text, font, size)) + spacing * max(len(text) - 1, 0)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        font: str,
        size: float,
        color: Color = INK,
        *,
        spacing: float = 0.0,
        align: str = "left",
    ) -> None:
        if align != "left":
            shift = self.width(text, font, size, spacing)
            x -= shift if align == "right" else shift / 2
        line = self.canvas.beginText(x, y)
        line.setFont(font, size)
        line.setFillColor(color)
        line.setCharSpace(spacing)
        line.textOut(text)
        self.canvas.drawText(line)

    def ellipsize(self, text: str, font: str, size: float, width: float, spacing: float = 0.0) -> str:
        """`text`, cut short with an ellipsis if it is wider than `width`."""
        if self.width(text, font, size, spacing) <= width:
            return text
        while text and self.width(text + "\u2026", font, size, spacing) > width:
            text = text[:-1].rstrip()
        return text + "\u2026"

    def fit(self, text: str, font: str, size: float, minimum: float, width: float) -> tuple[str, float]:
        """Shrink `size` towards `minimum` until `text` fits on one line; then cut it short."""
        while size > minimum and self.width(text, font, size) > width:
            size -= 0.5
        return self.ellipsize(text, font, size, width), size

    def wrap(self, text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
        """Word-wrapped lines (words longer than a line are broken), the last cut short if needed."""
        if max_lines < 1:
            return []
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self.width(candidate, font, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while self.width(word, font, size) > width:
                cut = self._prefix(word, font, size, width)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        if current:
            lines.append(current)
        if len(lines) > max_lines:  # cut short at a word boundary, marked with an ellipsis
            lines = lines[:max_lines]
            words = lines[-1].split(" ")
            while len(words) > 1 and self.width(" ".join(words) + " \u2026", font, size) > width:
                words.pop()
            lines[-1] = self.ellipsize(" ".join(words) + " \u2026", font, size, width)
        return lines

    def wrap_url(self, url: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
        """A URL broken into lines, preferably after a "/" (a URL has no spaces to break at)."""
        lines: list[str] = []
        rest = url
        while rest and len(lines) < max_lines:
            cut = self._prefix(rest, font, size, width)
            if cut < len(rest):
                slash = rest.rfind("/", 0, cut)
                if slash >= cut // 2:
                    cut = slash + 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        if rest:
            lines[-1] = self.ellipsize(lines[-1] + rest, font, size, width)
        return lines

    def _prefix(self, text: str, font: str, size: float, width: float) -> int:
        """The number of leading characters of `text` that fit in `width` (at least one)."""
        count = 1
        while count < len(text) and self.width(text[: count + 1], font, size) <= width:
            count += 1
        return count


def _cell(page: _Page, value: str, width: float) -> tuple[list[str], float]:
    """A fact's value: one line, shrunk from 11.5 pt down to 10 pt if need be; else two lines, shrunk
    towards 9.5 pt before the second is cut short."""
    for size in (11.5, 11.0, 10.5, 10.0):
        if page.width(value, page.fonts.regular, size) <= width:
            return [value], size
    size = 11.5
    while size > 9.5 and len(page.wrap(value, page.fonts.regular, size, width, 9)) > 2:
        size -= 0.5
    return page.wrap(value, page.fonts.regular, size, width, 2), size


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code of `url` as vector squares, `size` points wide, lower left corner at (x, y). The
    caller keeps four modules around it clear (the quiet zone)."""
    qr = segno.make_qr(url, error="m", boost_error=True)
    matrix = qr.matrix  # rows of 0/1, top row first, without the quiet zone
    module = size / len(matrix)
    path = canvas.beginPath()
    for row, cells in enumerate(matrix):
        top = y + size - (row + 1) * module
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            path.rect(x + start * module, top, (column - start) * module, module)
    canvas.setFillColor(HexColor("#000000"))
    canvas.drawPath(path, stroke=0, fill=1)  # one path: no hairline seams between modules


# ---------------------------------------------------------------- the page


def render_certificate(credential: dict[str, Any], share_url: str, *, status: str | None = None) -> bytes:
    """The certificate of `credential` as a one-page A4 landscape PDF.

    :param credential: a credential of docs/credential-format.md, as the holder shares it: the
        holder's full copy, or a copy with some disclosures withheld (`select_disclosures`). Only
        disclosed claims are printed: the name ("awarded to the holder of this credential" without
        it) and the grade (`result`).
    :param share_url: the http(s) link of the share page; the QR code encodes it exactly and it is
        printed under the code.
    :param status: an optional short line about the credential's state as the caller knows it (e.g.
        "Verified 1 July 2026: valid"), printed as given at the top right; the certificate itself
        claims nothing about validity.
    :returns: the PDF bytes (deterministic for the same arguments), with `credential` embedded as its
        `/Source` associated file (service.documents.carrier), byte for byte the file its share link serves.
    :raises FormatError: when `credential` is not a credential of this format.
    :raises ValueError: when `share_url` is not an http(s) URL.

    Characters the fonts cannot draw are replaced (see the module's docstring): with DejaVu Sans on
    the system a name outside Latin-1 prints as written, without it its letters may lose their
    accents or become "?". It never fails on a name.
    """
    content = _content(credential, _check_share_url(share_url), status)
    fonts = _fonts_for(content.texts())
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=True,
        pageCompression=1,
        lang=i18n.current(),
        initialFontName=fonts.regular,  # not Helvetica: a font the page names is a font it embeds
    )
    canvas.setTitle(_("%(programme)s – certificate", programme=fonts.clean(content.programme)))
    canvas.setAuthor(HUB_NAME)
    canvas.setSubject(_("%(kind)s certificate, credential %(id)s", kind=content.kind, id=content.credential_id))
    canvas.setCreator(_("%(hub)s credential service", hub=HUB_NAME))
    _draw(_Page(canvas, fonts), content)
    canvas.showPage()
    canvas.save()
    issued = datetime.fromisoformat(str(credential.get("validFrom", "")).replace("Z", "+00:00"))
    # PDF/A-3b when every font is embedded (always, unless neither Liberation nor reportlab's Vera could be read)
    archival = fonts is not STANDARD_FONTS
    return embed_credential(buffer.getvalue(), credential, modified=issued, archival=archival)


def _draw(page: _Page, content: _Content) -> None:
    canvas, fonts, clean = page.canvas, page.fonts, page.fonts.clean

    # Frame and the hub's mark.
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.8)
    canvas.roundRect(FRAME_INSET, FRAME_INSET, PAGE_WIDTH - 2 * FRAME_INSET, PAGE_HEIGHT - 2 * FRAME_INSET, 6)
    canvas.setFillColor(ACCENT)
    canvas.rect(LEFT, PAGE_HEIGHT - 62, 44, 4, stroke=0, fill=1)
    page.text(LEFT, PAGE_HEIGHT - 88, HUB_NAME, fonts.bold, 22, ACCENT)
    page.text(
        LEFT,
        PAGE_HEIGHT - 106,
        clean(_("%(kind)s certificate", kind=content.kind)).upper(),
        fonts.bold,
        8.5,
        MUTED,
        spacing=1.2,
    )
    if content.status:
        _draw_status(page, clean(content.status))

    # The programme and to whom it was awarded.
    y = PAGE_HEIGHT - 176
    title = clean(content.programme)
    title_size = 30.0  # one line if it fits at 24 pt or more, else two (down to 22 pt), else three
    while title_size > 24 and page.width(title, fonts.bold, title_size) > TEXT_WIDTH:
        title_size -= 1
    if page.width(title, fonts.bold, title_size) > TEXT_WIDTH:
        title_size = 30.0
        while title_size > 22 and len(page.wrap(title, fonts.bold, title_size, TEXT_WIDTH, 9)) > 2:
            title_size -= 1
    for line in page.wrap(title, fonts.bold, title_size, TEXT_WIDTH, 3):
        page.text(LEFT, y, line, fonts.bold, title_size, INK)
        y -= title_size * 1.2
    y -= 6
    page.text(LEFT, y, _("awarded to"), fonts.regular, 11, MUTED)
    y -= 30
    if content.recipient is not None:
        name, size = page.fit(clean(content.recipient), fonts.regular, 26, 16, TEXT_WIDTH)
        page.text(LEFT, y, name, fonts.regular, size, INK)
    else:
        page.text(LEFT, y, str(WITHHELD_RECIPIENT), fonts.italic, 20, MUTED)
    y -= 26

    # The facts, three to a row (a long value wraps to a second line), under as much of the criteria
    # narrative as leaves them room above the footer.
    column_width = TEXT_WIDTH / 3
    rows = []
    for start in range(0, len(content.details), 3):
        cells = [
            (clean(label).upper(), *_cell(page, clean(value), column_width - 16))
            for label, value in content.details[start : start + 3]
        ]
        rows.append((cells, 42 + max((len(lines) - 1) * size * 1.2 for _, lines, size in cells)))
    room = y - 22 - sum(height for _, height in rows) - (FOOTER_TOP - 16)
    narrative = page.wrap(clean(content.narrative), fonts.regular, 10.5, TEXT_WIDTH, max(0, min(2, int(room // 14.5))))
    for line in narrative:
        page.text(LEFT, y, line, fonts.regular, 10.5, MUTED)
        y -= 14.5
    y -= 22
    for cells, height in rows:
        for column, (label, lines, size) in enumerate(cells):
            x = LEFT + column * column_width
            page.text(
                x,
                y,
                page.ellipsize(label, fonts.bold, 7.5, column_width - 16, 0.9),
                fonts.bold,
                7.5,
                MUTED,
                spacing=0.9,
            )
            for number, line in enumerate(lines):
                page.text(x, y - 16 - number * size * 1.2, line, fonts.regular, size, INK)
        y -= height

    # The QR code, and its link written out.
    column_left = RIGHT - QR_COLUMN
    centre = column_left + QR_COLUMN / 2
    qr_top = PAGE_HEIGHT - 160
    page.text(centre, qr_top + 20, _("SCAN TO VERIFY"), fonts.bold, 7.5, MUTED, spacing=1.2, align="centre")
    _draw_qr(canvas, content.share_url, centre - QR_SIZE / 2, qr_top - QR_SIZE, QR_SIZE)
    y = qr_top - QR_SIZE - 22
    url = clean(content.share_url)
    size = 8.0 if len(page.wrap_url(url, fonts.regular, 8, QR_COLUMN, 9)) <= 3 else 7.0
    for line in page.wrap_url(url, fonts.regular, size, QR_COLUMN, 6):  # a longer link: the code holds it all
        page.text(centre, y, line, fonts.regular, size, ACCENT, align="centre")
        y -= size * 1.4
    canvas.linkURL(content.share_url, (centre - QR_SIZE / 2, y + 4, centre + QR_SIZE / 2, qr_top), relative=0)

    # Footer: the credential's identity, and how to check it.
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(LEFT, FOOTER_TOP, RIGHT, FOOTER_TOP)
    labels = (_("CREDENTIAL ID"), _("HOW TO VERIFY"))
    indent = max(page.width(label, fonts.bold, 7, 0.9) for label in labels) + 12
    identity = f"{clean(content.credential_id)}  \u00b7  " + _(
        "anchored on Ethereum chain ID %(chain)s", chain=content.chain_id
    )
    hint = str(VERIFY_HINT) % {"verify_page": clean(verify_page(content.share_url))}
    for y, label, text in ((86, labels[0], identity), (68, labels[1], hint)):
        page.text(LEFT, y, label, fonts.bold, 7, MUTED, spacing=0.9)
        text, size = page.fit(text, fonts.regular, 8.5, 7, RIGHT - LEFT - indent)
        page.text(LEFT + indent, y, text, fonts.regular, size, INK)
    page.text(RIGHT, 48, f"{HUB_NAME} \u00b7 Drenthe", fonts.regular, 7.5, MUTED, align="right")


def _draw_status(page: _Page, status: str) -> None:
    fonts = page.fonts
    text = page.ellipsize(status, fonts.bold, 9, 380)
    width = page.width(text, fonts.bold, 9) + 24
    x, y = RIGHT - width, PAGE_HEIGHT - 94
    page.canvas.setStrokeColor(ACCENT)
    page.canvas.setLineWidth(1)
    page.canvas.roundRect(x, y, width, 22, 11, stroke=1, fill=0)
    page.text(x + 12, y + 7.5, text, fonts.bold, 9, ACCENT)


__all__ = [
    "MONTHS",
    "PRINTED_CLAIMS",
    "PrintedFacts",
    "printed_facts",
    "disclosed_claims",
    "disclosure_items",
    "format_date",
    "render_certificate",
]
