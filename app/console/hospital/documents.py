"""The components of a monthly statement (SPEC §4) and an annual clearing (SPEC §5) as rows a
person reads: label, stored amount, and what it is made of in words. Nothing is computed here
but the sentence; the amounts are the document's own, and the rows add up to its total."""

from __future__ import annotations

from dataclasses import dataclass

from app.annual.models import AnnualClearing
from app.console.display import percent_bp, yuan_text
from app.console.hospital.document_queries import StatementFacts
from app.monthly.models import MonthlyStatement


@dataclass(frozen=True)
class Component:
    label: str
    amount: int  # signed as it enters the total (a deduction negative)
    words: str
    subtotal: bool = False  # a subtotal or a figure shown for reference: not added again


def statement_components(s: MonthlyStatement, facts: StatementFacts) -> list[Component]:
    revoked = (
        f"；其中 {facts.revoked_here} 笔撤销以负数计入（{yuan_text(-facts.revoked_fen)}）"
        if facts.revoked_here
        else ""
    )
    rows = [
        Component(
            "医保基金支付金额",
            s.fund_pay_fen,
            f"本期 {facts.settlements} 笔住院结算的医保基金支付（统筹基金＋大额医疗费用补助）"
            f"合计{revoked}。",
        ),
        Component(
            "减：质量保证金",
            -s.deposit_fen,
            f"按 {percent_bp(s.deposit_rate_bp)} 预留（四舍五入到分），年度清算时按考核结果返还。",
        ),
        Component(
            "月拨付金额（按比例）",
            s.ratio_amount_fen,
            "医保基金支付金额减质量保证金。",
            subtotal=True,
        ),
        Component(
            "减：审核扣款",
            -s.audit_fen,
            f"本期及以前结算期已终审、尚未扣减的智能审核扣款 {len(facts.audits)} 项。",
        ),
        Component(
            "减：已日拨付",
            -s.daily_paid_fen,
            "本期结算中日拨付已到账的金额；日拨付失败、退票或未发送的部分不在此扣减，由本单支付。",
        ),
        Component(
            "减：药耗招采垫付",
            -s.procurement_fen,
            f"医保基金代本院向药品耗材供应商垫付的款项 {len(facts.advances)} 笔。",
        ),
        Component(
            "加：退票",
            s.returned_fen,
            f"银行退回、此前尚未补付的拨付款 {len(facts.returns)} 笔，本期补付。",
        ),
        Component(
            "减：下期抵扣",
            -s.offset_fen,
            "以本期应拨付金额抵扣本院尚欠医保基金的应收款。",
        ),
    ]
    assert sum(r.amount for r in rows if not r.subtotal) == s.net_fen, "components sum to net"
    return rows


AFTER_APPROVAL = {
    "APPROVED": "基金财务已审批，随下一次拨付批次发送到银行。",
    "PAID": "已拨付到本院账户（见下方银行回单）。",
    "FAILED": "银行拨付失败，待基金财务重新审批后重新发送。",
    "RETURNED": "已被银行退票，金额在下一次结算中补付。",
    "SETTLED": "金额为零，已结清。",
    "RECEIVABLE": "金额为负，已形成本院应退还医保基金的应收款，由以后的结算抵扣或现金退还。",
}


def statement_outcome(s: MonthlyStatement) -> str:
    """What the statement's net means for the hospital now."""
    if s.status in AFTER_APPROVAL:
        return AFTER_APPROVAL[s.status]
    if s.net_fen > 0:
        return "月拨付金额为正：基金财务审批后，随拨付批次在 5 个工作日内拨付到本院账户。"
    if s.net_fen == 0:
        return "月拨付金额为零：基金财务审批后即结清，不发生拨付。"
    return "月拨付金额为负：审批后形成本院应退还医保基金的应收款，由以后的结算抵扣或现金退还。"


def clearing_components(c: AnnualClearing) -> list[Component]:
    rows = [
        Component(
            "核定医保基金",
            c.approved_fund_fen,
            f"{c.year}年各月结算单的医保基金支付减审核扣款之和（供参考）。",
            subtotal=True,
        ),
        Component(
            "年度医保基金清算金额",
            c.clearing_amount_fen,
            "医保经办机构确认的年度清算金额；未另行确认的为核定医保基金，设有年度预算的以预算为限。",
        ),
        Component(
            "减：已月度结算拨付",
            -c.settled_fen,
            f"{c.year}年各月（医保基金支付 − 质量保证金 − 审核扣款）之和。",
        ),
        Component(
            "质量保证金",
            c.deposit_held_fen,
            f"{c.year}年各月预留的质量保证金合计；按考核返还 {percent_bp(c.return_ratio_bp)}"
            "（取年度考核得分与信用评价得分对应比例中的较低者），返还部分计入清算（供参考）。",
            subtotal=True,
        ),
        Component(
            "减：不予返还的质量保证金",
            -c.forfeited_fen,
            "质量保证金中按考核结果不予返还的部分。",
        ),
        Component(
            "年清算应付金额",
            c.gross_fen,
            "年度清算金额减已月度结算拨付与不予返还的质量保证金。",
            subtotal=True,
        ),
        Component("减：抵扣应收款", -c.offset_fen, "以应付金额抵扣本院尚欠医保基金的应收款。"),
    ]
    assert sum(r.amount for r in rows if not r.subtotal) == c.actual_fen, "clearing adds up"
    return rows


def clearing_outcome(c: AnnualClearing) -> str:
    """What the clearing's actual amount means for the hospital now."""
    if c.status in AFTER_APPROVAL:
        return AFTER_APPROVAL[c.status]
    if c.actual_fen > 0:
        return f"年清算实付为正：确认并经基金财务审批后拨付，须于 {c.year + 1}年5月31日前完成。"
    if c.actual_fen == 0:
        return "年清算实付为零：审批后即结清。"
    return "年清算实付为负：审批后形成本院应退还医保基金的应收款。"
