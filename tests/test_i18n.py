"""Dutch and English: the catalogs hold every message of the code in both languages, and each request gets
its language (the switch, the remembered choice, the browser's Accept-Language; Dutch when it says nothing)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from service import i18n
from service.documents.dates import date_text, moment_text

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_is_translated_in_both_catalogs() -> None:
    script = _script()
    template = script.extract()
    assert len(template) > 5, "the extraction found (almost) no messages: babel.cfg or the keywords are wrong"
    assert script.problems(template) == []


def test_the_check_fails_for_a_message_without_a_dutch_translation(tmp_path: Path, monkeypatch) -> None:
    """The check above can fail: a message the Dutch catalog lacks is reported."""
    script = _script()
    template = script.extract()
    template.add("A sentence nobody translated")
    found = script.problems(template)
    assert "nl: missing 'A sentence nobody translated'" in found
    assert "en: missing 'A sentence nobody translated'" in found


def test_dutch_given_for_new_messages_stays_out_of_the_english_catalog(tmp_path: Path, monkeypatch) -> None:
    """`--dutch` fills the Dutch catalog only: new messages, a plural among them, stay English in the English one
    (and the check reports an English catalog that says something else than the message)."""
    script = _script()
    monkeypatch.setattr(script, "LOCALE_DIR", tmp_path)
    template = script.Catalog(project="IT Hub Hoogeveen", charset="utf-8")
    template.add("A new sentence")
    template.add(("%(num)s new sentence", "%(num)s new sentences"))
    script.update(
        template,
        {"A new sentence": "Een nieuwe zin", "%(num)s new sentence": ["%(num)s nieuwe zin", "%(num)s nieuwe zinnen"]},
    )
    dutch, english = script.read_catalog("nl"), script.read_catalog("en")
    assert dutch.get("A new sentence").string == "Een nieuwe zin"
    assert english.get("A new sentence").string == "A new sentence"
    assert dutch.get("%(num)s new sentence").string == ("%(num)s nieuwe zin", "%(num)s nieuwe zinnen")
    assert english.get("%(num)s new sentence").string == ("%(num)s new sentence", "%(num)s new sentences")
    assert script.problems(template) == []
    english.get("A new sentence").string = "Een nieuwe zin"  # as the script wrote it before
    path = script.catalog_path("en")
    out = script.io.BytesIO()
    script.write_po(out, english)
    path.write_bytes(out.getvalue())
    assert script.problems(template) == [
        "en: 'A new sentence' is not the message itself (the source strings are English)"
    ]


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, None, "nl"),
        (None, None, "", "nl"),
        (None, None, "nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        (None, None, "en-GB,en;q=0.9,nl;q=0.8", "en"),
        (None, None, "de-DE,de;q=0.9", "en"),  # neither: English
        (None, None, "de;q=0.9,nl;q=0.5", "nl"),
        (None, None, "en;q=0,nl", "nl"),  # q=0 means "not this one"
        (None, None, "fy-NL", "en"),  # Frisian is not Dutch
        (None, None, "*", "nl"),
        (None, "en", "nl", "en"),  # the remembered choice beats the browser
        ("nl", "en", "en", "nl"),  # the switch beats both
        ("xx", "en", "nl", "en"),  # a language the hub does not speak is ignored
        (None, "garbage", "en", "en"),
    ],
)
def test_negotiation(query: str | None, cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.negotiate(query, cookie, header) == expected


def test_numbers_grades_and_dates_per_language() -> None:
    assert i18n.number(1234.5, "nl") == "1.234,5"
    assert i18n.number(1234.5, "en") == "1,234.5"
    assert i18n.grade("7.5", "nl") == "7,5"
    assert i18n.grade("7.50", "nl") == "7,50"
    assert i18n.grade("7.5", "en") == "7.5"
    assert i18n.grade("Pass", "nl") == "Pass"
    assert i18n.grade("٣.5", "nl") == "٣.5"  # another script's digits: exactly as written, never re-read as 3,5
    assert i18n.grade("8/10", "nl") == "8/10"
    assert date_text("2026-12-03T23:30:00Z", "nl") == "4 december 2026 (CET)"
    assert date_text("2026-12-03T23:30:00Z", "en") == "4 December 2026 (CET)"
    assert moment_text("2026-07-01T10:00:00Z", "nl") == "1 juli 2026, 12:00 CEST"
    with i18n.use("en"):
        assert moment_text("2026-07-01T10:00:00Z") == "1 July 2026, 12:00 CEST"
        with i18n.use("nl"):
            assert i18n.gettext("Verify a credential") == "Een credential controleren"
        assert i18n.gettext("Verify a credential") == "Verify a credential"
