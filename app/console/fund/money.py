"""The payment monitor (支付监控) and the funds page (资金): today's instructions by status,
the bank's failures and returns, failed monthly and annual payments to re-approve, a chart of
the last 60 days' payments per fund ledger; each fund ledger's expenditure account balance,
what today's submission will send, appropriations and receivables by age, with the forms that
record an appropriation and a repayment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.clock import SHANGHAI, business_date
from app.console import charts
from app.console.fund import actions, messages, money_queries, queries
from app.console.fund import book as books
from app.console.fund.access import Accountant, Staff, can_write
from app.console.security import ConsoleRoute
from app.console.statuses import INSUTYPES
from app.console.templating import render
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.money import MoneyError, to_fen

router = APIRouter(prefix="/console/fund", route_class=ConsoleRoute, include_in_schema=False)

CHART_DAYS = 60
REFERENCE = re.compile(r"[A-Za-z0-9_.-]{1,60}")  # the API's pattern for both numbers
PROBLEM_DAYS = 30
# The monitor's buckets of an instruction status (API.md bank protocol).
BUCKETS = (
    ("QUEUED", "待发送"),
    ("SENT", "已发送待结果"),
    ("SUCCESS", "已到账"),
    ("FAILED", "支付失败"),
    ("RETURNED", "退票"),
)
BUCKET_OF = {"ACCEPTED": "SENT", "UNKNOWN": "SENT"}


def monitor_counts(session: Session, today: date) -> list[tuple[str, str, int, int]]:
    """Today's instructions per bucket: (bucket, label, count, fen); UNKNOWN counts as sent."""
    sums: dict[str, list[int]] = {bucket: [0, 0] for bucket, _ in BUCKETS}
    for status, (count, amount) in money_queries.instructions_by_status(session, today).items():
        bucket = BUCKET_OF.get(status, status)
        sums[bucket][0] += count
        sums[bucket][1] += amount
    return [(bucket, label, *sums[bucket]) for bucket, label in BUCKETS]  # type: ignore[misc]


def _chart(session: Session, book: books.FundBook, today: date, region: str | None) -> Markup:
    first = today - timedelta(days=CHART_DAYS - 1)
    days = [first + timedelta(days=n) for n in range(CHART_DAYS)]
    rows = money_queries.paid_per_day(session, first, today)
    funds = [f for f in book.ordered() if region in (None, f.region_code)]
    if len(funds) <= charts.SERIES_MAX:
        keys = [(f.region_code, f.insutype) for f in funds]
        names = [book.label(*key) for key in keys]
    else:  # more fund ledgers than a chart can tell apart: per insurance type
        keys = [(None, insutype) for insutype in INSUTYPES]  # type: ignore[misc]
        names = [f"{name}（各统筹区合计）" for name in INSUTYPES.values()]
    index = {day: n for n, day in enumerate(days)}
    values = [[0] * len(days) for _ in keys]
    for row_region, insutype, day, amount in rows:
        if region not in (None, row_region):
            continue
        for number, (key_region, key_insutype) in enumerate(keys):
            if insutype == key_insutype and key_region in (None, row_region):
                values[number][index[day]] += amount
    return charts.bar_chart(
        title=f"近 {CHART_DAYS} 天每日拨付到账金额（按基金账套）",
        categories=[f"{day.month}-{day.day:02d}" for day in days],
        series=[charts.Series(name, series) for name, series in zip(names, values, strict=True)]
        or [charts.Series("拨付", [0] * len(days))],
        stacked=True,
        description=(
            f"{first.isoformat()}至{today.isoformat()}每天银行已到账的拨付金额"
            "（日拨付、月结算、年清算），按基金账套堆叠"
        ),
    )


@router.get("/payments", response_class=HTMLResponse)
def monitor_page(
    request: Request, principal: Staff, session: SessionDep, clock: ClockDep
) -> Response:
    today = business_date(clock.now())
    book = books.load(session)
    region = request.query_params.get("region")
    if region not in {f.region_code for f in book.funds.values()}:
        region = None
    since = datetime.combine(today - timedelta(days=PROBLEM_DAYS), time(0), tzinfo=SHANGHAI)
    problems = money_queries.payment_problems(session, since.astimezone(UTC))
    failed = money_queries.failed_documents(session, principal)
    names = queries.institution_names(
        session, sorted({p.fixmedins_code for p in problems} | {d.fixmedins_code for d in failed})
    )
    return render(
        request,
        "fund/monitor.html",
        {
            "title": "支付监控",
            "today": today,
            "book": book,
            "counts": monitor_counts(session, today),
            "problems": problems,
            "problem_days": PROBLEM_DAYS,
            "failed": failed,
            "names": names,
            "chart": _chart(session, book, today, region),
            "regions": sorted(
                {
                    (f.region_code, book.region_names.get(f.region_code, ""))
                    for f in book.funds.values()
                }
            ),
            "region": region,
            "can_write": can_write(principal),
            "refusal_texts": messages.MAKER_CHECKER,
            "notices": _notices(request),
        },
    )


# --- funds --------------------------------------------------------------------------------------


@dataclass
class FundRow:
    key: tuple[str, str]
    label: str
    balance_fen: int
    send: money_queries.ToSend
    submission: tuple[time, time] | None
    working_day: bool

    @property
    def shortfall_fen(self) -> int:
        return max(0, self.send.total_fen - self.balance_fen)


@dataclass
class FundsForm:
    """What was typed into a form that was refused (shown again with the error)."""

    which: str = ""  # appropriation | repayment:<region>:<insutype>:<code>
    values: dict[str, str] = field(default_factory=dict)


def funds_view(session: Session, principal: Any, today: date) -> dict[str, Any]:
    book = books.load(session)
    balances = money_queries.bank_balances(session)
    sends = money_queries.to_send(session, today)
    working = book.calendar.is_working(today)
    rows = []
    for fund in book.ordered():
        key = (fund.region_code, fund.insutype)
        policy = book.policy(fund.id, today)
        rows.append(
            FundRow(
                key,
                book.label(*key),
                balances.get(key, 0),
                sends.get(key, money_queries.ToSend()),
                (policy.submission_time, policy.cutoff_time) if policy else None,
                working,
            )
        )
    receivables = money_queries.receivables_by_age(session, today)
    names = queries.institution_names(session, sorted({r.fixmedins_code for r in receivables}))
    return {
        "title": "资金",
        "today": today,
        "book": book,
        "funds": rows,
        "appropriations": money_queries.recent_appropriations(session),
        "funding": money_queries.open_funding_requests(session),
        "receivables": receivables,
        "names": names,
        "totals": [sum(r.buckets_fen[n] for r in receivables) for n in range(3)],
        "can_write": can_write(principal),
        "form": FundsForm(),
    }


@router.get("/funds", response_class=HTMLResponse)
def funds_page(
    request: Request, principal: Staff, session: SessionDep, clock: ClockDep
) -> Response:
    view = funds_view(session, principal, business_date(clock.now()))
    view["notices"] = _notices(request)
    return render(request, "fund/funds.html", view)


def _amount(text: str) -> tuple[int | None, str | None]:
    """Yuan typed into a form → fen, or the refusal in Chinese."""
    try:
        fen = to_fen(text.strip())
    except MoneyError as error:
        return None, messages.RULES.get(error.rule, "金额格式不正确。")
    if fen <= 0:
        return None, messages.RULES["amount_positive"]
    return fen, None


def _refill(
    request: Request, principal: Any, clock: Any, errors: list[str], form: FundsForm, status: int
) -> HTMLResponse:
    with request.app.state.session_factory() as session:
        view = funds_view(session, principal, business_date(clock.now()))
    view.update(errors=errors, form=form)
    return render(request, "fund/funds.html", view, status=status)


@router.post("/appropriations")
def appropriate(
    request: Request,
    principal: Accountant,
    clock: ClockDep,
    fund: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    reference: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Record money put into a fund ledger's expenditure account (基金划入)."""
    form = FundsForm("appropriation", {"fund": fund, "amount": amount, "reference": reference})
    region, _, insutype = fund.partition(":")
    errors = []
    fen, amount_error = _amount(amount)
    if amount_error:
        errors.append(f"划入金额：{amount_error}")
    if not REFERENCE.fullmatch(reference.strip()):
        errors.append("凭证号：1 到 60 位字母、数字或 _ . -")
    if insutype not in INSUTYPES or not region.isdigit():
        errors.append("请选择基金账套。")
    if not errors:
        assert fen is not None
        try:
            with transaction(request.app.state.session_factory) as session:
                created = actions.appropriate(
                    session,
                    region_code=region,
                    insutype=insutype,
                    amount_fen=fen,
                    reference=reference.strip(),
                    actor=principal,
                    now=clock.now(),
                )
        except DomainError as error:
            errors.append(messages.refusal_text(error, doing="appropriate"))
    if errors:
        return _refill(request, principal, clock, errors, form, 422)
    ok = "appropriated" if created else "appropriation-known"
    return RedirectResponse(f"/console/fund/funds?ok={ok}", status_code=303)


@router.post("/repayments")
def repay(
    request: Request,
    principal: Accountant,
    clock: ClockDep,
    account: Annotated[str, Form(max_length=60)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    receipt_no: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Record an institution's cash repayment of its receivable (现金追款), with the number
    of the incoming bank receipt; above the open receivable is refused."""
    form = FundsForm(f"repayment:{account}", {"amount": amount, "receipt_no": receipt_no})
    region, insutype, code = [*account.split(":"), "", "", ""][:3]
    errors = []
    fen, amount_error = _amount(amount)
    if amount_error:
        errors.append(f"还款金额：{amount_error}")
    if not REFERENCE.fullmatch(receipt_no.strip()):
        errors.append("收款回单号：1 到 60 位字母、数字或 _ . -")
    if not errors:
        assert fen is not None
        try:
            with transaction(request.app.state.session_factory) as session:
                created = actions.repay(
                    session,
                    region_code=region,
                    insutype=insutype,
                    fixmedins_code=code,
                    amount_fen=fen,
                    receipt_no=receipt_no.strip(),
                    actor=principal,
                    now=clock.now(),
                )
        except DomainError as error:
            errors.append(messages.refusal_text(error, doing="repay"))
    if errors:
        return _refill(request, principal, clock, errors, form, 422)
    ok = "repaid" if created else "repayment-known"
    return RedirectResponse(f"/console/fund/funds?ok={ok}#receivables", status_code=303)


NOTICES = {
    "appropriated": "已登记基金划入。",
    "appropriation-known": "该凭证号的划入此前已登记，未重复记账。",
    "repaid": "已登记还款，应收款已冲减。",
    "repayment-known": "该回单号的还款此前已登记，未重复记账。",
    "reapproved": "已重新审批：将随下一次提交（工作日提交时点）以新的指令号发送银行。",
}


def _notices(request: Request) -> list[str]:
    text = NOTICES.get(request.query_params.get("ok", ""))
    return [text] if text else []
