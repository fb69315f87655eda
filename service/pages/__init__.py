"""The server-rendered pages (Jinja2 templates, one stylesheet): home, share, verify (service.pages.routes), the
board's register and the accredited partners (service.pages.board), and the graduate's own page
(service.pages.holder); staff sign-in (service.pages.signin) and the consoles (service.pages.admin_console,
service.pages.board_console, service.pages.partner_console).

app.include_router(pages.router)
app.mount("/static", pages.static_files(), name="static")
"""

from fastapi import APIRouter

from service.pages import admin_console, board, board_console, holder, meetings_console, partner_console, routes, signin
from service.pages.console import too_large
from service.pages.not_found import page_for_browser
from service.pages.routes import docs_headers, static_files

router = APIRouter(include_in_schema=False)
router.include_router(routes.router)
router.include_router(board.router)
router.include_router(board_console.router)
router.include_router(holder.router)
router.include_router(signin.router)
router.include_router(admin_console.router)
router.include_router(meetings_console.router)
router.include_router(partner_console.router)

__all__ = ["docs_headers", "page_for_browser", "router", "static_files", "too_large"]
