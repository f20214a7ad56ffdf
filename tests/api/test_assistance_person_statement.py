"""The person's assistance statement of a year (issue 22 item 6): A9 rows 1–2 and row 4's
deduction (plus row 6's application) as JSON, the certificate number masked for every role but
admin, hospitals refused, an unknown person 404; the XLSX opened and its cells checked. Runs
on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.assistance import claims
from app.assistance.recovery import Resolution
from app.clock import SimulatedClock
from tests.support.assistance import a9_settlements, assistance_world

URL = "/api/v1/assistance/persons/{psn_no}/years/{year}/statement"
POLICY = {  # A9's dibao rows, stored (P1 also holds low_income, which this policy omits)
    "region": "640100",
    "effective_from": "2026-01-01",
    "categories": {
        "dibao": {
            "inpatient": {"bands": [["0.00", "0.80"], ["20000.00", "0.90"]], "cap": "30000.00"},
            "outpatient": {"bands": [["0.00", "0.60"]], "cap": "30000.00"},
        }
    },
}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))


@pytest.fixture
def headers(client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    made = assistance_world(session)
    stored = client.post("/api/v1/assistance/policies", json=POLICY, headers=made["operator"])
    assert stored.status_code == 201, stored.text
    a9_settlements(client, made)  # rows 1 and 2
    deduction = {
        "reference": "D-CI-1",
        "psn_no": "P1",
        "type": "critical_illness",
        "amount": "2000.00",
        "fixmedins_code": "H001",
        "setl_id": "S1",
    }  # row 4
    done = client.post("/api/v1/assistance/deductions", json=deduction, headers=made["operator"])
    assert done.status_code == 201, done.text
    application = {
        "reference": "A1",
        "psn_no": "P1",
        "invoices": [
            {
                "invoice_no": "INV-A1",
                "visit": "outpatient",
                "date": "2026-08-10",
                "medfee_sumamt": "1200.00",
                "inscp_scp_amt": "1000.00",
            }
        ],
    }  # row 6
    done = client.post(
        "/api/v1/assistance/applications", json=application, headers=made["operator"]
    )
    assert done.status_code == 201, done.text
    return made


def _get(client: TestClient, headers: dict, role: str, psn_no: str = "P1") -> Any:
    return client.get(URL.format(psn_no=psn_no, year=2026), headers=headers[role])


def test_the_statement_of_a9_rows_1_2_4_and_6(client: TestClient, headers: dict) -> None:
    response = _get(client, headers, "operator")
    assert response.status_code == 200, response.text
    body = response.json()
    person = body["person"]
    assert person["psn_no"] == "P1" and person["name"] == "张某"
    assert person["certno"] == "6401**********1234"
    assert [held["category"] for held in person["categories"]] == ["dibao", "low_income"]
    s1, s2, a1 = body["items"]
    assert (s1["key"], s1["date"], s1["fixmedins_code"], s1["setl_id"]) == (
        "S:H001:S1",
        "2026-03-10",
        "H001",
        "S1",
    )
    assert (s1["medfee"], s1["inscp"]) == ("30000.00", "30000.00")
    assert s1["payers"] == {
        "hifp": "18000.00",
        "hifob": "0.00",
        "hifmi": "2000.00",
        "cvlserv": "0.00",
        "hifes": "0.00",
        "oth": "0.00",
        "maf": "8000.00",
    }
    # row 4: S1's base 10,000.00 less 2,000.00 → 8,000.00 → 6,400.00; S2 → 12,300.00
    assert (s1["gross_base"], s1["deducted"], s1["base"], s1["amount"]) == (
        "10000.00",
        "2000.00",
        "8000.00",
        "6400.00",
    )
    assert (s1["category"], s1["visit"]) == ("dibao", "inpatient")
    assert (s2["base"], s2["amount"], s2["payers"]["maf"]) == ("15000.00", "12300.00", "12000.00")
    # row 6: the invoice (dibao outpatient 60 %)
    assert (a1["key"], a1["source"], a1["invoice_no"], a1["application"]) == (
        "I:INV-A1",
        "invoice",
        "INV-A1",
        "A1",
    )
    assert (a1["medfee"], a1["base"], a1["amount"], a1["hospital"]) == (
        "1200.00",
        "1000.00",
        "600.00",
        None,
    )
    assert (body["due"], body["granted"], body["difference"]) == (
        "19300.00",
        "20600.00",
        "-1300.00",
    )
    assert body["granted_parts"] == {
        "maf_pay": "20000.00",
        "applications": "600.00",
        "clearings": "0.00",
    }
    assert body["clearings"] == []
    (payment,) = body["payments"]
    assert (payment["reference"], payment["kind"], payment["amount"], payment["year_part"]) == (
        "A1",
        "application",
        "600.00",
        "600.00",
    )
    assert (payment["deducted"], payment["paid"], payment["status"]) == (
        "0.00",
        "600.00",
        "PENDING_APPROVAL",
    )
    assert body["receivable"] == "0.00"


def test_masking_per_role_hospitals_refused_unknown_person(
    client: TestClient, headers: dict
) -> None:
    certno = {role: _get(client, headers, role).json()["person"]["certno"] for role in
              ("operator", "accountant", "auditor", "admin")}  # fmt: skip
    assert certno == {
        "operator": "6401**********1234",
        "accountant": "6401**********1234",
        "auditor": "6401**********1234",
        "admin": "640102198001011234",
    }
    assert _get(client, headers, "H001").status_code == 403
    xlsx = client.get(URL.format(psn_no="P1", year=2026) + ".xlsx", headers=headers["H001"])
    assert xlsx.status_code == 403
    missing = _get(client, headers, "operator", psn_no="P9")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    # another year of a known person: nothing in it
    other = client.get(URL.format(psn_no="P1", year=2025), headers=headers["operator"]).json()
    assert (other["items"], other["due"], other["payments"]) == ([], "0.00", [])


def _rows(sheet: Any) -> dict[str, int]:
    """The first row of each label in column A."""
    found: dict[str, int] = {}
    for row in range(1, sheet.max_row + 1):
        value = sheet.cell(row, 1).value
        if isinstance(value, str) and value not in found:
            found[value] = row
    return found


def test_the_xlsx_has_the_same_content_in_chinese(client: TestClient, headers: dict) -> None:
    response = client.get(URL.format(psn_no="P1", year=2026) + ".xlsx", headers=headers["operator"])
    assert response.status_code == 200, response.text
    assert "spreadsheetml" in response.headers["content-type"]
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.worksheets) == 1  # 一张表
    sheet = book.worksheets[0]
    rows = _rows(sheet)
    assert str(sheet.cell(1, 1).value).startswith("个人医疗救助年度明细表")
    sections = ["人员信息", "救助明细", "汇总", "清算记录", "支付记录", "应收余额"]
    assert [rows[name] for name in sections] == sorted(rows[name] for name in sections)
    assert sheet.cell(rows["身份证号"], 2).value == "6401**********1234"
    assert sheet.cell(rows["姓名"], 2).value == "张某"
    # the items: the heading row, then S1, S2, A1
    heading = rows["救助明细"] + 1
    headings = [sheet.cell(heading, column).value for column in range(1, 22)]
    assert headings[0] == "日期" and headings[-1] == "应救助金额"
    s1 = heading + 1
    assert sheet.cell(s1, 2).value == "S:H001:S1"
    amount = sheet.cell(s1, headings.index("应救助金额") + 1)
    assert Decimal(str(amount.value)) == Decimal("6400.00")
    assert amount.number_format == "#,##0.00"
    maf = sheet.cell(s1, headings.index("医疗救助（垫付）") + 1)
    assert Decimal(str(maf.value)) == Decimal("8000.00")
    assert sheet.cell(s1, headings.index("救助类别") + 1).value == "低保对象"
    assert sheet.cell(heading + 3, 2).value == "I:INV-A1"
    assert "发票 INV-A1" in sheet.cell(heading + 3, 3).value
    due = sheet.cell(rows["应救助金额"], 2)
    assert Decimal(str(due.value)) == Decimal("19300.00") and due.number_format == "#,##0.00"
    difference = sheet.cell(rows["清算差额（应救助 − 实际救助）"], 2).value
    assert Decimal(str(difference)) == Decimal("-1300.00")
    assert sheet.cell(rows["清算记录"] + 2, 1).value == "无"  # no clearing yet
    payment = rows["支付记录"] + 2
    assert sheet.cell(payment, 1).value == "A1"
    assert sheet.cell(payment, 2).value == "救助申请"
    assert Decimal(str(sheet.cell(payment, 7).value)) == Decimal("600.00")
    receivable = sheet.cell(rows["当前应收余额（个人应退还）"], 2)
    assert Decimal(str(receivable.value)) == Decimal("0.00")
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    admin = client.get(URL.format(psn_no="P1", year=2026) + ".xlsx", headers=headers["admin"])
    admin_sheet = load_workbook(io.BytesIO(admin.content)).worksheets[0]
    assert admin_sheet.cell(rows["身份证号"], 2).value == "640102198001011234"


def test_the_open_receivable_is_the_persons_now(
    client: TestClient, session: Session, headers: dict
) -> None:
    made = datetime(2026, 7, 2, 2, 0, tzinfo=UTC)
    claims.add_claim(
        session,
        reference="C-2026-1",
        psn_no="P1",
        region_code="640100",
        year=2026,
        amount_fen=180_000,
        resolution=Resolution.NEXT_PERIOD,
        made_at=made,
        now=made,
    )  # A9 row 5: 下期抵扣 1,800.00
    session.commit()
    assert _get(client, headers, "operator").json()["receivable"] == "1800.00"
    other_year = client.get(URL.format(psn_no="P1", year=2027), headers=headers["auditor"])
    assert other_year.json()["receivable"] == "1800.00"  # what is owed now, whatever the year


def test_the_statement_lists_the_years_clearings(client: TestClient, headers: dict) -> None:
    """A real-time clearing of the year (A7) shows in the statement and in granted; the
    year's difference is then 0."""
    body = {"reference": "C-9", "psn_no": "P1", "year": 2026, "resolution": "next_period"}
    cleared = client.post("/api/v1/assistance/clearings", json=body, headers=headers["operator"])
    assert cleared.status_code == 201, cleared.text
    statement = _get(client, headers, "operator").json()
    assert [
        (c["reference"], c["kind"], c["difference"], c["resolution"], c["status"])
        for c in statement["clearings"]
    ] == [("C-9", "realtime", "-1300.00", "next_period", "有效")]
    assert statement["granted_parts"]["clearings"] == "-1300.00"
    assert (statement["due"], statement["granted"], statement["difference"]) == (
        "19300.00",
        "19300.00",
        "0.00",
    )
    book = client.get(URL.format(psn_no="P1", year=2026) + ".xlsx", headers=headers["operator"])
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    rows = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    (clearing,) = [row for row in rows if row and row[0] == "C-9"]
    assert clearing[1:4] == ["实时清算", clearing[2], -1300]  # mode, time, difference
