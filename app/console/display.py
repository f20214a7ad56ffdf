"""Display helpers, registered as Jinja filters: amounts from fen, Chinese dates, statuses.

Pure functions (no database, no clock): the unit tests in tests/unit/test_console_display.py
pin every format."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from app.clock import shanghai
from app.console import statuses

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def yuan_text(fen: int) -> str:
    """Integer fen -> `¥1,234,567.89`, negative `-¥1,234.00`; integer arithmetic only."""
    assert isinstance(fen, int) and not isinstance(fen, bool), "amounts are integer fen"
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{whole:,}.{cents:02d}"


def yuan(fen: int | None) -> Markup:
    """An amount for a page: right-aligned figures, a negative one red with its minus."""
    if fen is None:
        return Markup('<span class="amount empty">—</span>')
    css = "amount neg" if fen < 0 else "amount"
    return Markup('<span class="{}">{}</span>').format(css, yuan_text(fen))


def compact_yuan(fen: int) -> str:
    """A short axis label: `1.25亿`, `36.5万`, `8,200` (yuan, rounded half-up for reading)."""
    value = Decimal(fen) / 100
    size = abs(value)
    if size >= 100_000_000:
        text = _trim(value / 100_000_000, "0.01") + "亿"
    elif size >= 10_000:
        text = _trim(value / 10_000, "0.1") + "万"
    else:
        text = f"{int(value.quantize(Decimal(1), ROUND_HALF_UP)):,}"
    return text


def _trim(value: Decimal, step: str) -> str:
    text = str(value.quantize(Decimal(step), ROUND_HALF_UP))
    return text.rstrip("0").rstrip(".") if "." in text else text


def date_cn(day: date | datetime | None) -> str:
    """`2026-03-09（周一）`; an instant is shown as its Shanghai date."""
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = shanghai(day).date()
    return f"{day.isoformat()}（{WEEKDAYS[day.weekday()]}）"


def datetime_cn(moment: datetime | None) -> str:
    """`2026-03-09（周一）14:30` in Shanghai time."""
    if moment is None:
        return "—"
    local = shanghai(moment)
    return f"{date_cn(local.date())}{local:%H:%M}"


def period_cn(period: str) -> str:
    """`2026-09` -> `2026年9月`."""
    year, month = period.split("-")
    return f"{int(year)}年{int(month)}月"


def status(value: str, kind: str | None = None) -> Markup:
    text, colour = statuses.label(value, kind)
    return Markup('<span class="status status-{}">{}</span>').format(colour, text)


def status_text(value: str, kind: str | None = None) -> str:
    return statuses.label(value, kind)[0]


def insutype(code: str) -> str:
    return f"{statuses.INSUTYPES.get(code, code)}（{code}）"


def role(name: str) -> str:
    return statuses.ROLES.get(name, name)


def nl2br(text: str) -> Markup:
    return Markup("<br>").join(escape(text).split("\n"))


FILTERS = {
    "yuan": yuan,
    "yuan_text": yuan_text,
    "compact_yuan": compact_yuan,
    "date_cn": date_cn,
    "datetime_cn": datetime_cn,
    "period_cn": period_cn,
    "status": status,
    "status_text": status_text,
    "insutype": insutype,
    "role": role,
    "nl2br": nl2br,
}
