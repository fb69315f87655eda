"""What the service writes to its logs never holds a graduate's holder token nor a staff invitation: a holder
link (`/holder/<holder token>`) is written `/holder/…` and an invitation link (`/invite/<token>`) `/invite/…`,
in the access log (uvicorn.access, `install_log_redaction`) and in the service's own messages
(`redact_holder_paths`)."""

from __future__ import annotations

import logging
import re

_HOLDER_PATH = re.compile(r"/holder/(?!links/|credential\.json\b|sign-out\b)[^/?#\s\"]+")
_INVITE_PATH = re.compile(r"/invite/[^/?#\s\"]+")


def redact_holder_paths(text: str) -> str:
    """`text` with the token of every holder link and staff invitation replaced by "…" ("/holder/…",
    "/invite/…")."""
    return _INVITE_PATH.sub("/invite/…", _HOLDER_PATH.sub("/holder/…", text))


class HolderLinkRedactor(logging.Filter):
    """A filter for the access log (uvicorn.access): a holder link is written `/holder/…`, never its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_holder_paths(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_holder_paths(record.msg)
        return True


def install_log_redaction() -> None:
    """Put the redactor on uvicorn's access log (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(item, HolderLinkRedactor) for item in access.filters):
        access.addFilter(HolderLinkRedactor())
