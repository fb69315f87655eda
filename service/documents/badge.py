"""Baked badge images: the credential inside a PNG or SVG badge, as Open Badges 3.0 bakes it (§ "Baked badge"),
so badge platforms and wallets that import baked badges take the hub's credential with its picture.

- PNG: one `iTXt` chunk with keyword `openbadgecredential`, uncompressed, whose text is the credential JSON
  (a credential with an embedded proof is baked as JSON; only a JWT would be baked as its compact form).
- SVG: the root element declares `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` and its first child
  is `<openbadges:credential>` holding the credential JSON as CDATA.

The baked credential is the same file the share link serves (`carrier.credential_file`): the copy with the
holder's chosen disclosures. The picture shows the hub, the programme and its level and study load, never
a personal detail (a badge is often shown in public). The images are deterministic for the same credential.

`unbake` reads the credential back from either (for tests and for tools); it refuses a PNG or SVG without
exactly one baked credential.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from service.credentials.canonical import MAX_CREDENTIAL_BYTES
from service.documents import certificate
from service.documents.carrier import credential_file

PNG_KEYWORD = "openbadgecredential"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SIZE = 512
TEAL, WHITE, INK = "#0A5A69", "#FFFFFF", "#16222D"


class NotBaked(ValueError):
    """An image without (exactly one) baked credential."""


def _facts(credential: Mapping[str, Any]) -> tuple[str, str]:
    """(programme, "EQF level N · M ECTS") of `credential` (FormatError when it is not one of this format)."""
    facts = certificate.printed_facts(credential)
    details = {label: spellings[0] for label, spellings in facts.details}
    labels = certificate.PRINTED_LABELS  # in the language of the moment, as printed_facts wrote them
    return facts.programme[0], f"{details[str(labels['level'])]} \u00b7 {details[str(labels['study_load'])]}"


def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = ("LiberationSans-Bold.ttf", "VeraBd.ttf") if bold else ("LiberationSans-Regular.ttf", "Vera.ttf")
    for directory in (*certificate.LATIN_FONT_DIRECTORIES, certificate.REPORTLAB_FONTS):
        for name in names:
            path = Path(directory) / name
            if path.is_file():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _lines(programme: str, width: int = 18, most: int = 3) -> list[str]:
    lines = textwrap.wrap(programme, width) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: width - 1].rstrip() + "\u2026"
    return lines


def badge_png(credential: Mapping[str, Any]) -> bytes:
    """A 512 px PNG badge of `credential` with the credential baked into it."""
    programme, level = _facts(credential)
    image = Image.new("RGB", (SIZE, SIZE), WHITE)
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, SIZE - 16, SIZE - 16), fill=TEAL)
    draw.ellipse((40, 40, SIZE - 40, SIZE - 40), outline=WHITE, width=4)
    centre = SIZE / 2
    draw.text((centre, 118), certificate.HUB_NAME.upper(), fill=WHITE, font=_font(24, True), anchor="mm")
    lines = _lines(programme)
    top = centre - (len(lines) - 1) * 22
    for number, line in enumerate(lines):
        draw.text((centre, top + number * 44), line, fill=WHITE, font=_font(38, True), anchor="mm")
    draw.text((centre, 392), level, fill=WHITE, font=_font(24, False), anchor="mm")
    info = PngInfo()
    info.add_itxt(PNG_KEYWORD, credential_file(credential).decode("utf-8"), zip=False)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=False)
    return out.getvalue()


def badge_svg(credential: Mapping[str, Any]) -> bytes:
    """An SVG badge of `credential` with the credential baked into it."""
    programme, level = _facts(credential)
    data = credential_file(credential).decode("utf-8").replace("]]>", "]]]]><![CDATA[>")  # CDATA cannot hold ]]>
    lines = _lines(programme)
    top = 256 - (len(lines) - 1) * 22
    texts = "\n".join(
        f'  <text x="256" y="{top + number * 44}" font-size="38" font-weight="bold">{escape(line)}</text>'
        for number, line in enumerate(lines)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB3_NAMESPACE}" width="512" height="512"
  viewBox="0 0 512 512" role="img" aria-label="{escape(programme, {'"': "&quot;"})}">
<openbadges:credential><![CDATA[{data}]]></openbadges:credential>
<g font-family="Liberation Sans, Helvetica, Arial, sans-serif" fill="{WHITE}" text-anchor="middle"
  dominant-baseline="middle">
  <circle cx="256" cy="256" r="240" fill="{TEAL}"/>
  <circle cx="256" cy="256" r="216" fill="none" stroke="{WHITE}" stroke-width="4"/>
  <text x="256" y="118" font-size="24" font-weight="bold">{escape(certificate.HUB_NAME.upper())}</text>
{texts}
  <text x="256" y="392" font-size="24">{escape(level)}</text>
</g>
</svg>
""".encode()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_START = re.compile(rb"\s*(<\?xml[^>]*>\s*)?<svg\b")


def looks_baked(data: bytes) -> bool:
    """Whether `data` is a PNG or an SVG (so a badge image, not a credential file or a PDF)."""
    return data.startswith(PNG_SIGNATURE) or SVG_START.match(data) is not None


def unbake(image: bytes) -> bytes:
    """The credential baked into a PNG or SVG badge (its JSON bytes).

    :raises NotBaked: not a PNG or SVG, or without exactly one baked credential."""
    if image.startswith(PNG_SIGNATURE):
        return _unbake_png(image)
    if SVG_START.match(image):
        return _unbake_svg(image)
    raise NotBaked("not a PNG or SVG image")


def _unbake_png(image: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(image)) as png:
            png.load()
            chunks = [value for key, value in getattr(png, "text", {}).items() if key == PNG_KEYWORD]
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotBaked(f"the PNG cannot be read: {exc}") from exc
    if len(chunks) != 1:
        raise NotBaked(f"the PNG holds {len(chunks)} '{PNG_KEYWORD}' chunks, not one")
    data = str(chunks[0]).encode("utf-8")
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise NotBaked(f"the baked credential is larger than {MAX_CREDENTIAL_BYTES} bytes")
    return data


def _unbake_svg(image: bytes) -> bytes:
    if b"<!DOCTYPE" in image or b"<!ENTITY" in image:  # no DTDs, no entity expansion
        raise NotBaked("an SVG badge has no document type declaration")
    try:
        root = ElementTree.fromstring(image)
    except ElementTree.ParseError as exc:
        raise NotBaked(f"the SVG cannot be read: {exc}") from exc
    found = root.findall(f"{{{OB3_NAMESPACE}}}credential")
    if len(found) != 1:
        raise NotBaked(f"the SVG holds {len(found)} openbadges:credential elements, not one")
    data = (found[0].text or "").strip().encode("utf-8")
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise NotBaked(f"the baked credential is larger than {MAX_CREDENTIAL_BYTES} bytes")
    return data
