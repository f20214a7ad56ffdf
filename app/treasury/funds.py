"""The funds check before each submission (docs/rules.md "Funds check").

Per fund ledger, what a submission is about to send is compared with what its expenditure
account holds in the ledger (`bank` less what was sent and awaits a result). Short in `warn`
mode (the default): a `funds_short` alert with the shortfall, and the payments go. Short in
`block` mode (the policy's `funds_check`): the whole submission is held (nothing saved, the
batches and documents stay approved) until a run finds the money there, with the alert. Either
way a funding request (用款计划) records the amount needed for the fund ledger and the day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.bank.models import PaymentInstruction
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.institutions.rules import Policy
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.money import yuan
from app.payables.service import Flow
from app.treasury import rules
from app.treasury.models import FundingRequest

ALERT_KIND = "funds_short"


class _Held(Exception):
    """Block mode, short: the savepoint of the submission is rolled back."""


def available(session: Session, fund: FundLedger) -> int:
    bank = ledger.balance_or_zero(session, account_code("bank", fund.region_code, fund.insutype))
    transit = ledger.balance_or_zero(
        session, account_code("in_transit", fund.region_code, fund.insutype)
    )
    return rules.available(bank, transit)


def _due(session: Session, instruction_ids: Sequence[str]) -> int:
    if not instruction_ids:
        return 0
    total = 0
    ids = list(instruction_ids)
    for start in range(0, len(ids), 500):
        total += int(
            session.scalar(
                select(func.coalesce(func.sum(PaymentInstruction.amount_fen), 0)).where(
                    PaymentInstruction.instruction_id.in_(ids[start : start + 500])
                )
            )
            or 0
        )
    return total


def submit_checked(
    session: Session,
    fund: FundLedger,
    policy: Policy,
    submit: Callable[[], list[str]],
    *,
    today: date,
    now: datetime,
) -> tuple[list[str], rules.FundsCheck]:
    """Run `submit` (it saves the day's instructions of the fund ledger and returns their
    ids) under the funds check. Returns the ids to send (none when held) and the check."""
    institutions.lock_fund_ledger(session, fund.id)
    before = available(session, fund)
    result: dict[str, rules.FundsCheck] = {}
    ids: list[str] = []
    try:
        with session.begin_nested():
            ids = submit()
            check = rules.FundsCheck(
                mode=policy.funds_check,
                available_fen=before,
                due_fen=_due(session, ids),
                payments=len(ids),
            )
            result["check"] = check
            if check.hold:
                raise _Held
    except _Held:
        ids = []
    check = result["check"]
    record(session, fund, check, day=today, now=now)
    return ids, check


def submit_in_order(
    session: Session,
    fund: FundLedger,
    flows: Sequence[Flow[Any]],
    *,
    today: date,
    now: datetime,
) -> tuple[list[str], rules.Selection]:
    """The assistance fund's submission (SPEC-ASSISTANCE A8, A10 "Funds check order"): its
    approved documents of every flow, in approval order, each sent only when the account
    (`bank` less what was sent and awaits a result) still covers it; the others stay APPROVED
    without an instruction and are tried again at every later submission. A short day raises
    `funds_short` with the shortfall and writes the day's funding request."""
    institutions.lock_fund_ledger(session, fund.id)
    before = available(session, fund)
    candidates: list[rules.Candidate] = []
    for rank, flow in enumerate(flows):

        def collect(document: Any, amount_fen: int, rank: int = rank) -> bool:
            candidates.append(
                rules.Candidate(
                    key=(rank, document.id),
                    approved_at=document.approved_at,
                    rank=rank,
                    fixmedins_code=document.fixmedins_code or "",
                    amount_fen=amount_fen,
                )
            )
            return False  # a look only: nothing is sent in this pass

        flow.submit_due(session, fund, today=today, now=now, admit=collect)
    selection = rules.select_covered(candidates, before)
    chosen = {candidate.key for candidate in selection.sent}
    ids: list[str] = []
    for rank, flow in enumerate(flows):

        def admit(document: Any, amount_fen: int, rank: int = rank) -> bool:
            return (rank, document.id) in chosen

        ids += flow.submit_due(session, fund, today=today, now=now, admit=admit)
    check = rules.FundsCheck(
        mode="block",
        available_fen=before,
        due_fen=selection.sent_fen + selection.waiting_fen,
        payments=len(candidates),
    )
    assert check.shortfall_fen == selection.shortfall_fen
    outcome = (
        f"已按审批顺序发送 {len(selection.sent)} 笔，{len(selection.waiting)} 笔"
        f"（{yuan(selection.waiting_fen)} 元）暂缓，资金到账后于下次提交时重试"
    )
    record(session, fund, check, day=today, now=now, outcome=outcome)
    return ids, selection


def record(
    session: Session,
    fund: FundLedger,
    check: rules.FundsCheck,
    *,
    day: date,
    now: datetime,
    outcome: str | None = None,
) -> FundingRequest | None:
    """A short check: the day's funding request (created or brought up to date) and the
    alert. A covered one: the fund ledger's open requests up to the day are covered."""
    if not check.short:
        if check.due_fen > 0:
            _cover(session, fund, day, now)
        return None
    request = session.scalar(
        select(FundingRequest)
        .where(FundingRequest.fund_ledger_id == fund.id, FundingRequest.request_date == day)
        .with_for_update()
    )
    if request is None:
        request = FundingRequest(
            fund_ledger_id=fund.id,
            region_code=fund.region_code,
            insutype=fund.insutype,
            request_date=day,
            created_at=now,
        )
        session.add(request)
    request.mode = check.mode
    request.due_fen = check.due_fen
    request.available_fen = check.available_fen
    request.shortfall_fen = check.shortfall_fen
    request.payments = check.payments
    request.held = check.hold
    request.status = "OPEN"
    request.updated_at = now
    request.covered_at = None
    session.flush()
    if outcome is None:
        outcome = (
            "本次支付已暂缓，资金划入后重新提交"
            if check.hold
            else "已照常发送（预警模式），请尽快划入资金"
        )
    alerts.raise_alert(
        session,
        kind=ALERT_KIND,
        subject=f"{fund.key}:{day}",
        detail=(
            f"{fund.name} {day} 待拨付 {yuan(check.due_fen)} 元（{check.payments} 笔），"
            f"支出户可用余额 {yuan(check.available_fen)} 元，缺口 {yuan(check.shortfall_fen)} 元；"
            f"{outcome}"
        ),
        now=now,
    )
    return request


def _cover(session: Session, fund: FundLedger, day: date, now: datetime) -> None:
    open_requests = session.scalars(
        select(FundingRequest).where(
            FundingRequest.fund_ledger_id == fund.id,
            FundingRequest.status == "OPEN",
            FundingRequest.request_date <= day,
        )
    )
    for request in open_requests:
        request.status = "COVERED"
        request.covered_at = now
        alerts.resolve(
            session, kind=ALERT_KIND, subject=f"{fund.key}:{request.request_date}", now=now
        )
    session.flush()


def list_requests(
    session: Session,
    *,
    region_code: str | None = None,
    insutype: str | None = None,
    status: str | None = None,
    first: date | None = None,
    last: date | None = None,
    limit: int = 1000,
) -> list[FundingRequest]:
    query = (
        select(FundingRequest)
        .order_by(FundingRequest.request_date, FundingRequest.region_code, FundingRequest.insutype)
        .limit(limit)
    )
    for value, column in (
        (region_code, FundingRequest.region_code),
        (insutype, FundingRequest.insutype),
        (status, FundingRequest.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if first is not None:
        query = query.where(FundingRequest.request_date >= first)
    if last is not None:
        query = query.where(FundingRequest.request_date <= last)
    return list(session.scalars(query))
