"""Every status value of the domains as a Chinese label and a colour (a CSS class).

The same value can mean different things in two domains (a batch's APPROVED waits for the
submission, a statement's for the payment): `kind` picks the domain's own label first."""

from __future__ import annotations

from typing import Final

from app.assistance.person_status import STATUS_NAMES as PERSON_PAYMENT_NAMES
from app.daily.rules import BatchStatus, LineStatus
from app.scheduling.rules import Outcome, RunStatus
from app.settlements.rules import DayReconciliation, SettlementStatus

GREEN: Final = "green"  # money arrived, done, matched
RED: Final = "red"  # failed, returned, refused, mismatched: someone must act
AMBER: Final = "amber"  # waiting for a person (confirm, approve, reconcile)
BLUE: Final = "blue"  # moving along without anyone's action
GREY: Final = "grey"  # nothing to do

COLOURS = (GREEN, RED, AMBER, BLUE, GREY)

# Upper case: stored statuses; lower case: the settlement statuses of the API.
LABELS: Final[dict[str, tuple[str, str]]] = {
    # settlements (API.md GET /settlements)
    SettlementStatus.ACCEPTED: ("已接收", GREY),
    SettlementStatus.BATCHED: ("已纳入日拨付", BLUE),
    SettlementStatus.PAID: ("已拨付", GREEN),
    SettlementStatus.REVOKED: ("已撤销", GREY),
    # reconciliation of a day (ReconciliationStatus: the same values, stored)
    DayReconciliation.RECONCILED: ("已对账", GREEN),
    DayReconciliation.MISMATCHED: ("对账不符", RED),
    DayReconciliation.UNRECONCILED: ("未对账", AMBER),
    "NO_ACTIVITY": ("无业务", GREY),
    # declarations of a period
    "DECLARED": ("已申报", GREEN),
    "UNDECLARED": ("未申报", AMBER),
    # daily batches
    BatchStatus.PUSHED: ("待审批", AMBER),
    BatchStatus.APPROVED: ("已审批", BLUE),
    BatchStatus.REJECTED: ("已退回", RED),
    BatchStatus.SUBMITTED: ("已提交银行", BLUE),
    BatchStatus.EMPTY: ("无拨付", GREY),
    # daily lines (from their instruction), and the console's two states of a line set aside
    LineStatus.PAID: ("已拨付", GREEN),
    LineStatus.FAILED: ("失败", RED),
    LineStatus.RETURNED: ("退票", RED),
    LineStatus.PENDING: ("银行处理中", BLUE),
    LineStatus.NOT_SENT: ("未发送", GREY),
    "HELD": ("暂缓拨付", AMBER),
    "WITHDRAWN": ("转月结算支付", GREY),
    # payment instructions
    "QUEUED": ("待发送", GREY),
    "ACCEPTED": ("银行已受理", BLUE),
    "SUCCESS": ("已到账", GREEN),
    "UNKNOWN": ("结果未知", AMBER),
    # monthly statements and annual clearings
    "COMPUTED": ("待确认", AMBER),
    "DISPUTED": ("有异议", RED),
    "CONFIRMED": ("已确认待审批", BLUE),
    "SETTLED": ("已结清", GREEN),
    "RECEIVABLE": ("应收待追回", AMBER),
    # audit deductions
    "INITIAL": ("初审扣款", AMBER),
    "APPEALED": ("申诉中", BLUE),
    "REVIEWED": ("已复审", BLUE),
    "FINAL": ("已终审", GREY),
    # job runs and the outcome of running a job
    RunStatus.RUNNING: ("运行中", BLUE),
    RunStatus.SUCCEEDED: ("成功", GREEN),
    Outcome.SKIPPED: ("已跳过", GREY),
}

BY_KIND: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "statement": {
        "APPROVED": ("已审批待拨付", BLUE),
        "FAILED": ("拨付失败", RED),
        "RETURNED": ("已退票", RED),
    },
    "clearing": {
        "APPROVED": ("已审批待拨付", BLUE),
        "FAILED": ("拨付失败", RED),
        "RETURNED": ("已退票", RED),
    },
    "assistance_statement": {
        "APPROVED": ("已审批待拨付", BLUE),
        "FAILED": ("拨付失败", RED),
        "RETURNED": ("已退票", RED),
    },
    # payments to persons of the assistance fund (app/assistance/person_status.py's names)
    "person_payment": {
        status: (PERSON_PAYMENT_NAMES[status], colour)
        for status, colour in (
            ("PENDING_APPROVAL", AMBER),
            ("NOT_SENT", BLUE),
            ("PENDING", BLUE),
            ("PAID", GREEN),
            ("FAILED", RED),
            ("RETURNED", RED),
            ("SETTLED", GREEN),
            ("REJECTED", GREY),
        )
    },
    # assistance documents of a settlement (材料)
    "assistance_document": {
        "RECORDED": ("已登记", GREEN),
        "REJECTED": ("被驳回", RED),
        "MISSING": ("未登记", AMBER),
    },
    "instruction": {"FAILED": ("支付失败", RED)},
    "job": {RunStatus.FAILED: ("运行失败", RED)},
}


def label(value: str, kind: str | None = None) -> tuple[str, str]:
    """(Chinese label, colour) of a status; an unknown value shows as itself in grey."""
    key = str(value)
    if kind is not None and key in BY_KIND.get(kind, {}):
        return BY_KIND[kind][key]
    return LABELS.get(key, (key, GREY))


INSUTYPES: Final = {"310": "职工医保", "390": "居民医保"}
# Every fund's name, the assistance fund's included (INSUTYPES stays the basic funds: filters
# and charts of the basic flows list those only).
FUND_NAMES: Final = {**INSUTYPES, "610": "医疗救助"}
ROLES: Final = {
    "hospital": "医院财务",
    "operator": "医保经办",
    "accountant": "基金财务",
    "auditor": "审计",
    "admin": "系统管理员",
}
