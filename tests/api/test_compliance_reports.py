"""Deadline reports (T+1, monthly, annual) and the tie of the month-start summary to the
statements' daily_paid (issue 19 items 5 and 6), as JSON and XLSX, for staff and hospitals.

H001 in 640100/310 (daily ratio 0.60):
- S1 Thu 03-26, 1,000.00 daily: paid Fri 03-27 (T+1, period 2026-03, paid in March);
- S2 Tue 03-31, 500.00 daily: paid Wed 04-01 (T+1, period 2026-03, paid in April);
- S3 Wed 04-01, 300.00 daily: paid Fri 04-03 (a day late);
- S4 Thu 04-02, 200.00 daily: its batch never approved (unpaid).
The March statement counts S1 and S2 in daily_paid (both paid before it was computed).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.annual.models import AnnualRule
from app.auth.principal import Principal
from app.bank import service as bank
from app.bank.models import PaymentInstruction
from app.daily import service as daily
from app.institutions import service as institutions
from app.monthly import deadlines
from app.monthly.models import Declaration, MonthlyStatement
from app.workdays import service as workdays
from tests.support import builders
from tests.support.daily import at, generate, settle
from tests.support.xlsx import uniform_sheet

ACC = Principal(None, "acc", "accountant")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _pay(session: Session, day: date) -> list[str]:
    fund = institutions.get_fund_ledger(session, "640100", "310")
    ids = daily.submit_due(session, fund, today=day, now=at(day, 14, 30))
    for instruction_id in ids:
        row = session.get(PaymentInstruction, instruction_id)
        assert row is not None
        bank.apply_result(
            session,
            row,
            "SUCCESS",
            row.amount_fen,
            row.payee_account,
            {"receipt_no": f"R-{instruction_id}"},
            None,
            at(day, 14, 31),
        )
    return ids


@pytest.fixture
def tokens(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    found = {
        name: builders.bearer(builders.user_token(session, name, role, code))
        for name, role, code in (
            ("aud", "auditor", None),
            ("h1", "hospital", "H001"),
            ("h2", "hospital", "H002"),
        )
    }
    settle(session, "H001", "S1", 166_667, date(2026, 3, 26))  # 1,000.00 daily
    daily.approve(
        session, generate(session, date(2026, 3, 26)).id, actor=ACC, now=at(date(2026, 3, 27), 9)
    )
    assert _pay(session, date(2026, 3, 27)) == ["D260326-6401310-H001"]
    settle(session, "H001", "S2", 83_333, date(2026, 3, 31))  # 500.00
    daily.approve(
        session, generate(session, date(2026, 3, 31)).id, actor=ACC, now=at(date(2026, 4, 1), 9)
    )
    assert _pay(session, date(2026, 4, 1)) == ["D260331-6401310-H001"]
    settle(session, "H001", "S3", 50_000, date(2026, 4, 1))  # 300.00
    daily.approve(
        session, generate(session, date(2026, 4, 1)).id, actor=ACC, now=at(date(2026, 4, 2), 9)
    )
    settle(session, "H001", "S4", 33_333, date(2026, 4, 2))  # 200.00
    generate(session, date(2026, 4, 2))  # pushed, never approved
    assert _pay(session, date(2026, 4, 3)) == ["D260401-6401310-H001"]  # a day late
    session.add(
        MonthlyStatement(
            region_code="640100",
            insutype="310",
            fixmedins_code="H001",
            period="2026-03",
            status="APPROVED",
            version=1,
            deposit_rate_bp=500,
            fund_pay_fen=250_000,
            deposit_fen=12_500,
            ratio_amount_fen=237_500,
            audit_fen=0,
            daily_paid_fen=150_000,
            procurement_fen=0,
            returned_fen=0,
            offset_fen=0,
            net_fen=87_500,
            computed_at=at(date(2026, 4, 16), 1),
            computed_by="system",
            approved_at=at(date(2026, 4, 17), 7).astimezone(UTC),
        )
    )
    session.add(
        Declaration(
            fixmedins_code="H001",
            insutype="310",
            period="2026-03",
            declared_at=NOW,
            declared_by="h1",
        )
    )
    session.add(
        AnnualRule(
            year=2026,
            assessment_bands=[[0, 10000]],
            credit_bands=[[0, 10000]],
            start_date=date(2027, 3, 1),
            deadline=date(2027, 5, 31),
            recorded_at=NOW,
            recorded_by="op",
        )
    )
    session.commit()
    return found


def test_t1_compliance_by_fund_ledger_and_month(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    march = client.get("/api/v1/reports/t1-compliance/2026-03", headers=tokens["aud"])
    assert march.status_code == 200, march.text
    assert march.json() == [
        {
            "region_code": "640100",
            "insutype": "310",
            "month": "2026-03",
            "settlements": 2,
            "on_time": 2,
            "late": 0,
            "unpaid": 0,
            "share_on_time": "1.00",
            "amount": "1500.00",
            "amount_on_time": "1500.00",
        }
    ]
    [april] = client.get("/api/v1/reports/t1-compliance/2026-04", headers=tokens["aud"]).json()
    assert (april["on_time"], april["late"], april["unpaid"]) == (0, 1, 1)
    assert april["share_on_time"] == "0.00"
    # a hospital sees its own only
    assert client.get("/api/v1/reports/t1-compliance/2026-04", headers=tokens["h2"]).json() == []
    assert client.get("/api/v1/reports/t1-compliance/2026-04", headers=tokens["h1"]).json() == [
        april
    ]
    other = client.get(
        "/api/v1/reports/t1-compliance/2026-04",
        params={"fixmedins_code": "H001"},
        headers=tokens["h2"],
    )
    assert other.status_code == 404
    export = client.get("/api/v1/reports/t1-compliance/2026-04/export.xlsx", headers=tokens["aud"])
    table = uniform_sheet(export.content, "T+1拨付时效")
    [row] = table.rows
    assert (row["T+1 按期支付"], row["逾期支付"], row["未支付"]) == (0, 1, 1)


def test_monthly_and_annual_compliance(
    client: TestClient, session: Session, tokens: dict[str, dict[str, str]]
) -> None:
    calendar = workdays.load(session)
    [row] = client.get("/api/v1/reports/monthly-compliance/2026-03", headers=tokens["aud"]).json()
    assert row["computation_date"] == str(deadlines.rules.computation_date("2026-03", 15, calendar))
    assert row["settlement_deadline"] == str(deadlines.settlement_deadline("2026-03", 15, calendar))
    assert row["approved_on"] == "2026-04-17"  # the Shanghai date of a 07:00 approval
    assert row["payment_deadline"] == str(deadlines.payment_deadline(date(2026, 4, 17), calendar))
    assert (row["paid_on"], row["within_20_working_days"], row["within_5_working_days"]) == (
        None,
        "unpaid",
        "unpaid",
    )
    export = client.get(
        "/api/v1/reports/monthly-compliance/2026-03/export.xlsx", headers=tokens["h1"]
    )
    assert uniform_sheet(export.content, "月结算时效").rows[0]["机构编码"] == "H001"
    [cleared] = client.get("/api/v1/reports/annual-compliance/2026", headers=tokens["aud"]).json()
    assert (cleared["fixmedins_code"], cleared["status"], cleared["outcome"]) == (
        "H001",
        "NOT_CLEARED",
        "unpaid",
    )
    assert client.get("/api/v1/reports/annual-compliance/2025", headers=tokens["aud"]).json() == []
    export = client.get("/api/v1/reports/annual-compliance/2026/export.xlsx", headers=tokens["aud"])
    assert uniform_sheet(export.content, "年度清算时效").rows[0]["状态"] == "未清算"


def test_month_start_summary_tied_to_daily_paid(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    march = client.get("/api/v1/reports/daily-paid-tie/2026-03", headers=tokens["h1"]).json()
    assert march["rows"] == [
        {
            "region_code": "640100",
            "insutype": "310",
            "fixmedins_code": "H001",
            "summary": "1000.00",
            "daily_paid": "1500.00",
            "difference": "-500.00",
            "statement_computed": True,
        }
    ]
    [item] = march["differences"]
    assert (item["setl_id"], item["reason"], item["amount"], item["paid_on"]) == (
        "S2",
        "paid_next_month",
        "-500.00",
        "2026-04-01",
    )
    april = client.get("/api/v1/reports/daily-paid-tie/2026-04", headers=tokens["aud"]).json()
    [row] = april["rows"]
    assert (row["summary"], row["daily_paid"], row["statement_computed"]) == (
        "800.00",
        "0.00",
        False,
    )
    reasons = [(i["setl_id"], i["reason"], i["amount"]) for i in april["differences"]]
    assert reasons == [("S2", "earlier_period", "500.00"), (None, "not_computed", "300.00")]
    assert client.get("/api/v1/reports/daily-paid-tie/2026-04", headers=tokens["h2"]).json() == {
        "month": "2026-04",
        "rows": [],
        "differences": [],
    }
    export = client.get("/api/v1/reports/daily-paid-tie/2026-03/export.xlsx", headers=tokens["aud"])
    tie = uniform_sheet(export.content, "汇总与日拨付已付核对")
    assert tie.fen(tie.rows[0], "差额") == -50_000
    details = uniform_sheet(export.content, "差异明细")
    assert details.rows[0]["结算编号"] == "S2"
