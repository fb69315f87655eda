"""Baked badges (Open Badges 3.0): the PNG carries the credential file in one uncompressed iTXt chunk with
keyword `openbadgecredential`, the SVG in `<openbadges:credential>`; read back here with a hand-written PNG
chunk reader and the standard XML parser (not our `unbake`), and by Pillow."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any
from xml.etree import ElementTree

import pytest
from PIL import Image

from service.credentials import select_disclosures
from service.documents.badge import NotBaked, badge_png, badge_svg, unbake
from service.documents.carrier import credential_file
from tests.documents.test_certificate import graduate_credential

NAME = "Zo\u00eb Bakker"


@pytest.fixture
def credential() -> dict[str, Any]:
    return select_disclosures(graduate_credential(NAME), ["name", "result"])


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        chunks.append((kind, data))
        offset += 12 + length
    return chunks


def test_the_png_badge_carries_the_credential_in_one_itxt_chunk(credential: dict[str, Any]) -> None:
    png = badge_png(credential)
    chunks = png_chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    baked = [data for kind, data in chunks if kind == b"iTXt" and data.startswith(b"openbadgecredential\0")]
    assert len(baked) == 1
    # keyword \0, compression flag 0 (none), method 0, language tag \0, translated keyword \0, text
    keyword, rest = baked[0].split(b"\0", 1)
    assert keyword == b"openbadgecredential" and rest[:2] == b"\0\0"
    language, translated, text = rest[2:].split(b"\0", 2)
    assert language == b"" and translated == b""
    assert text == credential_file(credential)
    with Image.open(io.BytesIO(png)) as image:  # and any PNG reader sees it too
        image.load()
        assert image.size == (512, 512)
        assert json.loads(image.text["openbadgecredential"]) == credential
    assert unbake(png) == credential_file(credential)
    assert png == badge_png(credential)  # deterministic


def test_the_svg_badge_carries_the_credential_and_shows_nothing_personal(credential: dict[str, Any]) -> None:
    svg = badge_svg(credential)
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    first = root[0]
    assert first.tag == "{https://purl.imsglobal.org/ob/v3p0}credential"
    assert json.loads(first.text or "") == credential
    shown = " ".join(element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Make IT Work" in shown and "EQF level 6" in shown and "15 ECTS" in shown
    assert NAME not in shown and "8.5" not in shown
    assert json.loads(unbake(svg)) == credential


def test_a_credential_holding_the_cdata_end_marker_survives_the_svg(credential: dict[str, Any]) -> None:
    tricky = {**credential, "name": "a ]]> b <svg onload=alert(1)>"}
    svg = badge_svg(tricky)
    assert json.loads(ElementTree.fromstring(svg)[0].text or "") == tricky


@pytest.mark.parametrize(
    "image",
    [
        b"GIF89a....",
        b"\x89PNG\r\n\x1a\nbroken",
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        b"<svg><unclosed></svg>",
    ],
    ids=["gif", "broken png", "svg without credential", "svg with a DTD", "broken svg"],
)
def test_unbake_refuses_what_holds_no_credential(image: bytes) -> None:
    with pytest.raises(NotBaked):
        unbake(image)


def test_a_png_without_the_chunk_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    with pytest.raises(NotBaked, match="0 'openbadgecredential' chunks"):
        unbake(out.getvalue())
