"""The funds check before each submission (issue 19 item 2): warn mode alerts with the
shortfall and sends; block mode holds the fund ledger's submission until an appropriation
covers it; a funding request (用款计划) per fund ledger and day, with its XLSX."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.auth.principal import Principal
from app.bank.models import PaymentInstruction
from app.clock import SimulatedClock
from app.config import Settings
from app.daily import service as daily
from app.daily.models import DailyBatch
from app.institutions import maintenance
from app.institutions import service as institutions
from app.institutions.schemas import PolicyIn
from app.jobcontext import JobContext
from app.treasury import service as treasury
from jobs import submission
from tests.support import builders
from tests.support.console import log_in, person
from tests.support.daily import at, generate, settle
from tests.support.xlsx import uniform_sheet

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)
ID = "D260306-6401310-H001"  # 6,000.00 (60 % of 10,000.00)
ACCOUNTANT = Principal(None, "acc", "accountant")


def _world(session: Session, *, block: bool) -> None:
    builders.institution(session, "H001")
    if block:
        fund = institutions.get_fund_ledger(session, "640100", "310")
        maintenance.add_policy_version(
            session,
            fund,
            PolicyIn.model_validate({"effective_from": "2026-03-01", "funds_check": "block"}),
            actor=builders.ADMIN,
            now=builders.NOW,
        )
    settle(session, "H001", "S1", 1_000_000, FRI)
    batch = generate(session, FRI)
    daily.approve(session, batch.id, actor=ACCOUNTANT, now=at(MON, 9))
    session.commit()


def _appropriate(session: Session, amount_fen: int, reference: str) -> None:
    treasury.appropriate(
        session,
        region_code="640100",
        insutype="310",
        amount_fen=amount_fen,
        reference=reference,
        actor=ACCOUNTANT,
        now=at(MON, 10),
    )
    session.commit()


def _ctx(session_factory: sessionmaker[Session], clock: SimulatedClock) -> JobContext:
    settings = Settings(environment="test", database_url="sqlite://")
    return JobContext(session_factory=session_factory, engine=None, clock=clock, settings=settings)  # type: ignore[arg-type]


def _alerts(session: Session) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).where(Alert.kind == "funds_short")))


@pytest.fixture
def staff(session: Session) -> dict[str, str]:
    token = builders.user_token(session, "aud", "auditor")
    session.commit()
    return builders.bearer(token)


def test_warn_mode_alerts_with_the_shortfall_and_sends(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
    staff: dict[str, str],
) -> None:
    _world(session, block=False)
    _appropriate(session, 250_000, "BF-1")
    clock.set(at(MON, 14, 30))
    result = submission.run(_ctx(session_factory, clock), MON)
    assert result["queued"] == [ID]
    assert result["funds_short"] == {"640100:310": {"shortfall_fen": 350_000, "held": False}}
    [alert] = _alerts(session)
    assert alert.subject == "640100:310:2026-03-09" and "缺口 3500.00 元" in alert.detail
    assert session.get(PaymentInstruction, ID) is not None
    # once: a second run the same day raises nothing new
    submission.run(_ctx(session_factory, clock), MON)
    assert len(_alerts(session)) == 1
    [request] = client.get("/api/v1/funding-requests", headers=staff).json()
    assert request == {
        **request,
        "region_code": "640100",
        "insutype": "310",
        "request_date": "2026-03-09",
        "mode": "warn",
        "due": "6000.00",
        "available": "2500.00",
        "shortfall": "3500.00",
        "payments": 1,
        "held": False,
        "status": "OPEN",
    }
    export = client.get("/api/v1/funding-requests/export.xlsx", headers=staff)
    assert export.status_code == 200
    table = uniform_sheet(export.content, "用款计划")
    [row] = table.rows
    assert table.fen(row, "需划入金额") == 350_000 and row["控制方式"] == "预警"
    assert table.totals is not None and table.totals["支出户可用余额"] is None  # never summed


def test_block_mode_holds_until_an_appropriation_covers_it(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
    staff: dict[str, str],
) -> None:
    _world(session, block=True)
    _appropriate(session, 300_000, "BF-1")
    clock.set(at(MON, 14, 30))
    held = submission.run(_ctx(session_factory, clock), MON)
    assert held["queued"] == []
    assert held["funds_short"] == {"640100:310": {"shortfall_fen": 300_000, "held": True}}
    session.expire_all()
    assert session.get(PaymentInstruction, ID) is None  # nothing saved, nothing posted
    batch = session.scalar(select(DailyBatch).where(DailyBatch.business_date == FRI))
    assert batch is not None and batch.status == "APPROVED"
    [alert] = _alerts(session)
    assert "暂缓" in alert.detail and alert.resolved_at is None
    [request] = client.get(
        "/api/v1/funding-requests", params={"status": "OPEN"}, headers=staff
    ).json()
    assert (request["shortfall"], request["held"]) == ("3000.00", True)

    _appropriate(session, 300_000, "BF-2")  # covers it: the next run sends
    clock.set(at(MON, 14, 45))
    sent = submission.run(_ctx(session_factory, clock), MON)
    assert sent["queued"] == [ID] and sent["funds_short"] == {}
    [alert] = _alerts(session)
    assert alert.resolved_at is not None
    [request] = client.get("/api/v1/funding-requests", headers=staff).json()
    assert request["status"] == "COVERED" and request["covered_at"] is not None
    assert (
        client.get("/api/v1/funding-requests", params={"status": "OPEN"}, headers=staff).json()
        == []
    )


def test_covered_submission_raises_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _world(session, block=True)
    _appropriate(session, 600_000, "BF-1")
    clock.set(at(MON, 14, 30))
    result = submission.run(_ctx(session_factory, clock), MON)
    assert result["queued"] == [ID] and result["funds_short"] == {}
    assert _alerts(session) == []


def test_the_funds_page_shows_the_open_funding_request(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
) -> None:
    _world(session, block=True)
    person(session, "fin", "accountant")
    session.commit()
    clock.set(at(MON, 14, 30))
    submission.run(_ctx(session_factory, clock), MON)
    log_in(client, "fin")
    page = client.get("/console/fund/funds").text
    section = page[page.index('id="funding"') :]
    section = section[: section.index("</section>")]
    assert "已暂缓支付" in section and "¥6,000.00" in section
