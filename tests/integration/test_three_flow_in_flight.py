"""The three-flow check while payments are on their way (after the 14:30 submission, before
the bank's results): `in_transit` holds them on its credit side, and that is no difference.
The checks of the scenarios run only once every result is in, so this one stops in between."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.daily import service as daily
from app.institutions import service as institutions
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount
from app.ledger.rules import account_code
from app.threeflow import service as threeflow
from tests.support import builders
from tests.support.daily import at, generate, settle

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)


def test_payments_awaiting_their_result_are_no_difference(session: Session) -> None:
    builders.fund(session)
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    settle(session, "H001", "S1", 1_000_000, FRI)
    settle(session, "H002", "S2", 500_000, FRI)
    batch = generate(session, FRI)
    batch.status = "APPROVED"
    fund = institutions.get_fund_ledger(session, "640100", "310")
    assert len(daily.submit_due(session, fund, today=MON, now=at(MON, 14, 30))) == 2
    session.flush()
    code = account_code("in_transit", "640100", "310")
    assert ledger.balance_or_zero(session, code) == -900_000  # credit side: money on its way
    report = threeflow.check(session)
    assert report.differences == []  # nothing at all is amiss while the money travels
    # a ledger that says the opposite is a difference
    session.execute(
        update(LedgerAccount).where(LedgerAccount.code == code).values(balance_fen=900_000)
    )
    report = threeflow.check(session)
    assert [d.check for d in report.differences if d.check == "in_transit"] == ["in_transit"]
    session.rollback()


def test_a_first_batch_holding_earlier_dates_is_no_difference(session: Session) -> None:
    """A fund ledger's first batch holds every earlier batch date (first_batch_date None):
    its settlements are in its line, the line's amount is theirs."""
    builders.fund(session)
    builders.institution(session, "H001")
    settle(session, "H001", "S0", 400_000, date(2026, 3, 4))
    settle(session, "H001", "S1", 1_000_000, FRI)
    batch = generate(session, FRI)
    assert batch.first_batch_date is None
    session.flush()
    report = threeflow.check(session)
    assert report.differences == [], threeflow.render(report)
    assert report.counts["daily_lines"] == 1
