"""Documents made from credentials for people: the printable certificate (PDF with a QR code)."""

from __future__ import annotations

from service.documents.certificate import render_certificate

__all__ = ["render_certificate"]
