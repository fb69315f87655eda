#!/usr/bin/env python3
"""Extract the messages of the pages, the certificate and the report, and update the Dutch and English catalogs.

    .venv/bin/python scripts/i18n.py           extract (babel.cfg) and update service/i18n/locales/*/messages.po
    .venv/bin/python scripts/i18n.py --check   only say what is missing or untranslated (exit 1 if anything is)
    .venv/bin/python scripts/i18n.py --dutch nl.json   also take Dutch translations from a JSON object
                                                  {"English message": "Nederlandse vertaling", ...}
                                                  (a plural: {"singular": ["enkelvoud", "meervoud"]})

The English catalog is filled with the messages themselves (the source strings are English); new Dutch entries
are left empty for a translator, and --check (and tests/test_i18n.py) fails until each has its translation.
Catalogs are written sorted, without source locations, so that two branches adding messages merge cleanly.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "service" / "i18n" / "locales"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
    "lazy_gettext": None,
}
LOCALES = ("nl", "en")


def extract() -> Catalog:
    """Every message in the code and the templates (babel.cfg), as a template catalog."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project="IT Hub Hoogeveen", charset="utf-8")
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, context=context)
    return template


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="IT Hub Hoogeveen", charset="utf-8")
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def translated(message) -> bool:  # type: ignore[no-untyped-def]
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(s for s in strings) and not message.fuzzy


def problems(template: Catalog) -> list[str]:
    """What is missing: a message of the code without a translation in a catalog, or one whose placeholders
    differ from the message's."""
    found: list[str] = []
    for locale in LOCALES:
        catalog = read_catalog(locale)
        for message in template:
            if not message.id:
                continue
            entry = catalog.get(message.id, context=message.context)
            label = message.id if isinstance(message.id, str) else message.id[0]
            if entry is None:
                found.append(f"{locale}: missing {label!r}")
                continue
            if not translated(entry):
                found.append(f"{locale}: untranslated {label!r}")
                continue
            if locale == "en" and entry.string != message.id:
                found.append(f"en: {label!r} is not the message itself (the source strings are English)")
                continue
            try:
                python_format(catalog, entry)
            except Exception as exc:  # noqa: BLE001 - babel's TranslationError, reported with the message
                found.append(f"{locale}: {label!r}: {exc}")
    return found


def _steady_header(catalog: Catalog) -> None:
    """A header that does not change with every run (no creation dates): nothing for two branches to conflict on."""
    catalog.project, catalog.version = "IT Hub Hoogeveen", "1"
    catalog.creation_date = catalog.revision_date = datetime(2026, 12, 4, tzinfo=UTC)
    catalog.msgid_bugs_address = "https://ithubhoogeveen.nl/"
    catalog.last_translator = catalog.language_team = "IT Hub Hoogeveen"
    catalog.fuzzy = False


def update(template: Catalog, dutch: dict[str, str]) -> None:
    for locale in LOCALES:
        catalog = read_catalog(locale)
        # a copy each: Catalog.update adds the template's own Message objects, so the Dutch given to a new message
        # would otherwise land in the English catalog too
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        if locale == "nl":
            for message in catalog:
                # a plural message is keyed by its singular, its Dutch a list of the forms
                key = message.id if isinstance(message.id, str) else message.id[0] if message.id else None
                if key and key in dutch and isinstance(dutch[key], list) == (not isinstance(message.id, str)):
                    message.string = tuple(dutch[key]) if isinstance(dutch[key], list) else dutch[key]
                    message.flags.discard("fuzzy")
        catalog.obsolete.clear()
        _steady_header(catalog)
        if locale == "en":
            for message in catalog:
                if message.id:
                    message.string = message.id  # the source strings are English
                    message.flags.discard("fuzzy")
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = io.BytesIO()
        write_po(out, catalog, width=100, no_location=True, sort_output=True, omit_header=False)
        path.write_bytes(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is missing (exit 1 if anything)")
    parser.add_argument("--dutch", type=Path, help="a JSON object of Dutch translations to take in")
    args = parser.parse_args()
    template = extract()
    if not args.check:
        update(template, json.loads(args.dutch.read_text(encoding="utf-8")) if args.dutch else {})
    found = problems(template)
    for line in found:
        print(line)
    print(f"{len(template)} messages; {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
