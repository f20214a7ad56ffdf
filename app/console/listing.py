"""Lists on pages: columns shared by the HTML table and the XLSX download, filter forms read
from the query string, and cursor paging like the API's (`limit` ≤ 500, opaque `cursor`).

A filter value that does not fit its field is reported (in Chinese, on the page) and ignored;
it never reaches a query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from app.errors import Invalid
from app.pagination import LIST_LIMIT_MAX, decode_cursor

PAGE_LIMIT_DEFAULT = 50
KINDS = ("text", "money", "date", "datetime", "status", "int", "period", "insutype")


@dataclass(frozen=True)
class Column:
    """One column: its heading, how to read the value from a row, how to show it."""

    heading: str
    value: Callable[[Any], Any]
    kind: str = "text"
    status_kind: str | None = None  # statuses: the domain whose labels apply
    link: Callable[[Any], str] | None = None  # the cell links to this URL

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "int")


@dataclass(frozen=True)
class Filter:
    """A filter field of a list: a select (options), a month (YYYY-MM), a date or text."""

    name: str
    label: str
    kind: str = "text"  # select | month | date | text
    options: Sequence[tuple[str, str]] = ()
    pattern: str | None = None  # text: the value must match (fullmatch)
    chars_max: int = 40

    def parse(self, raw: str) -> tuple[Any, str | None]:
        """(value or None, error in Chinese or None) for the raw query-string text."""
        text = raw.strip()
        if not text:
            return None, None
        if len(text) > self.chars_max:
            return None, f"{self.label}：过长"
        if self.kind == "select":
            if text not in {value for value, _ in self.options}:
                return None, f"{self.label}：没有“{text}”这一项"
            return text, None
        if self.kind == "month":
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
                return None, f"{self.label}：请按“2026-09”的格式填写"
            return text, None
        if self.kind == "date":
            try:
                return date.fromisoformat(text), None
            except ValueError:
                return None, f"{self.label}：请按“2026-09-01”的格式填写日期"
        if self.pattern and not re.fullmatch(self.pattern, text):
            return None, f"{self.label}：格式不对"
        return text, None


@dataclass
class ListQuery:
    """What a list page was asked for: filter values, page size and cursor, and any errors."""

    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    limit: int = PAGE_LIMIT_DEFAULT
    cursor: str | None = None
    after_id: int | None = None

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def url(self, path: str, **changes: str | None) -> str:
        """The list's URL with these filters and the given changes (None drops a key)."""
        params = {k: v for k, v in self.raw.items() if v}
        if self.limit != PAGE_LIMIT_DEFAULT:
            params["limit"] = str(self.limit)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return f"{path}?{urlencode(params)}" if params else path


def read_query(params: Mapping[str, str], filters: Sequence[Filter]) -> ListQuery:
    """Filters, limit and cursor from a query string; bad values become errors, not 500s."""
    query = ListQuery()
    for one in filters:
        raw = params.get(one.name, "")
        value, error = one.parse(raw)
        if error:
            query.errors.append(error)
        elif value is not None:
            query.values[one.name] = value
            query.raw[one.name] = raw.strip()
    limit_text = params.get("limit", "")
    if limit_text:
        if limit_text.isdigit() and 1 <= int(limit_text) <= LIST_LIMIT_MAX:
            query.limit = int(limit_text)
        else:
            query.errors.append(f"每页条数：1 到 {LIST_LIMIT_MAX} 之间")
    cursor = params.get("cursor") or None
    if cursor:
        try:
            query.after_id = decode_cursor(cursor)
            query.cursor = cursor
        except Invalid:
            query.errors.append("翻页位置无效，已回到第一页")
    return query


def caption(filters: Sequence[Filter], query: ListQuery) -> str:
    """The filters in force, in words (`结算期：2026-01；险种：居民医保`), for an export."""
    shown = []
    for one in filters:
        value = query.raw.get(one.name)
        if value:
            labels = dict(one.options)
            shown.append(f"{one.label}：{labels.get(value, value)}")
    return "；".join(shown)
