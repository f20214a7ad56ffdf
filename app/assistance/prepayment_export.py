"""The prepayment calculation as XLSX (预付款测算表), Chinese labels (SPEC-ASSISTANCE A8)."""

from __future__ import annotations

from datetime import datetime

from openpyxl import Workbook

from app import xlsx
from app.assistance.policy_models import PrepaymentApproval, PrepaymentRow

STATUS_NAMES = {"COMPUTED": "已测算", "APPROVED": "已审批", "RECEIVED": "已到账"}


def calculation(
    row: PrepaymentRow, approvals: list[PrepaymentApproval], *, region_name: str, now: datetime
) -> Workbook:
    sheet = xlsx.Sheet(
        name="预付款测算",
        title=f"{row.year}年度医疗救助基金预付款测算表",
        columns=[
            xlsx.Column("统筹区"),
            xlsx.Column("年度", xlsx.Kind.TEXT),
            xlsx.Column("上年度实际费用", xlsx.Kind.MONEY),
            xlsx.Column("预付比例", xlsx.Kind.RATIO),
            xlsx.Column("应预付额", xlsx.Kind.MONEY),
            xlsx.Column("年末余额结转", xlsx.Kind.MONEY, total=False),
            xlsx.Column("应拨付额", xlsx.Kind.MONEY),
            xlsx.Column("状态"),
            xlsx.Column("财政审批文号"),
            xlsx.Column("银行流水号"),
        ],
        rows=[
            (
                f"{region_name}（{row.region_code}）",
                str(row.year),
                row.actual_fen,
                row.rate_bp,
                row.due_fen,
                row.carried_fen,
                row.transfer_fen,
                STATUS_NAMES.get(row.status, row.status),
                "；".join(f"{a.approval_ref}（{a.approver}）" for a in approvals),
                row.bank_reference or "",
            )
        ],
        notes=(
            f"测算日：{row.computed_on:%Y-%m-%d}",
            "应预付额 = 上年度实际费用 × 预付比例；应拨付额 = max(0, 应预付额 − 年末余额结转)",
        ),
        totals=False,
    )
    return xlsx.workbook([sheet], generated_at=now)
