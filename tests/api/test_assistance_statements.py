"""The hospitals' monthly assistance statements (SPEC-ASSISTANCE A5, A9, A10 "Statements";
issue 21.5): documents per settlement, the computation with carried and negative lines, the
shared payable flow (confirm, dispute, recompute, approve with maker–checker), the approval
posting to `expense:R:610`, a payment from the 610 fund, the receivable of a negative
statement repaid and offset, the role matrix and the export."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.assistance import statement_computation, statements
from app.assistance.policy import Category
from app.assistance.recipients import put
from app.assistance.schemas import RecipientIn
from app.assistance.statement_models import (
    AssistanceDocument,
    AssistanceRun,
    AssistanceStatement,
)
from app.auth.principal import Principal
from app.bank import service as bank
from app.clock import SimulatedClock
from app.config import Settings
from app.errors import Forbidden
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.jobcontext import JobContext
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.money import yuan
from app.monthly.models import MonthlyStatement
from app.settlements import service as settlements
from app.settlements.schemas import SettlementIn
from app.trail.models import AuditEvent
from jobs import monthly_compute
from tests.support import builders
from tests.support.builders import ADMIN, NOW, bearer
from tests.support.daily import at, revoke
from tests.support.sqlcount import sql_statements

REGION = "640100"
ALL = ["diagnosis", "assistance_sheet", "advance_form"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001", insutypes=("310", "390"))
    builders.institution(session, "H002", level=2)
    builders.fund(session, REGION, "610")
    put(
        session,
        "P1",
        RecipientIn.model_validate(
            {
                "name": "张某",
                "certno": "640102198001011234",
                "region_code": REGION,
                "categories": [{"category": Category.DIBAO.value, "valid_from": "2026-01-01"}],
            }
        ),
        actor=ADMIN,
        now=NOW,
    )
    found = {
        code: bearer(builders.user_token(session, f"user-{code}", "hospital", code))
        for code in ("H001", "H002")
    }
    found["op"] = bearer(builders.user_token(session, "op", "operator"))
    found["acc"] = bearer(builders.user_token(session, "acc", "accountant"))
    session.commit()
    return found


def _settle(session: Session, code: str, setl_id: str, day: date, maf: str) -> None:
    """A9's shape: inpatient, policy range 30,000.00, the basic fund 18,000.00."""
    record = SettlementIn.model_validate(
        {
            "fixmedins_code": code,
            "setl_id": setl_id,
            "psn_no": "P1",
            "insutype": "310",
            "med_type": "21",
            "insuplc_admdvs": REGION,
            "setl_time": at(day, 9).isoformat(),
            "medfee_sumamt": "50000.00",
            "hifp_pay": "18000.00",
            "hifob_pay": "0.00",
            "inscp_scp_amt": "40000.00",
            "hifmi_pay": "2000.00",
            "maf_pay": maf,
        }
    )
    actor = Principal(None, f"user-{code}", "hospital", code)
    settlements.upload_one(session, record, actor=actor, now=at(day, 10))
    session.commit()


def _documents(client: TestClient, headers: dict, code: str, setl_id: str, names: list[str]) -> Any:
    response = client.post(
        "/api/v1/assistance/documents",
        json={"fixmedins_code": code, "setl_id": setl_id, "documents": names},
        headers=headers[code],
    )
    assert response.status_code == 200, response.text
    return response.json()


def _basic(session: Session, code: str, period: str) -> None:
    """The basic monthly computation computed H's statement of the period (its numbers do
    not matter here)."""
    zero = dict.fromkeys(
        (
            "deposit_rate_bp",
            "fund_pay_fen",
            "deposit_fen",
            "ratio_amount_fen",
            "audit_fen",
            "daily_paid_fen",
            "procurement_fen",
            "returned_fen",
            "offset_fen",
            "net_fen",
        ),
        0,
    )
    session.add(
        MonthlyStatement(
            region_code=REGION,
            insutype="310",
            fixmedins_code=code,
            period=period,
            status="COMPUTED",
            version=1,
            computed_at=NOW,
            computed_by="system",
            **zero,
        )
    )
    session.commit()


def _fund(session: Session) -> FundLedger:
    return institutions.get_fund_ledger(session, REGION, "610")


def _compute(session: Session, day: date) -> list[int]:
    ids = statement_computation.compute_due(session, _fund(session), today=day, now=at(day, 1))
    session.commit()
    return ids


def _statement(client: TestClient, headers: dict, code: str, period: str) -> dict[str, Any]:
    page = client.get(
        "/api/v1/assistance/statements", params={"period": period}, headers=headers[code]
    ).json()
    [item] = page["items"]
    return item


def _act(client: TestClient, headers: dict, who: str, statement_id: int, action: str) -> Any:
    body = {"reason": "金额有误"} if action == "dispute" else {}
    response = client.post(
        f"/api/v1/assistance/statements/{statement_id}/{action}", json=body, headers=headers[who]
    )
    assert response.status_code == 200, response.text
    return response.json()


def _balance(session: Session, name: str, code: str | None = None) -> int:
    return ledger.balance_or_zero(session, account_code(name, REGION, "610", code))


def _pay(session: Session, day: date, status: str = "SUCCESS") -> list[str]:
    ids = statements.FLOW.submit_due(session, _fund(session), today=day, now=at(day, 14, 30))
    session.commit()
    for instruction_id in ids:
        instruction = bank.find(session, instruction_id)
        assert instruction is not None
        receipt = failure = None
        if status == "SUCCESS":
            receipt = {
                "receipt_no": "HD" + instruction_id.replace("-", ""),
                "amount": yuan(instruction.amount_fen),
            }
        else:
            failure = {"code": "E01", "reason": "收款账户状态异常"}
        outcome = bank.apply_result(
            session,
            instruction,
            status,
            instruction.amount_fen,
            instruction.payee_account,
            receipt,
            failure,
            at(day, 15),
        )
        assert outcome == "applied"
        session.commit()
    return ids


# --- A9: March 8,000.00 and May 12,000.00, each paid ----------------------------------------------


def test_a9_statements_are_computed_approved_posted_and_paid(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _settle(session, "H001", "S2", date(2026, 5, 20), "12000.00")
    shown = _documents(client, headers, "H001", "S1", ALL)
    assert shown == {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "documents": dict.fromkeys(ALL, "RECORDED"),
        "payable": True,
    }
    assert _documents(client, headers, "H001", "S1", ALL) == shown  # idempotent
    _documents(client, headers, "H001", "S2", ALL)

    assert _compute(session, date(2026, 4, 16)) == []  # no basic statement yet
    _basic(session, "H001", "2026-03")
    [march_id] = _compute(session, date(2026, 4, 16))
    assert _compute(session, date(2026, 4, 17)) == []  # computed once
    march = _statement(client, headers, "H001", "2026-03")
    assert {k: march[k] for k in ("id", "region_code", "insutype", "amount", "status")} == {
        "id": march_id,
        "region_code": REGION,
        "insutype": "610",
        "amount": "8000.00",
        "status": "COMPUTED",
    }
    assert (march["settlements"], march["carried"]) == (1, 0)
    detail = client.get(f"/api/v1/assistance/statements/{march_id}", headers=headers["H001"])
    assert detail.json()["lines"] == [{"setl_id": "S1", "amount": "8000.00", "negative": False}]

    refused = client.post(
        f"/api/v1/assistance/statements/{march_id}/approve", json={}, headers=headers["acc"]
    )
    assert refused.status_code == 409  # not confirmed yet
    assert _act(client, headers, "H001", march_id, "confirm")["status"] == "CONFIRMED"
    approved = _act(client, headers, "acc", march_id, "approve")
    assert approved["status"] == "APPROVED"
    assert _balance(session, "expense") == 800_000
    assert _balance(session, "payable", "H001") == 800_000

    [instruction_id] = _pay(session, date(2026, 4, 20))
    assert instruction_id == "J2603-6401610-H001"
    instruction = bank.find(session, instruction_id)
    assert instruction is not None
    assert (instruction.kind, instruction.insutype, instruction.amount_fen) == (
        "assistance",
        "610",
        800_000,
    )
    assert instruction.payer_account == _fund(session).expenditure_account
    assert _statement(client, headers, "H001", "2026-03")["status"] == "PAID"
    assert _balance(session, "payable", "H001") == 0
    assert _balance(session, "bank") == -800_000

    # April: no assistance settlement, no statement; May: S2
    _basic(session, "H001", "2026-04")
    assert _compute(session, date(2026, 5, 18)) == []
    assert session.scalar(select(AssistanceRun).where(AssistanceRun.period == "2026-04"))
    _basic(session, "H001", "2026-05")
    [may_id] = _compute(session, date(2026, 6, 16))
    _act(client, headers, "H001", may_id, "confirm")
    _act(client, headers, "acc", may_id, "approve")
    _pay(session, date(2026, 6, 18))
    assert statements.scenario_rows(session) == [
        {
            "period": "2026-03",
            "region": REGION,
            "fixmedins_code": "H001",
            "amount": "8000.00",
            "settlements": 1,
            "carried": 0,
            "status": "PAID",
        },
        {
            "period": "2026-05",
            "region": REGION,
            "fixmedins_code": "H001",
            "amount": "12000.00",
            "settlements": 1,
            "carried": 0,
            "status": "PAID",
        },
    ]
    assert _balance(session, "expense") == 2_000_000


def test_a_failed_payment_is_reapproved_and_resent(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    [statement_id] = _compute(session, date(2026, 4, 16))
    _act(client, headers, "H001", statement_id, "confirm")
    _act(client, headers, "acc", statement_id, "approve")
    _pay(session, date(2026, 4, 20), status="FAILED")
    assert _statement(client, headers, "H001", "2026-03")["status"] == "FAILED"
    _act(client, headers, "acc", statement_id, "approve")  # re-approved
    assert _pay(session, date(2026, 4, 21)) == ["J2603-6401610-H001-R1"]
    assert _statement(client, headers, "H001", "2026-03")["status"] == "PAID"


def test_a_returned_payment_is_reapproved_and_resent(
    client: TestClient, headers: dict, session: Session
) -> None:
    """A payment the bank returns (退票) is owed again; nothing else takes a 610 return (the
    basic monthly computation takes 310/390 ones), so the accountant re-approves the
    statement and it is resent under a new id (found by review: it stayed owed for ever)."""
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    [statement_id] = _compute(session, date(2026, 4, 16))
    _act(client, headers, "H001", statement_id, "confirm")
    _act(client, headers, "acc", statement_id, "approve")
    [first] = _pay(session, date(2026, 4, 20))
    instruction = bank.find(session, first)
    assert instruction is not None
    bank.apply_result(
        session,
        instruction,
        "RETURNED",
        instruction.amount_fen,
        instruction.payee_account,
        {"receipt_no": "HD" + first.replace("-", "")},
        {"code": "R01", "reason": "账户已销户"},
        at(date(2026, 4, 22), 15),
    )
    session.commit()
    assert _statement(client, headers, "H001", "2026-03")["status"] == "RETURNED"
    assert _balance(session, "payable", "H001") == 800_000  # owed again
    assert _pay(session, date(2026, 4, 23)) == []  # not before it is re-approved
    again = _act(client, headers, "acc", statement_id, "approve")
    assert again["status"] == "APPROVED"
    assert _pay(session, date(2026, 4, 23)) == [f"{first}-R1"]
    assert _statement(client, headers, "H001", "2026-03")["status"] == "PAID"
    assert _balance(session, "payable", "H001") == 0
    assert ledger.trial_balance(session, region_code=REGION).balanced


# --- documents: carried, rejected -----------------------------------------------------------------


def test_a_settlement_without_its_documents_is_carried_then_taken(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    assert _documents(client, headers, "H001", "S1", ["diagnosis", "advance_form"]) == {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "documents": {
            "diagnosis": "RECORDED",
            "assistance_sheet": None,
            "advance_form": "RECORDED",
        },
        "payable": False,
    }
    _basic(session, "H001", "2026-03")
    [march_id] = _compute(session, date(2026, 4, 16))
    march = _statement(client, headers, "H001", "2026-03")
    assert (march["amount"], march["settlements"], march["carried"]) == ("0.00", 0, 1)
    _act(client, headers, "H001", march_id, "confirm")
    assert _act(client, headers, "acc", march_id, "approve")["status"] == "SETTLED"
    assert _balance(session, "expense") == 0

    assert _documents(client, headers, "H001", "S1", ["assistance_sheet"])["payable"] is True
    _settle(session, "H001", "S3", date(2026, 4, 2), "100.00")  # April's, no documents
    _basic(session, "H001", "2026-04")
    _compute(session, date(2026, 5, 18))
    april = _statement(client, headers, "H001", "2026-04")
    assert (april["amount"], april["settlements"], april["carried"]) == ("8000.00", 1, 1)


def test_a_rejected_document_makes_it_carried_until_recorded_again(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    rejection = {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "document": "assistance_sheet",
        "reason": "签字与本人不符",
    }
    refused = client.post(
        "/api/v1/assistance/documents/reject", json=rejection, headers=headers["H001"]
    )
    assert refused.status_code == 403  # operators reject
    rejected = client.post(
        "/api/v1/assistance/documents/reject", json=rejection, headers=headers["op"]
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["documents"]["assistance_sheet"] == "REJECTED"
    assert rejected.json()["payable"] is False
    _basic(session, "H001", "2026-03")
    _compute(session, date(2026, 4, 16))
    march = _statement(client, headers, "H001", "2026-03")
    assert (march["amount"], march["settlements"], march["carried"]) == ("0.00", 0, 1)
    again = _documents(client, headers, "H001", "S1", ["assistance_sheet"])
    assert again["documents"]["assistance_sheet"] == "RECORDED" and again["payable"] is True


def test_bulk_documents_are_all_or_nothing(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _settle(session, "H001", "S2", date(2026, 3, 11), "100.00")
    items = [
        {"fixmedins_code": "H001", "setl_id": "S1", "documents": ALL},
        {"fixmedins_code": "H001", "setl_id": "NOPE", "documents": ALL},
    ]
    bad = client.post(
        "/api/v1/assistance/documents/bulk", json={"items": items}, headers=headers["H001"]
    )
    assert bad.status_code == 422, bad.text
    assert [(e["field"], e["rule"]) for e in bad.json()["errors"]] == [
        ("items.1.setl_id", "settlement_exists")
    ]
    assert session.scalars(select(AssistanceDocument)).all() == []  # nothing recorded
    items[1]["setl_id"] = "S2"
    good = client.post(
        "/api/v1/assistance/documents/bulk", json={"items": items}, headers=headers["H001"]
    )
    assert good.status_code == 200, good.text
    assert [item["payable"] for item in good.json()["items"]] == [True, True]


# --- revocations, the receivable, its repayment and offset ------------------------------------------


def test_a_revocation_after_the_line_is_a_negative_line_then_a_receivable(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    [march_id] = _compute(session, date(2026, 4, 16))
    _act(client, headers, "H001", march_id, "confirm")
    _act(client, headers, "acc", march_id, "approve")
    _pay(session, date(2026, 4, 20))
    revoke(session, "H001", "S1", at(date(2026, 4, 22)))
    session.commit()

    _basic(session, "H001", "2026-04")
    [april_id] = _compute(session, date(2026, 5, 18))
    april = client.get(f"/api/v1/assistance/statements/{april_id}", headers=headers["H001"]).json()
    assert (april["amount"], april["settlements"], april["carried"]) == ("-8000.00", 0, 0)
    assert april["lines"] == [{"setl_id": "S1", "amount": "8000.00", "negative": True}]
    _act(client, headers, "H001", april_id, "confirm")
    assert _act(client, headers, "acc", april_id, "approve")["status"] == "RECEIVABLE"
    assert _balance(session, "receivable", "H001") == 800_000
    assert _balance(session, "expense") == 0
    assert _balance(session, "payable", "H001") == 0

    repaid = client.post(
        "/api/v1/receivables/640100/610/H001/repayments",
        json={"amount": "3000.00", "receipt_no": "R610-1"},
        headers=headers["acc"],
    )
    assert repaid.status_code == 201, repaid.text
    assert (repaid.json()["balance"], repaid.json()["open"]) == ("5000.00", "5000.00")
    # the hospital sees its assistance receivable beside its basic ones (found by review)
    listed = client.get(
        "/api/v1/receivables", params={"insutype": "610"}, headers=headers["H001"]
    ).json()
    assert [(r["insutype"], r["fixmedins_code"], r["balance"]) for r in listed] == [
        ("610", "H001", "5000.00")
    ]

    _settle(session, "H001", "S2", date(2026, 5, 20), "12000.00")
    _documents(client, headers, "H001", "S2", ALL)
    _basic(session, "H001", "2026-05")
    [may_id] = _compute(session, date(2026, 6, 16))
    may = _statement(client, headers, "H001", "2026-05")
    assert (may["lines_amount"], may["offset"], may["amount"]) == ("12000.00", "5000.00", "7000.00")
    # the unapproved statement holds its offset: nothing is left open to repay
    held = client.post(
        "/api/v1/receivables/640100/610/H001/repayments",
        json={"amount": "0.01", "receipt_no": "R610-2"},
        headers=headers["acc"],
    )
    assert held.status_code == 422, held.text
    _act(client, headers, "H001", may_id, "confirm")
    _act(client, headers, "acc", may_id, "approve")
    assert _balance(session, "receivable", "H001") == 0
    assert _balance(session, "payable", "H001") == 700_000
    assert [row["amount"] for row in statements.scenario_rows(session)] == [
        "8000.00",
        "-8000.00",
        "7000.00",
    ]


def test_a_revoked_settlement_that_never_was_a_line_drops_out(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    revoke(session, "H001", "S1", at(date(2026, 3, 12)))
    session.commit()
    _basic(session, "H001", "2026-03")
    assert _compute(session, date(2026, 4, 16)) == []  # no line of any kind: no statement
    assert session.scalars(select(AssistanceStatement)).all() == []


# --- the flow: dispute, recompute, maker–checker --------------------------------------------------


def test_dispute_recompute_and_maker_checker(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _settle(session, "H001", "S2", date(2026, 3, 12), "500.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    [statement_id] = _compute(session, date(2026, 4, 16))
    assert _act(client, headers, "H001", statement_id, "dispute")["status"] == "DISPUTED"
    _documents(client, headers, "H001", "S2", ALL)  # the missing documents, now recorded
    recomputed = _act(client, headers, "op", statement_id, "recompute")
    assert (recomputed["amount"], recomputed["settlements"], recomputed["carried"]) == (
        "8500.00",
        2,
        0,
    )
    assert (recomputed["status"], recomputed["version"], recomputed["computed_by"]) == (
        "COMPUTED",
        2,
        "op",
    )
    _act(client, headers, "H001", statement_id, "confirm")
    with pytest.raises(Forbidden):  # whoever computed it never approves it
        statements.FLOW.approve(
            session,
            statement_id,
            actor=Principal(None, "op", "accountant"),
            now=at(date(2026, 4, 18)),
        )
    session.rollback()
    assert _act(client, headers, "acc", statement_id, "approve")["status"] == "APPROVED"
    assert _balance(session, "payable", "H001") == 850_000


# --- who sees what ---------------------------------------------------------------------------------


def test_a_hospital_sees_and_documents_only_its_own(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _settle(session, "H002", "S9", date(2026, 3, 10), "100.00")
    _documents(client, headers, "H001", "S1", ALL)
    other = {"fixmedins_code": "H001", "setl_id": "S1", "documents": ALL}
    assert (
        client.post("/api/v1/assistance/documents", json=other, headers=headers["H002"])
    ).status_code == 404
    assert (
        client.post("/api/v1/assistance/documents", json=other, headers=headers["op"])
    ).status_code == 403
    unknown = {"fixmedins_code": "H001", "setl_id": "S404", "documents": ALL}
    assert (
        client.post("/api/v1/assistance/documents", json=unknown, headers=headers["H001"])
    ).status_code == 404
    _basic(session, "H001", "2026-03")
    _basic(session, "H002", "2026-03")
    [first, second] = _compute(session, date(2026, 4, 16))
    statement_ids = {s.fixmedins_code: s.id for s in session.scalars(select(AssistanceStatement))}
    assert set(statement_ids.values()) == {first, second}
    own = client.get("/api/v1/assistance/statements", headers=headers["H002"]).json()
    assert [item["fixmedins_code"] for item in own["items"]] == ["H002"]
    assert own["items"][0]["carried"] == 1
    assert (
        client.get(
            "/api/v1/assistance/statements",
            params={"fixmedins_code": "H001"},
            headers=headers["H002"],
        ).status_code
        == 404
    )
    h001 = statement_ids["H001"]
    assert (
        client.get(f"/api/v1/assistance/statements/{h001}", headers=headers["H002"]).status_code
        == 404
    )
    confirm = client.post(
        f"/api/v1/assistance/statements/{h001}/confirm", json={}, headers=headers["H002"]
    )
    assert confirm.status_code == 404
    everyone = client.get("/api/v1/assistance/statements", headers=headers["acc"]).json()
    assert len(everyone["items"]) == 2
    page = client.get(
        "/api/v1/assistance/statements", params={"limit": 1}, headers=headers["acc"]
    ).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(
        "/api/v1/assistance/statements",
        params={"limit": 1, "cursor": page["next_cursor"]},
        headers=headers["acc"],
    ).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == sorted(statement_ids.values())

    exported = client.get(
        "/api/v1/assistance/statements/export.xlsx",
        params={"period": "2026-03"},
        headers=headers["acc"],
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(XLSX)
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value]
    assert "救助结算人次" in cells and "H001" in cells and "H002" in cells
    assert (
        client.get("/api/v1/assistance/statements/export.xlsx", headers=headers["H001"])
    ).status_code == 403


# --- the job: after the basic computation -------------------------------------------------------


def test_the_monthly_job_computes_the_assistance_statements(
    client: TestClient,
    headers: dict,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
    clock: SimulatedClock,
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    clock.set(datetime(2026, 4, 15, 17, 0, tzinfo=at(date(2026, 4, 16)).tzinfo))
    context = JobContext(
        session_factory=session_factory,
        engine=engine,
        clock=clock,
        settings=Settings(environment="test", database_url="sqlite://"),
    )
    result = monthly_compute.run(context, date(2026, 4, 16))
    assert result["assistance"] == {f"{REGION}:610": 1}
    assert _statement(client, headers, "H001", "2026-03")["amount"] == "8000.00"
    assert monthly_compute.run(context, date(2026, 4, 17))["assistance"] == {f"{REGION}:610": 0}


def test_a_settlement_uploaded_after_its_month_was_computed_is_taken_next(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    _compute(session, date(2026, 4, 16))
    record = SettlementIn.model_validate(
        {
            "fixmedins_code": "H001",
            "setl_id": "S-LATE",
            "psn_no": "P1",
            "insutype": "310",
            "med_type": "21",
            "insuplc_admdvs": REGION,
            "setl_time": at(date(2026, 3, 30), 9).isoformat(),
            "medfee_sumamt": "5000.00",
            "hifp_pay": "1000.00",
            "hifob_pay": "0.00",
            "inscp_scp_amt": "4000.00",
            "maf_pay": "600.00",
        }
    )
    actor = Principal(None, "user-H001", "hospital", "H001")
    settlements.upload_one(session, record, actor=actor, now=at(date(2026, 4, 17), 10))
    session.commit()
    _documents(client, headers, "H001", "S-LATE", ALL)
    _basic(session, "H001", "2026-04")
    _compute(session, date(2026, 5, 18))
    april = _statement(client, headers, "H001", "2026-04")
    assert (april["amount"], april["settlements"], april["carried"]) == ("600.00", 1, 0)


def test_nothing_is_computed_before_the_610_fund_is_switched_on(
    client: TestClient, headers: dict, session: Session
) -> None:
    _settle(session, "H001", "S1", date(2026, 3, 10), "8000.00")
    _documents(client, headers, "H001", "S1", ALL)
    _basic(session, "H001", "2026-03")
    fund = _fund(session)
    on = statement_computation.switched_on(session, fund, date(2026, 4, 16))
    assert on == date(2026, 1, 1)
    assert statement_computation.switched_on(session, fund, date(2025, 12, 31)) is None
    assert (
        statement_computation.compute_due(
            session, fund, today=date(2025, 12, 31), now=at(date(2025, 12, 31))
        )
        == []
    )
    assert session.scalars(select(AssistanceRun)).all() == []


def test_bulk_documents_flush_once_whatever_the_settlements(
    client: TestClient, headers: dict, session: Session
) -> None:
    """A bulk reads the settlements and documents set-based and writes the documents and
    their audit events in one flush: the same statements for 2 settlements as for 10."""
    for number in range(12):
        _settle(session, "H001", f"B{number}", date(2026, 3, 10), "100.00")

    def recorded(setl_ids: list[str]) -> int:
        items = [{"fixmedins_code": "H001", "setl_id": s, "documents": ALL} for s in setl_ids]
        with sql_statements(session) as seen:
            done = client.post(
                "/api/v1/assistance/documents/bulk", json={"items": items}, headers=headers["H001"]
            )
        assert done.status_code == 200, done.text
        assert all(item["payable"] for item in done.json()["items"])
        return len(seen)

    few, many = recorded(["B0", "B1"]), recorded([f"B{n}" for n in range(2, 12)])
    assert many == few
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assistance_document.record")
    ).all()
    assert [e.entity_key for e in events] == [f"H001:B{n}" for n in range(12)]
    assert events[0].before == dict.fromkeys(ALL) and events[0].after == dict.fromkeys(
        ALL, "RECORDED"
    )
