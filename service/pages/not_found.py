"""The page for an address that has none. A person who mistypes an address or follows an old link gets a page
in her language, with the site's navigation (a 404 like the share pages' own), not the API's problem details;
API clients, which ask for JSON or for anything (`*/*`), keep getting problem details.
"""

from __future__ import annotations

from fastapi import Request, Response

from service.i18n import _
from service.pages.routes import not_found


def quality(accept: str, media_type: str) -> float:
    """The q-value an Accept header gives `media_type` (exact matches only; 0 when it is not named)."""
    best = 0.0
    for item in accept.split(","):
        kind, *parameters = (part.strip() for part in item.split(";"))
        if kind.lower() != media_type:
            continue
        weight = 1.0
        for parameter in parameters:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        best = max(best, weight)
    return best


def wants_page(request: Request) -> bool:
    """A browser's GET: it names text/html, and above (or as high as) any JSON."""
    if request.method not in ("GET", "HEAD"):
        return False
    accept = request.headers.get("accept", "")
    html = quality(accept, "text/html")
    json = max(quality(accept, "application/json"), quality(accept, "application/problem+json"))
    return html > 0 and html >= json


def page_for_browser(request: Request, status: int) -> Response | None:
    """A page for an unknown address when a browser asks for it (see problems.install); None otherwise."""
    if status != 404 or not wants_page(request):
        return None
    return not_found(
        request,
        _("This page does not exist"),
        _("There is no page at this address. Check the address you typed or copied, or go on from one of these links."),
    )
