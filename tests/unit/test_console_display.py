"""The console's display helpers: amounts, dates, statuses, charts, list queries, XLSX cells."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import CheckConstraint

from app.annual.models import AnnualClearing
from app.bank.models import INSTRUCTION_STATUSES, PaymentInstruction
from app.console import charts, display, export, statuses
from app.console.listing import Column, Filter, read_query
from app.daily.models import BATCH_STATUSES, DailyBatch
from app.daily.service import line_status
from app.monthly.models import STATEMENT_STATUSES, AuditItem, MonthlyStatement
from app.pagination import encode_cursor
from app.scheduling.models import JobRun
from app.settlements.models import Reconciliation
from app.settlements.schemas import SETTLEMENT_STATUSES


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (100, "¥1.00"),
        (123_456_789, "¥1,234,567.89"),
        (-123_456_789, "-¥1,234,567.89"),
        (-1, "-¥0.01"),
        (10**13, "¥100,000,000,000.00"),
    ],
)
def test_yuan_text(fen: int, text: str) -> None:
    assert display.yuan_text(fen) == text


def test_yuan_markup_is_red_with_a_minus_when_negative() -> None:
    assert str(display.yuan(1234)) == '<span class="amount">¥12.34</span>'
    assert str(display.yuan(-1234)) == '<span class="amount neg">-¥12.34</span>'
    assert "—" in str(display.yuan(None))


def test_yuan_refuses_floats() -> None:
    with pytest.raises(AssertionError):
        display.yuan_text(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0"),
        (820_000, "8,200"),
        (3_650_000_00, "365万"),
        (12_345_00_00, "123.5万"),
        (125_000_000_00, "1.25亿"),
        (-3_650_000_00, "-365万"),
    ],
)
def test_compact_axis_labels(fen: int, text: str) -> None:
    assert display.compact_yuan(fen) == text


def test_dates_in_chinese_with_the_weekday() -> None:
    assert display.date_cn(date(2026, 3, 9)) == "2026-03-09（周一）"
    assert display.date_cn(date(2026, 3, 15)) == "2026-03-15（周日）"
    # 2026-03-09 20:00 UTC is already the 10th in Shanghai
    assert display.date_cn(datetime(2026, 3, 9, 20, 0, tzinfo=UTC)) == "2026-03-10（周二）"
    assert display.datetime_cn(datetime(2026, 3, 9, 6, 30, tzinfo=UTC)) == "2026-03-09（周一）14:30"
    assert display.date_cn(None) == "—"
    assert display.period_cn("2026-09") == "2026年9月"


def _constraint_values(model: type) -> set[str]:
    for constraint in model.__table__.constraints:  # type: ignore[attr-defined]
        if isinstance(constraint, CheckConstraint) and str(constraint.name).endswith("status"):
            return set(re.findall(r"'([A-Z_]+)'", str(constraint.sqltext)))
    raise AssertionError(f"{model.__name__} has no status constraint")


def _every_status() -> set[str]:
    values = {str(s) for s in (*STATEMENT_STATUSES, *BATCH_STATUSES, *INSTRUCTION_STATUSES)}
    values |= {str(s) for s in SETTLEMENT_STATUSES}
    for model in (
        MonthlyStatement,
        AnnualClearing,
        DailyBatch,
        PaymentInstruction,
        AuditItem,
        JobRun,
        Reconciliation,
    ):
        values |= _constraint_values(model)
    values.add("UNRECONCILED")  # a day's state computed by the reconciliation service
    for instruction in (None, *INSTRUCTION_STATUSES):
        values.add(line_status(None, instruction))  # type: ignore[arg-type]
    return values


def test_every_status_of_the_domains_has_a_chinese_label() -> None:
    values = _every_status()
    assert {"COMPUTED", "PAID", "RETURNED", "NOT_SENT", "FINAL", "SUCCEEDED"} <= values
    for value in values:
        text, colour = statuses.label(value)
        assert colour in statuses.COLOURS
        assert re.search(r"[\u4e00-\u9fff]", text), f"{value} has no Chinese label"


def test_status_colours_follow_the_meaning() -> None:
    assert statuses.label("PAID") == ("已拨付", "green")
    assert statuses.label("FAILED")[1] == "red"
    assert statuses.label("RETURNED") == ("退票", "red")
    assert statuses.label("COMPUTED") == ("待确认", "amber")
    assert statuses.label("APPROVED", "statement") == ("已审批待拨付", "blue")
    assert statuses.label("APPROVED", "batch") == ("已审批", "blue")
    assert statuses.label("SOMETHING_NEW") == ("SOMETHING_NEW", "grey")
    assert str(display.status("PAID")) == '<span class="status status-green">已拨付</span>'


def test_nice_scale_covers_the_values_with_round_steps() -> None:
    scale = charts.scale_for(0, 123_456)
    assert (scale.low_fen, scale.high_fen, scale.step_fen) == (0, 150_000, 50_000)
    scale = charts.scale_for(-4_000, 21_000)
    assert scale.low_fen <= -4_000 and scale.high_fen >= 21_000
    assert scale.step_fen in (5_000, 10_000)
    assert charts.scale_for(0, 0).high_fen > 0


def test_bar_chart_is_accessible_svg_with_exact_amounts() -> None:
    svg = str(
        charts.bar_chart(
            title="每月到账",
            categories=["7月", "8月"],
            series=[
                charts.Series("日拨付", [100_00, 250_00]),
                charts.Series("月结算", [50_00, -20_00]),
            ],
            stacked=True,
        )
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title" in svg and "每月到账" in svg and "<desc" in svg
    assert svg.count('class="bar series-0"') == 3  # two bars and the legend key
    assert "8月 月结算：-¥20.00" in svg and "7月 日拨付：¥100.00" in svg
    assert "<script" not in svg


def test_stacked_bars_sit_on_each_other() -> None:
    svg = str(
        charts.bar_chart(
            title="t",
            categories=["a"],
            series=[charts.Series("x", [100_00]), charts.Series("y", [100_00])],
            stacked=True,
        )
    )
    rects = re.findall(
        r'<rect class="bar series-(\d)" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)">',
        svg,
    )
    (_, x0, y0, h0), (_, x1, y1, h1) = rects
    assert x0 == x1 and float(h0) == pytest.approx(float(h1))
    assert float(y1) + float(h1) == pytest.approx(float(y0))  # the second on top of the first


def test_grouped_bars_stand_side_by_side_and_titles_are_escaped() -> None:
    svg = str(
        charts.bar_chart(
            title="<b>",
            categories=["a"],
            series=[charts.Series("x", [1_00]), charts.Series("y", [2_00])],
        )
    )
    xs = re.findall(r'<rect class="bar series-\d" x="([\d.]+)"[^>]*"><title>', svg)
    assert len(set(xs)) == 2
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_empty_chart_says_so() -> None:
    svg = str(charts.bar_chart(title="t", categories=[], series=[charts.Series("x", [])]))
    assert "暂无数据" in svg


FILTERS = [
    Filter("period", "结算期", "month"),
    Filter("insutype", "险种", "select", options=[("310", "职工"), ("390", "居民")]),
    Filter("day", "日期", "date"),
    Filter("code", "机构编号", "text", pattern=r"[A-Z0-9]{1,30}"),
]


def test_list_query_reads_filters_limit_and_cursor() -> None:
    query = read_query(
        {
            "period": "2026-09",
            "insutype": "310",
            "day": "2026-09-01",
            "code": "H1",
            "limit": "20",
            "cursor": encode_cursor(41),
        },
        FILTERS,
    )
    assert query.errors == []
    assert query.values == {
        "period": "2026-09",
        "insutype": "310",
        "day": date(2026, 9, 1),
        "code": "H1",
    }
    assert (query.limit, query.after_id) == (20, 41)
    next_url = query.url("/console/", cursor="abc")
    assert next_url.startswith("/console/?") and "cursor=abc" in next_url and "limit=20" in next_url
    assert "cursor" not in query.url("/console/", cursor=None)


def test_list_query_reports_bad_values_in_chinese_and_ignores_them() -> None:
    query = read_query(
        {
            "period": "2026-13",
            "insutype": "999",
            "day": "yesterday",
            "code": "h-1; drop",
            "limit": "5000",
            "cursor": "not-ours",
        },
        FILTERS,
    )
    assert query.values == {}
    assert len(query.errors) == 6
    assert all(re.search(r"[\u4e00-\u9fff]", error) for error in query.errors)
    assert query.limit == 50 and query.after_id is None


def test_xlsx_cells_are_numbers_dates_and_chinese_labels() -> None:
    money = Column("金额", lambda r: r["fen"], "money")
    state = Column("状态", lambda r: r["status"], "status", status_kind="statement")
    kind = Column("险种", lambda r: r["insutype"], "insutype")
    row = {"fen": -123_456_789, "status": "APPROVED", "insutype": "310"}
    assert export.cell_value(money, row) == Decimal("-1234567.89")
    assert export.cell_value(state, row) == "已审批待拨付"
    assert export.cell_value(kind, row) == "职工医保（310）"
