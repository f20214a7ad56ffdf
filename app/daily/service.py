"""Daily T+1 disbursement (SPEC §3.3–3.6): the face of the daily domain for the others.

Each concern has its module; other domains, jobs and the console call them through here:
- `batches`: reading a batch, its lines, members and makers, a line's status;
- `generation`: the batch of a business date (set-based SQL) and its accrual postings;
- `approval`: approval (maker–checker), rejection, hold-back and the push again;
- `submission`: the hand-over of approved lines to the bank outbox;
- `summary`: the month-start summary of last month's daily payments.
"""

from __future__ import annotations

from app.daily.approval import approve, hold_line, push, reject
from app.daily.batches import (
    MAKER_CHECKER,
    approval_refusal,
    approvals,
    approvers_of,
    details_of,
    find_batch,
    fund_ledgers_switched_on,
    get_batch,
    get_line,
    line_status,
    lines_of,
    list_batches,
    makers,
    members,
    period_splits,
)
from app.daily.generation import SYSTEM_ACTOR, check_line_totals, generate
from app.daily.submission import submit_due
from app.daily.summary import compile_month_summary, month_summary

__all__ = [
    "MAKER_CHECKER",
    "SYSTEM_ACTOR",
    "approval_refusal",
    "approvals",
    "approve",
    "approvers_of",
    "check_line_totals",
    "compile_month_summary",
    "details_of",
    "find_batch",
    "fund_ledgers_switched_on",
    "generate",
    "get_batch",
    "get_line",
    "hold_line",
    "line_status",
    "lines_of",
    "list_batches",
    "makers",
    "members",
    "month_summary",
    "period_splits",
    "push",
    "reject",
    "submit_due",
]
