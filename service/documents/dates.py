"""Dates and times as the hub shows them: all in one zone, Dutch time (Europe/Amsterdam), always labelled.

A credential's dates (validFrom, validUntil) are instants (date-times with a zone); the chain's moments
(an anchoring, a revocation, a vote) are unix seconds. Shown side by side in different zones they
contradict each other (an issuing at 23:30 UTC on 3 December and a revocation a minute later read
"3 December" and "4 December"), so the pages and the PDF certificate show every one of them in Dutch
time, with the zone's abbreviation for that instant (CET in winter, CEST in summer):

    date_text("2026-12-03T23:30:00Z")   -> "4 December 2026 (CET)"
    moment_text(1_780_000_000)          -> "28 May 2026, 22:26 CEST"

The zone comes from the system's time zone database, or the `tzdata` package (a dependency) where the
system has none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from service import i18n
from service.credentials.document import parse_datetime

LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

Instant = datetime | int | str


def local(value: Instant) -> datetime:
    """`value` (an aware datetime, a naive one taken as UTC, unix seconds, or a credential date-time) in Dutch
    time.

    :raises ValueError: for a string that is not a credential date-time.
    """
    if isinstance(value, bool):
        raise TypeError("a moment, not a bool")
    if isinstance(value, int):
        value = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        value = parse_datetime(value)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_ZONE)


def zone(moment: datetime) -> str:
    """The zone's abbreviation at `moment` (in Dutch time): "CET" or "CEST"."""
    return moment.tzname() or "Dutch time"


def day_text(value: Instant, locale: str | None = None) -> str:
    """The calendar day in Dutch time, without its label, in the reader's language (service.i18n): "4 December
    2026", "4 december 2026" (for use beside a labelled time)."""
    moment = local(value)
    return format_date(moment.date(), "d MMMM y", locale=locale or i18n.current())


def date_text(value: Instant, locale: str | None = None) -> str:
    """The calendar day in Dutch time, labelled: "4 December 2026 (CET)", "4 december 2026 (CET)"."""
    return f"{day_text(value, locale)} ({zone(local(value))})"


def moment_text(value: Instant, locale: str | None = None) -> str:
    """The day and minute in Dutch time, labelled: "4 December 2026, 00:30 CET", "4 december 2026, 00:30 CET"."""
    moment = local(value)
    return f"{day_text(moment, locale)}, {moment:%H:%M} {zone(moment)}"


__all__ = ["LOCAL_ZONE", "date_text", "day_text", "local", "moment_text", "zone"]
