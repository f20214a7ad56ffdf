"""Statement exports in Chinese column headings."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import xlsx
from app.money import bp_str, yuan
from app.monthly.models import AuditItem, MonthlyStatement, ProcurementAdvance
from app.settlements.models import Revocation, Settlement

STATUS_NAMES = {
    "COMPUTED": "已计算待确认",
    "DISPUTED": "有异议",
    "CONFIRMED": "已确认待审批",
    "APPROVED": "已审批待拨付",
    "PAID": "已拨付",
    "FAILED": "拨付失败",
    "RETURNED": "已退票",
    "SETTLED": "已结清",
    "RECEIVABLE": "应收",
}
LIST_HEADINGS = (
    "结算期",
    "统筹区",
    "险种",
    "定点医药机构编号",
    "医保基金支付金额",
    "质量保证金",
    "月拨付金额(比例)",
    "审核扣款",
    "已日拨付",
    "药耗招采垫付",
    "退票",
    "下期抵扣",
    "月拨付金额",
    "状态",
)


def _row(s: MonthlyStatement) -> list[object]:
    return [
        s.period,
        s.region_code,
        s.insutype,
        s.fixmedins_code,
        yuan(s.fund_pay_fen),
        yuan(s.deposit_fen),
        yuan(s.ratio_amount_fen),
        yuan(s.audit_fen),
        yuan(s.daily_paid_fen),
        yuan(s.procurement_fen),
        yuan(s.returned_fen),
        yuan(s.offset_fen),
        yuan(s.net_fen),
        STATUS_NAMES.get(s.status, s.status),
    ]


def statement_list(rows: Sequence[MonthlyStatement]) -> Workbook:
    return xlsx.workbook([("月结算单", LIST_HEADINGS, (_row(s) for s in rows))])


def statement_detail(session: Session, statement: MonthlyStatement) -> Workbook:
    components = [
        ("医保基金支付金额 fund_pay", yuan(statement.fund_pay_fen)),
        (f"质量保证金 deposit ({bp_str(statement.deposit_rate_bp)})", yuan(statement.deposit_fen)),
        ("月拨付金额(比例) ratio_amount", yuan(statement.ratio_amount_fen)),
        ("审核扣款 audit", yuan(statement.audit_fen)),
        ("已日拨付 daily_paid", yuan(statement.daily_paid_fen)),
        ("药耗招采垫付 procurement", yuan(statement.procurement_fen)),
        ("退票 returned", yuan(statement.returned_fen)),
        ("下期抵扣 offset", yuan(statement.offset_fen)),
        ("月拨付金额 net", yuan(statement.net_fen)),
        ("状态", STATUS_NAMES.get(statement.status, statement.status)),
    ]
    settlements = session.execute(
        select(Settlement, Revocation.id)
        .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
        .where(
            Settlement.fixmedins_code == statement.fixmedins_code,
            Settlement.insutype == statement.insutype,
            Settlement.period == statement.period,
        )
        .order_by(Settlement.setl_date, Settlement.setl_id)
    ).all()
    audits = session.scalars(
        select(AuditItem).where(AuditItem.taken_statement_id == statement.id)
    ).all()
    advances = session.scalars(
        select(ProcurementAdvance).where(ProcurementAdvance.taken_statement_id == statement.id)
    ).all()
    return xlsx.workbook(
        [
            ("结算单", ("项目", "金额"), components),
            (
                "结算明细",
                ("结算ID", "结算日期", "医保基金支付金额", "日拨付金额", "批次日期", "是否冲销"),
                (
                    [
                        s.setl_id,
                        s.setl_date.isoformat(),
                        yuan(s.fund_amount_fen),
                        yuan(s.daily_amount_fen),
                        s.batch_date.isoformat(),
                        "是" if revoked else "否",
                    ]
                    for s, revoked in settlements
                ),
            ),
            (
                "审核扣款",
                ("规则编码", "原因", "扣款金额"),
                ([a.rule_code, a.reason, yuan(a.final_amount_fen or 0)] for a in audits),
            ),
            (
                "药耗招采垫付",
                ("参考号", "结算期", "金额"),
                ([a.reference, a.period, yuan(a.amount_fen)] for a in advances),
            ),
        ]
    )


def xlsx_response(book: Workbook, filename: str) -> StreamingResponse:
    return xlsx.response(book, filename)
