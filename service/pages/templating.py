"""The pages' Jinja2 environment: the templates, their gettext (service.i18n) and their filters.

Templates write every sentence through gettext, never as bare text, so that both catalogs hold it:

    <h1>{{ _("Verify a credential") }}</h1>
    <p>{{ _("Issued by %(issuer)s on %(day)s.", issuer=name, day=when|day) }}</p>   (escaped, then filled)
    {% trans count=n %}One credential{% pluralize %}{{ count }} credentials{% endtrans %}

`locale()` is the page's language ("nl" or "en", for `<html lang>`), `lang_url(request, "en")` the same page
in the other language (the switch in the header keeps the page and its query).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from service import i18n

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def lang_url(request: Request, language: str) -> str:
    """This page's path and query with `lang=<language>` (the switch; the middleware remembers the choice).

    A page that answers a form (POST) has no address of its own to open again: the switch leads to the nearest page
    above it that can be opened (`/console/partner/cohorts` → `/console/partner`), never to an address that only
    takes forms. (The verify page's answer has a switch of its own that posts the same input again: base.html.)"""
    if request.method in ("GET", "HEAD"):
        url = request.url.include_query_params(**{i18n.QUERY: language})
        return f"{url.path}?{url.query}"
    path = request.url.path.rstrip("/")
    while path and not _opens(request, path):
        path = path.rsplit("/", 1)[0]
    return f"{path or '/'}?{i18n.QUERY}={language}"


def _opens(request: Request, path: str) -> bool:
    """Whether a GET of `path` reaches a page of this app (not by a route that takes any segment as a token, such
    as `/holder/{token}`, which `/holder/links` would only seem to open)."""
    return any(
        route.path_regex.match(path) and "token" not in route.param_convertors
        for route in _get_routes(request.app.router.routes)
    )


def _get_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes that answer GET, in included routers too."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _get_routes(included.routes)
        elif hasattr(route, "path_regex") and "GET" in (getattr(route, "methods", None) or ()):
            yield route


def _gettext(message: str) -> str:
    return i18n.translations(i18n.current()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.current()).ngettext(singular, plural, n)


def _pgettext(context: str, message: str) -> str:
    return str(i18n.translations(i18n.current()).pgettext(context, message))


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    templates = Jinja2Templates(env=env)
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    env.globals.update(
        locale=i18n.current,
        locales=i18n.LOCALES,
        language_names=i18n.LANGUAGE_NAMES,
        lang_url=lang_url,
    )
    env.filters.update(number=i18n.number, grade=i18n.grade)
    return templates
