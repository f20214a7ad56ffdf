"""Annual clearing exports (年度清算) in the uniform layout of app/xlsx.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy.orm import Session

from app import xlsx
from app.annual.models import AnnualClearing
from app.institutions import service as institutions
from app.payables.machine import STATUS_NAMES
from app.xlsx import Column, Kind, Sheet

AMOUNTS = (  # (heading, attribute), SPEC §5 in order
    ("年度清算金额", "clearing_amount_fen"),
    ("月度结算拨付金额", "settled_fen"),
    ("质量保证金", "deposit_held_fen"),
    ("考核不予支付", "forfeited_fen"),
    ("下期抵扣", "offset_fen"),
    ("年清算实付金额", "actual_fen"),
)
COLUMNS = (
    Column("年度"),
    Column("统筹区编码"),
    Column("统筹区"),
    Column("险种"),
    Column("定点医药机构编号"),
    Column("定点医药机构名称"),
    *(Column(heading, Kind.MONEY) for heading, _ in AMOUNTS[:3]),
    Column("返还比例", Kind.RATIO),
    *(Column(heading, Kind.MONEY) for heading, _ in AMOUNTS[3:]),
    Column("状态"),
)


def _rows(session: Session, clearings: Sequence[AnnualClearing]) -> list[list[object]]:
    regions = institutions.region_names(session)
    names = institutions.institution_names(session, [c.fixmedins_code for c in clearings])
    return [
        [
            str(c.year),
            c.region_code,
            regions.get(c.region_code, ""),
            xlsx.insutype_name(c.insutype),
            c.fixmedins_code,
            names.get(c.fixmedins_code, ""),
            *(getattr(c, attribute) for _, attribute in AMOUNTS[:3]),
            c.return_ratio_bp,
            *(getattr(c, attribute) for _, attribute in AMOUNTS[3:]),
            STATUS_NAMES.get(c.status, c.status),
        ]
        for c in clearings
    ]


def clearing_list(
    session: Session, clearings: Sequence[AnnualClearing], *, year: int | None, now: datetime
) -> Workbook:
    sheet = Sheet(
        name="年度清算汇总",
        title=f"医保基金年度清算汇总表　年度：{year or '全部'}",
        columns=COLUMNS,
        rows=_rows(session, clearings),
    )
    return xlsx.workbook([sheet], generated_at=now)


def clearing_detail(session: Session, clearing: AnnualClearing, *, now: datetime) -> Workbook:
    """One clearing and its base: the year's monthly statements it used."""
    row = _rows(session, [clearing])[0]
    title = f"医保基金年度清算单　年度：{clearing.year}"
    notes = [f"定点医药机构：{row[4]} {row[5]}", f"险种：{row[3]}", f"状态：{row[-1]}"]
    statements = [
        [s["period"], s["fund_pay"], s["audit"], s["ratio_amount"], s["deposit"]]
        for s in clearing.base["statements"]
    ]
    return xlsx.workbook(
        [
            Sheet(name="年度清算", title=title, columns=COLUMNS, rows=[row], notes=notes),
            Sheet(
                name="月度结算",
                title=f"{title}　所依据的月度结算单",
                columns=(
                    Column("结算期"),
                    Column("医保基金支付金额", Kind.MONEY),
                    Column("审核扣款", Kind.MONEY),
                    Column("月拨付金额(比例)", Kind.MONEY),
                    Column("质量保证金", Kind.MONEY),
                ),
                rows=statements,
                notes=notes,
            ),
        ],
        generated_at=now,
    )
