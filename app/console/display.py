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


CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CAPITAL_UNITS = ("", "拾", "佰", "仟")
CAPITAL_SECTIONS = ("", "万", "亿")


def _capital_section(number: int) -> str:
    """0 < number < 10,000 in capital figures, zeros inside it read once (壹仟零伍)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += CAPITAL_DIGITS[digit] + CAPITAL_UNITS[position]
    return text


def yuan_capital(fen: int) -> str:
    """An amount in capital figures as a form writes it (大写金额): `人民币柒仟元整`,
    `人民币壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分`, `人民币壹佰元零伍分`, a negative with 负.
    Integer arithmetic; below a trillion yuan (10^12, above the largest amount accepted)."""
    assert isinstance(fen, int) and not isinstance(fen, bool), "amounts are integer fen"
    whole, cents = divmod(abs(fen), 100)
    assert whole < 10**12, "beyond the capital figures of a form"
    jiao, fen_part = divmod(cents, 10)
    text = ""
    sections = []
    while whole:
        whole, section = divmod(whole, 10_000)
        sections.append(section)
    pending_zero = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            pending_zero = bool(text)
            continue
        if text and (pending_zero or section < 1000):
            text += "零"
        text += _capital_section(section) + CAPITAL_SECTIONS[index]
        pending_zero = False
    if text:
        text += "元"
    if jiao:
        text += CAPITAL_DIGITS[jiao] + "角"
    elif text and fen_part:
        text += "零"
    if fen_part:
        text += CAPITAL_DIGITS[fen_part] + "分"
    if not text:
        text = "零元"
    if not fen_part:
        text += "整"
    return f"人民币{'负' if fen < 0 else ''}{text}"


def percent_bp(bp: int) -> str:
    """A ratio in basis points as a percentage: 6000 -> `60%`, 625 -> `6.25%`."""
    whole, part = divmod(bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


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
    return f"{statuses.FUND_NAMES.get(code, code)}（{code}）"


def role(name: str) -> str:
    return statuses.ROLES.get(name, name)


def nl2br(text: str) -> Markup:
    return Markup("<br>").join(escape(text).split("\n"))


FILTERS = {
    "yuan": yuan,
    "yuan_text": yuan_text,
    "yuan_capital": yuan_capital,
    "percent_bp": percent_bp,
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
