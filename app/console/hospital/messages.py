"""Domain refusals in Chinese, by their rule (a field error's `rule`) or problem type. The
domain's English detail stays in the trail and the API; the officer reads these."""

from __future__ import annotations

from app.errors import DomainError

RULES: dict[str, str] = {
    "period_ended": "该月尚未结束，结束后才能申报。",
    "period_enrolled": "本机构该险种在该月不在结算范围内。",
    "periods_in_order": "须按月份顺序申报：请先申报上一个月。",
    "days_reconciled": "该月尚有日期未完成对账，全部对账后才能申报。",
    "settlement_lists": "该月部分结算尚未上传医保基金结算清单（4101A）。",
    "declaration_deadline": "已过申报截止日；如需申报，请联系医保经办机构重新开放该月。",
    "appeal_window": "申诉期已过，不能再提出申诉。",
    "attachment_empty": "上传的附件是空文件。",
    "attachment_size": "附件不能超过 5 MB。",
    "attachment_type": "附件只能是 PDF、PNG 或 JPEG 文件（按文件内容判断）。",
    "attachments_max": "每条扣款最多保存 10 个附件。",
}
BY_CODE: dict[str, str] = {
    "conflict": "该单据的状态已变化，不能再执行此操作；请查看页面上的最新状态。",
    "not-found": "没有找到这份单据（或您无权查看）。",
    "validation": "提交的内容不符合要求。",
}


def chinese(error: DomainError) -> list[str]:
    """One Chinese sentence per refusal of the error (its rules, else its type)."""
    found = [RULES[e.rule] for e in error.errors if e.rule in RULES]
    if found:
        return list(dict.fromkeys(found))
    return [BY_CODE.get(error.code, "操作未能完成，请稍后重试或联系系统管理员。")]
