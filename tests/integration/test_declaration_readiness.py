"""The read-only declaration check (declarations.readiness, which the hospital's 对账与申报
page shows) gives exactly the refusals `declare` gives, in every situation of SPEC §4's rule."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import business_date
from app.errors import Invalid, NotFound
from app.money import yuan
from app.monthly import declarations
from app.settlements import service as settlements
from app.settlements.schemas import ReconciliationIn
from tests.support import builders
from tests.support.daily import at, revoke, settle

H001 = Principal(None, "user-H001", "hospital", "H001")
OPERATOR = Principal(None, "op", "operator")


def _reconcile(session: Session, day: date) -> None:
    held = settlements.held_totals(session, "H001", "310", day, day).get(day)
    data = ReconciliationIn.model_validate(
        {
            "fixmedins_code": "H001",
            "insutype": "310",
            "setl_date": day.isoformat(),
            "count": held.count if held else 0,
            "fund_amount": yuan(held.fund_fen if held else 0),
        }
    )
    settlements.reconcile(session, data, actor=H001, now=at(date(2026, 4, 1)))


def _agree(session: Session, period: str, now: datetime) -> list[str]:
    """The rules readiness names; declare (tried in a savepoint, undone) names the same."""
    ready = declarations.readiness(
        session, "H001", "310", period, actor=H001, today=business_date(now)
    )
    rules = [error.rule for error in ready.refusals]
    savepoint = session.begin_nested()
    try:
        declarations.declare(session, "H001", "310", period, actor=H001, now=now)
        refused: list[str] = []
    except Invalid as error:
        refused = [e.rule for e in error.errors]
    savepoint.rollback()
    assert rules == refused, (period, now)
    assert ready.acceptable == (rules == [])
    return rules


def test_readiness_and_declare_share_the_rule(session: Session) -> None:
    builders.fund(session, requires_settlement_list=True)
    builders.institution(session, "H001", start=date(2026, 3, 1))
    settle(session, "H001", "S1", 100_000, date(2026, 3, 6))
    settle(session, "H001", "S2", 200_000, date(2026, 3, 9))
    settle(session, "H001", "S3", 300_000, date(2026, 3, 9))
    revoke(session, "H001", "S3", at(date(2026, 3, 9), 12))

    assert _agree(session, "2026-03", at(date(2026, 3, 31))) == ["period_ended"]
    april = at(date(2026, 4, 1))
    assert _agree(session, "2026-03", april) == ["days_reconciled", "settlement_lists"]
    ready = declarations.readiness(
        session, "H001", "310", "2026-03", actor=H001, today=april.date()
    )
    assert ready.unreconciled == [date(2026, 3, 6), date(2026, 3, 9)]
    assert ready.deadline == date(2026, 4, 15) and not ready.late
    _reconcile(session, date(2026, 3, 6))
    _reconcile(session, date(2026, 3, 9))
    assert _agree(session, "2026-03", april) == ["settlement_lists"]
    for setl_id in ("S1", "S2"):
        settlements.record_list(session, "H001", setl_id, f"QD-{setl_id}", actor=H001, now=april)
    assert _agree(session, "2026-03", april) == []
    assert _agree(session, "2026-04", at(date(2026, 5, 6))) == ["periods_in_order"]
    late = at(date(2026, 4, 16))
    assert _agree(session, "2026-03", late) == ["declaration_deadline"]
    declarations.reopen(session, "H001", "310", "2026-03", "系统故障", actor=OPERATOR, now=late)
    assert _agree(session, "2026-03", late) == []
    ready = declarations.readiness(session, "H001", "310", "2026-03", actor=H001, today=late.date())
    assert ready.late and ready.reopened
    assert _agree(session, "2026-02", april) == ["period_enrolled", "declaration_deadline"]


def test_a_hospital_reads_only_its_own_readiness(session: Session) -> None:
    builders.institution(session, "H001", start=date(2026, 3, 1))
    builders.institution(session, "H002", start=date(2026, 3, 1))
    other = Principal(None, "user-H002", "hospital", "H002")
    with pytest.raises(NotFound):
        declarations.readiness(
            session, "H001", "310", "2026-03", actor=other, today=date(2026, 4, 1)
        )
