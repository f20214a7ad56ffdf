"""Annual clearing over HTTP (SPEC §5, §6): rules and score bands, assessments, the clearing
of a year whose statements are final, on hand-computed numbers, its flow and postings."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annual import computation as annual_computation
from app.annual import rules as annual_rules
from app.annual import service as annual
from app.auth.principal import Principal
from app.bank import service as bank
from app.clock import SimulatedClock
from app.errors import Forbidden
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.ledger import service as ledger
from app.ledger.models import JournalEntry
from app.ledger.rules import account_code
from app.money import yuan
from app.monthly import audits, computation, statements
from app.settlements import service as settlements
from app.settlements.schemas import ReconciliationIn
from app.trail.models import AuditEvent
from app.workdays import service as workdays
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, settle
from tests.support.xlsx import uniform_sheet

REGION, INSUTYPE = "640100", "310"
NOV, DEC = date(2026, 11, 10), date(2026, 12, 8)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BANDS = [
    {"min_score": 0, "return_ratio": "0.00"},
    {"min_score": 60, "return_ratio": "0.60"},
    {"min_score": "90.00", "return_ratio": "1.00"},
]


# --- helpers ------------------------------------------------------------------------------------


def _users(session: Session, *codes: str) -> dict[str, dict[str, str]]:
    headers = {
        code: bearer(builders.user_token(session, f"user-{code}", "hospital", code))
        for code in codes
    }
    headers["op"] = bearer(builders.user_token(session, "op", "operator"))
    headers["acc"] = bearer(builders.user_token(session, "acc", "accountant"))
    session.commit()
    return headers


def _fund(session: Session) -> FundLedger:
    return institutions.get_fund_ledger(session, REGION, INSUTYPE)


def _balance(session: Session, name: str, code: str | None = None) -> int:
    return ledger.balance_or_zero(session, account_code(name, REGION, INSUTYPE, code))


def _reconcile(session: Session, code: str, day: date) -> None:
    held = settlements.held_totals(session, code, INSUTYPE, day, day)[day]
    data = ReconciliationIn.model_validate(
        {
            "fixmedins_code": code,
            "insutype": INSUTYPE,
            "setl_date": day.isoformat(),
            "count": held.count,
            "fund_amount": yuan(held.fund_fen),
        }
    )
    actor = Principal(None, f"user-{code}", "hospital", code)
    assert settlements.reconcile(session, data, actor=actor, now=at(day, 23)).status == "RECONCILED"
    session.commit()


def _pay(session: Session, instruction_id: str, failed: bool = False) -> None:
    """The bank's result of the instruction: paid (with a receipt), or failed."""
    instruction = bank.find(session, instruction_id)
    assert instruction is not None
    receipt = {
        "receipt_no": "HD" + instruction_id.replace("-", ""),
        "amount": yuan(instruction.amount_fen),
    }
    failure = {"code": "E01", "reason": "收款账户状态异常"} if failed else None
    bank.apply_result(
        session,
        instruction,
        "FAILED" if failed else "SUCCESS",
        instruction.amount_fen,
        instruction.payee_account,
        None if failed else receipt,
        failure,
        at(instruction.requested_date, 15),
    )
    session.commit()


def _declare(
    client: TestClient, clock: SimulatedClock, headers: dict, code: str, period: str, day: date
) -> None:
    if at(day, 10) > clock.now():
        clock.set(at(day, 10))
    response = client.post(
        "/api/v1/declarations",
        json={"fixmedins_code": code, "insutype": INSUTYPE, "period": period},
        headers=headers,
    )
    assert response.status_code == 201, response.text


def _compute_statements(session: Session, today: date) -> int:
    ids = computation.compute_due(
        session, _fund(session), today=today, now=at(today, 1), calendar=workdays.load(session)
    )
    session.commit()
    return len(ids)


def _settle_statements(
    client: TestClient, session: Session, headers: dict, period: str, today: date
) -> None:
    """Every statement of the period: confirmed, approved, paid (PAID is final)."""
    items = client.get(
        "/api/v1/statements", params={"period": period}, headers=headers["op"]
    ).json()["items"]
    for item in items:
        code = item["fixmedins_code"]
        client.post(f"/api/v1/statements/{item['id']}/confirm", json={}, headers=headers[code])
        approved = client.post(f"/api/v1/statements/{item['id']}/approve", headers=headers["acc"])
        assert approved.json()["status"] == "APPROVED"
    ids = statements.FLOW.submit_due(session, _fund(session), today=today, now=at(today, 14, 30))
    session.commit()
    for instruction_id in ids:
        _pay(session, instruction_id)


def _compute_clearings(session: Session, today: date) -> list[int]:
    ids = annual_computation.compute_due(session, _fund(session), today=today, now=at(today, 2))
    session.commit()
    return ids


def _assess(client: TestClient, headers: dict, code: str, **fields: object) -> Response:
    return client.post(
        "/api/v1/annual/assessments",
        json={"year": 2026, "fixmedins_code": code, "insutype": INSUTYPE, **fields},
        headers=headers,
    )


def _clearing(client: TestClient, headers: dict, code: str) -> dict:
    items = client.get(
        "/api/v1/annual/clearings", params={"year": 2026, "fixmedins_code": code}, headers=headers
    ).json()["items"]
    assert len(items) == 1, items
    return items[0]


def _amounts(clearing: dict) -> dict[str, str]:
    keys = (
        "approved_fund",
        "clearing_amount",
        "settled",
        "deposit_held",
        "return_ratio",
        "forfeited",
        "gross",
        "offset",
        "actual",
    )
    return {key: clearing[key] for key in keys}


def _approval_entries(session: Session, clearing_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(
                JournalEntry.kind == "clearing_approval",
                JournalEntry.business_ref == f"clearing:{clearing_id}",
            )
        )
        or 0
    )


# --- rules and assessments ----------------------------------------------------------------------


def test_rules_and_score_bands(client: TestClient, session: Session) -> None:
    headers = _users(session)
    url = "/api/v1/annual/rules"
    body = {"year": 2026, "assessment_bands": BANDS, "credit_bands": BANDS[:2]}
    assert client.post(url, json=body, headers=headers["acc"]).status_code == 403
    created = client.post(url, json=body, headers=headers["op"])
    assert created.status_code == 201
    shown = created.json()
    assert (shown["start_date"], shown["deadline"]) == ("2027-01-10", "2027-05-31")
    assert [(b["min_score"], b["return_ratio"]) for b in shown["assessment_bands"]] == [
        (0.0, "0.00"),
        (60.0, "0.60"),
        (90.0, "1.00"),
    ]
    assert client.post(url, json=body, headers=headers["op"]).status_code == 200
    assert client.get("/api/v1/annual/rules/2026", headers=headers["acc"]).json() == shown
    assert client.get("/api/v1/annual/rules/2025", headers=headers["acc"]).status_code == 404
    for band, rule in (
        ({"min_score": "100.01", "return_ratio": "1.00"}, "score_range"),
        ({"min_score": 50.123, "return_ratio": "1.00"}, "score_decimals"),
        ({"min_score": 50, "return_ratio": "1.01"}, "ratio_range"),
        ({"min_score": 50, "return_ratio": "0.605"}, "ratio_decimals"),
    ):
        refused = client.post(
            url, json={**body, "year": 2027, "credit_bands": [band]}, headers=headers["op"]
        )
        assert refused.status_code == 422, band
        assert [e["rule"] for e in refused.json()["errors"]] == [rule], band
    # a score takes the band with the highest min_score not above it (scores in hundredths)
    stored = [(0, 0), (6000, 6000), (9000, 10_000)]
    assert annual_rules.band_ratio(9000, stored) == 10_000
    assert annual_rules.band_ratio(8999, stored) == 6000
    assert annual_rules.band_ratio(5999, stored) == 0
    assert annual_rules.return_ratio(9500, 6500, stored, stored) == 6000  # the lower one


def test_assessment_scores_are_validated(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    headers = _users(session, "H001")
    op = headers["op"]
    for score, rule in (
        (100.01, "score_range"),
        ("-1", "score_range"),
        (85.123, "score_decimals"),
        ("85.5.5", "score_type"),
        (True, "score_type"),
    ):
        refused = _assess(client, op, "H001", assessment_score=score, credit_score=90)
        assert refused.status_code == 422, score
        assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
            ("assessment_score", rule)
        ], score
    refused = _assess(client, op, "H001", assessment_score=90, credit_score=101)
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("credit_score", "score_range")
    ]
    assert (
        _assess(client, headers["H001"], "H001", assessment_score=90, credit_score=90).status_code
        == 403
    )
    created = _assess(
        client, op, "H001", assessment_score=85.12, credit_score="100", budget="9000.00"
    )
    assert created.status_code == 201
    assert (created.json()["assessment_score"], created.json()["credit_score"]) == (85.12, 100.0)
    assert created.json()["budget"] == "9000.00" and created.json()["clearing_amount"] is None
    again = _assess(
        client, op, "H001", assessment_score="85.12", credit_score=100, budget="9000.00"
    )
    assert again.status_code == 200
    assert _assess(client, op, "H009", assessment_score=80, credit_score=80).status_code == 404
    listed = client.get("/api/v1/annual/assessments", params={"year": 2026}, headers=op).json()
    assert [(a["fixmedins_code"], a["assessment_score"]) for a in listed] == [("H001", 85.12)]


# --- clearing -----------------------------------------------------------------------------------


def _year(client: TestClient, session: Session, clock: SimulatedClock) -> dict[str, dict[str, str]]:
    """2026 of two institutions, every statement paid:

    H001 (enrolled from November)  Nov: S1 6,000.00, audit 300.00 (final, unappealed)
                                   Dec: S2 4,000.00
    H002 (enrolled from December)  Dec: S3 10,000.00
    No daily payment is ever sent: the statements pay everything.
    Nov H001: fund_pay 6,000.00 deposit 300.00 ratio 5,700.00 audit 300.00 net 5,400.00
    Dec H001: fund_pay 4,000.00 deposit 200.00 ratio 3,800.00               net 3,800.00
    Dec H002: fund_pay 10,000.00 deposit 500.00 ratio 9,500.00              net 9,500.00
    """
    builders.institution(session, "H001", start=date(2026, 11, 1))
    builders.institution(session, "H002", level=2, start=date(2026, 12, 1))
    headers = _users(session, "H001", "H002")
    settle(session, "H001", "S1", 600_000, NOV)
    generate(session, NOV)
    _reconcile(session, "H001", NOV)
    clock.set(at(date(2026, 11, 20), 10))
    audit = {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "rule_code": "R1",
        "amount": "300.00",
        "reason": "重复收费",
    }
    assert client.post("/api/v1/audits", json=audit, headers=headers["op"]).status_code == 201
    closing = date(2026, 11, 27)
    assert audits.finalize_unappealed(session, today=closing, now=at(closing, 23, 59)) == 1
    session.commit()
    _declare(client, clock, headers["H001"], "H001", "2026-11", date(2026, 12, 1))

    settle(session, "H001", "S2", 400_000, DEC)
    settle(session, "H002", "S3", 1_000_000, DEC)
    generate(session, DEC)
    _reconcile(session, "H001", DEC)
    _reconcile(session, "H002", DEC)
    assert _compute_statements(session, date(2026, 12, 16)) == 1
    _settle_statements(client, session, headers, "2026-11", date(2026, 12, 16))
    _declare(client, clock, headers["H001"], "H001", "2026-12", date(2027, 1, 4))
    _declare(client, clock, headers["H002"], "H002", "2026-12", date(2027, 1, 4))
    assert _compute_statements(session, date(2027, 1, 18)) == 2
    return headers


H001_2026 = {
    "approved_fund": "9700.00",  # (6,000.00 − 300.00) + 4,000.00
    "clearing_amount": "9500.00",  # confirmed by the operator
    "settled": "9200.00",  # (5,700.00 − 300.00) + 3,800.00
    "deposit_held": "500.00",
    "return_ratio": "0.60",  # min(88.50 → 0.60, 95.00 → 1.00)
    "forfeited": "200.00",  # 500.00 − 300.00
    "gross": "100.00",  # 9,500.00 − 9,200.00 − 200.00
    "offset": "0.00",
    "actual": "100.00",
}
H002_2026 = {
    "approved_fund": "10000.00",
    "clearing_amount": "9000.00",  # the budget caps the approved 10,000.00
    "settled": "9500.00",
    "deposit_held": "500.00",
    "return_ratio": "0.00",  # credit score 50 → 0.00: the whole deposit is forfeited
    "forfeited": "500.00",
    "gross": "-1000.00",  # 9,000.00 − 9,500.00 − 500.00
    "offset": "0.00",
    "actual": "-1000.00",
}


def test_clearing_formula_flow_and_ledger(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    headers = _year(client, session, clock)
    op, acc, h1, h2 = headers["op"], headers["acc"], headers["H001"], headers["H002"]
    clock.set(at(date(2027, 1, 5), 10))
    assert _compute_clearings(session, date(2027, 1, 18)) == []  # no rules for 2026 yet
    body = {"year": 2026, "assessment_bands": BANDS, "credit_bands": BANDS}
    assert client.post("/api/v1/annual/rules", json=body, headers=op).status_code == 201
    assessed = _assess(
        client, op, "H001", assessment_score="88.50", credit_score=95, clearing_amount="9500.00"
    )
    assert assessed.status_code == 201
    assert _compute_clearings(session, date(2027, 1, 9)) == []  # before 10 January
    # December's statements are approved but not paid: not final yet
    assert _compute_clearings(session, date(2027, 1, 18)) == []
    _settle_statements(client, session, headers, "2026-12", date(2027, 1, 18))
    assert len(_compute_clearings(session, date(2027, 1, 19))) == 1  # H002 is not assessed
    _assess(client, op, "H002", assessment_score=95, credit_score=50, budget="9200.00")
    assert len(_compute_clearings(session, date(2027, 1, 19))) == 1
    assert _compute_clearings(session, date(2027, 1, 20)) == []  # once per year

    first = _clearing(client, h1, "H001")
    assert _amounts(first) == H001_2026
    assert [s["period"] for s in first["base"]["statements"]] == ["2026-11", "2026-12"]
    second = _clearing(client, op, "H002")
    assert _amounts(second) == {
        **H002_2026,
        "clearing_amount": "9200.00",
        "gross": "-800.00",
        "actual": "-800.00",
    }

    # H002 disputes; the operator corrects the budget and recomputes
    cid2 = second["id"]
    changed = _assess(client, op, "H002", assessment_score=95, credit_score=50, budget="9000.00")
    assert changed.status_code == 409  # the clearing exists and is not disputed
    disputed = client.post(
        f"/api/v1/annual/clearings/{cid2}/dispute", json={"reason": "预算指标有误"}, headers=h2
    )
    assert disputed.json()["status"] == "DISPUTED"
    changed = _assess(client, op, "H002", assessment_score=95, credit_score=50, budget="9000.00")
    assert changed.status_code == 200
    recomputed = client.post(f"/api/v1/annual/clearings/{cid2}/recompute", headers=op).json()
    assert (recomputed["status"], recomputed["version"], recomputed["computed_by"]) == (
        "COMPUTED",
        2,
        "op",
    )
    assert _amounts(recomputed) == H002_2026
    client.post(f"/api/v1/annual/clearings/{cid2}/confirm", json={}, headers=h2)
    with pytest.raises(Forbidden):  # op recomputed it
        annual.FLOW.approve(
            session, cid2, actor=Principal(None, "op", "accountant"), now=clock.now()
        )
    session.rollback()

    cid1 = first["id"]
    assert client.get(f"/api/v1/annual/clearings/{cid1}", headers=h2).status_code == 404
    assert (
        client.post(f"/api/v1/annual/clearings/{cid1}/confirm", json={}, headers=h2).status_code
        == 404
    )
    assert client.post(f"/api/v1/annual/clearings/{cid1}/approve", headers=acc).status_code == 409
    confirmed = client.post(
        f"/api/v1/annual/clearings/{cid1}/confirm", json={"reference": "QS-2027-001"}, headers=h1
    ).json()
    assert (confirmed["status"], confirmed["confirmation_reference"]) == (
        "CONFIRMED",
        "QS-2027-001",
    )
    with pytest.raises(Forbidden):  # the job computed it
        annual.FLOW.approve(
            session, cid1, actor=Principal(None, "system", "accountant"), now=clock.now()
        )
    session.rollback()
    assert client.post(f"/api/v1/annual/clearings/{cid1}/approve", headers=op).status_code == 403

    # before approval: the statements are paid, the deposit is held
    assert _balance(session, "expense", "H001") == 970_000
    assert _balance(session, "deposit_held", "H001") == 50_000
    assert _balance(session, "payable", "H001") == 0
    approved = client.post(f"/api/v1/annual/clearings/{cid1}/approve", headers=acc).json()
    assert approved["status"] == "APPROVED"
    assert client.post(f"/api/v1/annual/clearings/{cid1}/approve", headers=acc).status_code == 200
    assert _approval_entries(session, cid1) == 1
    # K = 9,500.00 − 9,700.00 = −200.00 (payable → expense); deposit 500.00 released:
    # 300.00 to payable, 200.00 forfeited to expense
    assert _balance(session, "expense", "H001") == 970_000 - 20_000 - 20_000
    assert _balance(session, "payable", "H001") == 10_000  # = actual
    assert _balance(session, "deposit_held", "H001") == 0

    receivable = client.post(f"/api/v1/annual/clearings/{cid2}/approve", headers=acc).json()
    assert receivable["status"] == "RECEIVABLE"
    assert _balance(session, "receivable", "H002") == 100_000
    assert _balance(session, "payable", "H002") == 0
    assert _balance(session, "deposit_held", "H002") == 0
    assert _balance(session, "expense", "H002") == 900_000 - 50_000  # clearing − forfeited

    fund = _fund(session)
    today = date(2027, 1, 20)
    ids = annual.FLOW.submit_due(session, fund, today=today, now=at(today, 14, 30))
    session.commit()
    assert ids == ["A2026-6401310-H001"]
    _pay(session, "A2026-6401310-H001")
    paid = client.get(f"/api/v1/annual/clearings/{cid1}", headers=h1).json()
    assert (paid["status"], paid["instruction_id"]) == ("PAID", "A2026-6401310-H001")
    # after the clearing is paid: expense = clearing_amount − forfeited, nothing left payable
    assert _balance(session, "expense", "H001") == 950_000 - 20_000
    assert _balance(session, "payable", "H001") == 0
    assert _balance(session, "in_transit") == 0
    # received 5,400.00 + 3,800.00 + 100.00 = clearing 9,500.00 − forfeited 200.00
    assert _balance(session, "bank") == -(540_000 + 380_000 + 10_000 + 950_000)
    assert ledger.trial_balance(session).balanced


def test_clearing_exports(client: TestClient, session: Session, clock: SimulatedClock) -> None:
    headers = _year(client, session, clock)
    op = headers["op"]
    _settle_statements(client, session, headers, "2026-12", date(2027, 1, 18))
    body = {"year": 2026, "assessment_bands": BANDS, "credit_bands": BANDS}
    client.post("/api/v1/annual/rules", json=body, headers=op)
    _assess(
        client, op, "H001", assessment_score="88.50", credit_score=95, clearing_amount="9500.00"
    )
    assert len(_compute_clearings(session, date(2027, 1, 19))) == 1
    response = client.get("/api/v1/annual/clearings/export.xlsx", params={"year": 2026}, headers=op)
    assert response.status_code == 200 and response.headers["content-type"].startswith(XLSX)
    table = uniform_sheet(response.content, "年度清算汇总")
    assert "年度：2026" in table.title
    assert "年清算实付金额" in table.headings and "考核不予支付" in table.headings
    assert [
        (row["定点医药机构编号"], row["定点医药机构名称"], table.fen(row, "年清算实付金额"))
        for row in table.rows
    ] == [("H001", "医院H001", 10_000)]
    assert table.totals is not None and table.totals["年清算实付金额"] == 100.00
    assert (
        client.get("/api/v1/annual/clearings/export.xlsx", headers=headers["H001"]).status_code
        == 403
    )
    cid = _clearing(client, op, "H001")["id"]
    one = client.get(f"/api/v1/annual/clearings/{cid}/export.xlsx", headers=headers["H001"])
    assert one.status_code == 200
    monthly = uniform_sheet(one.content, "月度结算")
    assert [
        (row["结算期"], *(monthly.fen(row, h) for h in monthly.headings[1:]))
        for row in monthly.rows
    ] == [
        ("2026-11", 600_000, 30_000, 570_000, 30_000),
        ("2026-12", 400_000, 0, 380_000, 20_000),
    ]
    assert monthly.totals is not None and monthly.totals["医保基金支付金额"] == 10_000.00
    assert (
        client.get(
            f"/api/v1/annual/clearings/{cid}/export.xlsx", headers=headers["H002"]
        ).status_code
        == 404
    )


def _h003_clearing(
    client: TestClient, session: Session, clock: SimulatedClock
) -> tuple[dict, dict[str, dict]]:
    """H003 (from December): no settlements, a procurement advance of 1,000.00 → December's
    statement is a receivable of 1,000.00 (final); the operator confirms a clearing amount of
    1,500.00, so gross 1,500.00 is offset by the receivable: actual 500.00. Computed."""
    builders.institution(session, "H003", start=date(2026, 12, 1))
    headers = _users(session, "H003")
    op, acc, h3 = headers["op"], headers["acc"], headers["H003"]
    clock.set(at(DEC, 10))
    advance = {
        "fixmedins_code": "H003",
        "insutype": INSUTYPE,
        "period": "2026-12",
        "amount": "1000.00",
        "reference": "ZC-2026-12-1",
    }
    assert client.post("/api/v1/procurement-advances", json=advance, headers=op).status_code == 201
    _declare(client, clock, h3, "H003", "2026-12", date(2027, 1, 4))
    assert _compute_statements(session, date(2027, 1, 18)) == 1
    december = client.get("/api/v1/statements", headers=h3).json()["items"][0]
    assert december["net"] == "-1000.00"
    client.post(f"/api/v1/statements/{december['id']}/confirm", json={}, headers=h3)
    assert (
        client.post(f"/api/v1/statements/{december['id']}/approve", headers=acc).json()["status"]
        == "RECEIVABLE"
    )
    body = {"year": 2026, "assessment_bands": BANDS, "credit_bands": BANDS}
    client.post("/api/v1/annual/rules", json=body, headers=op)
    _assess(client, op, "H003", assessment_score=100, credit_score=100, clearing_amount="1500.00")
    assert len(_compute_clearings(session, date(2027, 1, 19))) == 1
    clearing = _clearing(client, h3, "H003")
    return clearing, headers


def test_clearing_offsets_an_open_receivable(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    """H003 (from December): no settlements, a procurement advance of 1,000.00 → December's
    statement is a receivable of 1,000.00 (final); the operator confirms a clearing amount of
    1,500.00, so gross 1,500.00 is offset by the receivable: actual 500.00."""
    clearing, headers = _h003_clearing(client, session, clock)
    acc, h3 = headers["acc"], headers["H003"]
    assert _amounts(clearing) == {
        "approved_fund": "0.00",
        "clearing_amount": "1500.00",
        "settled": "0.00",
        "deposit_held": "0.00",
        "return_ratio": "1.00",
        "forfeited": "0.00",
        "gross": "1500.00",
        "offset": "1000.00",  # min(open receivable 1,000.00, gross 1,500.00)
        "actual": "500.00",
    }
    # the offset is taken at computation: no cash repayment can take the same money
    repay = client.post(
        f"/api/v1/receivables/{REGION}/{INSUTYPE}/H003/repayments",
        json={"amount": "1.00", "receipt_no": "HK-9"},
        headers=acc,
    )
    assert repay.status_code == 422
    client.post(f"/api/v1/annual/clearings/{clearing['id']}/confirm", json={}, headers=h3)
    approved = client.post(f"/api/v1/annual/clearings/{clearing['id']}/approve", headers=acc)
    assert approved.json()["status"] == "APPROVED"
    assert _balance(session, "receivable", "H003") == 0
    assert _balance(session, "payable", "H003") == 50_000  # K 1,500.00 − offset 1,000.00
    assert _balance(session, "expense", "H003") == 150_000
    ids = annual.FLOW.submit_due(
        session, _fund(session), today=date(2027, 1, 20), now=at(date(2027, 1, 20), 14, 30)
    )
    session.commit()
    assert ids == ["A2026-6401310-H003"]
    _pay(session, ids[0])
    assert _balance(session, "payable", "H003") == 0
    assert _balance(session, "expense", "H003") == 150_000  # clearing_amount − forfeited (0)
    assert ledger.trial_balance(session).balanced


def test_a_score_no_band_covers_is_refused_not_a_500(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    """Rules whose bands leave some scores uncovered are refused (422), so every score takes
    a band and a clearing never fails on one."""
    headers = _year(client, session, clock)
    op = headers["op"]
    gap = [{"min_score": 60, "return_ratio": "0.60"}, {"min_score": 90, "return_ratio": "1.00"}]
    full = [{"min_score": 0, "return_ratio": "0.00"}, *gap]
    refused = client.post(
        "/api/v1/annual/rules",
        json={"year": 2026, "assessment_bands": gap, "credit_bands": full},
        headers=op,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "assessment_bands"
    assert refused.json()["errors"][0]["rule"] == "bands_from_zero"
    twice = [{"min_score": 0, "return_ratio": "0.00"}, {"min_score": 0, "return_ratio": "1.00"}]
    duplicate = client.post(
        "/api/v1/annual/rules",
        json={"year": 2026, "assessment_bands": full, "credit_bands": twice},
        headers=op,
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["rule"] == "bands_distinct"


def test_years_and_ids_out_of_range_are_422(client: TestClient, session: Session) -> None:
    auditor = bearer(builders.user_token(session, "aud-range", "auditor"))
    session.commit()
    for url, field in (
        (f"/api/v1/annual/rules/{10**20}", "year"),
        ("/api/v1/annual/clearings?year=20260", "year"),
        (f"/api/v1/annual/clearings/{2**63}", "clearing_id"),
    ):
        response = client.get(url, headers=auditor)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == field


def test_a_failed_clearing_payment_is_reapproved_with_its_trail_and_resent(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    """As a statement's: the re-approval of a failed payment records `clearing.reapprove`,
    posts nothing again, and the next submission resends with a new id linked to the first."""
    clearing, headers = _h003_clearing(client, session, clock)
    acc, h3, cid = headers["acc"], headers["H003"], clearing["id"]
    client.post(f"/api/v1/annual/clearings/{cid}/confirm", json={}, headers=h3)
    assert client.post(f"/api/v1/annual/clearings/{cid}/approve", headers=acc).status_code == 200
    fund = _fund(session)
    today = date(2027, 1, 20)
    assert annual.FLOW.submit_due(session, fund, today=today, now=at(today, 14, 30)) == [
        "A2026-6401310-H003"
    ]
    session.commit()
    _pay(session, "A2026-6401310-H003", failed=True)
    assert client.get(f"/api/v1/annual/clearings/{cid}", headers=h3).json()["status"] == "FAILED"
    assert annual.FLOW.submit_due(session, fund, today=today, now=at(today, 14, 31)) == []
    reapproved = client.post(f"/api/v1/annual/clearings/{cid}/approve", headers=acc)
    assert reapproved.json()["status"] == "APPROVED"
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity == "clearing", AuditEvent.entity_key == str(cid))
        .order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["clearing.approve", "clearing.reapprove"]
    assert _approval_entries(session, cid) == 1
    tomorrow = date(2027, 1, 21)
    assert annual.FLOW.submit_due(session, fund, today=tomorrow, now=at(tomorrow, 14, 30)) == [
        "A2026-6401310-H003-R1"
    ]
    session.commit()
    _pay(session, "A2026-6401310-H003-R1")
    assert client.get(f"/api/v1/annual/clearings/{cid}", headers=h3).json()["status"] == "PAID"
    assert _balance(session, "payable", "H003") == 0
