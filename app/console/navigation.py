"""The navigation of each role: (label, path). A page is listed only for the roles that may
open it; the pages themselves check the role again (a hidden link is not a permission)."""

from __future__ import annotations

from typing import Final

HOME = ("首页", "/console/")

NAV: Final[dict[str, list[tuple[str, str]]]] = {
    "hospital": [
        HOME,
        ("结算明细", "/console/hospital/settlements"),
        ("日拨付到账", "/console/hospital/daily"),
        ("月度结算单", "/console/hospital/statements"),
        ("审核扣款", "/console/hospital/audits"),
        ("年度清算", "/console/hospital/clearings"),
        ("往来对账单", "/console/hospital/account"),
        ("对账与申报", "/console/hospital/declarations"),
        ("救助结算单", "/console/hospital/assistance-statements"),
    ],
    "accountant": [
        HOME,
        ("待审批", "/console/fund/queue"),
        ("救助支付审批", "/console/fund/assistance/payments"),
        ("支付监控", "/console/fund/payments"),
        ("资金", "/console/fund/funds"),
        ("收款账户变更", "/console/fund/payees"),
    ],
    "operator": [
        HOME,
        ("告警", "/console/alerts"),
        ("任务", "/console/jobs"),
        ("工作日历", "/console/calendar"),
        ("智能审核", "/console/audits"),
        ("申诉复审", "/console/appeals"),
        ("招采垫付", "/console/advances"),
        ("年度考核", "/console/assessments"),
        ("救助清算", "/console/assistance/clearing-suggestions"),
        ("机构", "/console/institutions"),
        ("救助对象", "/console/assistance/persons"),
    ],
    "auditor": [
        HOME,
        ("科目余额", "/console/ledger/accounts"),
        ("分录", "/console/ledger/entries"),
        ("试算平衡", "/console/ledger/trial-balance"),
        ("账簿校验", "/console/ledger/verify"),
        ("支付监控", "/console/fund/payments"),
        ("资金", "/console/fund/funds"),
        ("审计日志", "/console/trail"),
        ("告警", "/console/alerts"),
        ("任务", "/console/jobs"),
        ("用户", "/console/users"),
        ("救助对象", "/console/assistance/persons"),
    ],
    "admin": [
        HOME,
        ("用户", "/console/users"),
        ("机构", "/console/institutions"),
        ("工作日历", "/console/calendar"),
        ("审计日志", "/console/trail"),
    ],
}


def for_role(role: str) -> list[tuple[str, str]]:
    return NAV.get(role, [HOME])
