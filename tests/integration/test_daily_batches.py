"""Daily batch generation on the database: amounts, lines, late flags, revocations, the ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.daily import rules
from app.daily import service as daily
from app.daily.models import DailyBatch, DailyLine
from app.institutions import maintenance
from app.institutions.schemas import PolicyIn
from app.ledger import service as ledger
from tests.support import builders
from tests.support.builders import ADMIN, NOW
from tests.support.daily import at, generate, revoke, settle

FRI, SAT, MON, TUE = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 9), date(2026, 3, 10)


def _lines(session: Session, batch: DailyBatch) -> dict[str, DailyLine]:
    return {line.fixmedins_code: line for line in daily.lines_of(session, [batch.id])}


def _balance(session: Session, name: str, code: str | None = None) -> int:
    from app.ledger.rules import account_code

    return ledger.balance_or_zero(session, account_code(name, "640100", "310", code))


def test_spec_example_batches(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 1_000_000, FRI)
    settle(session, "H001", "S2", 333_333, FRI, hour=16)
    batch = generate(session, FRI)
    line = _lines(session, batch)["H001"]
    assert (line.settlement_count, line.amount_fen, line.fund_total_fen, line.late) == (
        2,
        800_000,
        1_333_333,
        False,
    )
    assert batch.pay_date == MON and batch.status == "PUSHED"
    assert _balance(session, "payable", "H001") == 1_333_333  # accrual of the fund amounts
    assert _balance(session, "expense", "H001") == 1_333_333
    settle(session, "H001", "S3", 1, SAT)
    saturday = generate(session, SAT)
    assert _lines(session, saturday)["H001"].amount_fen == 1
    assert saturday.pay_date == MON


def test_generation_is_idempotent(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, FRI)
    first = generate(session, FRI)
    entries = session.scalar(select(func.count()).select_from(ledger.JournalEntry))
    again = generate(session, FRI)
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(DailyLine)) == 1
    assert session.scalar(select(func.count()).select_from(ledger.JournalEntry)) == entries


def test_sql_rounding_matches_the_rule(session: Session) -> None:
    builders.institution(session, "H001")
    amounts = [1, 2, 4, 5, 8, 9, 10, 25, 333_333, 999_999_999, 1_234_567, 17, 83, 99_999]
    for index, amount in enumerate(amounts):
        settle(session, "H001", f"S{index}", amount, FRI)
    batch = generate(session, FRI)
    details = daily.details_of(session, batch, "H001")
    assert len(details) == len(amounts)
    for detail in details:
        assert detail.daily_amount_fen == rules.daily_amount(detail.fund_amount_fen, 6000)
    assert _lines(session, batch)["H001"].amount_fen == sum(
        rules.daily_amount(a, 6000) for a in amounts
    )
    daily.check_line_totals(session, batch)


def test_ratio_change_mid_month_applies_by_settlement_date(session: Session) -> None:
    fund = builders.fund(session)
    maintenance.add_policy_version(
        session,
        fund,
        PolicyIn.model_validate({"effective_from": "2026-03-15", "daily_ratio": "0.70"}),
        actor=ADMIN,
        now=NOW,
    )
    builders.institution(session, "H001")
    settle(session, "H001", "OLD", 100_000, date(2026, 3, 14), uploaded=at(date(2026, 3, 16), 9))
    settle(session, "H001", "NEW", 100_000, date(2026, 3, 16))
    batch = generate(session, date(2026, 3, 16))
    details = {d.ratio_bp: d.daily_amount_fen for d in daily.details_of(session, batch, "H001")}
    assert details == {6000: 60_000, 7000: 70_000}
    assert _lines(session, batch)["H001"].late is True


def test_late_upload_lands_in_the_next_batch_marked_late(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, FRI)
    generate(session, FRI)
    generate(session, SAT)
    generate(session, date(2026, 3, 8))
    settle(session, "H001", "LATE", 20_000, FRI, uploaded=at(MON, 9))  # dated Friday, sent Monday
    monday = generate(session, MON)
    line = _lines(session, monday)["H001"]
    assert (line.settlement_count, line.amount_fen, line.late) == (1, 12_000, True)


def test_revocation_before_and_after_batching(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "KEEP", 10_000, FRI)
    settle(session, "H001", "EARLY", 30_000, FRI)
    settle(session, "H001", "LATER", 50_000, FRI)
    revoke(session, "H001", "EARLY", at(FRI, 18))  # before batching: counts nowhere
    friday = generate(session, FRI)
    assert _lines(session, friday)["H001"].settlement_count == 2
    assert _balance(session, "payable", "H001") == 60_000
    revoke(session, "H001", "LATER", at(SAT, 10))  # after batching
    saturday = generate(session, SAT)
    assert _lines(session, saturday) == {}  # nothing new; the batch of Friday is unchanged
    assert saturday.status == "EMPTY"
    assert _lines(session, friday)["H001"].amount_fen == 36_000
    assert [d.setl_id for d in daily.details_of(session, friday, "H001")] == ["KEEP", "LATER"]
    daily.check_line_totals(session, friday)
    assert _balance(session, "payable", "H001") == 10_000  # 60,000 accrued - 50,000 reversed
    assert _balance(session, "expense", "H001") == 10_000
    assert ledger.trial_balance(session).balanced


def test_batches_are_per_fund_ledger_and_institution(session: Session) -> None:
    builders.institution(session, "H001", insutypes=("310", "390"))
    builders.institution(session, "H002")
    settle(session, "H001", "A", 10_000, FRI)
    settle(session, "H002", "B", 20_000, FRI)
    settle(session, "H001", "R", 30_000, FRI, insutype="390")
    employee = generate(session, FRI)
    resident = generate(session, FRI, insutype="390")
    assert set(_lines(session, employee)) == {"H001", "H002"}
    assert set(_lines(session, resident)) == {"H001"}
    assert (employee.amount_fen, resident.amount_fen) == (18_000, 18_000)


def test_zero_fund_settlement_makes_a_zero_line_that_posts_nothing(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "Z", 0, FRI)
    batch = generate(session, FRI)
    assert _lines(session, batch)["H001"].amount_fen == 0
    assert _balance(session, "payable", "H001") == 0


def test_settlements_uploaded_after_their_batch_go_to_the_next_one(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, FRI)
    friday = generate(session, FRI)
    # uploaded on Saturday 00:20 but committed after Friday's batch took its lock
    settle(session, "H001", "S2", 20_000, FRI, uploaded=at(SAT, 0))
    generate(session, SAT)
    sunday = generate(session, date(2026, 3, 8))
    assert _lines(session, friday)["H001"].settlement_count == 1
    assert _lines(session, sunday) == {}
    saturday = daily.find_batch(session, friday.fund_ledger_id, SAT)
    assert saturday is not None and _lines(session, saturday)["H001"].late is True


def test_batches_are_generated_in_date_order(session: Session) -> None:
    import pytest

    from app.errors import Conflict

    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, FRI)
    generate(session, SAT)  # takes Friday's settlement too
    with pytest.raises(Conflict):
        generate(session, FRI)


def test_policy_cannot_rerate_stored_settlements(session: Session) -> None:
    import pytest

    from app.errors import Conflict

    fund = builders.fund(session)
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, date(2026, 3, 16))
    with pytest.raises(Conflict):
        maintenance.add_policy_version(
            session,
            fund,
            PolicyIn.model_validate({"effective_from": "2026-03-15", "daily_ratio": "0.70"}),
            actor=ADMIN,
            now=NOW,
        )
    # the same ratio (a deposit-rate change) or a later date is fine
    maintenance.add_policy_version(
        session,
        fund,
        PolicyIn.model_validate({"effective_from": "2026-03-15", "deposit_rate": "0.06"}),
        actor=ADMIN,
        now=NOW,
    )
    maintenance.add_policy_version(
        session,
        fund,
        PolicyIn.model_validate({"effective_from": "2026-03-17", "daily_ratio": "0.70"}),
        actor=ADMIN,
        now=NOW,
    )
