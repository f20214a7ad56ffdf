"""首页 of a hospital finance officer: the money received in a month, day by day (daily
payments, monthly net, clearing), and the to-do list with deadlines."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import Principal
from app.clock import Clock, period_add, period_end, period_of, period_start
from app.console import charts
from app.console.display import period_cn
from app.console.hospital import home_queries, queries
from app.console.hospital.common import month_param, today
from app.console.templating import render

SERIES = (("daily", "日拨付"), ("monthly", "月结算拨付"), ("annual", "年度清算拨付"))


def page(request: Request, principal: Principal, session: Session, clock: Clock) -> Response:
    """Rendered for `/console/` when the person is a hospital's (pages.home hands over)."""
    month, errors = month_param(request, clock)
    found = home_queries.receipts(session, principal, month)
    by_day = home_queries.group_receipts(found)
    first, last = period_start(month), period_end(month)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    chart = charts.bar_chart(
        title=f"{period_cn(month)}每日到账（日拨付、月结算拨付、年度清算拨付）",
        categories=[str(day.day) for day in days],
        series=[
            charts.Series(name, [by_day.get(day, {}).get(kind, 0) for day in days])
            for kind, name in SERIES
        ],
        stacked=True,
        description=_describe(month, found),
    )
    totals = {kind: sum(r.amount_fen for r in found if r.kind == kind) for kind, _ in SERIES}
    now = today(clock)
    return render(
        request,
        "hospital/home.html",
        {
            "title": "首页",
            "institution": queries.institution(session, principal),
            "month": month,
            "previous_month": period_add(month, -1),
            "next_month": period_add(month, 1) if month < period_of(now) else None,
            "chart": chart,
            "series": SERIES,
            "totals": totals,
            "total": sum(totals.values()),
            "receipt_days": len(by_day),
            "todos": home_queries.todos(session, principal, now),
            "today": now,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


def _describe(month: str, found: list[home_queries.Receipt]) -> str:
    if not found:
        return f"{period_cn(month)}没有到账记录"
    days = sorted({r.day for r in found})
    return f"{period_cn(month)}共 {len(found)} 笔到账，分布在 {len(days)} 天"
