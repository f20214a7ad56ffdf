"""Chinese names of what the office pages show: jobs, alert kinds, audit steps, trail
actions. Unknown values show as themselves."""

from __future__ import annotations

import json
from typing import Any, Final

JOBS: Final[dict[str, tuple[str, str]]] = {
    "alerts": ("期限提醒", "每日 00:00 检查日历确认、逾期未算或未付的单据"),
    "settlement_partitions": ("结算分区", "每日 00:05 按月建好结算数据的分区（上月至后两个月）"),
    "daily_batch": ("日拨付批次", "为每个基金账套生成前一日的日拨付批次"),
    "monthly_compute": ("月度结算计算", "计算已申报且到期的结算期的月度结算单"),
    "submission": ("银行提交", "14:30 将当日到期的已审批支付提交银行（15:00 截止）"),
    "audit_finalize": ("审核终审", "申诉期结束时，未申诉的初审结果转为终审"),
    "annual_clearing": ("年度清算", "为年度数据齐备的机构计算年度清算"),
    "month_start_summary": ("月初汇总", "每月 5 日起汇总上月成功的日拨付（按支付日）"),
    "bank_statement": ("银行对账", "每日 06:00 取前一工作日各支出户的银行对账单并与账簿核对"),
    "assistance_burden": ("综合减负提醒", "每日 06:10 检查救助对象本年自付费用是否超过综合减负线"),
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
    "funds_short": "支出户资金不足",
    "payee_change_pending": "收款账户变更待复核",
    "payee_changed": "收款账户已变更",
    "statement_not_confirmed": "月度结算单临近期限未确认",
    "clearing_not_done": "年度清算逾期未开展",
    "bank_statement_difference": "银行对账不符",
    "bank_statement_invalid": "银行对账单无法读取",
    "bank_statement_missing": "银行对账单未提供",
    "assistance_burden": "救助对象自付费用超过综合减负线",
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


TRAIL_ACTIONS: Final[dict[str, str]] = {
    "login": "登录",
    "logout.idle": "超时退出",
    "login.failed": "登录失败",
    "login.locked": "账号锁定",
    "login.refused_locked": "锁定期间尝试登录",
    "logout": "退出登录",
    "user.create": "新建用户",
    "user.update": "修改用户状态",
    "user.password": "设置密码",
    "token.issue": "签发令牌",
    "token.revoke": "吊销令牌",
    "calendar.override": "设置工作日",
    "calendar.override_removed": "恢复官方安排",
    "calendar.confirm": "确认年度日历",
    "institution.create": "新建机构",
    "institution.update": "修改机构",
    "enrollment.create": "新增参保",
    "enrollment.end": "结束参保",
    "policy.create": "新增政策版本",
    "alert.acknowledge": "确认告警",
    "procurement_advance.create": "登记招采垫付",
    "assessment.create": "登记年度考核",
    "assessment.update": "修改年度考核",
    "daily_batch.approve": "审批日拨付",
    "daily_batch.reject": "退回日拨付",
    "statement.approve": "审批月结单",
    "clearing.approve": "审批年度清算",
    "clearing.confirm": "医院确认年度清算",
    "clearing.dispute": "医院对年度清算提出异议",
    "clearing.recompute": "重算年度清算",
    "statement.confirm": "医院确认月结单",
    "statement.dispute": "医院对月结单提出异议",
    "statement.recompute": "重算月结单",
    "statement.reapprove": "重新审批月结单支付",
    "daily_batch.push": "推送日拨付批次",
    "daily_line.hold": "暂缓机构日拨付",
    "declaration.create": "月度申报",
    "period.reopen": "重开申报期",
    "appropriation.create": "登记财政拨入",
    "repayment.create": "登记应收款还款",
    "annual_rule.create": "新建年度清算规则",
    "annual_rule.update": "修改年度清算规则",
    "region.create": "新建统筹区",
    "region.update": "修改统筹区",
    "fund_ledger.create": "新建基金账套",
    "fund_ledger.update": "修改基金账套",
}


def trail_action(action: str) -> str:
    return TRAIL_ACTIONS.get(action, action)


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


def json_text(value: Any) -> str:
    """A stored JSON value as readable text (Chinese kept), for the trail and job results."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
