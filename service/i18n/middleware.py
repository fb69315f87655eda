"""The language of each request, for everything rendered while it is answered (pages, PDFs, the report).

A pure ASGI middleware: it chooses the language (service.i18n.negotiate), sets it for the request's context
(the endpoint, run in the same task or in a worker thread with a copy of the context, sees it), and on the
way out says which language the answer is in (`Content-Language`) and that it depends on the request's
language headers (`Vary`). A language chosen with the switch (`?lang=en`) is remembered in a cookie for a
year (when the answer is a page; a file in another language, such as a certificate PDF, changes nothing):
the next page is in the same language without the parameter.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import i18n

COOKIE_MAX_AGE = 365 * 24 * 3600


def _cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie" and i18n.COOKIE.encode() in value:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed Cookie header is the browser's, not an error of ours
                continue
            if i18n.COOKIE in jar:
                return jar[i18n.COOKIE].value
    return None


def request_language(scope: Scope) -> tuple[str, str | None]:
    """(the language of the request, the language its `lang` parameter chose or None)."""
    raw_query = scope.get("query_string", b"")
    query = parse_qs(raw_query.decode("latin-1")).get(i18n.QUERY, [None])[-1] if raw_query else None
    headers = scope.get("headers", [])
    accept = next((value.decode("latin-1") for name, value in headers if name == b"accept-language"), None)
    switched = i18n.chosen(query)
    return i18n.negotiate(query, _cookie(headers), accept), switched


class LocaleMiddleware:
    def __init__(self, app: ASGIApp, *, secure_cookie: bool = False) -> None:
        self.app = app
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language, switched = request_language(scope)
        i18n.set_current(language)
        scope.setdefault("state", {})["locale"] = language

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Language", language)
                vary = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
                for name in ("Accept-Language", "Cookie"):
                    if name not in vary:
                        vary.append(name)
                headers["Vary"] = ", ".join(vary)
                # remembered only from a page: a PDF in English (`certificate.pdf?lang=en`) does not switch the site
                if switched and headers.get("Content-Type", "").startswith("text/html"):
                    attributes = f"Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly"
                    if self.secure_cookie:
                        attributes += "; Secure"
                    headers.append("Set-Cookie", f"{i18n.COOKIE}={switched}; {attributes}")
            await send(message)

        await self.app(scope, receive, send_with_language)
