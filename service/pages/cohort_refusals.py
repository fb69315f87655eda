"""The partner console's refusals of a cohort file or of the issue-one form, in the reader's language.

The service's problems are English sentences for developers (the API's problem details, the CLI). The console
words each one itself, from its code (pydantic's error type, or the code the service's own checks attach:
service.issuing.requests.Refusal, RowProblem.code, HubError.coded) and its values, never by translating the
English text. A column keeps the name it has in the file ("de kolom email"). A code without a sentence here
gets a generic one that still names the line and the column, with the English detail in parentheses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from service import i18n
from service.errors import HubError
from service.i18n import _
from service.issuing.requests import RowProblem

Values = Mapping[str, Any]

# A row's problem, as the end of a sentence: (the column it is about, as "the column email"; its values) -> words
ROW_SENTENCES: dict[str, Callable[[str, Values], str]] = {
    "missing": lambda column, v: _("%(column)s is empty, and it is required.", column=column),
    "string_too_short": lambda column, v: _("%(column)s is empty, and it is required.", column=column),
    "string_too_long": lambda column, v: _(
        "%(column)s is too long: at most %(max)s characters.", column=column, max=i18n.number(v["max_length"])
    ),
    "email_invalid": lambda column, v: _(
        "%(column)s holds no valid e-mail address: “%(value)s”.", column=column, value=v["value"]
    ),
    "email_formula": lambda column, v: _(
        "%(column)s holds “%(value)s”, which is not an e-mail address (a spreadsheet reads a cell that starts "
        "with %(start)s as a formula).",
        column=column,
        value=v["value"],
        start=v["start"],
    ),
    "grade_invalid": lambda column, v: _(
        "%(column)s holds no grade from %(low)s to %(high)s with at most one decimal: “%(value)s”.",
        column=column,
        low=i18n.grade("1.0"),
        high=i18n.grade("10.0"),
        value=v["value"],
    ),
    "name_control": lambda column, v: _(
        "%(column)s holds control characters (such as a tab or a line break).", column=column
    ),
    "moment_invalid": lambda column, v: _(
        "%(column)s holds no date (2026-07-01) or date and time (2026-07-01T09:00:00+02:00): “%(value)s”.",
        column=column,
        value=v["value"],
    ),
    "moment_no_zone": lambda column, v: _(
        "%(column)s holds a time without a time zone: add one, for example 2026-07-01T09:00:00+02:00.",
        column=column,
    ),
    "moment_out_of_range": lambda column, v: _(
        "%(column)s holds a moment outside the years 1000 to 9999.", column=column
    ),
    "window_order": lambda column, v: _(
        "the date in valid_until must be later than the one in valid_from (or than now, when valid_from is empty)."
    ),
    "window_passed": lambda column, v: _(
        "the date in valid_until (%(value)s) has passed: the credential would be expired when it is issued.",
        value=v["value"],
    ),
    "cells": lambda column, v: i18n.ngettext(
        "the row has %(cells)s cell, but the header has %(columns)s columns.",
        "the row has %(cells)s cells, but the header has %(columns)s columns.",
        v["cells"],
        cells=v["cells"],
        columns=v["columns"],
    ),
    "unknown_programme": lambda column, v: _(
        "%(column)s names no programme of the hub: “%(value)s” (the programmes are listed at the bottom of the "
        "partner console).",
        column=column,
        value=v["value"],
    ),
    "not_graded": lambda column, v: _(
        "the programme %(value)s has no grades: leave %(column)s empty.", column=column, value=v["value"]
    ),
    "duplicate": lambda column, v: _(
        "%(column)s repeats row %(first)s: %(value)s already gets this programme in this file.",
        column=column,
        first=v["first"],
        value=v["value"],
    ),
    "foreign_programme": lambda column, v: _(
        "%(column)s names a programme that another partner issues: %(value)s.", column=column, value=v["value"]
    ),
}


def _file_sentence(exc: HubError) -> str | None:
    """A refusal of the whole file (or of the request), or None for a code without a sentence here."""
    v = exc.values
    code = exc.code
    if code == "csv_not_utf8":
        return _(
            "The file is not UTF-8 text (byte %(byte)s). Save it as “CSV UTF-8” and upload it again.", byte=v["byte"]
        )
    if code == "csv_empty":
        return _(
            "The file is empty: it needs a header row with the columns programme_id, email and name, and one row "
            "per graduate."
        )
    if code == "csv_no_rows":
        return _("The file has a header row but no graduates: add one row per graduate.")
    if code == "csv_separator":
        return _(
            "Line %(line)s: the columns are not separated by commas or semicolons. Save the file as CSV with commas "
            "or semicolons and upload it again.",
            line=v["line"],
        )
    if code == "csv_unknown_columns":
        columns = ", ".join(v["columns"])
        return (
            i18n.ngettext(
                "Line %(line)s: the header names a column the hub does not know: %(columns)s.",
                "Line %(line)s: the header names columns the hub does not know: %(columns)s.",
                len(v["columns"]),
                line=v["line"],
                columns=columns,
            )
            + " "
            + _(
                "The columns are programme_id, email, name, result, valid_from and valid_until (grade is accepted for "
                "result)."
            )
        )
    if code == "csv_missing_columns":
        return i18n.ngettext(
            "Line %(line)s: the header lacks the column %(columns)s; it needs at least programme_id, email and name.",
            "Line %(line)s: the header lacks the columns %(columns)s; it needs at least programme_id, email and name.",
            len(v["columns"]),
            line=v["line"],
            columns=", ".join(v["columns"]),
        )
    if code == "csv_twice":
        return _(
            "Line %(line)s: the header names a column twice (grade and result are the same column).", line=v["line"]
        )
    if code == "csv_unreadable":
        return _("Line %(line)s: the file cannot be read as CSV (%(detail)s).", line=v["line"], detail=v["detail"])
    if code == "too_many_rows":
        return _(
            "The file has more than %(limit)s graduates: split it into files of at most %(limit)s graduates each.",
            limit=i18n.number(v["limit"]),
        )
    if code == "not_accredited":
        return _(
            "Your organisation is not accredited by the board now, so nothing can be issued. Ask the hub's board "
            "about it."
        )
    return None


def refusal_lines(exc: HubError, *, form: bool = False, limit: int = 50) -> list[str]:
    """`exc` (a refused cohort file, or the refused issue-one form when `form`) as sentences, each problem of a
    row with its line and row."""
    if exc.code == "rows":
        problems: Sequence[RowProblem] = exc.values["problems"]
        return [problem_sentence(problem, form=form) for problem in problems[:limit]]
    if exc.code == "foreign_programme":
        values = exc.values
        foreign = RowProblem(values["row"], values["line"], "programme_id", exc.detail, exc.code, values)
        return [problem_sentence(foreign, form=form)]
    known = _file_sentence(exc)
    if known is not None:
        return [known]
    if exc.extra.get("line") is not None:
        return [_("Line %(line)s: the file was refused (%(detail)s).", line=exc.extra["line"], detail=exc.detail)]
    return [_("Nothing was issued (%(detail)s).", detail=exc.detail)]


def problem_sentence(problem: RowProblem, *, form: bool = False) -> str:
    """One problem of a row (or of the form) as a sentence in the reader's language."""
    column = problem.field or ""
    if column:
        column = _("the field %(name)s", name=column) if form else _("the column %(name)s", name=column)
    wording = ROW_SENTENCES.get(problem.code)
    words = None
    if wording is not None:
        try:
            words = wording(column, problem.values or {})
        except KeyError:  # a code's values missing: the generic sentence
            words = None
    if words is None:
        words = (
            _("%(column)s is not valid (%(detail)s).", column=column, detail=problem.message)
            if column
            else _("the form is not valid (%(detail)s).", detail=problem.message)
            if form
            else _("the row is not valid (%(detail)s).", detail=problem.message)
        )
    if problem.row is None:
        return words[:1].upper() + words[1:]
    line = problem.line if problem.line is not None else problem.row + 1
    return _("Line %(line)s (row %(row)s): %(problem)s", line=line, row=problem.row, problem=words)
