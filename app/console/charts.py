"""Bar charts drawn on the server as inline SVG: no charting script, nothing downloaded.

Grouped or stacked bars of amounts in fen, with an accessible title and description, a <title>
on every bar (the exact amount, read out by screen readers and shown on hover), a legend, and a
zero line. Colours come from CSS classes (`series-0` ...), so print CSS can restyle them.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.console.display import compact_yuan, yuan_text

CATEGORIES_MAX = 120  # a bar chart of more categories is unreadable: the caller aggregates
SERIES_MAX = 6
TICKS_TARGET = 5


@dataclass(frozen=True)
class Series:
    name: str
    values_fen: Sequence[int]  # one value per category


@dataclass(frozen=True)
class Scale:
    low_fen: int
    high_fen: int
    step_fen: int

    def ticks(self) -> list[int]:
        return list(range(self.low_fen, self.high_fen + 1, self.step_fen))


def nice_step(span_fen: int) -> int:
    """A step of 1, 2 or 5 × 10^k fen giving about TICKS_TARGET intervals over the span."""
    assert span_fen > 0
    rough = max(100, span_fen // TICKS_TARGET)  # never finer than ¥1
    power = 1
    while power * 10 <= rough:
        power *= 10
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return factor * power
    raise AssertionError("unreachable")


def scale_for(low_fen: int, high_fen: int) -> Scale:
    """An axis from a multiple of the step ≤ min(0, low) to one ≥ max(0, high)."""
    low_fen, high_fen = min(0, low_fen), max(0, high_fen)
    if low_fen == high_fen:
        high_fen = 100  # all zero: an axis of ¥1
    step = nice_step(high_fen - low_fen)
    low = -(-low_fen // step) * step if low_fen >= 0 else (low_fen // step) * step
    high = -(-high_fen // step) * step
    return Scale(low, high, step)


def _extent(series: Sequence[Series], stacked: bool, count: int) -> tuple[int, int]:
    if not stacked:
        values = [v for s in series for v in s.values_fen] or [0]
        return min(values), max(values)
    ups = [sum(max(0, s.values_fen[i]) for s in series) for i in range(count)] or [0]
    downs = [sum(min(0, s.values_fen[i]) for s in series) for i in range(count)] or [0]
    return min(downs), max(ups)


@dataclass(frozen=True)
class _Frame:
    left: int
    top: int
    plot_w: int
    plot_h: int
    scale: Scale

    def y(self, fen: int) -> float:
        span = self.scale.high_fen - self.scale.low_fen
        return self.top + self.plot_h * (self.scale.high_fen - fen) / span


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    width: int = 1200,
    height: int = 300,
    description: str = "",
) -> Markup:
    """An SVG bar chart (role="img", titled), grouped or stacked, amounts in fen."""
    assert 0 < len(series) <= SERIES_MAX, "one to six series"
    assert len(categories) <= CATEGORIES_MAX, "aggregate before charting"
    assert all(len(s.values_fen) == len(categories) for s in series), "a value per category"
    low, high = _extent(series, stacked, len(categories))
    frame = _Frame(
        left=64, top=16, plot_w=width - 80, plot_h=height - 76, scale=scale_for(low, high)
    )
    ident = f"chart-{zlib.crc32(title.encode()):08x}"
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(description or _describe(categories, series))}</desc>',
    ]
    if categories:
        parts += _axis(frame, width)
        parts += _bars(frame, categories, series, stacked)
    else:
        parts.append(
            f'<line class="zero" x1="{frame.left}" y1="{frame.top + frame.plot_h}" '
            f'x2="{width - 8}" y2="{frame.top + frame.plot_h}"/>'
        )
        parts.append(
            f'<text class="empty" x="{width // 2}" y="{height // 2}" text-anchor="middle">'
            "暂无数据</text>"
        )
    parts += _legend(series, frame.left, height - 14)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def _describe(categories: Sequence[str], series: Sequence[Series]) -> str:
    names = "、".join(s.name for s in series)
    if not categories:
        return f"{names}：暂无数据"
    return f"{categories[0]}至{categories[-1]}的{names}，共{len(categories)}项"


def _axis(frame: _Frame, width: int) -> list[str]:
    parts = []
    for tick in frame.scale.ticks():
        y = round(frame.y(tick), 1)
        css = "zero" if tick == 0 else "grid"
        parts.append(f'<line class="{css}" x1="{frame.left}" y1="{y}" x2="{width - 8}" y2="{y}"/>')
        parts.append(
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4}" text-anchor="end">'
            f"{escape(compact_yuan(tick))}</text>"
        )
    return parts


def _bars(
    frame: _Frame, categories: Sequence[str], series: Sequence[Series], stacked: bool
) -> list[str]:
    parts = []
    slot = frame.plot_w / len(categories)
    group = slot * 0.8
    bar_w = group if stacked else group / len(series)
    label_every = max(1, round(len(categories) / 16))  # at most ~16 category labels
    for index, category in enumerate(categories):
        x0 = frame.left + slot * index + (slot - group) / 2
        up, down = 0, 0
        for number, one in enumerate(series):
            value = one.values_fen[index]
            if stacked:
                start = up if value >= 0 else down
                end = start + value
                up, down = (end, down) if value >= 0 else (up, end)
                x = x0
            else:
                start, end, x = 0, value, x0 + bar_w * number
            top, bottom = frame.y(max(start, end)), frame.y(min(start, end))
            parts.append(
                f'<rect class="bar series-{number}" x="{x:.1f}" y="{top:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{max(bottom - top, 0):.1f}">'
                f"<title>{escape(category)} {escape(one.name)}：{yuan_text(value)}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text class="category" x="{x0 + group / 2:.1f}" '
                f'y="{frame.top + frame.plot_h + 16}" text-anchor="middle">'
                f"{escape(category)}</text>"
            )
    return parts


def _legend(series: Sequence[Series], left: int, y: int) -> list[str]:
    parts = []
    x = left
    for number, one in enumerate(series):
        parts.append(
            f'<rect class="bar series-{number}" x="{x}" y="{y - 10}" width="12" height="12"/>'
        )
        parts.append(f'<text class="legend" x="{x + 16}" y="{y}">{escape(one.name)}</text>')
        x += 28 + 14 * len(one.name)
    return parts
