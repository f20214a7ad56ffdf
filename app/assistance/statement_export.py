"""The assistance statements as XLSX (医疗救助月结算汇总表) in the uniform layout of
app/xlsx.py: amounts are numbers, names stand beside codes, the list ends with its totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy.orm import Session

from app import xlsx
from app.assistance.statement_models import AssistanceStatement
from app.institutions import service as institutions
from app.payables.machine import STATUS_NAMES
from app.xlsx import Column, Kind, Sheet

COLUMNS = (
    Column("结算期"),
    Column("统筹区编码"),
    Column("统筹区"),
    Column("定点医药机构编号"),
    Column("定点医药机构名称"),
    Column("救助结算人次", Kind.COUNT),
    Column("结转下期人次", Kind.COUNT),
    Column("救助基金支付金额", Kind.MONEY),
    Column("撤销冲减", Kind.MONEY),
    Column("下期抵扣", Kind.MONEY),
    Column("应拨付金额", Kind.MONEY),
    Column("状态"),
)


def statement_list(
    session: Session,
    rows: Sequence[AssistanceStatement],
    *,
    period: str | None,
    region_code: str | None,
    now: datetime,
) -> Workbook:
    regions = institutions.region_names(session)
    names = institutions.institution_names(session, [s.fixmedins_code for s in rows])
    notes = (
        [f"统筹区：{region_code} {regions.get(region_code, '')}".rstrip()] if region_code else []
    )
    sheet = Sheet(
        name="医疗救助月结算汇总",
        title=f"医疗救助基金月度结算汇总表　结算期：{period or '全部'}",
        columns=COLUMNS,
        rows=(
            [
                s.period,
                s.region_code,
                regions.get(s.region_code, ""),
                s.fixmedins_code,
                names.get(s.fixmedins_code, ""),
                s.settlements,
                s.carried,
                s.lines_fen,
                s.negative_fen,
                s.offset_fen,
                s.amount_fen,
                STATUS_NAMES.get(s.status, s.status),
            ]
            for s in rows
        ),
        notes=notes,
    )
    return xlsx.workbook([sheet], generated_at=now)
