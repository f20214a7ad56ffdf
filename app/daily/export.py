"""Daily disbursement exports in the uniform layout of app/xlsx.py: a daily batch as the
electronic payment summary with its details (电子支付汇总单及明细), and the month-start
summary of the daily payments (SPEC §3.8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from app import xlsx
from app.bank import service as bank
from app.daily import service
from app.daily.models import DailyBatch
from app.daily.rules import BatchStatus, LineStatus
from app.institutions import service as institutions
from app.xlsx import Column, Kind, Sheet

BATCH_STATUS_NAMES: dict[str, str] = {
    BatchStatus.PUSHED: "待审批",
    BatchStatus.APPROVED: "已审批待发送",
    BatchStatus.REJECTED: "已退回",
    BatchStatus.SUBMITTED: "已发送银行",
    BatchStatus.EMPTY: "无拨付",
}
LINE_STATUS_NAMES: dict[str, str] = {
    LineStatus.PAID: "已拨付",
    LineStatus.FAILED: "拨付失败",
    LineStatus.RETURNED: "已退票",
    LineStatus.PENDING: "银行处理中",
    LineStatus.NOT_SENT: "未发送",
}
SUMMARY_COLUMNS = (
    Column("定点医药机构编号"),
    Column("定点医药机构名称"),
    Column("收款户名"),
    Column("收款账号"),
    Column("开户行行号"),
    Column("结算笔数", Kind.COUNT),
    Column("医保基金支付金额", Kind.MONEY),
    Column("日拨付金额", Kind.MONEY),
    Column("含逾期结算"),
    Column("暂缓拨付"),
    Column("支付指令号"),
    Column("银行回单号"),
    Column("支付状态"),
)
DETAIL_COLUMNS = (
    Column("定点医药机构编号"),
    Column("定点医药机构名称"),
    Column("结算ID"),
    Column("结算日期", Kind.DATE),
    Column("结算期"),
    Column("医保基金支付金额", Kind.MONEY),
    Column("日拨付比例", Kind.RATIO),
    Column("日拨付金额", Kind.MONEY),
)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def batch_workbook(session: Session, batch: DailyBatch, *, now: datetime) -> Workbook:
    """A daily batch: one summary row per institution (payee, amount, instruction, receipt)
    and one detail row per settlement; the totals equal the batch's."""
    region = institutions.region_names(session).get(batch.region_code, "")
    lines = service.lines_of(session, [batch.id])
    names = institutions.institution_names(session, [line.fixmedins_code for line in lines])
    approvers = "、".join(a.approver for a in service.approvals(session, batch)) or "—"
    title = (
        f"医保基金日拨付电子支付汇总单　{batch.region_code} {region}　"
        f"{xlsx.insutype_name(batch.insutype)}　业务日期：{batch.business_date}"
    )
    notes = [
        f"批次号：{batch.id}",
        f"拨付日期：{batch.pay_date}",
        f"状态：{BATCH_STATUS_NAMES.get(batch.status, batch.status)}",
        f"审批：{approvers}",
    ]
    summary: list[list[Any]] = []
    details: list[list[Any]] = []
    # One read of the lines' instructions, without row locks: an export reads, it must not
    # queue behind (or hold up) the sender.
    sent = bank.instructions_by_id(session, [i.instruction_id for i in lines if i.instruction_id])
    for line in lines:
        name = names.get(line.fixmedins_code, "")
        instruction = sent.get(line.instruction_id) if line.instruction_id else None
        if instruction is not None:  # what was sent: the payee at that moment
            payee = (instruction.payee_name, instruction.payee_account, instruction.payee_bank_code)
        else:
            institution = institutions.get_institution(session, line.fixmedins_code)
            payee = (institution.bank_account_name, institution.bank_account, institution.bank_code)
        status = service.line_status(line, instruction.status if instruction else None)
        summary.append(
            [
                line.fixmedins_code,
                name,
                *payee,
                line.settlement_count,
                line.fund_total_fen,
                line.amount_fen,
                _yes(line.late),
                _yes(line.held or line.withdrawn_at is not None),
                line.instruction_id or "",
                (instruction.receipt_no if instruction else None) or "",
                LINE_STATUS_NAMES.get(status, status),
            ]
        )
        details += [
            [
                line.fixmedins_code,
                name,
                s.setl_id,
                s.setl_date,
                s.period or "",
                s.fund_amount_fen,
                s.ratio_bp,
                s.daily_amount_fen,
            ]
            for s in service.details_of(session, batch, line.fixmedins_code)
        ]
    return xlsx.workbook(
        [
            Sheet("支付汇总单", title, SUMMARY_COLUMNS, summary, notes),
            Sheet("支付明细", title.replace("汇总单", "明细"), DETAIL_COLUMNS, details, notes),
        ],
        generated_at=now,
    )


def month_summary_workbook(
    session: Session, month: str, rows: Sequence[Any], *, now: datetime
) -> Workbook:
    """The month-start summary: last month's successful daily payments per institution and
    payment date (compiled on the 5th)."""
    regions = institutions.region_names(session)
    names = institutions.institution_names(session, [r.fixmedins_code for r in rows])
    sheet = Sheet(
        name="日拨付月度汇总",
        title=f"医保基金日拨付月度汇总表　月份：{month}",
        columns=(
            Column("统筹区编码"),
            Column("统筹区"),
            Column("险种"),
            Column("定点医药机构编号"),
            Column("定点医药机构名称"),
            Column("拨付日期", Kind.DATE),
            Column("笔数", Kind.COUNT),
            Column("金额", Kind.MONEY),
        ),
        rows=(
            [
                r.region_code,
                regions.get(r.region_code, ""),
                xlsx.insutype_name(r.insutype),
                r.fixmedins_code,
                names.get(r.fixmedins_code, ""),
                r.pay_date,
                r.payments,
                r.amount_fen,
            ]
            for r in rows
        ),
        notes=["仅含银行回单确认成功的日拨付"],
    )
    return xlsx.workbook([sheet], generated_at=now)
