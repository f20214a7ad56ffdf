"""Monthly settlement over HTTP (SPEC §4, §6): declarations, the smart-audit chain, statement
computation on hand-computed numbers, the confirm/dispute/recompute/approve flow with
maker–checker, payment, receivables with repayments and offsets, exports and the ledger."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bank import service as bank
from app.clock import SimulatedClock, business_date
from app.daily import service as daily
from app.daily.models import DailyBatch, DailyLine
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
from app.workdays import service as workdays
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, revoke, settle
from tests.support.xlsx import uniform_sheet

REGION, INSUTYPE = "640100", "310"
FRI, MON, TUE, WED = date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)
ACC = Principal(None, "acc", "accountant")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers ------------------------------------------------------------------------------------


def _users(session: Session, *codes: str) -> dict[str, dict[str, str]]:
    headers = {
        code: bearer(builders.user_token(session, f"user-{code}", "hospital", code))
        for code in codes
    }
    headers["op"] = bearer(builders.user_token(session, "op", "operator"))
    headers["acc"] = bearer(builders.user_token(session, "acc", "accountant"))
    headers["acc2"] = bearer(builders.user_token(session, "acc2", "accountant"))
    session.commit()
    return headers


def _fund(session: Session) -> FundLedger:
    return institutions.get_fund_ledger(session, REGION, INSUTYPE)


def _balance(session: Session, name: str, code: str | None = None) -> int:
    return ledger.balance_or_zero(session, account_code(name, REGION, INSUTYPE, code))


def _reconcile(session: Session, code: str, *days: date) -> None:
    """The hospital posts exactly the held totals of each day (count and fund amount)."""
    actor = Principal(None, f"user-{code}", "hospital", code)
    for day in days:
        held = settlements.held_totals(session, code, INSUTYPE, day, day).get(day)
        count, fund_fen = (held.count, held.fund_fen) if held else (0, 0)
        data = ReconciliationIn.model_validate(
            {
                "fixmedins_code": code,
                "insutype": INSUTYPE,
                "setl_date": day.isoformat(),
                "count": count,
                "fund_amount": yuan(fund_fen),
            }
        )
        row = settlements.reconcile(session, data, actor=actor, now=at(day, 23, 50))
        assert row.status == "RECONCILED"
    session.commit()


def _result(
    session: Session, instruction_id: str, status: str = "SUCCESS", when: datetime | None = None
) -> None:
    """The bank's result of an instruction (a success, a failure, or a return of a paid one),
    applied as the callback would."""
    instruction = bank.find(session, instruction_id)
    assert instruction is not None
    receipt = None
    failure = None
    if status == "SUCCESS":
        receipt = {
            "receipt_no": "HD" + instruction_id.replace("-", ""),
            "amount": yuan(instruction.amount_fen),
        }
    elif status == "RETURNED":
        receipt = {"receipt_no": instruction.receipt_no}
        failure = {"reason": "账户已销户"}
    else:
        failure = {"code": "E01", "reason": "收款账户状态异常"}
    assert (
        bank.apply_result(
            session,
            instruction,
            status,
            instruction.amount_fen,
            instruction.payee_account,
            receipt,
            failure,
            when or at(instruction.requested_date, 15),
        )
        == "applied"
    )
    session.commit()


def _submit_daily(session: Session, today: date) -> list[str]:
    ids = daily.submit_due(session, _fund(session), today=today, now=at(today, 14, 30))
    session.commit()
    return ids


def _submit_monthly(session: Session, today: date) -> list[str]:
    ids = statements.FLOW.submit_due(session, _fund(session), today=today, now=at(today, 14, 30))
    session.commit()
    return ids


def _compute(session: Session, today: date) -> list[int]:
    ids = computation.compute_due(
        session, _fund(session), today=today, now=at(today, 1), calendar=workdays.load(session)
    )
    session.commit()
    return ids


def _declare(
    client: TestClient, clock: SimulatedClock, headers: dict, code: str, period: str, when: date
) -> Response:
    if at(when, 10) > clock.now():
        clock.set(at(when, 10))
    assert business_date(clock.now()) == when
    return client.post(
        "/api/v1/declarations",
        json={"fixmedins_code": code, "insutype": INSUTYPE, "period": period},
        headers=headers,
    )


def _rules(response: Response) -> list[str]:
    return [error["rule"] for error in response.json().get("errors", [])]


def _statement(client: TestClient, headers: dict, code: str, period: str) -> dict:
    items = client.get(
        "/api/v1/statements",
        params={"fixmedins_code": code, "period": period},
        headers=headers,
    ).json()["items"]
    assert len(items) == 1, items
    return items[0]


def _components(statement: dict) -> dict[str, str]:
    keys = (
        "fund_pay",
        "deposit",
        "ratio_amount",
        "audit",
        "daily_paid",
        "procurement",
        "returned",
        "offset",
        "net",
    )
    return {key: statement[key] for key in keys}


def _approval_entries(session: Session, statement_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(
                JournalEntry.kind == "statement_approval",
                JournalEntry.business_ref == f"statement:{statement_id}",
            )
        )
        or 0
    )


# --- declarations -------------------------------------------------------------------------------


def test_declaration_rules_reopening_and_replay(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    builders.institution(session, "H001", start=date(2026, 3, 1))  # first period 2026-03
    builders.institution(session, "H002", start=date(2026, 3, 1))
    headers = _users(session, "H001", "H002")
    settle(session, "H001", "S1", 1_000_000, FRI)
    session.commit()
    h1 = headers["H001"]

    early = _declare(client, clock, h1, "H001", "2026-03", date(2026, 3, 31))
    assert early.status_code == 422 and _rules(early) == ["period_ended"]
    assert early.json()["errors"][0]["field"] == "period"

    unreconciled = _declare(client, clock, h1, "H001", "2026-03", date(2026, 4, 1))
    assert unreconciled.status_code == 422 and _rules(unreconciled) == ["days_reconciled"]
    assert "2026-03-06" in unreconciled.json()["errors"][0]["message"]
    reconciled = client.post(
        "/api/v1/reconciliations",
        json={
            "fixmedins_code": "H001",
            "insutype": INSUTYPE,
            "setl_date": "2026-03-06",
            "count": 1,
            "fund_amount": "10000.00",
        },
        headers=h1,
    )
    assert reconciled.json()["status"] == "RECONCILED"
    # another hospital cannot declare for H001
    assert (
        _declare(client, clock, headers["H002"], "H001", "2026-03", date(2026, 4, 1)).status_code
        == 404
    )

    # on the deadline itself (15 April, a Wednesday) until 23:59 it is in time
    clock.set(at(date(2026, 4, 15), 23, 59))
    on_time = client.post(
        "/api/v1/declarations",
        json={"fixmedins_code": "H002", "insutype": INSUTYPE, "period": "2026-03"},
        headers=headers["H002"],
    )
    assert on_time.status_code == 201 and on_time.json()["late"] is False

    late = _declare(client, clock, h1, "H001", "2026-03", date(2026, 4, 16))
    assert late.status_code == 422 and _rules(late) == ["declaration_deadline"]

    out_of_order = _declare(client, clock, h1, "H001", "2026-04", date(2026, 5, 6))
    assert out_of_order.status_code == 422 and _rules(out_of_order) == ["periods_in_order"]

    reopen_url = "/api/v1/declarations/H001/310/2026-03/reopen"
    assert client.post(reopen_url, json={"reason": "系统故障"}, headers=h1).status_code == 403
    reopened = client.post(reopen_url, json={"reason": "系统故障"}, headers=headers["op"])
    assert reopened.status_code == 201 and reopened.json()["status"] == "reopened"

    accepted = _declare(client, clock, h1, "H001", "2026-03", date(2026, 5, 6))
    assert accepted.status_code == 201
    assert accepted.json()["late"] is True and accepted.json()["declared_by"] == "user-H001"
    clock.advance(timedelta(hours=1))
    replay = client.post(
        "/api/v1/declarations",
        json={"fixmedins_code": "H001", "insutype": INSUTYPE, "period": "2026-03"},
        headers=h1,
    )
    assert replay.status_code == 200 and replay.json() == accepted.json()
    shown = client.get("/api/v1/declarations/H001/310/2026-03", headers=h1)
    assert shown.status_code == 200 and shown.json()["late"] is True

    # March is declared: a settlement dated in March uploaded now belongs to April ...
    upload = client.post(
        "/api/v1/settlements",
        json={
            "fixmedins_code": "H001",
            "setl_id": "S2",
            "psn_no": "P0002",
            "insutype": INSUTYPE,
            "med_type": "21",
            "insuplc_admdvs": "640104",
            "setl_time": "2026-03-20T09:00:00+08:00",
            "medfee_sumamt": "3000.00",
            "hifp_pay": "2000.00",
        },
        headers=h1,
    )
    assert upload.status_code == 201 and upload.json()["period"] == "2026-04"
    # ... and April's declaration needs that settlement's date (in March) reconciled too
    april = _declare(client, clock, h1, "H001", "2026-04", date(2026, 5, 6))
    assert april.status_code == 422 and _rules(april) == ["days_reconciled"]
    assert "2026-03-20" in april.json()["errors"][0]["message"]
    _reconcile(session, "H001", date(2026, 3, 20))
    april = _declare(client, clock, h1, "H001", "2026-04", date(2026, 5, 6))
    assert april.status_code == 201 and april.json()["late"] is False


def test_declaration_needs_settlement_lists_where_required(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    builders.fund(session, requires_settlement_list=True)
    builders.institution(session, "H001", start=date(2026, 3, 1))
    headers = _users(session, "H001")
    settle(session, "H001", "S1", 100_000, FRI)
    settle(session, "H001", "S2", 200_000, MON)
    settle(session, "H001", "S3", 300_000, MON)
    revoke(session, "H001", "S3", at(MON, 12))  # a revoked settlement needs no list
    _reconcile(session, "H001", FRI, MON)
    h1 = headers["H001"]

    refused = _declare(client, clock, h1, "H001", "2026-03", date(2026, 4, 1))
    assert refused.status_code == 422 and _rules(refused) == ["settlement_lists"]
    assert "2 settlements" in refused.json()["errors"][0]["message"]
    listed = client.post("/api/v1/settlements/H001/S1/list", json={"list_no": "QD1"}, headers=h1)
    assert listed.status_code == 201
    refused = _declare(client, clock, h1, "H001", "2026-03", date(2026, 4, 1))
    assert refused.status_code == 422 and _rules(refused) == ["settlement_lists"]
    assert "1 settlements" in refused.json()["errors"][0]["message"]
    client.post("/api/v1/settlements/H001/S2/list", json={"list_no": "QD2"}, headers=h1)
    assert _declare(client, clock, h1, "H001", "2026-03", date(2026, 4, 1)).status_code == 201


# --- smart audit --------------------------------------------------------------------------------


def _audit_world(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    headers = _users(session, "H001", "H002")
    settle(session, "H001", "S1", 100_000, FRI)  # fund 1,000.00
    settle(session, "H001", "S2", 50_000, FRI)
    settle(session, "H001", "S3", 70_000, FRI)
    revoke(session, "H001", "S3", at(FRI, 12))
    session.commit()
    return headers


def _audit(client: TestClient, headers: dict, setl_id: str, rule: str, amount: str) -> Response:
    return client.post(
        "/api/v1/audits",
        json={
            "fixmedins_code": "H001",
            "setl_id": setl_id,
            "rule_code": rule,
            "amount": amount,
            "reason": "超标准收费",
        },
        headers=headers,
    )


def _step(
    client: TestClient, headers: dict, setl_id: str, rule: str, action: str, body: dict
) -> Response:
    return client.post(f"/api/v1/audits/H001/{setl_id}/{rule}/{action}", json=body, headers=headers)


def test_appeal_window_is_five_working_days_across_the_weekend(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    headers = _audit_world(session)
    clock.set(at(date(2026, 3, 12), 10))  # Thursday
    first = _audit(client, headers["op"], "S1", "R1", "100.00")
    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["result_date"], body["appeal_deadline"]) == (
        "INITIAL",
        "2026-03-12",
        "2026-03-19",  # Fri 13, Mon 16, Tue 17, Wed 18, Thu 19 (not calendar days: 17th)
    )
    assert _audit(client, headers["op"], "S1", "R1", "100.00").status_code == 200
    assert _audit(client, headers["op"], "S1", "R1", "90.00").status_code == 409
    assert _audit(client, headers["H001"], "S2", "R2", "10.00").status_code == 403
    assert _audit(client, headers["op"], "S2", "R2", "50.00").status_code == 201

    appeal = {"reason": "符合诊疗规范"}
    clock.set(at(date(2026, 3, 19), 23, 59))  # the last minute of the window
    assert _step(client, headers["H002"], "S1", "R1", "appeal", appeal).status_code == 404
    in_time = _step(client, headers["H001"], "S1", "R1", "appeal", appeal)
    assert in_time.status_code == 200 and in_time.json()["status"] == "APPEALED"
    clock.set(at(date(2026, 3, 20), 0, 0))  # the window has closed
    too_late = _step(client, headers["H001"], "S2", "R2", "appeal", appeal)
    assert too_late.status_code == 422 and _rules(too_late) == ["appeal_window"]
    shown = client.get("/api/v1/audits/H001/S2/R2", headers=headers["H001"]).json()
    assert shown["status"] == "INITIAL"
    # after National Day the Saturday 10 October is worked (调休): it counts as a working day
    clock.set(at(date(2026, 10, 9), 10))  # Friday
    october = _audit(client, headers["op"], "S1", "R3", "10.00").json()
    assert october["appeal_deadline"] == "2026-10-15"  # Sat 10, Mon 12, Tue 13, Wed 14, Thu 15


def test_review_consultation_and_deductions_within_fund(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    headers = _audit_world(session)
    op, h1 = headers["op"], headers["H001"]
    clock.set(at(FRI, 15))
    assert _audit(client, op, "S1", "R1", "800.00").status_code == 201
    over = _audit(client, op, "S1", "R2", "200.01")  # 800.00 + 200.01 > 1,000.00
    assert over.status_code == 422 and _rules(over) == ["deduction_within_fund"]
    assert _audit(client, op, "S1", "R2", "200.00").status_code == 201  # exactly the fund
    revoked = _audit(client, op, "S3", "R1", "10.00")
    assert revoked.status_code == 422 and _rules(revoked) == ["settlement_not_revoked"]

    not_appealed = _step(client, op, "S1", "R2", "review", {"amount": "100.00", "final": True})
    assert not_appealed.status_code == 409
    assert _step(client, h1, "S1", "R1", "appeal", {"reason": "有病历"}).status_code == 200
    assert (
        _step(client, h1, "S1", "R1", "review", {"amount": "1.00", "final": True}).status_code
        == 403
    )
    higher = _step(client, op, "S1", "R1", "review", {"amount": "800.01", "final": False})
    assert higher.status_code == 422 and _rules(higher) == ["amount_not_higher"]
    reviewed = _step(client, op, "S1", "R1", "review", {"amount": "600.00", "final": False})
    assert reviewed.status_code == 200
    assert (reviewed.json()["status"], reviewed.json()["final_amount"]) == ("REVIEWED", None)
    higher = _step(client, op, "S1", "R1", "consultation", {"amount": "600.01"})
    assert higher.status_code == 422 and _rules(higher) == ["amount_not_higher"]
    final = _step(client, op, "S1", "R1", "consultation", {"amount": "450.00"})
    assert (final.json()["status"], final.json()["final_amount"]) == ("FINAL", "450.00")
    assert _step(client, op, "S1", "R1", "consultation", {"amount": "400.00"}).status_code == 409

    # the lowered amount frees room: 450.00 + 200.00 + 350.00 = 1,000.00
    assert _audit(client, op, "S1", "R3", "350.00").status_code == 201
    full = _audit(client, op, "S1", "R4", "0.01")
    assert full.status_code == 422 and _rules(full) == ["deduction_within_fund"]

    # a final review needs no consultation
    assert _audit(client, op, "S2", "R1", "300.00").status_code == 201
    _step(client, h1, "S2", "R1", "appeal", {"reason": "x"})
    direct = _step(client, op, "S2", "R1", "review", {"amount": "100.00", "final": True})
    assert (direct.json()["status"], direct.json()["final_amount"]) == ("FINAL", "100.00")
    assert _step(client, op, "S2", "R1", "consultation", {"amount": "50.00"}).status_code == 409

    history = client.get("/api/v1/audits/H001/S1/R1", headers=h1).json()["history"]
    assert [(s["action"], s["amount"], s["actor"]) for s in history] == [
        ("initial", "800.00", "op"),
        ("appeal", None, "user-H001"),
        ("review", "600.00", "op"),
        ("consultation", "450.00", "op"),
    ]
    # an audited settlement is corrected through the audit, never revoked
    assert (
        client.post(
            "/api/v1/settlements/H001/S1/revoke", json={"reason": "x"}, headers=h1
        ).status_code
        == 409
    )


def test_unappealed_results_become_final_when_the_window_closes(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    headers = _audit_world(session)
    clock.set(at(FRI, 15))  # window: until 23:59 on Friday 13 March
    _audit(client, headers["op"], "S1", "R1", "100.00")
    _audit(client, headers["op"], "S2", "R1", "20.00")
    _step(client, headers["H001"], "S2", "R1", "appeal", {"reason": "x"})
    day = date(2026, 3, 12)
    assert audits.finalize_unappealed(session, today=day, now=at(day, 23, 59)) == 0
    session.commit()
    day = date(2026, 3, 13)
    assert audits.finalize_unappealed(session, today=day, now=at(day, 23, 59)) == 1
    session.commit()
    final = client.get("/api/v1/audits/H001/S1/R1", headers=headers["H001"]).json()
    assert (final["status"], final["final_amount"]) == ("FINAL", "100.00")
    assert [(s["action"], s["amount"], s["actor"]) for s in final["history"]] == [
        ("initial", "100.00", "op"),
        ("final", "100.00", "system"),
    ]
    appealed = client.get("/api/v1/audits/H001/S2/R1", headers=headers["H001"]).json()
    assert (appealed["status"], appealed["final_amount"]) == ("APPEALED", None)
    clock.set(at(day, 23, 59))
    assert _step(client, headers["H001"], "S1", "R1", "appeal", {"reason": "x"}).status_code == 409
    listed = client.get("/api/v1/audits", params={"status": "FINAL"}, headers=headers["op"]).json()[
        "items"
    ]
    assert [(a["setl_id"], a["rule_code"]) for a in listed] == [("S1", "R1")]


# --- statements ---------------------------------------------------------------------------------


def _march(
    client: TestClient, session: Session, clock: SimulatedClock
) -> dict[str, dict[str, str]]:
    """H001 and H002 in March 2026, declared on 1 April:

    H001  Fri 03-06  S1 10,000.00 (daily 6,000.00), S2 3,333.33 (daily 2,000.00): paid Mon 03-09
          Tue 03-10  S3 20,000.00 (daily 12,000.00), sent Wed 03-11 (result left pending);
                     S2 revoked after batching (its 2,000.00 paid stays paid for March)
          Mon 03-30  S4 1,000.10 (daily 600.06): its batch is never approved
          audit R1 on S1: 800.00, appealed, review fixes 500.00 (final)
          procurement advance 1,000.00 for 2026-03
    H002  Mon 03-09  S5 5,000.00 (daily 3,000.00): sent Tue 03-10, bank FAILED
    """
    builders.institution(session, "H001", start=date(2026, 3, 1))
    builders.institution(session, "H002", level=2, start=date(2026, 3, 1))
    headers = _users(session, "H001", "H002")
    settle(session, "H001", "S1", 1_000_000, FRI)
    settle(session, "H001", "S2", 333_333, FRI)
    first = generate(session, FRI)
    settle(session, "H002", "S5", 500_000, MON)
    second = generate(session, MON)
    settle(session, "H001", "S3", 2_000_000, TUE)
    revoke(session, "H001", "S2", at(TUE, 11))
    third = generate(session, TUE)
    settle(session, "H001", "S4", 100_010, date(2026, 3, 30))
    generate(session, date(2026, 3, 30))
    for batch in (first, second, third):
        daily.approve(session, batch.id, actor=ACC, now=at(batch.pay_date, 9))
    session.commit()
    assert _submit_daily(session, MON) == ["D260306-6401310-H001"]
    _result(session, "D260306-6401310-H001")
    assert _submit_daily(session, TUE) == ["D260309-6401310-H002"]
    _result(session, "D260309-6401310-H002", "FAILED")
    assert _submit_daily(session, WED) == ["D260310-6401310-H001"]
    _reconcile(session, "H001", FRI, TUE, date(2026, 3, 30))
    _reconcile(session, "H002", MON)

    op = headers["op"]
    clock.set(at(date(2026, 3, 12), 10))
    assert _audit(client, op, "S1", "R1", "800.00").status_code == 201
    clock.set(at(date(2026, 3, 13), 10))
    appealed = _step(client, headers["H001"], "S1", "R1", "appeal", {"reason": "有病历"})
    assert appealed.status_code == 200
    clock.set(at(date(2026, 3, 16), 10))
    reviewed = _step(client, op, "S1", "R1", "review", {"amount": "500.00", "final": True})
    assert reviewed.json()["final_amount"] == "500.00"
    advance = client.post(
        "/api/v1/procurement-advances",
        json={
            "fixmedins_code": "H001",
            "insutype": INSUTYPE,
            "period": "2026-03",
            "amount": "1000.00",
            "reference": "ZC-2026-03-001",
        },
        headers=op,
    )
    assert advance.status_code == 201
    for code in ("H001", "H002"):
        declared = _declare(client, clock, headers[code], code, "2026-03", date(2026, 4, 1))
        assert declared.status_code == 201, declared.text
    return headers


H001_MARCH = {
    "fund_pay": "31000.10",  # 10,000.00 + 3,333.33 − 3,333.33 (S2 revoked) + 20,000.00 + 1,000.10
    "deposit": "1550.01",  # 5 % = 1,550.005, half away from zero
    "ratio_amount": "29450.09",
    "audit": "500.00",
    "daily_paid": "20000.00",  # 6,000.00 + 2,000.00 + 12,000.00; S4's 600.06 was never sent
    "procurement": "1000.00",
    "returned": "0.00",
    "offset": "0.00",
    "net": "7950.09",  # 29,450.09 − 500.00 − 20,000.00 − 1,000.00
}
H002_MARCH = {
    "fund_pay": "5000.00",
    "deposit": "250.00",
    "ratio_amount": "4750.00",
    "audit": "0.00",
    "daily_paid": "0.00",  # the failed daily payment is not resent: the statement pays it
    "procurement": "0.00",
    "returned": "0.00",
    "offset": "0.00",
    "net": "4750.00",
}


def _computed_march(
    client: TestClient, session: Session, clock: SimulatedClock
) -> dict[str, dict[str, str]]:
    headers = _march(client, session, clock)
    _result(session, "D260310-6401310-H001")
    assert len(_compute(session, date(2026, 4, 16))) == 2
    return headers


def test_statement_computation_and_payment_with_ledger(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    headers = _march(client, session, clock)
    op, acc = headers["op"], headers["acc"]
    assert _compute(session, date(2026, 4, 15)) == []  # the deadline day: not yet
    # H001's payment of 03-11 was sent without a result: its period waits
    assert len(_compute(session, date(2026, 4, 16))) == 1
    listed = client.get("/api/v1/statements", params={"period": "2026-03"}, headers=op).json()
    assert [s["fixmedins_code"] for s in listed["items"]] == ["H002"]
    assert _components(listed["items"][0]) == H002_MARCH
    _result(session, "D260310-6401310-H001")
    assert len(_compute(session, date(2026, 4, 16))) == 1
    assert _compute(session, date(2026, 4, 17)) == []  # computed once

    statement = _statement(client, headers["H001"], "H001", "2026-03")
    assert _components(statement) == H001_MARCH
    assert (statement["status"], statement["deposit_rate"], statement["computed_by"]) == (
        "COMPUTED",
        "0.05",
        "system",
    )
    sid = statement["id"]
    # the line holding S4 was never sent: it is withdrawn and never sent afterwards
    last_batch = session.scalar(
        select(DailyBatch).where(DailyBatch.business_date == date(2026, 3, 30))
    )
    assert last_batch is not None
    line = session.scalar(select(DailyLine).where(DailyLine.batch_id == last_batch.id))
    assert line is not None and line.withdrawn_at is not None
    daily.approve(session, last_batch.id, actor=ACC, now=at(date(2026, 4, 16), 9))
    assert _submit_daily(session, date(2026, 4, 16)) == []

    assert client.post(f"/api/v1/statements/{sid}/approve", headers=acc).status_code == 409
    confirmed = client.post(
        f"/api/v1/statements/{sid}/confirm", json={"reference": "GZ-001"}, headers=headers["H001"]
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "CONFIRMED"
    assert client.post(f"/api/v1/statements/{sid}/approve", headers=op).status_code == 403
    approved = client.post(f"/api/v1/statements/{sid}/approve", headers=acc)
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("APPROVED", "acc")
    again = client.post(f"/api/v1/statements/{sid}/approve", headers=acc)
    assert again.status_code == 200 and again.json()["status"] == "APPROVED"
    assert _approval_entries(session, sid) == 1

    # SPEC §6 after approval: audit → expense, deposit → deposit_held, procurement recovered
    assert _balance(session, "payable", "H001") == 795_009  # = net, owed to H001
    assert _balance(session, "expense", "H001") == 3_050_010  # 31,000.10 − 500.00
    assert _balance(session, "deposit_held", "H001") == 155_001
    assert _balance(session, "procurement_advance", "H001") == 0
    assert _balance(session, "receivable", "H001") == 0
    assert _balance(session, "in_transit") == 0  # no payment awaits a result
    assert _balance(session, "bank") == -2_100_000  # 20,000.00 daily + 1,000.00 to suppliers
    assert ledger.trial_balance(session).balanced

    assert _submit_monthly(session, date(2026, 4, 17)) == ["M2603-6401310-H001"]
    assert _submit_monthly(session, date(2026, 4, 17)) == []  # sent once
    assert _balance(session, "payable", "H001") == 0
    # SPEC §6 posts a sent instruction as debit payable, credit in_transit
    assert _balance(session, "in_transit") == -795_009
    _result(session, "M2603-6401310-H001")
    paid = client.get(f"/api/v1/statements/{sid}", headers=headers["H001"]).json()
    assert (paid["status"], paid["instruction_id"]) == ("PAID", "M2603-6401310-H001")
    assert _balance(session, "in_transit") == 0
    assert _balance(session, "bank") == -2_895_009
    assert ledger.trial_balance(session).balanced

    # The bank returns the monthly payment (退票): owed again, taken by April's statement.
    _result(session, "M2603-6401310-H001", "RETURNED", at(date(2026, 4, 20), 10))
    returned = client.get(f"/api/v1/statements/{sid}", headers=headers["H001"]).json()
    assert returned["status"] == "RETURNED"
    assert _balance(session, "payable", "H001") == 795_009
    assert _balance(session, "bank") == -2_100_000
    # a deduction on a March settlement made final after March was computed goes to April
    clock.set(at(date(2026, 4, 20), 11))
    assert _audit(client, op, "S3", "R2", "200.00").status_code == 201
    closing = date(2026, 4, 27)
    assert audits.finalize_unappealed(session, today=closing, now=at(closing, 23, 59)) == 1
    session.commit()
    # S4 revoked after March was declared: a negative amount of April
    clock.set(at(date(2026, 4, 21), 10))
    revoked = client.post(
        "/api/v1/settlements/H001/S4/revoke", json={"reason": "重复结算"}, headers=headers["H001"]
    ).json()
    assert (revoked["period"], revoked["revocation"]["period"]) == ("2026-03", "2026-04")
    generate(session, date(2026, 4, 21))  # reverses S4's accrual
    _reconcile(session, "H001", date(2026, 4, 21))
    assert (
        _declare(client, clock, headers["H001"], "H001", "2026-04", date(2026, 5, 6)).status_code
        == 201
    )
    assert len(_compute(session, date(2026, 5, 18))) == 1
    april = _statement(client, acc, "H001", "2026-04")
    assert _components(april) == {
        "fund_pay": "-1000.10",
        "deposit": "-50.01",  # −50.005 rounds away from zero: S4's deposit is given back
        "ratio_amount": "-950.09",
        "audit": "200.00",
        "daily_paid": "0.00",
        "procurement": "0.00",
        "returned": "7950.09",
        "offset": "0.00",
        "net": "6800.00",  # −950.09 − 200.00 + 7,950.09
    }
    client.post(f"/api/v1/statements/{april['id']}/confirm", json={}, headers=headers["H001"])
    approved = client.post(f"/api/v1/statements/{april['id']}/approve", headers=acc)
    assert approved.json()["status"] == "APPROVED"
    assert _balance(session, "payable", "H001") == 680_000
    assert _balance(session, "expense", "H001") == 3_100_010 - 100_010 - 50_000 - 20_000
    assert _balance(session, "deposit_held", "H001") == 155_001 - 5_001
    assert _submit_monthly(session, date(2026, 5, 19)) == ["M2604-6401310-H001"]
    _result(session, "M2604-6401310-H001")
    assert _balance(session, "payable", "H001") == 0
    assert _balance(session, "in_transit") == 0
    # money received (20,000.00 daily + 6,800.00) plus 1,000.00 advanced to suppliers equals
    # what the documents said was owed: fund 30,000.00 − deposit 1,500.00 − audit 700.00
    assert (
        -_balance(session, "bank") == 2_000_000 + 680_000 + 100_000 == 3_000_000 - 150_000 - 70_000
    )
    assert ledger.trial_balance(session).balanced


def test_dispute_recompute_and_maker_checker(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    headers = _computed_march(client, session, clock)
    h1, h2, op, acc = headers["H001"], headers["H002"], headers["op"], headers["acc"]
    sid = _statement(client, op, "H002", "2026-03")["id"]
    assert client.get(f"/api/v1/statements/{sid}", headers=h1).status_code == 404
    assert client.post(f"/api/v1/statements/{sid}/confirm", json={}, headers=h1).status_code == 404
    assert (
        client.post(
            f"/api/v1/statements/{sid}/dispute", json={"reason": "x"}, headers=h1
        ).status_code
        == 404
    )
    own = client.get("/api/v1/statements", headers=h1).json()["items"]
    assert [s["fixmedins_code"] for s in own] == ["H001"]

    own_id = own[0]["id"]
    client.post(f"/api/v1/statements/{own_id}/confirm", json={}, headers=h1)
    with pytest.raises(Forbidden) as refused:  # the job computed it: "system" cannot approve
        statements.FLOW.approve(
            session,
            own_id,
            actor=Principal(None, "system", "accountant"),
            now=at(date(2026, 4, 17)),
        )
    assert refused.value.status == 403
    session.rollback()

    disputed = client.post(
        f"/api/v1/statements/{sid}/dispute", json={"reason": "招采垫付未扣"}, headers=h2
    )
    assert disputed.json()["status"] == "DISPUTED"
    assert disputed.json()["dispute_reason"] == "招采垫付未扣"
    assert client.post(f"/api/v1/statements/{sid}/confirm", json={}, headers=h2).status_code == 409
    assert client.post(f"/api/v1/statements/{sid}/approve", headers=acc).status_code == 409
    assert client.post(f"/api/v1/statements/{sid}/recompute", headers=h2).status_code == 403
    client.post(
        "/api/v1/procurement-advances",
        json={
            "fixmedins_code": "H002",
            "insutype": INSUTYPE,
            "period": "2026-03",
            "amount": "200.00",
            "reference": "ZC-2026-03-002",
        },
        headers=op,
    )
    recomputed = client.post(f"/api/v1/statements/{sid}/recompute", headers=op)
    assert recomputed.status_code == 200
    body = recomputed.json()
    assert (body["status"], body["version"], body["computed_by"]) == ("COMPUTED", 2, "op")
    assert _components(body) == {**H002_MARCH, "procurement": "200.00", "net": "4550.00"}

    client.post(f"/api/v1/statements/{sid}/confirm", json={}, headers=h2)
    with pytest.raises(Forbidden):  # op recomputed it: op cannot approve it
        statements.FLOW.approve(
            session, sid, actor=Principal(None, "op", "accountant"), now=at(date(2026, 4, 17))
        )
    session.rollback()
    approved = client.post(f"/api/v1/statements/{sid}/approve", headers=headers["acc2"])
    assert approved.json()["status"] == "APPROVED"
    assert _approval_entries(session, sid) == 1
    # 5,000.00 accrued − 250.00 deposit − 200.00 procurement (the failed 3,000.00 came back)
    assert _balance(session, "payable", "H002") == 455_000
    assert _balance(session, "procurement_advance", "H002") == 0

    # a failed monthly payment is resent, with a new id linked to the first, once re-approved
    assert _submit_monthly(session, date(2026, 4, 17)) == ["M2603-6401310-H002"]
    _result(session, "M2603-6401310-H002", "FAILED")
    failed = client.get(f"/api/v1/statements/{sid}", headers=h2).json()
    assert failed["status"] == "FAILED"
    assert _balance(session, "payable", "H002") == 455_000
    assert _submit_monthly(session, date(2026, 4, 20)) == []  # not without a re-approval
    reapproved = client.post(f"/api/v1/statements/{sid}/approve", headers=acc)
    assert reapproved.json()["status"] == "APPROVED"
    assert _approval_entries(session, sid) == 1  # nothing posted again
    assert _submit_monthly(session, date(2026, 4, 20)) == ["M2603-6401310-H002-R1"]
    assert bank.find(session, "M2603-6401310-H002-R1").resend_of == "M2603-6401310-H002"  # type: ignore[union-attr]
    _result(session, "M2603-6401310-H002-R1")
    assert client.get(f"/api/v1/statements/{sid}", headers=h2).json()["status"] == "PAID"
    assert _balance(session, "payable", "H002") == 0
    assert ledger.trial_balance(session).balanced


def test_statement_exports(client: TestClient, session: Session, clock: SimulatedClock) -> None:
    headers = _computed_march(client, session, clock)
    response = client.get(
        "/api/v1/statements/export.xlsx", params={"period": "2026-03"}, headers=headers["op"]
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith(XLSX)
    table = uniform_sheet(response.content, "月度结算单汇总")
    assert "结算期：2026-03" in table.title
    assert "月拨付金额" in table.headings and "审核扣款" in table.headings
    assert sorted(
        (
            row["定点医药机构编号"],
            row["定点医药机构名称"],
            row["统筹区"],
            table.fen(row, "月拨付金额"),
        )
        for row in table.rows
    ) == [("H001", "医院H001", "银川市", 795_009), ("H002", "医院H002", "银川市", 475_000)]
    assert table.totals is not None and table.totals["月拨付金额"] == 12_700.09
    assert client.get("/api/v1/statements/export.xlsx", headers=headers["H001"]).status_code == 403

    statement = _statement(client, headers["H001"], "H001", "2026-03")
    one = client.get(f"/api/v1/statements/{statement['id']}/export.xlsx", headers=headers["H001"])
    assert one.status_code == 200
    components = uniform_sheet(one.content, "结算单", totals=False)
    assert "定点医药机构：H001 医院H001" in components.info
    amounts = {row["项目"]: components.fen(row, "金额") for row in components.rows}
    assert amounts["月拨付金额"] == 795_009 and amounts["审核扣款"] == 50_000
    for heading, field in (("医保基金支付金额", "fund_pay"), ("已日拨付", "daily_paid")):
        assert amounts[heading] == round(float(statement[field]) * 100)
    details = uniform_sheet(one.content, "结算明细")
    # the detail adds up to the statement's fund amount: a settlement revoked before its
    # batch counts nowhere, one revoked after it is deducted in the revocation's period
    assert details.totals is not None
    assert details.fen(details.totals, "医保基金支付金额") == amounts["医保基金支付金额"]
    assert [(row["类型"], row["结算ID"], row["备注"]) for row in details.rows] == [
        ("结算", "S1", None),
        ("结算", "S2", "2026-03 冲销"),
        ("结算", "S3", None),
        ("结算", "S4", None),
        ("冲销", "S2", "test"),
    ]
    audits = uniform_sheet(one.content, "审核扣款")
    assert audits.totals is not None and audits.fen(audits.totals, "扣款金额") == 50_000
    other = _statement(client, headers["op"], "H002", "2026-03")["id"]
    assert (
        client.get(f"/api/v1/statements/{other}/export.xlsx", headers=headers["H001"]).status_code
        == 404
    )


def test_receivable_repayment_offset_and_zero_statement(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    builders.institution(session, "H001", start=date(2026, 3, 1))
    headers = _users(session, "H001")
    h1, op, acc = headers["H001"], headers["op"], headers["acc"]
    clock.set(at(date(2026, 3, 20), 10))
    client.post(
        "/api/v1/procurement-advances",
        json={
            "fixmedins_code": "H001",
            "insutype": INSUTYPE,
            "period": "2026-03",
            "amount": "2000.00",
            "reference": "ZC-1",
        },
        headers=op,
    )
    assert _declare(client, clock, h1, "H001", "2026-03", date(2026, 4, 1)).status_code == 201
    assert len(_compute(session, date(2026, 4, 16))) == 1
    march = _statement(client, h1, "H001", "2026-03")
    assert (march["procurement"], march["net"]) == ("2000.00", "-2000.00")
    client.post(f"/api/v1/statements/{march['id']}/confirm", json={}, headers=h1)
    approved = client.post(f"/api/v1/statements/{march['id']}/approve", headers=acc).json()
    assert approved["status"] == "RECEIVABLE"
    assert _balance(session, "receivable", "H001") == 200_000
    assert _balance(session, "payable", "H001") == 0
    assert _submit_monthly(session, date(2026, 4, 17)) == []  # nothing is paid out

    url = f"/api/v1/receivables/{REGION}/{INSUTYPE}/H001/repayments"
    above = client.post(url, json={"amount": "2000.01", "receipt_no": "HK-1"}, headers=acc)
    assert above.status_code == 422 and _rules(above) == ["repayment_within_receivable"]
    assert (
        client.post(url, json={"amount": "500.00", "receipt_no": "HK-1"}, headers=op).status_code
        == 403
    )
    repaid = client.post(url, json={"amount": "500.00", "receipt_no": "HK-1"}, headers=acc)
    assert repaid.status_code == 201
    assert (repaid.json()["balance"], repaid.json()["open"]) == ("1500.00", "1500.00")
    replay = client.post(url, json={"amount": "500.00", "receipt_no": "HK-1"}, headers=acc)
    assert replay.status_code == 200 and replay.json()["balance"] == "1500.00"
    assert (
        client.post(url, json={"amount": "400.00", "receipt_no": "HK-1"}, headers=acc).status_code
        == 409
    )
    assert _balance(session, "receivable", "H001") == 150_000
    assert _balance(session, "bank") == -200_000 + 50_000

    # April: 10,000.00 whose daily line is never sent; the statement offsets the receivable
    clock.set(at(date(2026, 4, 8), 12))
    settle(session, "H001", "S1", 1_000_000, date(2026, 4, 8))
    generate(session, date(2026, 4, 8))
    _reconcile(session, "H001", date(2026, 4, 8))
    assert _declare(client, clock, h1, "H001", "2026-04", date(2026, 5, 6)).status_code == 201
    assert len(_compute(session, date(2026, 5, 18))) == 1
    april = _statement(client, h1, "H001", "2026-04")
    expected = {
        "fund_pay": "10000.00",
        "deposit": "500.00",
        "ratio_amount": "9500.00",
        "audit": "0.00",
        "daily_paid": "0.00",
        "procurement": "0.00",
        "returned": "0.00",
        "offset": "1500.00",  # min(open receivable 1,500.00, gross 9,500.00)
        "net": "8000.00",
    }
    assert _components(april) == expected
    # the offset is taken at computation: the receivable is no longer open for cash
    receivable = client.get(
        "/api/v1/receivables", params={"fixmedins_code": "H001"}, headers=acc
    ).json()
    assert [(r["balance"], r["open"]) for r in receivable] == [("1500.00", "0.00")]
    refused = client.post(url, json={"amount": "100.00", "receipt_no": "HK-2"}, headers=acc)
    assert refused.status_code == 422 and _rules(refused) == ["repayment_within_receivable"]
    # a dispute and recompute releases the offset first: it is taken again, not lost
    client.post(f"/api/v1/statements/{april['id']}/dispute", json={"reason": "核对"}, headers=h1)
    recomputed = client.post(f"/api/v1/statements/{april['id']}/recompute", headers=op).json()
    assert recomputed["version"] == 2 and _components(recomputed) == expected
    client.post(f"/api/v1/statements/{april['id']}/confirm", json={}, headers=h1)
    approved = client.post(f"/api/v1/statements/{april['id']}/approve", headers=acc).json()
    assert approved["status"] == "APPROVED"
    assert _balance(session, "receivable", "H001") == 0
    assert _balance(session, "payable", "H001") == 800_000  # = net
    assert _balance(session, "deposit_held", "H001") == 50_000

    # May: nothing happened; net = 0 is settled at approval
    assert _declare(client, clock, h1, "H001", "2026-05", date(2026, 6, 1)).status_code == 201
    assert len(_compute(session, date(2026, 6, 16))) == 1
    may = _statement(client, h1, "H001", "2026-05")
    assert may["net"] == "0.00" and may["fund_pay"] == "0.00"
    client.post(f"/api/v1/statements/{may['id']}/confirm", json={}, headers=h1)
    settled = client.post(f"/api/v1/statements/{may['id']}/approve", headers=acc).json()
    assert settled["status"] == "SETTLED"
    assert _submit_monthly(session, date(2026, 6, 17)) == ["M2604-6401310-H001"]
    assert ledger.trial_balance(session).balanced


def test_reopen_refuses_a_malformed_period(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    headers = _users(session, "H001")
    for period in ("2026-13", "March", "2026-03-01"):
        response = client.post(
            f"/api/v1/declarations/H001/310/{period}/reopen",
            json={"reason": "系统故障"},
            headers=headers["op"],
        )
        assert response.status_code == 422, (period, response.status_code)
        assert response.json()["errors"][0]["field"] == "period"


def test_recomputing_after_a_later_statement_took_a_daily_return_pays_it_once(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    """H001's March statement counts its 12,000.00 daily payment of 03-11 as paid. It is
    disputed; the bank then returns that payment, and April's statement adds the return back
    (`returned`). Recomputing March must still count the payment as paid: else both
    statements would pay the 12,000.00."""
    headers = _computed_march(client, session, clock)
    h1, op = headers["H001"], headers["op"]
    march = _statement(client, op, "H001", "2026-03")
    assert _components(march) == H001_MARCH
    disputed = client.post(
        f"/api/v1/statements/{march['id']}/dispute", json={"reason": "核对中"}, headers=h1
    )
    assert disputed.json()["status"] == "DISPUTED"
    _result(session, "D260310-6401310-H001", "RETURNED", at(date(2026, 4, 20), 10))
    declared = _declare(client, clock, h1, "H001", "2026-04", date(2026, 5, 6))
    assert declared.status_code == 201, declared.text
    assert len(_compute(session, date(2026, 5, 20))) == 1
    april = _statement(client, op, "H001", "2026-04")
    assert (april["returned"], april["net"]) == ("12000.00", "12000.00")

    recomputed = client.post(f"/api/v1/statements/{march['id']}/recompute", headers=op)
    assert recomputed.status_code == 200, recomputed.text
    assert _components(recomputed.json()) == H001_MARCH  # 12,000.00 still paid by the daily
