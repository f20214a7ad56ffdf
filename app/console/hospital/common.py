"""What every hospital page shares: the role check, the institution, dates and months from
the query string, notices after a write, the redirect of POST-redirect-GET."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from app.auth.deps import Principal
from app.clock import Clock, business_date, period_of
from app.console import statuses
from app.console.listing import Filter, ListQuery
from app.console.security import require
from app.pagination import encode_cursor

Hospital = Annotated[Principal, Depends(require("hospital"))]

REASON_CHARS_MAX = 300  # a dispute's or an appeal's reason (the domain keeps 300)
REFERENCE_CHARS_MAX = 80  # a stamped document's reference
MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
YEAR_MIN, YEAR_MAX = 2000, 2100


def today(clock: Clock) -> date:
    return business_date(clock.now())


def month_param(request: Request, clock: Clock, name: str = "month") -> tuple[str, list[str]]:
    """A YYYY-MM from the query string (this month when absent; an error when malformed)."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return period_of(today(clock)), []
    if MONTH_RE.fullmatch(raw) and YEAR_MIN <= int(raw[:4]) <= YEAR_MAX:
        return raw, []
    return period_of(today(clock)), ["月份：请按“2026-09”的格式填写"]


def insutype_filter(options: Sequence[str]) -> Filter:
    return Filter(
        "insutype",
        "险种",
        "select",
        options=[(code, statuses.INSUTYPES.get(code, code)) for code in options],
    )


def date_filters() -> list[Filter]:
    return [Filter("from", "起始日期", "date"), Filter("to", "截止日期", "date")]


def range_errors(query: ListQuery) -> list[str]:
    first, last = query.get("from"), query.get("to")
    if first is not None and last is not None and last < first:
        return ["截止日期不能早于起始日期"]
    return []


def notices(request: Request, messages: Mapping[str, str]) -> list[str]:
    """The notice of a write that just succeeded (`?done=` after the redirect)."""
    done = request.query_params.get("done", "")
    return [messages[done]] if done in messages else []


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_urls(
    query: ListQuery, path: str, rows: Sequence[Any], more: bool
) -> dict[str, str | None]:
    """The pager's links of a list paged newest first (the cursor: the last row's id)."""
    return {
        "next_url": query.url(path, cursor=encode_cursor(rows[-1].id)) if more else None,
        "first_url": query.url(path, cursor=None) if query.cursor else None,
    }


def form_text(value: str, chars_max: int) -> str:
    """A form's text: trimmed, line breaks kept as \\n, other control characters dropped."""
    text = value.replace("\r\n", "\n").strip()
    return "".join(c for c in text if c == "\n" or c.isprintable())[: chars_max + 1]
