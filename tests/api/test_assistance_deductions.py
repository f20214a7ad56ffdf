"""Deduction data over HTTP (SPEC-ASSISTANCE A7, A10 "Deductions"; issue 22 item 3): one record
idempotent on its reference (replay 200, other content 409), an unknown, revoked or
pre-switch-on item 404, another person's item 422, shape and amount rules 422; lists; the file
import (CSV and XLSX) all or nothing with every bad row named `rows.N.field`, rows replayed
per reference."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assistance.deduction_models import DeductionRecord
from app.clock import SimulatedClock
from app.trail.models import AuditEvent
from tests.support.assistance import a9_settlements, assistance_world, settle

URL = "/api/v1/assistance/deductions"
IMPORTS = "/api/v1/assistance/deduction-imports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))


@pytest.fixture
def headers(client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    found = assistance_world(session)
    a9_settlements(client, found)  # S1, S2 of P1
    settle(client, found, "S3", "2026-06-01", inscp="1000.00", hifp="0.00", psn_no="P2")
    settle(client, found, "S0", "2026-01-20", inscp="1000.00", hifp="0.00")  # before 610 on
    return found


def _on_s1(reference: str = "D1", **changes: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "type": "critical_illness",
        "psn_no": "P1",
        "amount": "2000.00",
        "fixmedins_code": "H001",
        "setl_id": "S1",
        **changes,
    }


def _errors(response: Any, status: int = 422) -> set[tuple[str, str]]:
    assert response.status_code == status, response.text
    return {(e["field"], e["rule"]) for e in response.json().get("errors", [])}


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(DeductionRecord)) or 0


def test_record_then_replay_then_conflict(
    client: TestClient, session: Session, headers: dict
) -> None:
    op = headers["operator"]
    first = client.post(URL, json=_on_s1(), headers=op)
    assert first.status_code == 201, first.text
    body = first.json()
    assert {k: body[k] for k in ("reference", "type", "psn_no", "year", "item_key", "amount")} == {
        "reference": "D1",
        "type": "critical_illness",
        "psn_no": "P1",
        "year": 2026,
        "item_key": "S:H001:S1",
        "amount": "2000.00",
    }
    again = client.post(URL, json=_on_s1(amount="2000"), headers=op)  # the same amount
    assert again.status_code == 200 and again.json() == body
    assert _errors(client.post(URL, json=_on_s1(amount="2000.01"), headers=op), 409) == {
        ("reference", "reference_reused")
    }
    assert _errors(client.post(URL, json=_on_s1(setl_id="S2"), headers=op), 409)
    relief = {"reference": "R1", "type": "burden_relief", "psn_no": "P1", "amount": "1000.00"}
    made = client.post(URL, json={**relief, "year": 2026}, headers=op)
    assert made.status_code == 201 and made.json()["item_key"] is None
    assert _count(session) == 2
    events = session.scalars(
        select(AuditEvent.entity_key).where(AuditEvent.action == "assistance_deduction.record")
    ).all()
    assert sorted(events) == ["D1", "R1"]


def test_unknown_revoked_and_pre_switch_on_items_are_404(
    client: TestClient, session: Session, headers: dict
) -> None:
    op = headers["operator"]
    unknown = client.post(URL, json=_on_s1(setl_id="S9"), headers=op)
    assert _errors(unknown, 404) == {("setl_id", "item_unknown")}
    other_hospital = client.post(URL, json=_on_s1(fixmedins_code="H002"), headers=op)
    assert _errors(other_hospital, 404) == {("setl_id", "item_unknown")}
    before = client.post(URL, json=_on_s1(setl_id="S0"), headers=op)
    assert _errors(before, 404) == {("setl_id", "item_unknown")}
    invoice = {"reference": "D2", "type": "other", "psn_no": "P1", "amount": "1.00"}
    assert _errors(client.post(URL, json={**invoice, "invoice_no": "INV1"}, headers=op), 404)
    revoked = client.post(
        "/api/v1/settlements/H001/S2/revoke", json={"reason": "撤销"}, headers=headers["H001"]
    )
    assert revoked.status_code == 201
    assert _errors(client.post(URL, json=_on_s1(setl_id="S2"), headers=op), 404)
    nobody = {"reference": "R9", "type": "burden_relief", "psn_no": "P9", "amount": "1.00"}
    assert _errors(client.post(URL, json={**nobody, "year": 2026}, headers=op), 404) == {
        ("psn_no", "recipient_unknown")
    }
    assert _count(session) == 0


def test_an_item_of_another_person_is_422(
    client: TestClient, session: Session, headers: dict
) -> None:
    response = client.post(URL, json=_on_s1(setl_id="S3"), headers=headers["operator"])
    assert _errors(response) == {("psn_no", "item_of_another_person")}
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"amount": "0.00"}, "amount", "amount_positive"),
        ({"amount": "-1.00"}, "amount", "amount_positive"),
        ({"amount": "1.001"}, "amount", "amount_decimals"),
        ({"type": "hifmi"}, "type", "enum"),
        ({"year": 2026}, "year", "item_names_no_year"),
        ({"setl_id": None}, "setl_id", "item_named"),
        ({"invoice_no": "INV1"}, "invoice_no", "one_item"),
        ({"type": "burden_relief"}, "year", "relief_names_a_year"),
        ({"type": "burden_relief", "year": 2026}, "setl_id", "relief_names_no_item"),
        ({"reference": "D 1"}, "reference", "string_pattern_mismatch"),
    ],
)
def test_shape_and_amount_rules(
    client: TestClient, headers: dict, changes: dict[str, Any], field: str, rule: str
) -> None:
    body = {k: v for k, v in _on_s1(**changes).items() if v is not None}
    assert (field, rule) in _errors(client.post(URL, json=body, headers=headers["operator"]))


def test_roles_and_listing(client: TestClient, headers: dict) -> None:
    assert client.post(URL, json=_on_s1(), headers=headers["H001"]).status_code == 403
    assert client.post(URL, json=_on_s1(), headers=headers["admin"]).status_code == 403
    op = headers["operator"]
    for number, setl_id in enumerate(("S1", "S2", "S1")):
        made = client.post(URL, json=_on_s1(f"D{number}", setl_id=setl_id), headers=op)
        assert made.status_code == 201
    relief = {"reference": "R25", "type": "burden_relief", "psn_no": "P1", "amount": "5.00"}
    assert client.post(URL, json={**relief, "year": 2025}, headers=op).status_code == 201
    assert client.get(URL, headers=headers["H001"]).status_code == 403
    first = client.get(URL, params={"psn_no": "P1", "year": 2026, "limit": 2}, headers=op).json()
    assert [row["reference"] for row in first["items"]] == ["D0", "D1"]
    rest = client.get(
        URL,
        params={"psn_no": "P1", "year": 2026, "cursor": first["next_cursor"]},
        headers=headers["auditor"],
    ).json()
    assert [row["reference"] for row in rest["items"]] == ["D2"] and rest["next_cursor"] is None
    of_2025 = client.get(URL, params={"year": 2025}, headers=op).json()["items"]
    assert [row["reference"] for row in of_2025] == ["R25"]


# --- the file import ---------------------------------------------------------------------------

HEADER = "参考号,扣减类型,人员编号,扣减金额,机构编号,结算ID,发票号,年度"


def _csv(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding)


def _upload(client: TestClient, headers: dict, content: bytes, name: str = "deductions.csv") -> Any:
    media = XLSX if name.endswith(".xlsx") else "text/csv"
    return client.post(IMPORTS, files={"file": (name, content, media)}, headers=headers["operator"])


GOOD_ROWS = (
    "F1,大病保险,P1,2000.00,H001,S1,,",
    "F2,mutual_aid,P1,100,H001,S2,,",
    "F3,综合减负,P1,1000.00,,,,2026",
)


def test_csv_is_all_or_nothing_with_every_bad_row(
    client: TestClient, session: Session, headers: dict
) -> None:
    bad = _csv(
        GOOD_ROWS[0],
        "F2,mutual_aid,P1,1.234,H001,S2,,",  # row 3: three decimals
        "F3,大病保险,P1,10.00,H001,S9,,",  # row 4: no such settlement
        "",  # a blank line is skipped (row 5)
        "F4,大病保险,P1,10.00,H001,S3,,",  # row 6: P2's settlement
        "F5,综合减负,P1,10.00,,,,",  # row 7: relief without a year
        "F1,大病保险,P1,9.00,H001,S1,,",  # row 8: F1 again, other content
    )
    response = _upload(client, headers, bad)
    assert _errors(response) == {
        ("rows.3.amount", "amount_decimals"),
        ("rows.4.setl_id", "item_unknown"),
        ("rows.6.psn_no", "item_of_another_person"),
        ("rows.7.year", "relief_names_a_year"),
        ("rows.8.reference", "reference_repeated"),
    }
    assert _count(session) == 0
    good = _upload(client, headers, _csv(*GOOD_ROWS))
    assert good.status_code == 201, good.text
    body = good.json()
    assert (body["rows"], body["recorded"], body["replayed"]) == (3, 3, 0)
    assert [(d["reference"], d["type"], d["amount"], d["year"]) for d in body["deductions"]] == [
        ("F1", "critical_illness", "2000.00", 2026),
        ("F2", "mutual_aid", "100.00", 2026),
        ("F3", "burden_relief", "1000.00", 2026),
    ]
    (trail,) = session.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "assistance_deduction.import")
    ).all()
    assert trail == {"rows": 3, "recorded": 3, "references": ["F1", "F2", "F3"]}
    again = _upload(client, headers, _csv(*GOOD_ROWS, "F4,其他,P1,1.00,H001,S1,,"))
    assert again.status_code == 201
    assert (again.json()["recorded"], again.json()["replayed"]) == (1, 3)
    replay = _upload(client, headers, _csv(*GOOD_ROWS))
    assert replay.status_code == 200 and replay.json()["recorded"] == 0
    reused = _upload(client, headers, _csv("F9,其他,P1,1.00,H001,S1,,", "F2,其他,P1,1,H001,S2,,"))
    assert _errors(reused, 409) == {("rows.3.reference", "reference_reused")}
    assert _count(session) == 4


def test_xlsx_with_numbers_and_chinese_type_names(
    client: TestClient, session: Session, headers: dict
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(["X1", "大病保险", "P1", 2000.5, "H001", "S1", None, None])
    sheet.append(["X2", "综合减负", "P1", 1000, None, None, None, 2026])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(client, headers, buffer.getvalue(), "扣减数据.xlsx")
    assert response.status_code == 201, response.text
    assert [(d["reference"], d["amount"]) for d in response.json()["deductions"]] == [
        ("X1", "2000.50"),
        ("X2", "1000.00"),
    ]
    sheet.append(["X3", "其他", "P1", 12.345, "H001", "S2", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    refused = _upload(client, headers, buffer.getvalue(), "扣减数据.xlsx")
    assert _errors(refused) == {("rows.4.amount", "amount_decimals")}
    assert _count(session) == 2


@pytest.mark.parametrize(
    ("content", "name", "rule"),
    [
        (b"", "d.csv", "file_empty"),
        ("参考号,人员编号\r\nF1,P1\r\n".encode(), "d.csv", "file_heading"),
        ("参考号,扣减类型,人员编号,扣减金额,备注\r\n".encode(), "d.csv", "file_heading"),
        (HEADER.encode() + b"\r\n", "d.csv", "file_empty"),
        (b"PK\x03\x04 not a workbook", "d.xlsx", "file_type"),
        (b"whatever", "d.xls", "file_type"),
        (b"whatever", "d.pdf", "file_type"),
    ],
)
def test_files_that_cannot_be_read(
    client: TestClient, headers: dict, content: bytes, name: str, rule: str
) -> None:
    assert _errors(_upload(client, headers, content, name)) == {("file", rule)}


def test_a_gbk_csv_from_excel(client: TestClient, headers: dict) -> None:
    response = _upload(client, headers, _csv(GOOD_ROWS[0], encoding="gb18030"))
    assert response.status_code == 201, response.text


def test_import_roles(client: TestClient, headers: dict) -> None:
    files = {"file": ("d.csv", _csv(*GOOD_ROWS), "text/csv")}
    for role in ("H001", "auditor", "accountant", "admin"):
        assert client.post(IMPORTS, files=files, headers=headers[role]).status_code == 403
