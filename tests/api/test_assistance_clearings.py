"""Individual clearing over HTTP (SPEC-ASSISTANCE A7, A9 rows 1-10, A10 "Clearings"; issue 22
item 4): A9's worked example from stored data — settlements, the scenario's stored policy,
deductions, the application, clearings C-1 (+500.00, a top-up), C-2 (−1,800.00 next_period,
notice) and C-3 (−887.49 cash), the cash repayment and the annual clearing's zero result —
with due, granted and difference after each step; replays and 409s; the snapshot's hash; the
rejected top-up taking its result back; the 06:00 suggestions and clearing them in a batch."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.assistance import claims, clearings, suggestions
from app.assistance.clearing_snapshot import canonical, sha256
from app.assistance.person_models import PersonClaim, PersonPayment
from app.clock import SimulatedClock
from app.config import Settings
from app.jobcontext import JobContext
from app.ledger import service as ledger
from app.ledger.rules import account_code
from jobs import assistance_suggestions
from jobs.registry import JOBS
from tests.support.assistance import settle
from tests.support.clearing import BASE, at, clearing_world, figures
from tests.support.sqlcount import sql_statements

CLEARINGS = f"{BASE}/clearings"


@pytest.fixture
def headers(client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    return clearing_world(client, session)


def _clear(
    client: TestClient, h: dict, reference: str, resolution: str | None = None, **more: Any
) -> Any:
    body = {"reference": reference, "psn_no": "P1", "year": 2026, **more}
    if resolution is not None:
        body["resolution"] = resolution
    return client.post(CLEARINGS, json=body, headers=h["operator"])


def _s1_s2(client: TestClient, h: dict, clock: SimulatedClock) -> None:
    at(clock, "2026-03-10T10:05")
    settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
           hifmi="2000.00", maf="8000.00")  # fmt: skip
    at(clock, "2026-05-20T10:05")
    settle(client, h, "S2", "2026-05-20", inscp="40000.00", hifp="22000.00",
           hifmi="3000.00", maf="12000.00")  # fmt: skip


def _payment(client: TestClient, h: dict, reference: str) -> dict[str, Any]:
    listed = client.get(f"{BASE}/person-payments", headers=h["accountant"]).json()["items"]
    (found,) = [row for row in listed if row["reference"] == reference]
    return dict(found)


def _receivable(session: Session, psn_no: str = "P1") -> int:
    session.expire_all()
    books = ledger.balance_or_zero(
        session, account_code("receivable", "640100", "610", f"P{psn_no}")
    )
    (row,) = claims.receivables(session, region_code="640100", psn_no=psn_no)
    assert row["balance_fen"] == books  # the claims and the ledger agree
    return books


def test_a9_clearings_end_to_end(
    client: TestClient, session: Session, headers: dict, clock: SimulatedClock
) -> None:
    h = headers
    at(clock, "2026-03-10T10:05")
    settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
           hifmi="2000.00", maf="8000.00")  # fmt: skip
    assert figures(session) == ("8000.00", "8000.00", "0.00")  # row 1
    refused = _clear(client, h, "C-0")
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/nothing-to-clear"
    at(clock, "2026-05-20T10:05")
    settle(client, h, "S2", "2026-05-20", inscp="40000.00", hifp="22000.00",
           hifmi="3000.00", maf="12000.00")  # fmt: skip
    assert figures(session) == ("20500.00", "20000.00", "500.00")  # row 2

    # row 3: the 06:00 suggestion, cleared that day, approved and paid the next
    at(clock, "2026-05-21T06:00")
    suggestions.refresh(session, "640100", now=clock.now())
    session.commit()
    listed = client.get(f"{BASE}/clearing-suggestions?region=640100", headers=h["auditor"])
    assert [(s["psn_no"], s["year"], s["difference"]) for s in listed.json()] == [
        ("P1", 2026, "500.00")
    ]
    at(clock, "2026-05-21T10:00")
    c1 = _clear(client, h, "C-1")
    assert c1.status_code == 201, c1.text
    assert (c1.json()["difference"], c1.json()["resolution"], c1.json()["mode"]) == (
        "500.00",
        None,
        "realtime",
    )
    assert figures(session) == ("20500.00", "20500.00", "0.00")
    assert client.get(f"{BASE}/clearing-suggestions", headers=h["operator"]).json() == []
    again = _clear(client, h, "C-1")
    assert (again.status_code, again.json()) == (200, c1.json())  # a replay
    other = _clear(client, h, "C-1", year=2025)
    assert other.status_code == 409 and other.json()["type"] == "/problems/reference-conflict"
    top_up = _payment(client, h, "C-1")
    assert (top_up["kind"], top_up["amount"], top_up["status"]) == (
        "top_up",
        "500.00",
        "PENDING_APPROVAL",
    )
    at(clock, "2026-05-22T09:00")
    approved = client.post(
        f"{BASE}/person-payments/{top_up['id']}/approve", headers=h["accountant"]
    )
    assert (approved.json()["status"], approved.json()["paid"]) == ("NOT_SENT", "500.00")

    # rows 4-5: a deduction makes the difference negative; cleared next_period, notice
    at(clock, "2026-07-01T10:00")
    deduction = {"reference": "D-CI-1", "type": "critical_illness", "psn_no": "P1",
                 "amount": "2000.00", "fixmedins_code": "H001", "setl_id": "S1"}  # fmt: skip
    assert (
        client.post(f"{BASE}/deductions", json=deduction, headers=h["operator"]).status_code == 201
    )
    assert figures(session) == ("18700.00", "20500.00", "-1800.00")
    at(clock, "2026-07-02T10:00")
    c2 = _clear(client, h, "C-2", "next_period")
    assert (c2.json()["difference"], c2.json()["resolution"]) == ("-1800.00", "next_period")
    assert figures(session) == ("18700.00", "18700.00", "0.00")
    assert _receivable(session) == 180_000
    notice = client.get(f"{CLEARINGS}/C-2/notice", headers=h["operator"]).json()
    assert (notice["owed"], notice["due"], notice["granted"], notice["resolution_label"]) == (
        "1800.00",
        "18700.00",
        "20500.00",
        "下期抵扣",
    )
    assert [(i["key"], i["base"], i["amount"]) for i in notice["items"]] == [
        ("S:H001:S1", "8000.00", "6400.00"),
        ("S:H001:S2", "15000.00", "12300.00"),
    ]
    assert "抵扣" in notice["how_recovered"] and notice["notice_delivered_at"] is None
    assert client.get(f"{CLEARINGS}/C-1/notice", headers=h["operator"]).status_code == 404
    at(clock, "2026-07-03T10:00")
    delivered = client.post(f"{CLEARINGS}/C-2/notice-delivered", headers=h["operator"])
    assert delivered.status_code == 200, delivered.text

    # row 6: the application is deducted whole
    at(clock, "2026-08-14T10:00")
    application = {"reference": "A1", "psn_no": "P1", "invoices": [
        {"invoice_no": "A1-INV1", "visit": "outpatient", "date": "2026-08-10",
         "medfee_sumamt": "1000.00", "inscp_scp_amt": "1000.00"}]}  # fmt: skip
    a1 = client.post(f"{BASE}/applications", json=application, headers=h["operator"]).json()
    assert a1["amount"] == "600.00"
    at(clock, "2026-08-17T09:00")
    a1 = client.post(f"{BASE}/person-payments/{a1['id']}/approve", headers=h["accountant"]).json()
    assert (a1["deducted"], a1["paid"], a1["status"]) == ("600.00", "0.00", "SETTLED")
    assert figures(session) == ("19300.00", "19300.00", "0.00")
    assert _receivable(session) == 120_000

    # rows 7-8: burden relief, cleared in cash
    at(clock, "2026-11-02T10:00")
    relief = {"reference": "D-BR-1", "type": "burden_relief", "psn_no": "P1", "year": 2026,
              "amount": "1000.00"}  # fmt: skip
    assert client.post(f"{BASE}/deductions", json=relief, headers=h["operator"]).status_code == 201
    assert figures(session) == ("18412.51", "19300.00", "-887.49")
    at(clock, "2026-11-03T10:00")
    c3 = _clear(client, h, "C-3", "cash")
    assert (c3.json()["difference"], c3.json()["resolution"]) == ("-887.49", "cash")
    assert figures(session) == ("18412.51", "18412.51", "0.00")
    assert _receivable(session) == 208_749
    assert (
        "现金"
        in client.get(f"{CLEARINGS}/C-3/notice", headers=h["auditor"]).json()["how_recovered"]
    )
    at(clock, "2026-11-04T10:00")
    client.post(f"{CLEARINGS}/C-3/notice-delivered", headers=h["operator"])

    # row 9: the cash repayment
    at(clock, "2026-11-20T10:00")
    repayment = {"psn_no": "P1", "region": "640100", "amount": "1000.00", "receipt_no": "R-P1-1"}
    paid = client.post(f"{BASE}/person-repayments", json=repayment, headers=h["accountant"])
    assert paid.status_code == 201, paid.text
    assert _receivable(session) == 108_749

    # row 10: the annual clearing records a zero result; a second trigger is 409
    at(clock, "2027-01-05T10:00")
    annual = client.post(
        f"{BASE}/annual-clearings", json={"region": "640100", "year": 2026}, headers=h["admin"]
    )
    assert annual.status_code == 201, annual.text
    assert [
        (c["reference"], c["difference"], c["resolution"], c["mode"])
        for c in annual.json()["clearings"]
    ] == [("Y2026:P1", "0.00", None, "annual")]
    second = client.post(
        f"{BASE}/annual-clearings", json={"region": "640100", "year": 2026}, headers=h["admin"]
    )
    assert second.status_code == 409 and second.json()["type"] == "/problems/annual-clearing-exists"
    assert figures(session) == ("18412.51", "18412.51", "0.00")

    session.expire_all()
    assert clearings.scenario_rows_assistance_clearings(session) == [
        {"reference": "C-1", "psn_no": "P1", "year": 2026, "mode": "realtime",
         "difference": "500.00", "resolution": None},
        {"reference": "C-2", "psn_no": "P1", "year": 2026, "mode": "realtime",
         "difference": "-1800.00", "resolution": "next_period"},
        {"reference": "C-3", "psn_no": "P1", "year": 2026, "mode": "realtime",
         "difference": "-887.49", "resolution": "cash"},
        {"reference": "Y2026:P1", "psn_no": "P1", "year": 2026, "mode": "annual",
         "difference": "0.00", "resolution": None},
    ]  # fmt: skip
    assert clearings.scenario_rows_assistance_persons(session) == [
        {"year": 2026, "psn_no": "P1", "due": "18412.51", "granted": "18412.51"}
    ]
    # the listing and one result with its snapshot, whose hash is the stored one
    with sql_statements(session) as seen:  # the list never reads the snapshots (large)
        page = client.get(f"{CLEARINGS}?psn_no=P1&mode=realtime&limit=2", headers=h["auditor"])
    assert not any(re.search(r"assistance_clearing\.snapshot\b", sql) for sql in seen)
    page = page.json()
    assert [row["reference"] for row in page["items"]] == ["C-1", "C-2"]
    rest = client.get(f"{CLEARINGS}?psn_no=P1&mode=realtime&cursor={page['next_cursor']}",
                      headers=h["auditor"]).json()  # fmt: skip
    assert [row["reference"] for row in rest["items"]] == ["C-3"]
    shown = client.get(f"{CLEARINGS}/C-2", headers=h["auditor"]).json()
    assert shown["snapshot_hash"] == sha256(canonical(shown["snapshot"]))
    assert shown["snapshot"]["deductions"][0]["reference"] == "D-CI-1"
    assert shown["snapshot"]["granted"] == {
        "maf_pay": "20000.00", "applications": "0.00", "clearings": "500.00", "total": "20500.00"
    }  # fmt: skip
    assert [c["category"] for c in shown["snapshot"]["categories"]] == ["dibao", "low_income"]
    assert client.get(f"{CLEARINGS}/C-404", headers=h["auditor"]).status_code == 404


def test_a_rejected_top_up_takes_its_result_back(
    client: TestClient, session: Session, headers: dict, clock: SimulatedClock
) -> None:
    h = headers
    _s1_s2(client, h, clock)
    at(clock, "2026-05-21T10:00")
    assert _clear(client, h, "C-1").status_code == 201
    assert figures(session) == ("20500.00", "20500.00", "0.00")
    top_up = _payment(client, h, "C-1")
    rejected = client.post(
        f"{BASE}/person-payments/{top_up['id']}/reject",
        json={"reason": "重复申请"},
        headers=h["accountant"],
    )
    assert rejected.json()["status"] == "REJECTED", rejected.text
    assert figures(session) == ("20500.00", "20000.00", "500.00")  # the difference again
    shown = client.get(f"{CLEARINGS}/C-1", headers=h["auditor"]).json()
    assert (shown["taken_back"], shown["difference"]) == (True, "500.00")
    # the next morning it is suggested again and cleared under a new reference
    at(clock, "2026-05-22T06:00")
    suggestions.refresh(session, "640100", now=clock.now())
    session.commit()
    listed = client.get(f"{BASE}/clearing-suggestions", headers=h["auditor"]).json()
    assert [(s["psn_no"], s["difference"]) for s in listed] == [("P1", "500.00")]
    assert _clear(client, h, "C-1b").json()["difference"] == "500.00"
    assert figures(session) == ("20500.00", "20500.00", "0.00")
    assert _clear(client, h, "C-1").status_code == 200  # the old reference still replays
    assert session.scalar(select(func.count()).select_from(PersonPayment)) == 2


def test_suggestions_and_clearing_them_in_a_batch(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
    headers: dict,
    clock: SimulatedClock,
) -> None:
    h = headers
    _s1_s2(client, h, clock)  # P1: +500.00
    settle(client, h, "S3", "2026-05-20", inscp="1000.00", hifp="0.00", psn_no="P2")  # P2: +800
    settle(client, h, "S4", "2026-05-20", inscp="1000.00", hifp="0.00", maf="800.00",
           psn_no="P2")  # fmt: skip
    at(clock, "2026-05-21T06:00")
    ctx = JobContext(
        session_factory=session_factory,
        engine=engine,
        clock=clock,
        settings=Settings(environment="test", database_url="sqlite://"),
    )
    assert assistance_suggestions.run(ctx, date(2026, 5, 21)) == {"suggestions": {"640100": 2}}
    listed = client.get(f"{BASE}/clearing-suggestions?region=640100", headers=h["accountant"])
    assert [(s["psn_no"], s["year"], s["difference"]) for s in listed.json()] == [
        ("P1", 2026, "500.00"),
        ("P2", 2026, "800.00"),
    ]
    at(clock, "2026-05-21T10:00")
    too_long = client.post(
        f"{BASE}/clearing-suggestions/clear",
        json={
            "region": "640100",
            "reference_prefix": "R" * 20,
            "persons": [{"psn_no": "P1" * 9, "year": 2026}],
        },
        headers=h["operator"],
    )
    assert too_long.status_code == 422
    batch = {"region": "640100", "reference_prefix": "RT0521"}
    cleared = client.post(f"{BASE}/clearing-suggestions/clear", json=batch, headers=h["operator"])
    assert cleared.status_code == 200, cleared.text
    assert [
        (c["reference"], c["outcome"], c["clearing"]["difference"]) for c in cleared.json()
    ] == [
        ("RT0521:P1:2026", "cleared", "500.00"),
        ("RT0521:P2:2026", "cleared", "800.00"),
    ]
    assert client.get(f"{BASE}/clearing-suggestions", headers=h["operator"]).json() == []
    # sent again: nothing is left to clear, nothing is paid twice
    again = client.post(f"{BASE}/clearing-suggestions/clear", json=batch, headers=h["operator"])
    assert again.json() == []
    named = {**batch, "persons": [{"psn_no": "P1", "year": 2026}, {"psn_no": "P2", "year": 2025}]}
    replayed = client.post(f"{BASE}/clearing-suggestions/clear", json=named, headers=h["operator"])
    assert [(c["reference"], c["outcome"]) for c in replayed.json()] == [
        ("RT0521:P1:2026", "replayed"),
        ("RT0521:P2:2025", "nothing-to-clear"),
    ]
    assert session.scalar(select(func.count()).select_from(PersonPayment)) == 2
    # unchanged since the last clearing: nothing suggested the next morning
    at(clock, "2026-05-22T06:00")
    assert suggestions.refresh(session, "640100", now=clock.now()) == []


def test_the_suggestions_job_runs_at_six_every_day() -> None:
    spec = JOBS["assistance_suggestions"]
    assert (spec.at.hour, spec.at.minute, spec.working_days_only) == (6, 0, False)
    assert spec.business_date(date(2026, 5, 23)) == date(2026, 5, 23)  # a Saturday too


def test_clearing_refusals(
    client: TestClient, session: Session, headers: dict, clock: SimulatedClock
) -> None:
    h = headers
    _s1_s2(client, h, clock)
    unknown = client.post(
        CLEARINGS, json={"reference": "C-9", "psn_no": "P404", "year": 2026}, headers=h["operator"]
    )
    assert unknown.status_code == 404
    bad = client.post(
        CLEARINGS,
        json={"reference": "C 9", "psn_no": "P1", "year": 2026, "resolution": "later"},
        headers=h["operator"],
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"reference", "resolution"}
    assert client.post(CLEARINGS, json={"reference": "C-9", "psn_no": "P1", "year": 2026},
                       headers=h["accountant"]).status_code == 403  # fmt: skip
    nowhere = client.post(
        f"{BASE}/annual-clearings", json={"region": "999999", "year": 2026}, headers=h["admin"]
    )
    assert nowhere.status_code == 422
    assert [(e["field"], e["rule"]) for e in nowhere.json()["errors"]] == [
        ("region", "region_exists")
    ]
    # an annual result's reference is not a real-time one's
    at(clock, "2027-01-05T10:00")
    annual = client.post(
        f"{BASE}/annual-clearings", json={"region": "640100", "year": 2026}, headers=h["admin"]
    ).json()
    assert [(c["reference"], c["difference"]) for c in annual["clearings"]] == [
        ("Y2026:P1", "500.00")
    ]
    assert (
        _payment(client, h, "Y2026:P1")["amount"] == "500.00"
    )  # a positive annual result is a top-up
    taken = _clear(client, h, "Y2026:P1")
    assert taken.status_code == 409 and taken.json()["type"] == "/problems/reference-conflict"
    assert session.scalar(select(func.count()).select_from(PersonClaim)) == 0


def test_a_negative_annual_result_is_next_period(
    client: TestClient, session: Session, headers: dict, clock: SimulatedClock
) -> None:
    h = headers
    _s1_s2(client, h, clock)
    deduction = {"reference": "D1", "type": "critical_illness", "psn_no": "P1",
                 "amount": "9000.00", "fixmedins_code": "H001", "setl_id": "S2"}  # fmt: skip
    client.post(f"{BASE}/deductions", json=deduction, headers=h["operator"])
    diff = figures(session)[2]
    assert diff.startswith("-")
    at(clock, "2027-01-05T10:00")
    annual = client.post(
        f"{BASE}/annual-clearings", json={"region": "640100", "year": 2026}, headers=h["admin"]
    ).json()
    (result,) = annual["clearings"]
    assert (result["difference"], result["resolution"]) == (diff, "next_period")
    claim = session.scalar(select(PersonClaim).where(PersonClaim.reference == "Y2026:P1"))
    assert claim is not None and claim.notice_delivered_at is None
    shown = json.loads(
        json.dumps(client.get(f"{CLEARINGS}/Y2026:P1/notice", headers=h["operator"]).json())
    )
    assert shown["resolution"] == "next_period" and shown["owed"] == diff[1:]
