"""Pure monthly-settlement rules (SPEC §4): deadlines and the statement formula."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.clock import period_add, period_start
from app.money import apply_ratio
from app.payables import machine
from app.workdays.rules import WorkCalendar


def declaration_deadline(period: str, declaration_day: int, calendar: WorkCalendar) -> date:
    """By the configured day of M+1 (default the 15th), on or after."""
    return calendar.on_or_after(period_start(period_add(period, 1)).replace(day=declaration_day))


def computation_date(period: str, declaration_day: int, calendar: WorkCalendar) -> date:
    """A declared period is computed from the first working day after its deadline."""
    return calendar.after(declaration_deadline(period, declaration_day, calendar))


def appeal_deadline(result_date: date, window_days: int, calendar: WorkCalendar) -> date:
    """The hospital may appeal until 23:59 of the N-th working day after the result's date."""
    return calendar.nth_after(result_date, window_days)


@dataclass(frozen=True)
class Inputs:
    fund_pay_fen: int  # Σ fund amounts of the period (revocations negative)
    deposit_rate_bp: int  # in force on the period's last day
    audit_fen: int
    daily_paid_fen: int
    procurement_fen: int
    returned_fen: int
    open_receivable_fen: int


@dataclass(frozen=True)
class Statement:
    fund_pay_fen: int
    deposit_fen: int
    ratio_amount_fen: int
    audit_fen: int
    daily_paid_fen: int
    procurement_fen: int
    returned_fen: int
    gross_net_fen: int
    offset_fen: int
    net_fen: int


def compute(inputs: Inputs) -> Statement:
    """SPEC §4 exactly; the deposit is the only rounding (half away from zero)."""
    deposit = apply_ratio(inputs.fund_pay_fen, inputs.deposit_rate_bp)
    ratio_amount = inputs.fund_pay_fen - deposit
    gross_net = (
        ratio_amount
        - inputs.audit_fen
        - inputs.daily_paid_fen
        - inputs.procurement_fen
        + inputs.returned_fen
    )
    assert inputs.open_receivable_fen >= 0
    offset = min(inputs.open_receivable_fen, max(gross_net, 0))
    net = gross_net - offset
    statement = Statement(
        fund_pay_fen=inputs.fund_pay_fen,
        deposit_fen=deposit,
        ratio_amount_fen=ratio_amount,
        audit_fen=inputs.audit_fen,
        daily_paid_fen=inputs.daily_paid_fen,
        procurement_fen=inputs.procurement_fen,
        returned_fen=inputs.returned_fen,
        gross_net_fen=gross_net,
        offset_fen=offset,
        net_fen=net,
    )
    assert (
        statement.ratio_amount_fen
        - statement.audit_fen
        - statement.daily_paid_fen
        - statement.procurement_fen
        + statement.returned_fen
        - statement.offset_fen
        == statement.net_fen
    ), "components sum to net"
    return statement


def status_after_approval(net_fen: int) -> str:
    """net > 0 is paid through the bank, net = 0 is settled, net < 0 is a receivable."""
    return machine.status_after_approval(net_fen).value
