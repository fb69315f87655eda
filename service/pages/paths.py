"""The `rowid` path convertor of the pages: a database id in a URL (`/holder/links/{link_id:rowid}`).

Only 1 to 9 digits match (service.db.models.ROW_ID: the ids are INTEGER columns, and PostgreSQL refuses a larger
number in a query): any other value is no such page (a 404 page for a browser, service.pages.not_found), never a
database error.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from service.db.models import ROW_ID


class RowIdConvertor(Convertor[int]):
    regex = ROW_ID.pattern

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not ROW_ID.fullmatch(str(value)):
            raise ValueError(f"{value} is not a row id")
        return str(value)


register_url_convertor("rowid", RowIdConvertor())


def row_id(text: str) -> int | None:
    """`text` as a row id when the convertor would take it (a query parameter's), else None. Not str.isdigit:
    it says yes to digits int() cannot read ("²")."""
    return int(text) if ROW_ID.fullmatch(text) else None
