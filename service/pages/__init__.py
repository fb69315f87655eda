"""The server-rendered pages (Jinja2 templates, one stylesheet): home, share, verify, the board's register, and
the graduate's own page (service.pages.holder).

app.include_router(pages.router)
app.mount("/static", pages.static_files(), name="static")
"""

from service.pages import holder
from service.pages.routes import docs_headers, router, static_files

router.include_router(holder.router)

__all__ = ["docs_headers", "router", "static_files"]
