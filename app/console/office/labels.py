"""Chinese names of what the office pages show: jobs, alert kinds, audit steps, trail
actions. Unknown values show as themselves."""

from __future__ import annotations

from typing import Final

JOBS: Final[dict[str, tuple[str, str]]] = {
    "alerts": ("期限提醒", "每日 00:00 检查日历确认、逾期未算或未付的单据"),
    "daily_batch": ("日拨付批次", "为每个基金账套生成前一日的日拨付批次"),
    "monthly_compute": ("月度结算计算", "计算已申报且到期的结算期的月度结算单"),
    "submission": ("银行提交", "14:30 将当日到期的已审批支付提交银行（15:00 截止）"),
    "audit_finalize": ("审核终审", "申诉期结束时，未申诉的初审结果转为终审"),
    "annual_clearing": ("年度清算", "为年度数据齐备的机构计算年度清算"),
    "month_start_summary": ("月初汇总", "每月 5 日起汇总上月成功的日拨付（按支付日）"),
}

ALERT_KINDS: Final[dict[str, str]] = {
    "calendar_unconfirmed": "次年工作日历未确认",
    "statement_not_computed": "月度结算逾期未计算",
    "statement_not_paid": "月度结算审批后逾期未支付",
    "clearing_unpaid": "年度清算逾期未完成",
    "submission_after_cutoff": "银行提交晚于截止时间",
    "bank_refused": "银行拒绝受理",
    "bank_unsent": "支付指令未发送",
    "bank_event_conflict": "银行回调内容冲突",
    "bank_contradiction": "银行结果前后矛盾",
}

AUDIT_STEPS: Final[dict[str, str]] = {
    "initial": "初审",
    "appeal": "申诉",
    "review": "复审",
    "consultation": "合议",
    "final": "终审",
}

ENTRY_KINDS: Final[dict[str, str]] = {
    "appropriation": "财政拨入",
    "daily_accrual": "日拨付计提",
    "daily_revocation": "日拨付撤销冲回",
    "statement_approval": "月度结算审批",
    "clearing_approval": "年度清算审批",
    "instruction_sent": "支付指令发出",
    "instruction_success": "银行支付成功",
    "instruction_failed": "银行支付失败",
    "instruction_returned": "银行退票",
    "procurement_advance": "招采垫付",
    "repayment": "应收款还款",
    "reversal": "冲销",
}

ACCOUNTS: Final[dict[str, str]] = {
    "bank": "基金支出户",
    "in_transit": "在途资金",
    "receivable": "应收款",
    "procurement_advance": "招采垫付",
    "payable": "应付机构款",
    "deposit_held": "质量保证金",
    "appropriation": "财政拨入",
    "expense": "基金支出",
}


def job(name: str) -> str:
    return JOBS.get(name, (name, ""))[0]


def job_description(name: str) -> str:
    return JOBS.get(name, ("", ""))[1]


def alert_kind(kind: str) -> str:
    return ALERT_KINDS.get(kind, kind)


def audit_step(action: str) -> str:
    return AUDIT_STEPS.get(action, action)


def entry_kind(kind: str) -> str:
    return ENTRY_KINDS.get(kind, kind)


def account(code: str) -> str:
    """`payable:640100:310:H001` -> `应付机构款`; the code itself when unknown."""
    return ACCOUNTS.get(code.split(":", 1)[0], code)
