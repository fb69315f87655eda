"""Dutch and English for everything a person reads: pages, the certificate PDF, the verification report.

One language per request (or per rendered document), held in a context variable so that the templates,
the plain-language functions of the pages and the certificate need no `locale` argument threaded
through them:

    with i18n.use("en"):
        render_certificate(...)

The catalogs are gettext PO files in service/i18n/locales/<nl|en>/LC_MESSAGES/messages.po; the source
strings are English and every message has a translation in both catalogs (the English one is the message
itself, so that a missing message is noticed in either: tests/test_i18n.py). They are compiled into
memory when first used (Babel's mofile writer), so no compiled file can go stale. `python scripts/i18n.py`
extracts the messages from the code and the templates and updates both catalogs.

Choosing the language (`negotiate`): the `lang` query parameter (the switch on every page; it is then
remembered in the `hub_lang` cookie), else that cookie, else the browser's Accept-Language; Dutch when
the browser says nothing (the hub's people live in Drenthe), English when it asks for neither language.

Numbers, dates and grades are formatted per language with Babel; times are always Dutch time
(Europe/Amsterdam), labelled (service.documents.dates).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import LazyProxy, Translations

LOCALES: tuple[str, ...] = ("nl", "en")
DEFAULT_LOCALE = "nl"  # when the browser says nothing
FALLBACK_LOCALE = "en"  # when it asks for neither language
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}  # each in its own language, for the switch
COOKIE = "hub_lang"
QUERY = "lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("hub_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog of `locale` (one of LOCALES), compiled from its PO file on first use."""
    if locale not in LOCALES:
        raise ValueError(f"no catalog for {locale!r}: the hub speaks {', '.join(LOCALES)}")
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current() -> str:
    """The language of what is being rendered now: "nl" or "en"."""
    return _current.get()


@contextmanager
def use(locale: str) -> Iterator[str]:
    """Render in `locale` inside the block (a language the hub does not speak: the default)."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_current(locale: str) -> None:
    """Make `locale` the language of the rest of this context (a request: see LocaleMiddleware)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


# ---------------------------------------------------------------- messages


def gettext(message: str, **variables: Any) -> str:
    """`message` in the current language, with `%(name)s` placeholders filled from `variables`."""
    text = translations(current()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The singular or plural form for `n` in the current language; `%(num)s` is `n`, formatted."""
    text = translations(current()).ngettext(singular, plural, n)
    return text % {"num": number(n), **variables}


def pgettext(context: str, message: str, **variables: Any) -> str:
    """`message` in the current language where the same English word needs two translations."""
    text = str(translations(current()).pgettext(context, message))
    return text % variables if variables else text


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """A message translated when it is read (module-level labels): `str(proxy)` in the language of the moment."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext
N_ = lazy_gettext  # for module-level tables of labels: extracted, translated when shown


# ---------------------------------------------------------------- choosing the language


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most preferred first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(ranked)]


@lru_cache(maxsize=512)  # browsers send a handful of distinct headers: parsed once each
def from_accept_language(header: str | None) -> str:
    """The hub's language for an Accept-Language header: Dutch without one, English when it asks for neither."""
    tags = parse_accept_language(header)
    if not tags:
        return DEFAULT_LOCALE
    for tag in tags:
        if tag == "*":
            return DEFAULT_LOCALE
        try:
            language = Locale.parse(tag, sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LOCALES:
            return language
    return FALLBACK_LOCALE


def chosen(value: str | None) -> str | None:
    """`value` when it names a language of the hub ("nl", "en", also "NL" or "nl-BE"), else None."""
    if not value:
        return None
    language = value.strip().lower().replace("_", "-").split("-")[0]
    return language if language in LOCALES else None


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a request: the switch (query), the remembered choice (cookie), the browser."""
    return chosen(query) or chosen(cookie) or from_accept_language(accept_language)


# ---------------------------------------------------------------- numbers


def number(value: int | float | str, locale: str | None = None) -> str:
    """A number as the reader writes it: "1.234,5" in Dutch, "1,234.5" in English."""
    return format_decimal(value, locale=locale or current())


def grade(value: str, locale: str | None = None) -> str:
    """A grade as the issuer wrote it, with a decimal number in the reader's notation ("7.5" -> "7,5" in Dutch);
    anything else ("Pass", "B+", "8/10") exactly as written."""
    text = value.strip()
    try:
        float(text)
    except ValueError:
        return value
    if not text.isascii() or not all(ch.isdigit() or ch == "." for ch in text) or text.count(".") > 1:
        return value
    decimals = len(text.partition(".")[2])
    pattern = "0" if decimals == 0 else "0." + "0" * decimals
    return format_decimal(text, format=pattern, locale=locale or current())


__all__ = [
    "COOKIE",
    "DEFAULT_LOCALE",
    "LANGUAGE_NAMES",
    "LOCALES",
    "N_",
    "QUERY",
    "_",
    "chosen",
    "current",
    "from_accept_language",
    "gettext",
    "grade",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "number",
    "pgettext",
    "set_current",
    "translations",
    "use",
]
