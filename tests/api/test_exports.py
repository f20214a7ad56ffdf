"""Exports a fund office can use (统一制式的电子支付汇总单及明细): every export opened with
openpyxl, its amounts numbers, its totals the sums of its rows and of the documents, names
beside codes, a title with the period and the generation time. (Statement and clearing
exports are checked where their documents are built: test_monthly_api, test_annual_api.)"""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bank import service as bank
from app.daily import service as daily
from app.institutions import service as institutions
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, settle
from tests.support.sqlcount import sql_statements
from tests.support.xlsx import uniform_sheet

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)


def _batch_paid_in_part(session: Session) -> int:
    """H001 (two settlements) paid with a receipt, H002 sent and waiting."""
    builders.institution(session, "H001", name="银川市第一人民医院")
    builders.institution(session, "H002", name="银川市第二人民医院")
    settle(session, "H001", "S1", 1_000_001, FRI)
    settle(session, "H001", "S2", 234_567, FRI, hour=11)
    settle(session, "H002", "S3", 500_000, FRI)
    batch = generate(session, FRI)
    daily.approve(session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(MON, 9))
    fund = institutions.get_fund_ledger(session, "640100", "310")
    ids = daily.submit_due(session, fund, today=MON, now=at(MON, 14, 30))
    paid = bank.find(session, ids[0])
    assert paid is not None and paid.fixmedins_code == "H001"
    paid.status, paid.receipt_no = "SUCCESS", "HD2026030900000001"
    return batch.id


def test_a_daily_batch_exports_as_a_payment_summary_with_details(
    client: TestClient, session: Session
) -> None:
    batch_id = _batch_paid_in_part(session)
    acc = bearer(builders.user_token(session, "acc2", "accountant"))
    hospital = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    response = client.get(f"/api/v1/daily-batches/{batch_id}/export.xlsx", headers=acc)
    assert response.status_code == 200, response.text
    assert "daily-batch-2026-03-06" in response.headers["content-disposition"]

    summary = uniform_sheet(response.content, "支付汇总单")
    assert "电子支付汇总单" in summary.title and "业务日期：2026-03-06" in summary.title
    assert "银川市" in summary.title and "职工基本医疗保险" in summary.title
    assert f"批次号：{batch_id}" in summary.info and "拨付日期：2026-03-09" in summary.info
    assert [
        (
            row["定点医药机构编号"],
            row["定点医药机构名称"],
            row["结算笔数"],
            summary.fen(row, "医保基金支付金额"),
            summary.fen(row, "日拨付金额"),
            row["银行回单号"],
            row["支付状态"],
        )
        for row in summary.rows
    ] == [
        ("H001", "银川市第一人民医院", 2, 1_234_568, 740_741, "HD2026030900000001", "已拨付"),
        ("H002", "银川市第二人民医院", 1, 500_000, 300_000, None, "银行处理中"),
    ]
    shown = client.get(f"/api/v1/daily-batches/{batch_id}", headers=acc).json()
    assert summary.totals is not None
    assert summary.totals["日拨付金额"] == float(shown["amount"]) == 10_407.41
    assert summary.totals["结算笔数"] == shown["settlements"] == 3

    details = uniform_sheet(response.content, "支付明细")
    assert [(row["结算ID"], row["结算日期"], row["定点医药机构名称"]) for row in details.rows] == [
        ("S1", FRI, "银川市第一人民医院"),
        ("S2", FRI, "银川市第一人民医院"),
        ("S3", FRI, "银川市第二人民医院"),
    ]
    assert details.totals is not None
    assert details.totals["日拨付金额"] == summary.totals["日拨付金额"]
    assert details.totals["医保基金支付金额"] == summary.totals["医保基金支付金额"]
    assert [row["日拨付比例"] for row in details.rows] == [0.6, 0.6, 0.6]
    # a batch holds many hospitals: the fund office's document, not a hospital's
    refused = client.get(f"/api/v1/daily-batches/{batch_id}/export.xlsx", headers=hospital)
    assert refused.status_code == 403


def test_the_month_start_summary_exports_with_names_and_totals(
    client: TestClient, session: Session
) -> None:
    _batch_paid_in_part(session)
    assert daily.compile_month_summary(session, "2026-03", now=at(date(2026, 4, 7), 8)) == 1
    acc = bearer(builders.user_token(session, "acc2", "accountant"))
    session.commit()
    response = client.get("/api/v1/reports/daily-payments/2026-03/export.xlsx", headers=acc)
    assert response.status_code == 200, response.text
    table = uniform_sheet(response.content, "日拨付月度汇总")
    assert "月份：2026-03" in table.title
    assert [
        (r["统筹区"], r["险种"], r["定点医药机构名称"], r["拨付日期"], r["笔数"])
        for r in table.rows
    ] == [("银川市", "职工基本医疗保险", "银川市第一人民医院", MON, 1)]
    assert table.totals is not None and table.totals["金额"] == 7_407.41
    empty = client.get("/api/v1/reports/daily-payments/2026-02/export.xlsx", headers=acc)
    nothing = uniform_sheet(empty.content, "日拨付月度汇总")
    assert nothing.rows == [] and nothing.totals is not None and nothing.totals["金额"] == 0


def test_the_daily_batch_export_reads_its_instructions_at_once_without_locking_them(
    client: TestClient, session: Session
) -> None:
    """An export reads: one query for all the lines' instructions (not one per line), and no
    row lock that would queue it behind the sender or hold the sender up."""
    batch_id = _batch_paid_in_part(session)
    acc = bearer(builders.user_token(session, "acc2", "accountant"))
    session.commit()
    with sql_statements(session) as seen:
        response = client.get(f"/api/v1/daily-batches/{batch_id}/export.xlsx", headers=acc)
    assert response.status_code == 200, response.text
    reads = [statement for statement in seen if "FROM payment_instruction" in statement]
    assert len(reads) == 1, reads
    assert not any("FOR UPDATE" in statement for statement in seen)
