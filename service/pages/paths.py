"""The `rowid` path convertor of the pages: a database id in a URL (`/holder/links/{link_id:rowid}`).

Only 1 to 18 digits match (at most 2**63 - 1, the largest integer SQLite and PostgreSQL compare): any other value
is no such page (a 404 page for a browser, service.pages.not_found), never a database error.
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

DB_INT_MAX = 2**63 - 1


class RowIdConvertor(Convertor[int]):
    regex = "[1-9][0-9]{0,17}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 < value <= DB_INT_MAX:
            raise ValueError(f"{value} is not a row id")
        return str(value)


register_url_convertor("rowid", RowIdConvertor())


def row_id(text: str) -> int | None:
    """`text` as a row id when the convertor would take it (a query parameter's), else None. Not str.isdigit:
    it says yes to digits int() cannot read ("²")."""
    return int(text) if re.fullmatch(RowIdConvertor.regex, text) else None
