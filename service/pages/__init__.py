"""The server-rendered pages (Jinja2 templates, one stylesheet): home, share, verify, the board's register.

app.include_router(pages.router)
app.mount("/static", pages.static_files(), name="static")
"""

from service.pages.not_found import page_for_browser
from service.pages.routes import docs_headers, router, static_files

__all__ = ["docs_headers", "page_for_browser", "router", "static_files"]
