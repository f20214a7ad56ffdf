"""Monthly statement exports (月度结算单) in the uniform layout of app/xlsx.py: amounts are
numbers, names stand beside codes, every list ends with its totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import xlsx
from app.institutions import service as institutions
from app.money import bp_str
from app.monthly.models import AuditItem, MonthlyStatement, ProcurementAdvance
from app.payables.machine import STATUS_NAMES
from app.settlements.models import Revocation, Settlement
from app.xlsx import Column, Kind, Sheet

COMPONENTS = (  # (heading, attribute): the statement's arithmetic, SPEC §4, in order
    ("医保基金支付金额", "fund_pay_fen"),
    ("质量保证金", "deposit_fen"),
    ("月拨付金额(比例)", "ratio_amount_fen"),
    ("审核扣款", "audit_fen"),
    ("已日拨付", "daily_paid_fen"),
    ("药耗招采垫付", "procurement_fen"),
    ("退票", "returned_fen"),
    ("下期抵扣", "offset_fen"),
    ("月拨付金额", "net_fen"),
)
LIST_COLUMNS = (
    Column("结算期"),
    Column("统筹区编码"),
    Column("统筹区"),
    Column("险种"),
    Column("定点医药机构编号"),
    Column("定点医药机构名称"),
    *(Column(heading, Kind.MONEY) for heading, _ in COMPONENTS),
    Column("状态"),
)


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def statement_list(
    session: Session,
    rows: Sequence[MonthlyStatement],
    *,
    period: str | None,
    region_code: str | None,
    now: datetime,
) -> Workbook:
    """All statements of a period (and region) with their components and totals."""
    regions = institutions.region_names(session)
    names = institutions.institution_names(session, [s.fixmedins_code for s in rows])
    notes = (
        [f"统筹区：{region_code} {regions.get(region_code, '')}".rstrip()] if region_code else []
    )
    sheet = Sheet(
        name="月度结算单汇总",
        title=f"医保基金月度结算单汇总表　结算期：{period or '全部'}",
        columns=LIST_COLUMNS,
        rows=(
            [
                s.period,
                s.region_code,
                regions.get(s.region_code, ""),
                xlsx.insutype_name(s.insutype),
                s.fixmedins_code,
                names.get(s.fixmedins_code, ""),
                *(getattr(s, attribute) for _, attribute in COMPONENTS),
                status_name(s.status),
            ]
            for s in rows
        ),
        notes=notes,
    )
    return xlsx.workbook([sheet], generated_at=now)


def statement_detail(session: Session, statement: MonthlyStatement, *, now: datetime) -> Workbook:
    """One statement: its arithmetic, the settlements of the period, the audit deductions and
    procurement advances it takes."""
    name = institutions.institution_names(session, [statement.fixmedins_code]).get(
        statement.fixmedins_code, ""
    )
    region = institutions.region_names(session).get(statement.region_code, "")
    who = f"{statement.fixmedins_code} {name}"
    notes = [
        f"定点医药机构：{who}",
        f"统筹区：{statement.region_code} {region}",
        f"险种：{xlsx.insutype_name(statement.insutype)}",
        f"状态：{status_name(statement.status)}",
    ]
    title = f"医保基金月度结算单　结算期：{statement.period}"
    components = [
        (
            heading
            if attribute != "deposit_fen"
            else f"{heading}（{bp_str(statement.deposit_rate_bp)}）",
            getattr(statement, attribute),
        )
        for heading, attribute in COMPONENTS
    ]
    return xlsx.workbook(
        [
            Sheet(
                name="结算单",
                title=title,
                columns=(Column("项目"), Column("金额", Kind.MONEY)),
                rows=components,
                notes=notes,
                totals=False,  # the components are an arithmetic, not a list to add up
            ),
            _settlements_sheet(session, statement, title, notes),
            _audits_sheet(session, statement, title, notes),
            _advances_sheet(session, statement, title, notes),
        ],
        generated_at=now,
    )


def _settlements_sheet(
    session: Session, statement: MonthlyStatement, title: str, notes: list[str]
) -> Sheet:
    """The fund amount's detail: the period's settlements (less those revoked before they
    were batched, which count in no period) and, negative, the revocations of batched
    settlements that fall in this period. Its total is the statement's 医保基金支付金额."""
    of_institution = (
        Settlement.fixmedins_code == statement.fixmedins_code,
        Settlement.insutype == statement.insutype,
        Settlement.region_code == statement.region_code,
    )
    settlements = session.execute(
        select(Settlement, Revocation)
        .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
        .where(*of_institution, Settlement.period == statement.period)
        .where((Revocation.id.is_(None)) | Revocation.batched.is_(True))
        .order_by(Settlement.setl_date, Settlement.setl_id)
    ).all()
    revocations = session.execute(
        select(Settlement, Revocation)
        .join(Revocation, Revocation.settlement_id == Settlement.id)
        .where(*of_institution, Revocation.period == statement.period)
        .where(Revocation.batched.is_(True))
        .order_by(Revocation.revoked_at, Settlement.setl_id)
    ).all()
    rows: list[list[object]] = [
        [
            "结算",
            s.setl_id,
            s.setl_date,
            s.period,
            s.fund_amount_fen,
            s.ratio_bp,
            s.daily_amount_fen,
            s.batch_date,
            f"{r.period} 冲销" if r is not None else "",
        ]
        for s, r in settlements
    ]
    rows += [
        ["冲销", s.setl_id, s.setl_date, s.period, -s.fund_amount_fen, None, None, None, r.reason]
        for s, r in revocations
    ]
    return Sheet(
        name="结算明细",
        title=f"{title}　医保基金支付金额明细",
        columns=(
            Column("类型"),
            Column("结算ID"),
            Column("结算日期", Kind.DATE),
            Column("结算期"),
            Column("医保基金支付金额", Kind.MONEY),
            Column("日拨付比例", Kind.RATIO),
            Column("日拨付金额", Kind.MONEY),
            Column("批次日期", Kind.DATE),
            Column("备注"),
        ),
        rows=rows,
        notes=[*notes, "合计即本期医保基金支付金额：冲销在其所属结算期扣减"],
    )


def _audits_sheet(
    session: Session, statement: MonthlyStatement, title: str, notes: list[str]
) -> Sheet:
    audits = session.scalars(
        select(AuditItem).where(AuditItem.taken_statement_id == statement.id).order_by(AuditItem.id)
    ).all()
    return Sheet(
        name="审核扣款",
        title=f"{title}　审核扣款",
        columns=(Column("规则编码"), Column("原因"), Column("扣款金额", Kind.MONEY)),
        rows=([a.rule_code, a.reason, a.final_amount_fen or 0] for a in audits),
        notes=notes,
    )


def _advances_sheet(
    session: Session, statement: MonthlyStatement, title: str, notes: list[str]
) -> Sheet:
    advances = session.scalars(
        select(ProcurementAdvance)
        .where(ProcurementAdvance.taken_statement_id == statement.id)
        .order_by(ProcurementAdvance.id)
    ).all()
    return Sheet(
        name="药耗招采垫付",
        title=f"{title}　药耗招采垫付",
        columns=(Column("参考号"), Column("结算期"), Column("金额", Kind.MONEY)),
        rows=([a.reference, a.period, a.amount_fen] for a in advances),
        notes=notes,
    )


def xlsx_response(book: Workbook, filename: str) -> StreamingResponse:
    return xlsx.response(book, filename)
