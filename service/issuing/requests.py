"""What a partner sends to issue: one credential (JSON), or a cohort as JSON or CSV.

A cohort is a list of the same requests as a single credential. CSV columns (a header row first, any
order, `,` or `;` as separator, UTF-8 with or without BOM, empty lines skipped):

    programme_id   required  the hub's programme id, e.g. miw-data-analytics (GET /programmes)
    email          required  the graduate's email address (only its salted hash goes into the credential)
    name           required  the graduate's full name (a claim the graduate may withhold when sharing)
    result         optional  the final grade on the Dutch scale 1.0-10.0 ("8", "8.5" or "8,5"); the claim the
                             credential discloses under the same name. `grade` is accepted for it.
    valid_from     optional  ISO 8601 date or date-time (default: now); a date means 00:00 UTC
    valid_until    optional  ISO 8601 date or date-time, later than valid_from (default: no end)

Rows are numbered from 1 after the header; a problem names the row and the line of the file.
"""

from __future__ import annotations

import csv
import email.policy
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.parser import BytesParser
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from service.errors import InvalidInput, PayloadTooLarge, validation_message

CSV_COLUMNS = ("programme_id", "email", "name", "result", "valid_from", "valid_until")
# another name accepted for a column: `grade` is the `result` column (files made before the names agreed)
CSV_COLUMN_ALIASES = {"grade": "result"}
REQUIRED_CSV_COLUMNS = ("programme_id", "email", "name")
MAX_REPORTED_PROBLEMS = 50

# Pragmatic: one @, no spaces, a dot in the domain, no dot at either end of a part. Deliverability is
# the partner's business; this catches typing errors.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_GRADE = re.compile(r"(10|[1-9])(?:[.,]([0-9]))?")
PROGRAMME_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")


class Refusal(ValueError):
    """A validator's refusal with a code and its values, which the console words in its reader's language (pydantic
    keeps it in the error's ctx; the API and the CLI show the English message)."""

    def __init__(self, message: str, code: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


# A cell starting with one of these is a formula to a spreadsheet (OWASP: CSV injection)
FORMULA_STARTS = frozenset("=+-@\t\r")


def csv_cell(value: object) -> str:
    """`value` as a CSV cell a spreadsheet shows as text: one that would start a formula gets a leading ' (OWASP)."""
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _email(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the str type reports it
    value = value.strip()
    if value[:1] in FORMULA_STARTS:
        raise Refusal(
            f"{value!r:.80} starts with {value[0]!r}: not an email address (a spreadsheet would read it as a formula)",
            "email_formula",
            value=value[:80],
            start=value[0],
        )
    local, _, _domain = value.partition("@")
    if len(value) > 254 or not _EMAIL.fullmatch(value) or local.startswith(".") or local.endswith(".") or ".." in value:
        raise Refusal(f"{value!r:.80} is not a valid email address", "email_invalid", value=value[:80])
    return value


def _grade(value: Any) -> Any:
    """A grade on the Dutch scale as the credential writes it: one decimal, a point ("8" -> "8.0")."""
    if isinstance(value, bool):
        raise Refusal("a grade is a number from 1.0 to 10.0", "grade_invalid", value=str(value))
    if isinstance(value, (int, float)):
        value = f"{value:.10g}"
    if not isinstance(value, str):
        raise Refusal("a grade is a number from 1.0 to 10.0", "grade_invalid", value=str(value)[:20])
    match = _GRADE.fullmatch(value.strip())
    if match is None or (match.group(1) == "10" and (match.group(2) or "0") != "0"):
        raise Refusal(
            f"{value!r:.20} is not a grade from 1.0 to 10.0 with at most one decimal", "grade_invalid", value=value[:20]
        )
    return f"{match.group(1)}.{match.group(2) or '0'}"


def _person_name(value: Any) -> Any:
    if isinstance(value, str):
        value = " ".join(value.split())
        if any(unicodedata.category(char).startswith("C") for char in value):
            raise Refusal("a name must not contain control characters", "name_control")
    return value


def _moment(value: Any) -> Any:
    """A date (00:00 UTC) or a date-time with a time zone, in the years 1000-9999 in UTC (a credential writes
    it in UTC with a four-digit year)."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return _in_range(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Refusal(
                f"{text!r:.40} is not a date (2026-07-01) or date-time (2026-07-01T09:00:00+02:00)",
                "moment_invalid",
                value=text[:40],
            ) from None
        if parsed.tzinfo is None:
            raise Refusal("a date-time needs a time zone, e.g. 2026-07-01T09:00:00+02:00 or ...Z", "moment_no_zone")
        return _in_range(parsed)
    if isinstance(value, datetime):
        return value
    raise ValueError("give a date (2026-07-01) or date-time (2026-07-01T09:00:00+02:00) as text")


def _in_range(moment: datetime) -> datetime:
    try:
        year = moment.astimezone(UTC).year
    except OverflowError:  # e.g. 9999-12-31T23:59:59-12:00 has no UTC time
        year = 0
    if not 1000 <= year <= 9999:
        raise Refusal(
            f"{moment.isoformat()} is out of range: give a moment between the years 1000 and 9999 in UTC",
            "moment_out_of_range",
        )
    return moment


Email = Annotated[
    str,
    BeforeValidator(_email),
    Field(max_length=254, examples=["jan.devries@example.org"], description="the graduate's email address"),
]
Grade = Annotated[
    str,
    BeforeValidator(_grade),
    Field(
        examples=["8.5"],
        description=(
            'the final grade, Dutch scale 1.0-10.0 (a number, or text like "8,5"); only for graded programmes; '
            "the credential discloses it as `result` (`grade` is accepted for this field)"
        ),
    ),
]
PersonName = Annotated[
    str, BeforeValidator(_person_name), Field(min_length=1, max_length=200, examples=["Jan de Vries"])
]
Moment = Annotated[datetime, BeforeValidator(_moment)]


class CredentialCreate(BaseModel):
    """One graduate's credential for one programme of the calling partner."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "programme_id": "miw-data-analytics",
                    "email": "jan.devries@example.org",
                    "name": "Jan de Vries",
                    "result": "8.5",
                    "valid_from": "2026-07-01",
                    "valid_until": "2031-07-01",
                }
            ]
        },
    )

    programme_id: str = Field(
        min_length=1, max_length=64, description="the programme's id (GET /programmes)", examples=["miw-data-analytics"]
    )
    email: Email
    name: PersonName = Field(description="the graduate's full name; the graduate may withhold it when sharing")
    grade: Grade | None = Field(None, validation_alias=AliasChoices("result", "grade"))
    valid_from: Moment | None = Field(
        None, description="from when it is valid: a date (00:00 UTC) or a date-time with time zone; default now"
    )
    valid_until: Moment | None = Field(None, description="until when it is valid (exclusive); default no end")

    @model_validator(mode="after")
    def _window(self) -> CredentialCreate:
        if self.valid_from is not None and self.valid_from.tzinfo is None:
            raise ValueError("valid_from needs a time zone")
        if self.valid_until is not None:
            if self.valid_until.tzinfo is None:
                raise ValueError("valid_until needs a time zone")
            start = self.valid_from or datetime.now(UTC)
            if self.valid_until <= start:
                raise Refusal("valid_until must be later than valid_from (or than now)", "window_order")
            if self.valid_until <= datetime.now(UTC):
                raise Refusal(
                    f"valid_until {self.valid_until.isoformat()} has passed: the credential would be "
                    "expired when issued",
                    "window_passed",
                    value=self.valid_until.date().isoformat(),
                )
        return self


class CohortCreate(BaseModel):
    """A cohort: credentials anchored together in one transaction (the rows of a CSV, as JSON)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "credentials": [
                        {
                            "programme_id": "miw-data-analytics",
                            "email": "jan.devries@example.org",
                            "name": "Jan de Vries",
                            "result": "8.5",
                        },
                        {
                            "programme_id": "miw-data-analytics",
                            "email": "fatima.elamrani@example.org",
                            "name": "Fatima El Amrani",
                            "result": "7.9",
                        },
                    ]
                }
            ]
        },
    )

    credentials: list[CredentialCreate] = Field(min_length=1, description="one entry per graduate")


@dataclass(frozen=True)
class Row:
    """One request of a cohort and where it came from (row 1 is the first after a CSV's header)."""

    number: int
    line: int | None  # the line of the CSV file; None for JSON
    request: CredentialCreate

    def where(self) -> str:
        return f"row {self.number}" + (f" (line {self.line})" if self.line is not None else "")


@dataclass(frozen=True)
class RowProblem:
    row: int | None  # None for a single credential
    line: int | None
    field: str | None
    message: str  # English, for the API and the CLI
    code: str = "invalid"  # pydantic's error type, or the code of the service's own check
    values: Mapping[str, Any] | None = None  # the values the code's sentence names

    def sentence(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line is not None else ""))
        if self.field:
            where.append(self.field)
        return ": ".join([*where, self.message])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.row is not None:
            out["row"] = self.row
        if self.line is not None:
            out["line"] = self.line
        if self.field:
            out["field"] = self.field
        return out


def refuse(problems: Sequence[RowProblem], *, what: str = "the cohort") -> InvalidInput:
    """The 422 for `problems`: the first in the detail, all (up to a limit) in `errors`."""
    first = problems[0]
    more = len(problems) - 1
    detail = first.sentence()
    if first.row is not None:
        detail += (
            f" ({more} more problem{'s' if more != 1 else ''} listed in errors; nothing was issued)"
            if more
            else " (nothing was issued)"
        )
    return InvalidInput(
        detail,
        row=first.row,
        line=first.line,
        field=first.field,
        errors=[item.to_json() for item in problems[:MAX_REPORTED_PROBLEMS]],
    ).coded("rows", problems=tuple(problems[:MAX_REPORTED_PROBLEMS]))


def validation_problems(exc: ValidationError, row: int | None, line: int | None) -> list[RowProblem]:
    """Pydantic's errors as problems, each with its code: a Refusal's own, else pydantic's error type."""
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
        context = dict(error.get("ctx") or {})
        cause = context.pop("error", None)
        code, values = (cause.code, cause.values) if isinstance(cause, Refusal) else (error["type"], context)
        problems.append(RowProblem(row, line, ".".join(location) or None, validation_message(error), code, values))
    return problems


def check_size(count: int, max_rows: int) -> None:
    """:raises PayloadTooLarge: a cohort of more than `max_rows` credentials."""
    if count > max_rows:
        raise PayloadTooLarge(
            f"the cohort has {count} credentials; at most {max_rows} are accepted in one batch: "
            "split it into several batches",
            limit=max_rows,
        ).coded("too_many_rows", limit=max_rows)


def cohort_rows(cohort: CohortCreate) -> list[Row]:
    return [Row(index + 1, None, request) for index, request in enumerate(cohort.credentials)]


def cohort_from_json(raw: Any, max_rows: int) -> list[Row]:
    """A JSON cohort ({"credentials": [...]}), as parsed from the body (service.api.problems.read_json), as rows.

    :raises InvalidInput: a credential that is not valid (its row is its place in the list).
    :raises PayloadTooLarge: more than `max_rows` credentials.
    """
    items = raw.get("credentials") if isinstance(raw, dict) else None
    if isinstance(items, list):
        check_size(len(items), max_rows)
    try:
        cohort = CohortCreate.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error.get("loc", ()))
            if len(loc) >= 2 and loc[0] == "credentials" and isinstance(loc[1], int):
                field = ".".join(str(part) for part in loc[2:]) or None
                problems.append(RowProblem(loc[1] + 1, None, field, validation_message(error)))
            else:
                problems.extend(validation_problems(exc, None, None)[:1])
                break
        raise refuse(problems) from None
    return cohort_rows(cohort)


def parse_cohort_csv(data: bytes, max_rows: int) -> list[Row]:
    """A CSV cohort (see the module docstring) as rows.

    :raises InvalidInput: not UTF-8 text, a missing or unknown column, or any row that is not valid;
        the problem names the row and line.
    :raises PayloadTooLarge: more than `max_rows` rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the CSV is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8").coded(
            "csv_not_utf8", byte=exc.start
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise InvalidInput(
                "the CSV is empty: it needs a header row with the columns "
                f"{', '.join(REQUIRED_CSV_COLUMNS)} and one row per graduate"
            ).coded("csv_empty")
        columns = [cell.strip().lower().replace(" ", "_") for cell in header]
        columns = [CSV_COLUMN_ALIASES.get(name, name) for name in columns]
        unknown = [name for name in columns if name not in CSV_COLUMNS]
        if unknown:
            # one cell holding tabs or bars: a file separated by something else than commas or semicolons
            separated = len(header) == 1 and any(mark in header[0] for mark in "\t|")
            raise InvalidInput(
                f"the CSV has unknown column{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(name) for name in unknown)}; the columns are "
                f"{', '.join(CSV_COLUMNS)} (grade is accepted for result)",
                line=reader.line_num,
            ).coded(
                "csv_separator" if separated else "csv_unknown_columns",
                line=reader.line_num,
                columns=[name[:40] for name in unknown],
            )
        missing = [name for name in REQUIRED_CSV_COLUMNS if name not in columns]
        if missing:
            raise InvalidInput(
                f"the CSV has no column {', '.join(missing)}; the header must name at least "
                f"{', '.join(REQUIRED_CSV_COLUMNS)}",
                line=reader.line_num,
            ).coded("csv_missing_columns", line=reader.line_num, columns=missing)
        if len(set(columns)) != len(columns):
            raise InvalidInput(
                "the CSV header names a column twice (grade and result are one column: the result)",
                line=reader.line_num,
            ).coded("csv_twice", line=reader.line_num)
        rows: list[Row] = []
        problems: list[RowProblem] = []
        number = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            number += 1
            line = reader.line_num
            check_size(number, max_rows)
            if len(cells) != len(columns):
                message = f"has {len(cells)} cells, the header has {len(columns)} columns"
                problems.append(
                    RowProblem(number, line, None, message, "cells", {"cells": len(cells), "columns": len(columns)})
                )
                continue
            values = {name: cell.strip() for name, cell in zip(columns, cells, strict=True) if cell.strip()}
            try:
                rows.append(Row(number, line, CredentialCreate.model_validate(values)))
            except ValidationError as exc:
                problems.extend(validation_problems(exc, number, line))
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read at line {reader.line_num}: {exc}", line=reader.line_num).coded(
            "csv_unreadable", line=reader.line_num, detail=str(exc)
        ) from None
    if problems:
        raise refuse(problems)
    if not rows:
        raise InvalidInput("the CSV has a header but no graduates: add one row per graduate").coded("csv_no_rows")
    return rows


def csv_from_multipart(body: bytes, content_type: str) -> bytes:
    """The CSV file of a multipart/form-data upload: the part named `file`.

    :raises InvalidInput: the body is not multipart form data or has no `file` part.
    """
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise InvalidInput("the form data cannot be read: send the CSV as a multipart/form-data field named 'file'")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    raise InvalidInput(
        "the form has no field 'file': send the CSV as a multipart/form-data field named 'file'", field="file"
    )
