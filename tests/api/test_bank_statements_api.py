"""Bank statements through the API: an operator uploads the bank's statement (stored,
matched, reconciled; the same again is 200, a correction a new version), staff read it;
the three-flow check answers on request."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import SimulatedClock, at_shanghai
from app.ledger import snapshots
from app.ledger.models import LedgerSnapshot
from app.treasury import service as treasury
from tests.support import builders
from tests.support.builders import bearer
from tests.support.sqlcount import sql_statements

ACCOUNT = "9558800000000310"  # builders.fund's expenditure account


def _statement(amount: str = "500000.00") -> dict[str, Any]:
    return {
        "account": ACCOUNT,
        "statement_date": "2026-03-06",
        "from_date": "2026-03-06",
        "currency": "CNY",
        "opening_balance": "0.00",
        "closing_balance": amount,
        "entries": [
            {
                "bank_serial": "SB0001",
                "direction": "CREDIT",
                "amount": amount,
                "value_date": "2026-03-06",
                "counterparty_account": "6100001",
                "counterparty_name": "财政专户",
                "business_ref": "APP-2026-03",
                "summary": "基金划入",
            }
        ],
    }


def _setup(session: Session, clock: SimulatedClock) -> dict[str, dict[str, str]]:
    builders.fund(session)
    treasury.appropriate(
        session,
        region_code="640100",
        insutype="310",
        amount_fen=50_000_000,
        reference="APP-2026-03",
        actor=Principal(None, "acc", "accountant"),
        now=clock.now(),
    )
    tokens = {
        role: bearer(builders.user_token(session, f"bs-{role}", role))
        for role in ("operator", "auditor")
    }
    session.commit()
    return tokens


def test_upload_reconcile_replay_correct(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    tokens = _setup(session, clock)
    first = client.post("/api/v1/bank-statements", json=_statement(), headers=tokens["operator"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "RECONCILED" and body["version"] == 1
    assert body["entries"][0]["match_kind"] == "appropriation"
    assert body["entries"][0]["outcome"] == "matched"
    reconciliation = body["reconciliation"]
    assert reconciliation["bank_closing_balance"] == "500000.00"
    assert reconciliation["ledger_balance"] == "500000.00"
    assert reconciliation["unexplained"] == "0.00"

    again = client.post("/api/v1/bank-statements", json=_statement(), headers=tokens["operator"])
    assert again.status_code == 200 and again.json()["id"] == body["id"]

    # the bank's corrected statement says another amount: a new version, with differences
    other = client.post(
        "/api/v1/bank-statements", json=_statement("500000.10"), headers=tokens["operator"]
    )
    assert other.status_code == 201
    assert other.json()["version"] == 2 and other.json()["status"] == "DIFFERENCES"
    assert other.json()["entries"][0]["outcome"] == "amount_difference"
    assert other.json()["reconciliation"]["unexplained"] == "0.10"

    listed = client.get("/api/v1/bank-statements", headers=tokens["auditor"]).json()["items"]
    assert [row["version"] for row in listed] == [2]
    history = client.get(
        "/api/v1/bank-statements?include_superseded=true", headers=tokens["auditor"]
    ).json()["items"]
    assert [(row["version"], row["superseded_by_id"]) for row in history] == [
        (1, other.json()["id"]),
        (2, None),
    ]
    shown = client.get(f"/api/v1/bank-statements/{body['id']}", headers=tokens["auditor"])
    assert shown.status_code == 200 and shown.json()["superseded_at"] is not None

    check = client.get("/api/v1/checks/three-flow", headers=tokens["auditor"]).json()
    assert not check["ok"]
    assert {d["check"] for d in check["differences"]} == {"bank_statement_entry"}


def test_refusals_name_the_field_and_the_rule(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    tokens = _setup(session, clock)
    cases = [
        ({"closing_balance": "1.00"}, "closing_balance", "balance_adds_up"),
        ({"account": "000"}, "account", "unknown_account"),
        ({"from_date": "2026-03-07"}, "from_date", "not_after_statement_date"),
    ]
    for change, field, rule in cases:
        response = client.post(
            "/api/v1/bank-statements", json={**_statement(), **change}, headers=tokens["operator"]
        )
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert (errors[0]["field"], errors[0]["rule"]) == (field, rule)
    money = client.post(
        "/api/v1/bank-statements",
        json={**_statement(), "opening_balance": 0.001},
        headers=tokens["operator"],
    )
    assert money.status_code == 422
    wrong = client.get(
        "/api/v1/checks/three-flow?from=2026-03-02&to=2026-03-01", headers=tokens["auditor"]
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "from"
    fine = client.get("/api/v1/checks/three-flow", headers=tokens["auditor"]).json()
    assert fine["ok"] and fine["counts"]["fund_ledgers"] == 1


def test_the_list_reads_in_one_query_without_the_bodies(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    """The list is the same few statements for 2 rows as for 12, and never reads the stored
    bodies (up to 3,000 entries each): schemathesis' `limit=465` took 10 s on PostgreSQL."""
    tokens = _setup(session, clock)
    for day in range(2, 14):
        statement = _statement("100.00") | {
            "statement_date": f"2026-03-{day:02d}",
            "from_date": f"2026-03-{day:02d}",
        }
        statement["entries"][0]["value_date"] = f"2026-03-{day:02d}"
        uploaded = client.post(
            "/api/v1/bank-statements", json=statement, headers=tokens["operator"]
        )
        assert uploaded.status_code == 201, uploaded.text

    def listed(limit: int) -> list[str]:
        with sql_statements(session) as seen:
            page = client.get(f"/api/v1/bank-statements?limit={limit}", headers=tokens["auditor"])
        assert page.status_code == 200 and len(page.json()["items"]) == limit
        return seen

    few, many = listed(2), listed(12)
    assert len(many) == len(few)
    assert not any(re.search(r"bank_statement\.body\b", sql) for sql in many)


def test_the_ledger_balance_is_the_days_from_a_snapshot_and_its_tail(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    """The reconciliation's ledger balance is `bank` as of the statement day's end, read
    from the fund's balance snapshot and the postings after it (a bounded read): money in
    later that day counts, money in at midnight or after does not."""
    tokens = _setup(session, clock)  # 500,000.00 in on 6 March, 10:00
    for moment, amount, reference in (
        (at_shanghai(date(2026, 3, 6), time(23, 59, 59)), 10_000, "APP-LATE"),
        (at_shanghai(date(2026, 3, 7), time(0, 0)), 700, "APP-MIDNIGHT"),
        (at_shanghai(date(2026, 3, 9), time(9, 0)), 300, "APP-MONDAY"),
    ):
        clock.set(moment)
        treasury.appropriate(
            session,
            region_code="640100",
            insutype="310",
            amount_fen=amount,
            reference=reference,
            actor=Principal(None, "acc", "accountant"),
            now=moment,
        )
        session.commit()
    for basis in snapshots.BASES:  # a snapshot after each entry: the read starts from one
        while snapshots.take_one(session, "640100:310", basis, every=1, now=clock.now()):
            session.commit()
    assert session.query(LedgerSnapshot).count() == 8
    statement = _statement()
    statement["closing_balance"] = "500100.00"
    statement["entries"].append(
        statement["entries"][0]
        | {"bank_serial": "SB0002", "amount": "100.00", "business_ref": "APP-LATE"}
    )
    uploaded = client.post("/api/v1/bank-statements", json=statement, headers=tokens["operator"])
    assert uploaded.status_code == 201, uploaded.text
    reconciliation = uploaded.json()["reconciliation"]
    assert reconciliation["ledger_balance"] == "500100.00"
    assert reconciliation["unexplained"] == "0.00"
    assert uploaded.json()["status"] == "RECONCILED"
