"""The burden reminder (综合减负提醒, SPEC-ASSISTANCE A8; issue 22 item 5): self-paid cost of
a person-year (medfee − every payer incl. maf_pay, per item floored at 0, over the A4 items)
strictly above `burden_line_bp` of last year's income raises one alert per person-year; the
daily job finds them set-based. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.alerts.service import raise_alert
from app.assistance import burden
from app.assistance.recipients import put
from app.assistance.schemas import RecipientIn
from app.clock import SimulatedClock
from app.config import Settings
from app.console.office import labels
from app.jobcontext import JobContext
from jobs import assistance_burden
from jobs.registry import JOBS
from tests.support.assistance import assistance_world, settle
from tests.support.builders import ADMIN, NOW
from tests.support.console import log_in
from tests.support.office import world as office_world

ON = date(2026, 11, 30)
NOW_UTC = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
POLICY = {
    "region": "640100",
    "effective_from": "2026-01-01",
    "burden_line": "0.40",
    "categories": {
        "dibao": {
            "inpatient": {"bands": [["0.00", "0.80"], ["20000.00", "0.90"]], "cap": "30000.00"},
            "outpatient": {"bands": [["0.00", "0.60"]], "cap": "30000.00"},
        }
    },
}


def income(session: Session, psn_no: str, amount: str) -> None:
    put(
        session,
        psn_no,
        RecipientIn.model_validate(
            {
                "name": "张某",
                "certno": "640102198001011234",
                "region_code": "640100",
                "last_year_income": amount,
                "categories": [{"category": "dibao", "valid_from": "2026-01-01"}],
            }
        ),
        actor=ADMIN,
        now=NOW,
    )
    session.commit()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW_UTC)


@pytest.fixture
def headers(client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    made = assistance_world(session)
    stored = client.post("/api/v1/assistance/policies", json=POLICY, headers=made["operator"])
    assert stored.status_code == 201, stored.text
    income(session, "P1", "20000.00")  # the line: 40 % = 8,000.00
    return made


def remind(session: Session) -> dict:
    session.expire_all()
    result = burden.remind(session, 2026, on=ON, now=NOW_UTC)
    session.commit()
    return {"over_line": result.over_line, "raised": result.raised}


def alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.kind == burden.KIND)))


def test_strictly_above_the_line_once_per_person_year(
    client: TestClient, session: Session, headers: dict
) -> None:
    h = headers
    # before the 610 switch-on (2026-02-01): no item, whatever it cost the person
    settle(client, h, "S0", "2026-01-20", inscp="50000.00", hifp="0.00")
    # S1: 10,000.00 − 1,000.00 basic − 1,000.00 assistance = 8,000.00, exactly the line
    settle(client, h, "S1", "2026-03-10", inscp="10000.00", hifp="1000.00", maf="1000.00")
    assert burden.self_paid(session, 2026) == {"P1": 800_000}
    assert remind(session) == {"over_line": 0, "raised": []}
    assert alerts(session) == []
    settle(client, h, "S2", "2026-05-20", inscp="0.01", hifp="0.00")  # one fen above
    assert remind(session) == {"over_line": 1, "raised": ["640100:P1:2026"]}
    (alert,) = alerts(session)
    assert alert.subject == "640100:P1:2026"
    assert "8000.01" in alert.detail and "20000.00" in alert.detail and "40%" in alert.detail
    assert "综合减负" in alert.detail
    # again, and after more cost: still the one alert of the person-year
    settle(client, h, "S3", "2026-06-01", inscp="100.00", hifp="0.00")
    assert remind(session) == {"over_line": 1, "raised": []}
    assert len(alerts(session)) == 1
    # another year has its own items (none here)
    assert burden.remind(session, 2025, on=ON, now=NOW_UTC) == burden.Reminded(0, [], [])
    assert labels.alert_kind(burden.KIND) == "救助对象自付费用超过综合减负线"


def test_income_zero_any_self_paid_cost_exceeds_and_below_the_line_nothing(
    client: TestClient, session: Session, headers: dict
) -> None:
    h = headers
    # P2 has an income of 0: a settlement the insurers pay in full is no cost
    settle(client, h, "Q1", "2026-04-01", inscp="500.00", hifp="500.00", psn_no="P2")
    assert remind(session)["raised"] == []
    settle(client, h, "Q2", "2026-04-02", inscp="0.01", hifp="0.00", psn_no="P2")
    # P1 (income 20,000.00): A9's S1 leaves 30,000 − 18,000 − 2,000 − 8,000 = 2,000.00
    settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
           hifmi="2000.00", maf="8000.00")  # fmt: skip
    assert burden.self_paid(session, 2026) == {"P1": 200_000, "P2": 1}
    assert remind(session) == {"over_line": 1, "raised": ["640100:P2:2026"]}


def test_a_revoked_settlement_is_no_cost_and_invoices_count(
    client: TestClient, session: Session, headers: dict
) -> None:
    h = headers
    settle(client, h, "S1", "2026-03-10", inscp="9000.00", hifp="0.00")
    revoked = client.post(
        "/api/v1/settlements/H001/S1/revoke", json={"reason": "撤销"}, headers=h["H001"]
    )
    assert revoked.status_code == 201, revoked.text
    assert burden.self_paid(session, 2026) == {}
    body = {
        "reference": "A1",
        "psn_no": "P1",
        "invoices": [
            {
                "invoice_no": "INV-1",
                "visit": "outpatient",
                "date": "2026-08-10",
                "medfee_sumamt": "9000.00",
                "inscp_scp_amt": "1000.00",
                "hifp_pay": "500.00",
            }
        ],
    }
    recorded = client.post("/api/v1/assistance/applications", json=body, headers=h["operator"])
    assert recorded.status_code == 201, recorded.text
    # the invoice: 9,000.00 − 500.00 (the assistance of an application is not per invoice)
    assert burden.self_paid(session, 2026) == {"P1": 850_000}
    assert remind(session)["raised"] == ["640100:P1:2026"]


def test_recorded_relief_resolves_the_reminder_and_a_relieved_year_raises_none(
    client: TestClient, session: Session, headers: dict
) -> None:
    h = headers
    settle(client, h, "S1", "2026-03-10", inscp="9000.00", hifp="0.00")
    assert remind(session) == {"over_line": 1, "raised": ["640100:P1:2026"]}
    # the case worker arranges the relief of P1's 2026: recorded, the reminder is done
    relief = {"reference": "BR-1", "type": "burden_relief", "psn_no": "P1", "year": 2026,
              "amount": "500.00"}  # fmt: skip
    recorded = client.post("/api/v1/assistance/deductions", json=relief, headers=h["operator"])
    assert recorded.status_code == 201, recorded.text
    session.expire_all()
    result = burden.remind(session, 2026, on=ON, now=NOW_UTC)
    session.commit()
    assert (result.raised, result.resolved) == ([], ["640100:P1:2026"])
    (alert,) = alerts(session)
    assert alert.resolved_at is not None
    assert burden.remind(session, 2026, on=ON, now=NOW_UTC).resolved == []  # once
    # P2, relieved before crossing the line: no reminder to raise
    relief = {"reference": "BR-2", "type": "burden_relief", "psn_no": "P2", "year": 2026,
              "amount": "100.00"}  # fmt: skip
    recorded = client.post("/api/v1/assistance/deductions", json=relief, headers=h["operator"])
    assert recorded.status_code == 201, recorded.text
    settle(client, h, "Q1", "2026-04-02", inscp="0.01", hifp="0.00", psn_no="P2")
    assert remind(session) == {"over_line": 2, "raised": []}


def _ctx(session_factory: sessionmaker[Session]) -> JobContext:
    settings = Settings(environment="test", database_url="sqlite://")
    clock = SimulatedClock(NOW_UTC)
    return JobContext(session_factory=session_factory, engine=None, clock=clock, settings=settings)  # type: ignore[arg-type]


def test_the_daily_job_raises_the_reminders_of_the_year(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    headers: dict,
) -> None:
    spec = JOBS["assistance_burden"]
    assert spec.at == time(6, 10) and not spec.working_days_only
    settle(client, headers, "S1", "2026-03-10", inscp="9000.00", hifp="0.00")
    session.commit()
    ctx = _ctx(session_factory)
    assert assistance_burden.run(ctx, ON) == {
        "over_line": 1,
        "raised": ["640100:P1:2026"],
        "resolved": [],
    }
    assert assistance_burden.run(ctx, ON) == {"over_line": 1, "raised": [], "resolved": []}
    # in the new year the year before is still checked (late uploads, applications): its
    # alert stands; an invoice of 2026 recorded in 2027 would be found there
    assert assistance_burden.run(ctx, date(2027, 1, 2)) == {
        "over_line": 1,
        "raised": [],
        "resolved": [],
    }
    assert assistance_burden.run(ctx, date(2028, 1, 2)) == {
        "over_line": 0,
        "raised": [],
        "resolved": [],
    }
    session.commit()
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == burden.KIND))
    assert count == 1


def test_the_alerts_page_shows_the_reminder_in_chinese(
    client: TestClient, session: Session
) -> None:
    office_world(session)
    reminder = burden.Burden("P1", "640100", 2026, 800_001, 2_000_000, 4000)
    raise_alert(
        session,
        kind=burden.KIND,
        subject=reminder.subject,
        detail=burden.detail(reminder),
        now=NOW_UTC,
    )
    session.commit()
    log_in(client, "op")
    page = html.unescape(client.get("/console/alerts?state=all").text)
    assert "救助对象自付费用超过综合减负线" in page
    assert "2026 年个人自付费用 8000.01 元，超过上年度家庭收入 20000.00 元的 40%" in page


@contextmanager
def _selects(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_check_is_set_based_not_per_person(
    client: TestClient, session: Session, headers: dict
) -> None:
    settle(client, headers, "S1", "2026-03-10", inscp="9000.00", hifp="0.00")
    remind(session)
    with _selects(session) as one_person:
        assert remind(session) == {"over_line": 1, "raised": []}
    for psn_no in ("P3", "P4", "P5"):
        income(session, psn_no, "1000.00")
        settle(client, headers, f"S-{psn_no}", "2026-03-11", inscp="900.00", hifp="0.00",
               psn_no=psn_no)  # fmt: skip
    assert len(remind(session)["raised"]) == 3
    with _selects(session) as four_persons:
        assert remind(session) == {"over_line": 4, "raised": []}
    assert len(four_persons) == len(one_person)
