"""Payments to persons of the assistance fund (SPEC-ASSISTANCE A6, A7 "< 0", A10; issue 22
items 1-2): applications and care grants recorded by a case worker, approved by an accountant
(maker–checker) with the person's delivered next-period claims deducted, paid through the
bank as payee type person, claims and cash repayments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.assistance import application_items, claims, person_payments, person_reads
from app.assistance.recovery import Resolution
from app.auth.principal import Principal
from app.bank import sending
from app.bank.models import PaymentInstruction
from app.bank.simdata import SimOptions
from app.bank.simgateway import SimulatorGateway
from app.bank.simulator import BankSimulator
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET, Settings
from app.errors import Conflict
from app.institutions import service as institutions
from app.jobcontext import JobContext
from app.ledger import entries
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.threeflow import service as threeflow
from app.treasury import funds
from jobs import submission
from tests.support import builders
from tests.support.bank import poster
from tests.support.builders import bearer
from tests.support.sqlcount import sql_statements

BASE = "/api/v1/assistance"
P1 = "640100000001"
P2 = "640100000002"
SLOT = f"P{P1}"
A9_POLICY = {  # SPEC-ASSISTANCE A9 (dibao), stored as the scenario stores it
    "region": "640100",
    "effective_from": "2026-01-01",
    "categories": {
        "dibao": {
            "inpatient": {"bands": [["0.00", "0.80"], ["20000.00", "0.90"]], "cap": "30000.00"},
            "outpatient": {"bands": [["0.00", "0.60"]], "cap": "30000.00"},
        }
    },
}


def _person(psn_no: str, categories: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "张某",
        "certno": "640102198001011234",
        "region_code": "640100",
        "bank_account": "6222000000009001",
        "bank_account_name": "张某",
        "bank_code": "102871000011",
        "categories": categories,
    }


@pytest.fixture
def world(client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    builders.fund(session, insutype="610", effective_from=date(2026, 1, 1))
    builders.institution(session, "H001")
    headers = {
        "op": bearer(builders.user_token(session, "op", "operator")),
        "acc": bearer(builders.user_token(session, "acc", "accountant")),
        "acc2": bearer(builders.user_token(session, "acc2", "accountant")),
        "hosp": bearer(builders.user_token(session, "h1", "hospital", "H001")),
    }
    session.commit()
    stored = client.post(f"{BASE}/policies", json=A9_POLICY, headers=headers["op"])
    assert stored.status_code == 201, stored.text
    dibao = [{"category": "dibao", "valid_from": "2026-01-01"}]
    poor = [*dibao, {"category": "poverty_registered", "valid_from": "2026-01-01"}]
    for psn_no, held in ((P1, dibao), (P2, poor)):
        put = client.put(
            f"{BASE}/recipients/{psn_no}", json=_person(psn_no, held), headers=headers["op"]
        )
        assert put.status_code == 201, put.text
    return headers


def _application(
    reference: str, invoice_no: str, inscp: str = "1000.00", psn_no: str = P1
) -> dict[str, Any]:
    return {
        "reference": reference,
        "psn_no": psn_no,
        "invoices": [
            {
                "invoice_no": invoice_no,
                "visit": "outpatient",
                "date": "2026-08-10",
                "medfee_sumamt": inscp,
                "inscp_scp_amt": inscp,
            }
        ],
    }


def _claim(
    session: Session, reference: str, amount_fen: int, resolution: Resolution, at: datetime
) -> None:
    claims.add_claim(
        session,
        reference=reference,
        psn_no=P1,
        region_code="640100",
        year=2026,
        amount_fen=amount_fen,
        resolution=resolution,
        made_at=at,
        now=at,
    )
    session.commit()


def _balance(session: Session, name: str, slot: str | None = SLOT) -> int:
    return ledger.balance_or_zero(session, account_code(name, "640100", "610", slot))


T1 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def _books_agree_with_the_documents(session: Session) -> None:
    """The three-flow check's information flow (payable and tie-out per person slot) finds no
    difference: the ledger's person accounts are what the payments, claims and repayments say."""
    session.expire_all()
    report = threeflow.check(session)
    differences = [d for d in report.differences if d.check in ("payable", "hospital_tie_out")]
    assert not differences, threeflow.render(report)


def test_a9_row_6_the_application_is_deducted_whole_and_settled(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    _claim(session, "C2", 180_000, Resolution.NEXT_PERIOD, T1)
    delivered = client.post(f"{BASE}/clearings/C2/notice-delivered", headers=world["op"])
    assert delivered.status_code == 200 and delivered.json()["notice_delivered_at"]
    again = client.post(f"{BASE}/clearings/C2/notice-delivered", headers=world["op"])
    assert again.json()["notice_delivered_at"] == delivered.json()["notice_delivered_at"]
    assert (
        client.post(f"{BASE}/clearings/C9/notice-delivered", headers=world["op"]).status_code == 404
    )
    recorded = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1"), headers=world["op"]
    )
    assert recorded.status_code == 201, recorded.text
    payment = recorded.json()
    assert (payment["amount"], payment["status"]) == ("600.00", "PENDING_APPROVAL")
    assert payment["years"] == [{"year": 2026, "amount": "600.00"}]
    approved = client.post(f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"])
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["amount"], body["deducted"], body["paid"], body["status"]) == (
        "600.00",
        "600.00",
        "0.00",
        "SETTLED",
    )
    assert claims.get_claim(session, "C2").open_fen == 120_000
    rows = client.get(f"{BASE}/person-receivables", params={"psn_no": P1}, headers=world["acc"])
    assert rows.json() == [{"region": "640100", "psn_no": P1, "balance": "1200.00"}]
    # the books: the claim (receivable → expense 1,800.00), the approval (expense → payable
    # 600.00, payable → receivable 600.00)
    assert _balance(session, "receivable") == 120_000
    assert _balance(session, "payable") == 0
    assert _balance(session, "expense", None) == 60_000 - 180_000
    assert ledger.trial_balance(session, region_code="640100").balanced
    replay = client.post(f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"])
    assert replay.status_code == 200 and replay.json()["deducted"] == "600.00"
    assert _balance(session, "receivable") == 120_000
    rows = person_reads.scenario_rows_person_payments(session)
    assert rows == [
        {
            "reference": "A1",
            "psn_no": P1,
            "kind": "application",
            "amount": "600.00",
            "deducted": "600.00",
            "paid": "0.00",
            "status": "SETTLED",
        }
    ]
    assert claims.scenario_rows_person_receivables(session) == [
        {"region": "640100", "psn_no": P1, "balance": "1200.00"},
        {"region": "640100", "psn_no": P2, "balance": "0.00"},
    ]
    _books_agree_with_the_documents(session)


def test_no_deduction_before_the_notice_nor_from_cash_claims(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    _claim(session, "C1", 50_000, Resolution.NEXT_PERIOD, T1)  # notice not delivered
    _claim(session, "C2", 30_000, Resolution.CASH, T2)
    client.post(f"{BASE}/clearings/C2/notice-delivered", headers=world["op"])
    payment = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1"), headers=world["op"]
    ).json()
    body = client.post(
        f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"]
    ).json()
    assert (body["deducted"], body["paid"], body["status"]) == ("0.00", "600.00", "NOT_SENT")
    assert _balance(session, "payable") == 60_000
    assert _balance(session, "receivable") == 80_000


def test_partial_deduction_oldest_claim_first(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    _claim(session, "C2", 10_000, Resolution.NEXT_PERIOD, T2)
    _claim(session, "C1", 20_000, Resolution.NEXT_PERIOD, T1)
    for reference in ("C1", "C2"):
        client.post(f"{BASE}/clearings/{reference}/notice-delivered", headers=world["op"])
    payment = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1"), headers=world["op"]
    ).json()
    body = client.post(
        f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"]
    ).json()
    assert (body["deducted"], body["paid"], body["status"]) == ("300.00", "300.00", "NOT_SENT")
    assert (claims.get_claim(session, "C1").open_fen, claims.get_claim(session, "C2").open_fen) == (
        0,
        0,
    )
    assert _balance(session, "payable") == 30_000
    assert _balance(session, "receivable") == 0


def test_maker_checker_rejection_and_invoices_recorded_again(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    payment = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1"), headers=world["op"]
    ).json()
    # the operator cannot approve; a hospital sees nothing of persons
    assert (
        client.post(
            f"{BASE}/person-payments/{payment['id']}/approve", headers=world["op"]
        ).status_code
        == 403
    )
    assert client.get(f"{BASE}/person-payments", headers=world["hosp"]).status_code == 403
    # replay and conflicts of the recording
    again = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1"), headers=world["op"]
    )
    assert again.status_code == 200 and again.json()["id"] == payment["id"]
    other = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1", "900.00"), headers=world["op"]
    )
    assert other.status_code == 409
    taken = client.post(
        f"{BASE}/applications", json=_application("A2", "INV1"), headers=world["op"]
    )
    assert taken.status_code == 409
    rejected = client.post(
        f"{BASE}/person-payments/{payment['id']}/reject",
        json={"reason": "发票不真实"},
        headers=world["acc"],
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "REJECTED"
    replay = client.post(
        f"{BASE}/person-payments/{payment['id']}/reject",
        json={"reason": "发票不真实"},
        headers=world["acc"],
    )
    assert replay.status_code == 200
    assert (
        client.post(
            f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"]
        ).status_code
        == 409
    )
    anew = client.post(f"{BASE}/applications", json=_application("A2", "INV1"), headers=world["op"])
    assert anew.status_code == 201, anew.text
    # what the person-year reads: the live application's invoices and amounts only
    items = application_items.invoice_items(session, P1)
    assert [(item.key, item.gross_base_fen, item.day) for item in items] == [
        ("I:INV1", 100_000, date(2026, 8, 10))
    ]
    assert application_items.granted_by_year(session, P1) == {2026: 60_000}
    assert _balance(session, "payable") == 0  # a rejection posts nothing
    listed = client.get(
        f"{BASE}/person-payments", params={"status": "REJECTED"}, headers=world["acc"]
    ).json()
    assert [item["reference"] for item in listed["items"]] == ["A1"]
    # maker–checker between accountants too: a top-up recorded by acc is approved by acc2
    acc = Principal(user_id=None, name="acc", role="accountant")
    top_up = person_payments.add_top_up(
        session,
        reference="C7",
        psn_no=P1,
        region_code="640100",
        amount_fen=50_000,
        actor=acc,
        now=T2,
    )
    session.commit()
    assert (
        client.post(f"{BASE}/person-payments/{top_up.id}/approve", headers=world["acc"]).status_code
        == 403
    )
    ok = client.post(f"{BASE}/person-payments/{top_up.id}/approve", headers=world["acc2"])
    assert ok.status_code == 200 and ok.json()["status"] == "NOT_SENT"


def test_invoice_validation(client: TestClient, world: dict[str, dict[str, str]]) -> None:
    body = _application("A1", "INV1")
    body["invoices"][0]["inscp_scp_amt"] = "2000.00"
    refused = client.post(f"{BASE}/applications", json=body, headers=world["op"])
    assert refused.status_code == 422
    unknown = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1", psn_no="X9"), headers=world["op"]
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["rule"] == "not_a_recipient"
    twice = _application("A1", "INV1")
    twice["invoices"].append(dict(twice["invoices"][0]))
    assert client.post(f"{BASE}/applications", json=twice, headers=world["op"]).status_code == 422
    long_no = "6" * 30  # P + 30 characters do not fit the ledger's and the bank's payee slot
    held = [{"category": "dibao", "valid_from": "2026-01-01"}]
    client.put(f"{BASE}/recipients/{long_no}", json=_person(long_no, held), headers=world["op"])
    too_long = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1", psn_no=long_no), headers=world["op"]
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["rule"] == "psn_no_length"


def test_care_grant_once_per_person_and_poverty_registered(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    grant = {"reference": "G1", "psn_no": P2, "disease": "肝癌晚期"}
    not_poor = client.post(f"{BASE}/care-grants", json={**grant, "psn_no": P1}, headers=world["op"])
    assert not_poor.status_code == 422
    first = client.post(f"{BASE}/care-grants", json=grant, headers=world["op"])
    assert first.status_code == 201, first.text
    assert (first.json()["amount"], first.json()["kind"]) == ("5000.00", "grant")
    assert client.post(f"{BASE}/care-grants", json=grant, headers=world["op"]).status_code == 200
    second = client.post(
        f"{BASE}/care-grants", json={**grant, "reference": "G2"}, headers=world["op"]
    )
    assert second.status_code == 409
    client.post(
        f"{BASE}/person-payments/{first.json()['id']}/reject",
        json={"reason": "材料不全"},
        headers=world["acc"],
    )
    third = client.post(
        f"{BASE}/care-grants",
        json={**grant, "reference": "G3", "amount": "3000.00"},
        headers=world["op"],
    )
    assert third.status_code == 201 and third.json()["amount"] == "3000.00"
    approved = client.post(
        f"{BASE}/person-payments/{third.json()['id']}/approve", headers=world["acc"]
    )
    assert approved.json()["status"] == "NOT_SENT"
    assert (
        ledger.balance_or_zero(session, account_code("payable", "640100", "610", f"P{P2}"))
        == 300_000
    )
    params: dict[str, Any] = {"kind": "grant", "psn_no": P2, "limit": 1}
    page = client.get(f"{BASE}/person-payments", params=params, headers=world["acc"]).json()
    assert [(item["reference"], item["status"]) for item in page["items"]] == [("G1", "REJECTED")]
    params["cursor"] = page["next_cursor"]
    page = client.get(f"{BASE}/person-payments", params=params, headers=world["acc"]).json()
    assert [(item["reference"], item["status"]) for item in page["items"]] == [("G3", "NOT_SENT")]
    assert page["next_cursor"] is None


def test_cash_repayment_allocation_replay_and_beyond_receivable(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    _claim(session, "C1", 50_000, Resolution.NEXT_PERIOD, T1)
    _claim(session, "C2", 30_000, Resolution.CASH, T2)
    body = {"psn_no": P1, "region": "640100", "amount": "400.00", "receipt_no": "R1"}
    paid = client.post(f"{BASE}/person-repayments", json=body, headers=world["acc"])
    assert paid.status_code == 201, paid.text
    assert paid.json()["claims"] == {"C2": "300.00", "C1": "100.00"}  # cash claims first
    assert (
        client.post(f"{BASE}/person-repayments", json=body, headers=world["acc"]).status_code == 200
    )
    other = client.post(
        f"{BASE}/person-repayments", json={**body, "amount": "1.00"}, headers=world["acc"]
    )
    assert other.status_code == 409
    beyond = client.post(
        f"{BASE}/person-repayments",
        json={**body, "receipt_no": "R2", "amount": "400.01"},
        headers=world["acc"],
    )
    assert beyond.status_code == 422
    assert beyond.json()["errors"][0]["rule"] == "repayment_beyond_receivable"
    assert (
        client.post(f"{BASE}/person-repayments", json=body, headers=world["op"]).status_code == 403
    )
    assert _balance(session, "receivable") == 40_000
    assert _balance(session, "bank", None) == 40_000
    _books_agree_with_the_documents(session)
    rows = client.get(
        f"{BASE}/person-receivables", params={"region": "640100"}, headers=world["op"]
    ).json()
    assert rows == [
        {"region": "640100", "psn_no": P1, "balance": "400.00"},
        {"region": "640100", "psn_no": P2, "balance": "0.00"},
    ]


def _context(
    session_factory: sessionmaker[Session],
    engine: Engine,
    clock: SimulatedClock,
    sim: BankSimulator,
) -> JobContext:
    settings = Settings(
        environment="test",
        database_url="sqlite://",
        callback_url="http://testserver/api/v1/bank/receipts",
    )
    return JobContext(
        session_factory=session_factory,
        engine=engine,
        clock=clock,
        settings=settings,
        gateway=SimulatorGateway(sim, secret=DEV_BANK_SECRET),
    )


def _submit(session: Session, clock: SimulatedClock) -> list[str]:
    fund = institutions.get_fund_ledger(session, "640100", "610")
    now = clock.now()
    ids = person_payments.submit_due(session, fund, today=now.date(), now=now)
    session.commit()
    return ids


def _submit_checked(session: Session, clock: SimulatedClock) -> list[str]:
    fund = institutions.get_fund_ledger(session, "640100", "610")
    now = clock.now()
    ids, _ = funds.submit_in_order(session, fund, [person_payments.FLOW], today=now.date(), now=now)
    session.commit()
    return ids


def test_paid_through_the_bank_and_a_failed_payment_resent(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
    clock: SimulatedClock,
    world: dict[str, dict[str, str]],
) -> None:
    sim = BankSimulator(
        secret=DEV_BANK_SECRET,
        clock=clock,
        options=SimOptions(rules=[{"kind": "person", "status": "FAILED", "reason": "账户已销户"}]),
    )
    ctx = _context(session_factory, engine, clock, sim)
    payment = client.post(
        f"{BASE}/applications", json=_application("A1", "INV1"), headers=world["op"]
    ).json()
    client.post(f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"])
    # the 610 funds check (treasury.funds.submit_in_order) holds it while the account is empty
    assert _submit_checked(session, clock) == []
    shown = client.get(f"{BASE}/person-payments/{payment['id']}", headers=world["acc"]).json()
    assert shown["status"] == "NOT_SENT"
    ledger.post(
        session,
        entries.appropriation(
            reference="AP1",
            region_code="640100",
            insutype="610",
            amount_fen=100_000,
            effective_at=clock.now(),
        ),
        now=clock.now(),
    )
    session.commit()
    ids = _submit_checked(session, clock)
    assert len(ids) == 1 and ids[0].startswith("P") and ids[0].endswith(f"-6401610-{payment['id']}")
    assert _submit(session, clock) == []  # sent already
    sending.send_queued(ctx, ids)
    assert sim.payments[ids[0]].request["payee_type"] == "person"
    assert sim.payments[ids[0]].request["payee_account"] == "6222000000009001"
    clock.set(clock.now() + timedelta(minutes=5))
    sending.query_and_apply(ctx, ids[0])
    shown = client.get(f"{BASE}/person-payments/{payment['id']}", headers=world["acc"]).json()
    assert shown["status"] == "FAILED"
    assert _balance(session, "payable") == 60_000  # owed again
    # re-approved (maker–checker) and resent under a new id
    assert (
        client.post(
            f"{BASE}/person-payments/{payment['id']}/approve", headers=world["op"]
        ).status_code
        == 403
    )
    again = client.post(f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc2"])
    assert again.json()["status"] == "NOT_SENT"
    sim.options.rules.clear()
    resent = _submit(session, clock)
    assert resent == [f"{ids[0]}-R1"]
    sending.send_queued(ctx, resent)
    clock.set(clock.now() + timedelta(minutes=5))
    delivered = sim.deliver_due(poster(client))  # the signed callback, through the API
    assert [status for _, status in delivered] == [200, 200]  # the failure (known), the success
    shown = client.get(f"{BASE}/person-payments/{payment['id']}", headers=world["acc"]).json()
    assert (shown["status"], shown["instruction_id"]) == ("PAID", resent[0])
    session.expire_all()
    instruction = session.get(PaymentInstruction, resent[0])
    assert (
        instruction is not None and instruction.kind == "person" and instruction.resend_of == ids[0]
    )
    assert _balance(session, "payable") == 0
    assert _balance(session, "in_transit", None) == 0
    assert _balance(session, "bank", None) == 100_000 - 60_000
    _books_agree_with_the_documents(session)


def test_a_returned_payment_is_reapproved_and_resent(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
    clock: SimulatedClock,
    world: dict[str, dict[str, str]],
) -> None:
    rule = {"kind": "person", "status": "RETURNED", "return_after": 1, "reason": "户名不符"}
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=clock, options=SimOptions(rules=[rule]))
    ctx = _context(session_factory, engine, clock, sim)
    grant = {"reference": "G1", "psn_no": P2, "disease": "肝癌晚期", "amount": "100.00"}
    payment = client.post(f"{BASE}/care-grants", json=grant, headers=world["op"]).json()
    client.post(f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"])
    ids = _submit(session, clock)
    sending.send_queued(ctx, ids)
    clock.set(clock.now() + timedelta(minutes=5))
    sending.query_and_apply(ctx, ids[0])
    url = f"{BASE}/person-payments/{payment['id']}"
    assert client.get(url, headers=world["acc"]).json()["status"] == "PAID"
    clock.set(clock.now() + timedelta(days=3))  # Friday → Monday, after the 10:00 return
    sending.query_and_apply(ctx, ids[0])
    assert client.get(url, headers=world["acc"]).json()["status"] == "RETURNED"
    slot = f"P{P2}"
    assert _balance(session, "payable", slot) == 10_000  # owed to the person again
    again = client.post(f"{url}/approve", headers=world["acc2"])
    assert again.status_code == 200 and again.json()["status"] == "NOT_SENT"
    sim.options.rules.clear()
    resent = _submit(session, clock)
    assert resent == [f"{ids[0]}-R1"]
    assert client.get(url, headers=world["acc"]).json()["status"] == "PENDING"
    assert _balance(session, "payable", slot) == 0
    assert _balance(session, "in_transit", None) == -10_000  # credited while in transit


def test_claims_and_top_ups_are_idempotent_on_their_reference(
    session: Session, world: dict[str, dict[str, str]]
) -> None:
    _claim(session, "C1", 50_000, Resolution.NEXT_PERIOD, T1)
    _claim(session, "C1", 50_000, Resolution.NEXT_PERIOD, T1)  # the same again
    assert _balance(session, "receivable") == 50_000
    with pytest.raises(Conflict):
        _claim(session, "C1", 40_000, Resolution.NEXT_PERIOD, T1)
    session.rollback()
    op = Principal(user_id=None, name="op", role="operator")
    first = person_payments.add_top_up(
        session, reference="C5", psn_no=P1, region_code="640100", amount_fen=500, actor=op, now=T2
    )
    again = person_payments.add_top_up(
        session, reference="C5", psn_no=P1, region_code="640100", amount_fen=500, actor=op, now=T2
    )
    assert again.id == first.id and first.kind == "top_up"
    with pytest.raises(Conflict):
        person_payments.add_top_up(
            session,
            reference="C5",
            psn_no=P1,
            region_code="640100",
            amount_fen=501,
            actor=op,
            now=T2,
        )
    session.commit()


def test_a_reference_is_unique_across_kinds(
    client: TestClient, session: Session, world: dict[str, dict[str, str]]
) -> None:
    client.post(f"{BASE}/applications", json=_application("X1", "INV1"), headers=world["op"])
    grant = {"reference": "X1", "psn_no": P2, "disease": "肝癌晚期"}
    assert client.post(f"{BASE}/care-grants", json=grant, headers=world["op"]).status_code == 409
    op = Principal(user_id=None, name="op", role="operator")
    with pytest.raises(Conflict):
        person_payments.add_top_up(
            session,
            reference="X1",
            psn_no=P1,
            region_code="640100",
            amount_fen=500,
            actor=op,
            now=T2,
        )


def _inpatient(reference: str, invoice_no: str, day: str, inscp: str) -> dict[str, Any]:
    body = _application(reference, invoice_no, inscp)
    body["invoices"][0].update(visit="inpatient", date=day)
    return body


def test_the_amount_is_marginal_over_the_live_applications_of_the_year(
    client: TestClient, world: dict[str, dict[str, str]]
) -> None:
    """A4/A6 under A9's dibao inpatient bands (80 % to 20,000.00, then 90 %): a second
    invoice of the year starts where the first left the year's base."""
    first = client.post(
        f"{BASE}/applications",
        json=_inpatient("A1", "I1", "2026-03-01", "15000.00"),
        headers=world["op"],
    ).json()
    assert first["amount"] == "12000.00"
    second = client.post(
        f"{BASE}/applications",
        json=_inpatient("A2", "I2", "2026-04-01", "10000.00"),
        headers=world["op"],
    ).json()
    assert second["amount"] == "8500.00"  # 5,000 × 80 % + 5,000 × 90 %
    client.post(
        f"{BASE}/person-payments/{first['id']}/reject",
        json={"reason": "重复申请"},
        headers=world["acc"],
    )
    third = client.post(
        f"{BASE}/applications",
        json=_inpatient("A3", "I3", "2026-05-01", "10000.00"),
        headers=world["op"],
    ).json()
    # A1 rejected leaves the year: after A2's 10,000.00, [10,000, 20,000) at 80 %
    assert third["amount"] == "8000.00"


def test_the_1430_submission_pays_persons_under_the_610_funds_check(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
    clock: SimulatedClock,
    world: dict[str, dict[str, str]],
) -> None:
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=clock)
    ctx = _context(session_factory, engine, clock, sim)
    ids = []
    for reference, invoice_no in (("A1", "INV1"), ("A2", "INV2")):
        payment = client.post(
            f"{BASE}/applications", json=_application(reference, invoice_no), headers=world["op"]
        ).json()
        client.post(f"{BASE}/person-payments/{payment['id']}/approve", headers=world["acc"])
        ids.append(payment["id"])
    ledger.post(
        session,
        entries.appropriation(
            reference="AP1",
            region_code="640100",
            insutype="610",
            amount_fen=60_000,
            effective_at=clock.now(),
        ),
        now=clock.now(),
    )
    session.commit()
    day = clock.now().date()
    clock.set(datetime(2026, 3, 6, 6, 30, tzinfo=UTC))  # Friday 14:30 in Shanghai
    result = submission.run(ctx, day)
    # the first approved is covered; the second waits for money with the funds_short alert
    assert len(result["queued"]) == 1 and result["queued"][0].endswith(f"-{ids[0]}")
    assert result["funds_short"]["640100:610"]["shortfall_fen"] == 60_000
    statuses = [
        client.get(f"{BASE}/person-payments/{i}", headers=world["acc"]).json()["status"]
        for i in ids
    ]
    assert statuses == ["PENDING", "NOT_SENT"]
    assert sim.payments[result["queued"][0]].request["payee_type"] == "person"


def test_the_list_and_the_submission_read_set_based(
    client: TestClient, session: Session, clock: SimulatedClock, world: dict[str, dict[str, str]]
) -> None:
    """The list reads the payments' years in one query, and the submission reads the persons
    and earlier resends once for all due payments: no more statements for 6 than for 2."""
    ids = []
    for number in range(8):
        made = client.post(
            f"{BASE}/applications",
            json=_application(f"L{number}", f"LINV{number}", psn_no=(P1, P2)[number % 2]),
            headers=world["op"],
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])

    def listed(limit: int) -> int:
        with sql_statements(session) as seen:
            page = client.get(f"{BASE}/person-payments?limit={limit}", headers=world["acc"])
        assert page.status_code == 200 and len(page.json()["items"]) == limit
        assert all(
            item["years"] == [{"year": 2026, "amount": "600.00"}] for item in page.json()["items"]
        )
        return len(seen)

    assert listed(2) == listed(8)

    def submitted(payment_ids: list[int]) -> int:
        for payment_id in payment_ids:
            approved = client.post(
                f"{BASE}/person-payments/{payment_id}/approve", headers=world["acc"]
            )
            assert approved.status_code == 200, approved.text
        session.expire_all()
        with sql_statements(session) as seen:
            assert len(_submit(session, clock)) == len(payment_ids)
        return len(seen)

    few = submitted(ids[:2])  # the first also opens the persons' ledger accounts
    assert submitted(ids[2:]) <= few
