"""The FastAPI application: `uvicorn service.main:app` (settings from HUB_* environment variables)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from service import pages
from service.api import api_router, idempotency, problems
from service.hub import Hub
from service.i18n.middleware import LocaleMiddleware
from service.settings import Settings
from service.web.logs import install_log_redaction

SWAGGER = "/static/vendor/swagger-ui"  # Swagger UI 5 (swagger-ui-dist), vendored in service/pages/static

DESCRIPTION = """
Verifiable micro-credentials and board governance for the **IT Hub Hoogeveen**.

* Partners issue credentials (one, or a whole cohort anchored in one transaction) and revoke them.
* Graduates share their credential (link, QR, PDF); employers verify it here or with public tools alone.
* The stichting board proposes, votes and decides; its decisions govern which partners may issue.

Errors are RFC 9457 problem details (`application/problem+json`). Keys: `Authorization: Bearer <key>`.

**Getting started** (a partner issuing its first credential; the hub starts without keys):

1. **Key**: the hub's operator creates one for the partner's accredited account:
   `hub keys create --role issuer --name "…" --address 0x…` (shown once; in Docker:
   `docker compose exec api-1 hub keys create …`). Send it as `Authorization: Bearer <key>`.
2. **Programme**: `POST /programmes` describes what the credential is for (or pick one of `GET /programmes`).
3. **Issue**: `POST /credentials` for one graduate, or `POST /credentials/batch` for a cohort (JSON or CSV);
   follow `GET /batches/{batch_id}` until it is `anchored` (`GET /batches` lists your batches).
4. **Share**: give the graduate her `holder_url` (in the issuing answer): it opens her own page, where she makes
   share links with the claims she chooses. Over the API: `PUT /credentials/{credential_id}/sharing` with
   `X-Holder-Token: <token>` and `{"disclose": ["name"]}`; the answer has the `share_url`.
5. **Verify**: anyone `POST /verify`s the credential JSON (or opens the share URL); no key needed.
"""


def create_app(settings: Settings | None = None, hub: Hub | None = None) -> FastAPI:
    """Build the app; the Hub (chain, database, keys) is started in the lifespan unless one is given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = hub or Hub.start(settings or Settings())
        app.state.hub = started
        # the head watcher (POST /verify's cache is per block), and the bid to lead the background work
        started.start_background()
        try:
            yield
        finally:
            started.stop_background()
            await started.verification_cache.aclose()
            if hub is None:
                started.close()

    app = FastAPI(
        title="IT Hub Hoogeveen credentials",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the service's own static files: the docs load nothing from the internet (a CSP says
        so, like the pages'; Swagger UI starts with an inline script, allowed by its hash), and no site frames
        them."""
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
        page.headers.update(pages.docs_headers(bytes(page.body)))
        return page

    problems.install(app, page_for=pages.page_for_browser)  # an unknown address: a page for a browser
    idempotency.install(app)  # the Idempotency-Key parameter the write routes refer to
    app.include_router(api_router)
    app.include_router(pages.router)  # HTML pages (GET /verify; POST /verify stays the JSON API)
    app.mount("/static", pages.static_files(), name="static")
    install_log_redaction()  # the access log writes a holder link as /holder/…, never its token
    configured = (settings or Settings()) if hub is None else hub.settings
    # JSON bodies are read by the routes (problems.JsonRoute; POST /verify its own way), within this limit
    app.add_middleware(problems.BodyLimit, limit=configured.max_body_bytes, page=pages.too_large)
    # the reader's language (Dutch or English) for the pages, the certificate and the report's sentences
    app.add_middleware(LocaleMiddleware, secure_cookie=configured.public_url.startswith("https://"))
    return app


app = create_app()
