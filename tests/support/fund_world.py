"""A fund accountant's morning, for the console's fund pages (API and browser tests).

Mon 2026-03-09, 10:00 in Shanghai ("today"), fund ledger 640100 × 310:
- daily batch of Fri 03-06 (H001 and H002), pushed by the system: payable today 14:30;
- daily batch of Sat 03-07 (H001), rejected by `acc` this morning, then pushed again by `zhang`
  while an operator; `zhang` has since moved to finance (an accountant): he made it, he cannot approve it;
- statement H001 2026-02 confirmed (computed by the system); statement H002 2026-01
  confirmed but recomputed by `zhang` (so `zhang` cannot approve it either);
- statement H001 2026-01 approved, sent to the bank and FAILED (收款账户状态异常): it waits for
  re-approval;
- statement H002 2025-12 approved with a negative net: a receivable of ¥1,500.00 from H002;
- annual clearing H001 2025 confirmed (deadline 2026-05-31);
- an appropriation of ¥50,000,000.00 into the expenditure account.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing, AnnualRule
from app.auth.models import User
from app.auth.principal import Principal
from app.bank import service as bank
from app.daily import service as daily
from app.institutions import service as institutions
from app.monthly import statements
from app.treasury import service as treasury
from tests.support import builders
from tests.support.console import person, statement
from tests.support.daily import at, generate, settle

TODAY = date(2026, 3, 9)
NOW = at(TODAY, 10)
FRI, SAT = date(2026, 3, 6), date(2026, 3, 7)
ACC = Principal(None, "acc", "accountant")
OPERATOR_ZHANG = Principal(None, "zhang", "operator")


def seed(session: Session) -> dict[str, int]:
    """Build the morning; returns the ids the tests open. Commits."""
    builders.institution(session, "H001", name="宁夏测试医院")
    builders.institution(session, "H002", name="另一家医院", level=2)
    for name, role, code in (
        ("acc", "accountant", None),
        ("acc2", "accountant", None),
        ("zhang", "operator", None),
        ("op", "operator", None),
        ("aud", "auditor", None),
        ("h1", "hospital", "H001"),
        ("adm", "admin", None),
    ):
        person(session, name, role, code)
    ids: dict[str, int] = {}
    settle(session, "H001", "S1", 1_000_000, FRI)
    settle(session, "H002", "S2", 500_000, FRI)
    ids["batch"] = generate(session, FRI).id
    settle(session, "H001", "S3", 250_000, SAT)
    ids["zhang_batch"] = generate(session, SAT).id
    daily.reject(session, ids["zhang_batch"], "金额待核", actor=ACC, now=at(TODAY, 8, 30))
    daily.push(session, ids["zhang_batch"], actor=OPERATOR_ZHANG, now=at(TODAY, 9))
    ids.update(_statements(session))
    ids["clearing"] = _clearing(session)
    treasury.appropriate(
        session,
        region_code="640100",
        insutype="310",
        amount_fen=50_000_000_00,
        reference="BK-2026-0301",
        actor=ACC,
        now=at(date(2026, 3, 2), 9),
    )
    # zhang moved from the operators to finance: the same name, now an accountant.
    session.execute(update(User).where(User.name == "zhang").values(role="accountant"))
    session.commit()
    return ids


def _statements(session: Session) -> dict[str, int]:
    ids = {}
    ids["statement"] = statement(session, "H001", "2026-02", status="CONFIRMED").id
    zhangs = statement(session, "H002", "2026-01", status="CONFIRMED")
    zhangs.computed_by = "zhang"
    ids["zhang_statement"] = zhangs.id
    failing = statement(session, "H001", "2026-01", status="CONFIRMED")
    statements.FLOW.approve(session, failing.id, actor=ACC, now=at(date(2026, 3, 4), 9))
    fund = institutions.get_fund_ledger(session, "640100", "310")
    sent = statements.FLOW.submit_due(
        session, fund, today=date(2026, 3, 4), now=at(date(2026, 3, 4), 14)
    )
    instruction = bank.find(session, sent[0])
    assert instruction is not None
    bank.apply_result(
        session,
        instruction,
        "FAILED",
        instruction.amount_fen,
        instruction.payee_account,
        None,
        {"code": "E01", "reason": "收款账户状态异常"},
        at(date(2026, 3, 4), 15),
    )
    ids["failed_statement"] = failing.id
    owing = statement(
        session,
        "H002",
        "2025-12",
        status="CONFIRMED",
        fund_pay=100_000_00,
        audit=0,
        daily_paid=96_500_00,
    )
    assert owing.net_fen == -1_500_00
    statements.FLOW.approve(session, owing.id, actor=ACC, now=at(date(2026, 1, 20), 9))
    ids["receivable_statement"] = owing.id
    session.flush()
    return ids


def _clearing(session: Session) -> int:
    session.add(
        AnnualRule(
            year=2025,
            assessment_bands=[[0, 10_000]],
            credit_bands=[[0, 10_000]],
            start_date=date(2026, 1, 10),
            deadline=date(2026, 5, 31),
            recorded_at=datetime(2026, 1, 2, tzinfo=UTC),
            recorded_by="op",
        )
    )
    clearing = AnnualClearing(
        year=2025,
        region_code="640100",
        insutype="310",
        fixmedins_code="H001",
        status="CONFIRMED",
        version=1,
        approved_fund_fen=1_000_000_00,
        clearing_amount_fen=1_000_000_00,
        settled_fen=950_000_00,
        deposit_held_fen=50_000_00,
        return_ratio_bp=10_000,
        forfeited_fen=0,
        gross_fen=50_000_00,
        offset_fen=0,
        actual_fen=50_000_00,
        base={},
        computed_at=datetime(2026, 1, 10, tzinfo=UTC),
        computed_by="system",
        confirmed_at=datetime(2026, 1, 12, tzinfo=UTC),
        confirmed_by="h1",
    )
    session.add(clearing)
    session.flush()
    return clearing.id
