"""The assistance fund's submission (SPEC-ASSISTANCE A8, A10 "Funds check order"; issue 21.6):
the 610 documents go one by one in approval order, each only when `bank:R:610` less what is in
transit covers it; the others wait (APPROVED, no instruction) with a `funds_short` alert naming
the shortfall and go at a later submission once money came in.

Until the assistance statements exist, the monthly statements' flow stands in for them, pointed
at a 610 fund ledger with statement rows written directly (the flow only reads status, amount,
approval time and hospital)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.auth.principal import Principal
from app.clock import SHANGHAI, SimulatedClock
from app.config import Settings
from app.jobcontext import JobContext
from app.monthly import statements
from app.monthly.models import MonthlyStatement
from app.treasury import service as treasury
from jobs import submission
from tests.support import builders

MON, TUE = date(2026, 3, 9), date(2026, 3, 10)
ACC = Principal(None, "acc", "accountant")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _statement(session: Session, code: str, fen: int, approved: datetime) -> MonthlyStatement:
    row = MonthlyStatement(
        region_code="640100",
        insutype="610",
        fixmedins_code=code,
        period="2026-02",
        status="APPROVED",
        version=1,
        deposit_rate_bp=0,
        fund_pay_fen=fen,
        deposit_fen=0,
        ratio_amount_fen=fen,
        audit_fen=0,
        daily_paid_fen=0,
        procurement_fen=0,
        returned_fen=0,
        offset_fen=0,
        net_fen=fen,
        computed_at=approved,
        computed_by="system",
        approved_at=approved,
        approved_by="acc",
    )
    session.add(row)
    return row


def _appropriate(session: Session, fen: int, reference: str, when: datetime) -> None:
    treasury.appropriate(
        session,
        region_code="640100",
        insutype="610",
        amount_fen=fen,
        reference=reference,
        actor=ACC,
        now=when,
    )


def _ctx(session_factory: sessionmaker[Session], clock: SimulatedClock) -> JobContext:
    settings = Settings(environment="test", database_url="sqlite://")
    return JobContext(session_factory=session_factory, engine=None, clock=clock, settings=settings)  # type: ignore[arg-type]


def test_610_documents_go_in_approval_order_each_when_covered(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(submission, "ASSISTANCE_PAYABLES", (statements.FLOW,))
    for code in ("H001", "H002", "H003"):
        builders.institution(session, code)
    builders.fund(session, "640100", "610")
    _appropriate(session, 100_000, "CZ-1", at(MON, 8))
    h2 = _statement(session, "H002", 60_000, at(MON, 9, 0))
    h1 = _statement(session, "H001", 50_000, at(MON, 9, 0))
    h3 = _statement(session, "H003", 30_000, at(MON, 9, 5))
    session.commit()
    clock.set(at(MON, 14, 30))
    result = submission.run(_ctx(session_factory, clock), MON)
    # H001 (09:00, first by code) 500.00 → 500.00 left; H002 600.00 waits; H003 300.00 goes
    assert result["funds_short"] == {
        "640100:610": {"shortfall_fen": 40_000, "held": True, "waiting": 1}
    }
    session.commit()
    session.expire_all()
    assert [s.instruction_id is not None for s in (h1, h2, h3)] == [True, False, True]
    assert h2.status == "APPROVED"
    assert sorted(result["queued"]) == sorted([h1.instruction_id, h3.instruction_id])
    [alert] = session.scalars(select(Alert).where(Alert.kind == "funds_short"))
    assert alert.subject == "640100:610:2026-03-09" and "缺口 400.00 元" in alert.detail
    assert alert.resolved_at is None
    session.commit()

    # nothing came in: the next submission tries again and H002 still waits
    clock.set(at(TUE, 14, 30))
    again = submission.run(_ctx(session_factory, clock), TUE)
    assert again["queued"] == [] and again["funds_short"]["640100:610"]["waiting"] == 1
    session.commit()
    # an appropriation releases it at the next submission
    _appropriate(session, 40_000, "CZ-2", at(TUE, 14, 40))
    session.commit()
    clock.set(at(TUE, 14, 45))
    released = submission.run(_ctx(session_factory, clock), TUE)
    session.commit()
    session.expire_all()
    assert released["funds_short"] == {}
    assert released["queued"] == [h2.instruction_id] and h2.instruction_id is not None
    resolved = list(session.scalars(select(Alert).where(Alert.kind == "funds_short")))
    assert resolved and all(a.resolved_at is not None for a in resolved)


def test_without_assistance_payables_the_610_fund_sends_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    builders.institution(session, "H001")
    builders.fund(session, "640100", "610")
    row = _statement(session, "H001", 10_000, at(MON, 9))
    session.commit()
    clock.set(at(MON, 14, 30))
    result = submission.run(_ctx(session_factory, clock), MON)
    assert result["queued"] == [] and result["funds_short"] == {}
    session.commit()
    session.expire_all()
    assert row.instruction_id is None  # the basic flows never pay a 610 document
