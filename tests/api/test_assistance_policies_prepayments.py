"""The stored assistance policy and the prepayment over HTTP (SPEC-ASSISTANCE A4, A8; issue 21
items 6-7): a SCENARIOS.md `assistance_policies` entry is posted as is, validated into the pure
policy (422 naming the field), idempotent per (region, effective_from); the prepayment is read,
approved by two accountants, received and exported as its calculation."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.assistance import policies
from app.assistance.policy import Band, Category, Rule, Visit
from app.assistance.policy_models import PrepaymentRow
from app.ledger import service as ledger
from app.ledger.rules import account_code
from tests.support import builders
from tests.support.builders import bearer
from tests.support.xlsx import uniform_sheet

POLICY: dict[str, Any] = {
    "region": "640100",
    "effective_from": "2026-01-01",
    "burden_line": "0.40",
    "prepayment_rate": "0.25",
    "prepayment_day": "01-10",
    "care_grant": "5000.00",
    "categories": {
        "dibao": {
            "inpatient": {
                "bands": [["0.00", "0.80"], ["20000.00", "0.90"]],
                "deductible": "0.00",
                "cap": "30000.00",
            },
            "outpatient": {"bands": [["0.00", "0.60"]], "deductible": "0.00", "cap": "30000.00"},
        },
        "tekun": {"inpatient": {"bands": [["0.00", "1.00"]], "deductible": "0.00", "cap": None}},
    },
}
URL = "/api/v1/assistance/policies"


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    builders.region(session, "640100")
    made = {
        role: bearer(builders.user_token(session, role, role))
        for role in ("operator", "admin", "auditor")
    }
    made["acc1"] = bearer(builders.user_token(session, "acc1", "accountant"))
    made["acc2"] = bearer(builders.user_token(session, "acc2", "accountant"))
    session.commit()
    return made


def _fields(response: Any) -> set[str]:
    return {error["field"] for error in response.json().get("errors", [])}


def test_a_policy_is_stored_once_per_region_and_date_and_read_back_as_the_pure_policy(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    created = client.post(URL, json=POLICY, headers=headers["operator"])
    assert created.status_code == 201, created.text
    assert created.json()["categories"]["dibao"]["inpatient"]["bands"] == [
        ["0.00", "0.80"],
        ["20000.00", "0.90"],
    ]
    assert created.json()["created_by"] == "operator"
    again = client.post(URL, json=POLICY, headers=headers["admin"])
    assert again.status_code == 200, again.text
    other = copy.deepcopy(POLICY)
    other["prepayment_rate"] = "0.30"
    assert client.post(URL, json=other, headers=headers["operator"]).status_code == 409
    later = {**other, "effective_from": "2027-01-01"}
    assert client.post(URL, json=later, headers=headers["admin"]).status_code == 201
    assert client.post(URL, json=POLICY, headers=headers["acc1"]).status_code == 403
    listed = client.get(URL, params={"region": "640100"}, headers=headers["auditor"]).json()
    assert [(p["effective_from"], p["prepayment_rate"]) for p in listed] == [
        ("2026-01-01", "0.25"),
        ("2027-01-01", "0.30"),
    ]
    assert client.get(URL, params={"region": "640200"}, headers=headers["auditor"]).json() == []

    assert policies.policy_on(session, "640100", date(2025, 12, 31)) is None
    policy = policies.policy_on(session, "640100", date(2026, 12, 31))
    assert policy is not None
    assert (policy.prepayment_rate_bp, policy.prepayment_day, policy.care_grant_fen) == (
        2500,
        (1, 10),
        500_000,
    )
    assert policy.burden_line_bp == 4000
    assert policy.rule(Category.DIBAO, Visit.INPATIENT) == Rule(
        (Band(0, 8000), Band(2_000_000, 9000)), 0, 3_000_000
    )
    assert policy.rule(Category.TEKUN, Visit.INPATIENT) == Rule((Band(0, 10000),), 0, None)
    assert policy.rule(Category.LOW_INCOME, Visit.INPATIENT) is None
    in_2027 = policies.policy_on(session, "640100", date(2027, 1, 1))
    assert in_2027 is not None and in_2027.prepayment_rate_bp == 3000


def _with(path: list[str], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(POLICY)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


BAD = [
    (_with(["categories", "widow"], {}), "categories.widow", "category"),
    (
        _with(["categories", "dibao", "daycare"], {"bands": [["0.00", "0.50"]]}),
        "categories.dibao.daycare",
        "visit",
    ),
    (
        _with(["categories", "dibao", "outpatient", "bands"], [["100.00", "0.60"]]),
        "categories.dibao.outpatient.bands",
        "bands_from_zero",
    ),
    (
        _with(
            ["categories", "dibao", "outpatient", "bands"],
            [["0.00", "0.60"], ["500.00", "0.70"], ["500.00", "0.80"]],
        ),
        "categories.dibao.outpatient.bands",
        "bands_increasing",
    ),
    (
        _with(["categories", "dibao", "outpatient", "bands"], [["0.00", "1.20"]]),
        "categories.dibao.outpatient.bands.0.1",
        None,
    ),
    (_with(["prepayment_day"], "02-29"), "prepayment_day", "month_day_format"),
    (_with(["prepayment_day"], "1-10"), "prepayment_day", "month_day_format"),
    (_with(["prepayment_rate"], "1.50"), "prepayment_rate", None),
    (_with(["care_grant"], "-1.00"), "care_grant", None),
    (_with(["region"], "649999"), "region", "region_exists"),
    ({**POLICY, "extra": 1}, "extra", None),
]


@pytest.mark.parametrize(("body", "field", "rule"), BAD, ids=[b[1] for b in BAD])
def test_an_invalid_policy_is_refused_naming_the_field(
    client: TestClient,
    headers: dict[str, dict[str, str]],
    body: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    response = client.post(URL, json=body, headers=headers["operator"])
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and (rule is None or e["rule"] == rule) for e in errors), errors


def test_a_prepayment_is_approved_twice_received_and_exported(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    builders.fund(session, "640100", "610")
    row = PrepaymentRow(
        region_code="640100",
        year=2027,
        computed_on=date(2027, 1, 11),
        actual_fen=1_841_251,
        rate_bp=2500,
        due_fen=460_313,
        carried_fen=150_000,
        transfer_fen=310_313,
        status="COMPUTED",
        computed_at=datetime(2027, 1, 10, 19, tzinfo=UTC),
    )
    session.add(row)
    session.commit()
    base = "/api/v1/assistance/prepayments"
    listed = client.get(base, params={"year": 2027}, headers=headers["auditor"]).json()
    [item] = listed["items"]
    assert {k: item[k] for k in ("actual", "rate", "due", "carried", "transfer", "status")} == {
        "actual": "18412.51",
        "rate": "0.25",
        "due": "4603.13",
        "carried": "1500.00",
        "transfer": "3103.13",
        "status": "COMPUTED",
    }
    assert (
        client.get(base, params={"status": "APPROVED"}, headers=headers["auditor"]).json()["items"]
        == []
    )
    one = f"{base}/{item['id']}"
    first = client.post(f"{one}/approve", json={"approval_ref": "CZ-1"}, headers=headers["acc1"])
    assert first.status_code == 200 and first.json()["status"] == "COMPUTED", first.text
    replay = client.post(f"{one}/approve", json={"approval_ref": "CZ-1"}, headers=headers["acc1"])
    assert replay.status_code == 200 and len(replay.json()["approvals"]) == 1
    other = client.post(f"{one}/approve", json={"approval_ref": "CZ-2"}, headers=headers["acc1"])
    assert other.status_code == 409
    early = client.post(f"{one}/receive", json={"bank_reference": "BK1"}, headers=headers["acc1"])
    assert early.status_code == 409
    second = client.post(f"{one}/approve", json={"approval_ref": "CZ-1"}, headers=headers["acc2"])
    assert second.json()["status"] == "APPROVED"
    assert [a["approver"] for a in second.json()["approvals"]] == ["acc1", "acc2"]
    received = client.post(
        f"{one}/receive", json={"bank_reference": "BK1"}, headers=headers["acc2"]
    )
    assert received.status_code == 200 and received.json()["status"] == "RECEIVED", received.text
    assert received.json()["bank_reference"] == "BK1"
    assert ledger.balance(session, account_code("bank", "640100", "610")) == 310_313
    again = client.post(f"{one}/receive", json={"bank_reference": "BK1"}, headers=headers["acc1"])
    assert again.status_code == 200
    assert ledger.balance(session, account_code("bank", "640100", "610")) == 310_313
    assert client.get(f"{base}/999999", headers=headers["auditor"]).status_code == 404

    export = client.get(f"{one}/calculation.xlsx", headers=headers["auditor"])
    assert export.status_code == 200
    table = uniform_sheet(export.content, "预付款测算", totals=False)
    for heading in ("上年度实际费用", "预付比例", "应预付额", "年末余额结转", "应拨付额"):
        assert heading in table.headings
    [line] = table.rows
    assert table.fen(line, "上年度实际费用") == 1_841_251
    assert table.fen(line, "应预付额") == 460_313
    assert table.fen(line, "年末余额结转") == 150_000
    assert table.fen(line, "应拨付额") == 310_313
