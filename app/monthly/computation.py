"""Monthly statements (SPEC §4), the computation: set-based per fund ledger and period, for
every institution in scope at once; the recompute of a disputed statement. Daily's part (what
its batches paid, the lines in flight, the withdrawal of unsent lines) is asked of
`app.daily.periods`; the offsets of the receivable come from `offsets`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    and_,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app import failpoints
from app.bank.models import BankReturn, PaymentInstruction
from app.clock import period_end
from app.daily import periods as daily_periods
from app.db import insert_rows, reserve_ids
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution
from app.monthly import rules
from app.monthly.models import AuditItem, Declaration, MonthlyStatement, ProcurementAdvance
from app.payables.offsets import open_receivables
from app.settlements.models import BatchState, Revocation, Settlement
from app.workdays.rules import WorkCalendar

STATEMENT = cast(Table, MonthlyStatement.__table__)
SYSTEM = "system"

# The institutions of one computation, with the statement each gets: a temporary table (one
# per connection, emptied at commit on PostgreSQL), so that every query of the computation
# joins it instead of binding one parameter per institution, and the items are taken by four
# set-based UPDATEs, not four per institution.
SCOPE = Table(
    "statement_scope",
    MetaData(),
    Column("code", String(64), primary_key=True),
    Column("statement_id", BigInteger),
    Column("mark", String(64)),
    Column("absorbed", String(80)),
)


def _scope(session: Session, codes: Sequence[str], ids: dict[str, int] | None = None) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS statement_scope (code VARCHAR(64) PRIMARY KEY,"
            " statement_id BIGINT, mark VARCHAR(64), absorbed VARCHAR(80))"
            + (" ON COMMIT DELETE ROWS" if postgres else "")
        )
    )
    session.execute(text("DELETE FROM statement_scope"))
    rows = []
    for code in codes:
        statement_id = None if ids is None else ids[code]
        rows.append(
            {
                "code": code,
                "statement_id": statement_id,
                "mark": None if statement_id is None else f"statement:{statement_id}",
                "absorbed": None if statement_id is None else f"absorbed:statement:{statement_id}",
            }
        )
    insert_rows(session, SCOPE, rows)
    if postgres:
        session.execute(text("ANALYZE statement_scope"))


def _in_scope(column: Any) -> Any:
    return column.in_(select(SCOPE.c.code))


def _scope_value(key: str, column: Any) -> Any:
    """The scope's value for a row's institution (a correlated scalar subquery)."""
    return select(SCOPE.c[key]).where(SCOPE.c.code == column).scalar_subquery()


# --- computation -------------------------------------------------------------------------------


def compute_due(
    session: Session, fund: FundLedger, *, today: date, now: datetime, calendar: WorkCalendar
) -> list[int]:
    """Compute every declared, due, uncomputed period of the fund ledger's institutions, in
    period order (a period waits for the one before it). Returns new statement ids. Under the
    fund ledger's lock, so no daily line is sent while it is being withdrawn."""
    institutions.lock_fund_ledger(session, fund.id)
    created: list[int] = []
    while True:
        pending = _pending(session, fund)
        by_period: dict[str, list[str]] = defaultdict(list)
        for code, period in pending.items():
            by_period[period].append(code)
        progressed = False
        for period in sorted(by_period):
            policy = institutions.policy_on(session, fund.id, period_end(period))
            declaration_day = policy.declaration_day if policy else 15
            if today < rules.computation_date(period, declaration_day, calendar):
                continue
            codes = sorted(
                set(by_period[period]) - _waiting(session, fund, period, sorted(by_period[period]))
            )
            if not codes:
                continue
            created += _compute(session, fund, period, codes, now=now, by=SYSTEM)
            progressed = True
        if not progressed:
            return created


def _pending(session: Session, fund: FundLedger) -> dict[str, str]:
    """Per institution, its earliest declared period without a statement."""
    rows = session.execute(
        select(Declaration.fixmedins_code, func.min(Declaration.period))
        .join(Institution, Institution.code == Declaration.fixmedins_code)
        .where(
            Institution.region_code == fund.region_code,
            Declaration.insutype == fund.insutype,
            ~exists().where(
                MonthlyStatement.fixmedins_code == Declaration.fixmedins_code,
                MonthlyStatement.insutype == Declaration.insutype,
                MonthlyStatement.period == Declaration.period,
            ),
        )
        .group_by(Declaration.fixmedins_code)
    ).all()
    return {code: period for code, period in rows}


def _of_period(fund: FundLedger, period: str) -> Any:
    """The period's settlements of the institutions in scope."""
    return and_(
        Settlement.region_code == fund.region_code,
        Settlement.insutype == fund.insutype,
        Settlement.period == period,
        _in_scope(Settlement.fixmedins_code),
    )


def _waiting(session: Session, fund: FundLedger, period: str, codes: Sequence[str]) -> set[str]:
    """Institutions whose period must wait: settlements not yet batched, or a daily payment
    of its settlements sent without a final result."""
    _scope(session, codes)
    last = session.scalar(
        select(BatchState.last_generated_date).where(BatchState.fund_ledger_id == fund.id)
    )
    unbatched = select(Settlement.fixmedins_code).where(
        _of_period(fund, period), daily_periods.counted()
    )
    if last is not None:
        unbatched = unbatched.where(Settlement.batch_date > last)
    waiting = set(session.scalars(unbatched.distinct()))
    in_flight = daily_periods.in_flight(
        session, fund_id=fund.id, codes=select(SCOPE.c.code), settlements=_of_period(fund, period)
    )
    return waiting | in_flight


def _withdraw_unsent(session: Session, fund: FundLedger, period: str, now: datetime) -> None:
    """Daily lines holding the period's settlements (of the scope) that were never sent are
    never sent afterwards: the statement pays their settlements (SPEC §4)."""
    daily_periods.withdraw_unsent(
        session,
        fund_id=fund.id,
        codes=select(SCOPE.c.code),
        settlements=_of_period(fund, period),
        now=now,
    )


def _take(session: Session, fund: FundLedger, period: str) -> None:
    """Mark the items each statement of the scope takes (so no two documents take the same
    money), then the sums are read by mark: exact even while new items arrive. Four set-based
    UPDATEs for the whole scope."""
    session.execute(
        update(AuditItem)
        .where(
            _in_scope(AuditItem.fixmedins_code),
            AuditItem.insutype == fund.insutype,
            AuditItem.status == "FINAL",
            AuditItem.taken_statement_id.is_(None),
            AuditItem.period <= period,
        )
        .values(taken_statement_id=_scope_value("statement_id", AuditItem.fixmedins_code))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(ProcurementAdvance)
        .where(
            _in_scope(ProcurementAdvance.fixmedins_code),
            ProcurementAdvance.insutype == fund.insutype,
            ProcurementAdvance.taken_statement_id.is_(None),
            ProcurementAdvance.period <= period,
        )
        .values(taken_statement_id=_scope_value("statement_id", ProcurementAdvance.fixmedins_code))
        .execution_options(synchronize_session=False)
    )
    open_returns = and_(
        _in_scope(BankReturn.fixmedins_code),
        BankReturn.insutype == fund.insutype,
        BankReturn.region_code == fund.region_code,
        BankReturn.taken_by.is_(None),
    )
    # Monthly and annual payments returned, and daily payments of computed periods.
    session.execute(
        update(BankReturn)
        .where(open_returns, (BankReturn.kind != "daily") | (BankReturn.period < period))
        .values(taken_by=_scope_value("mark", BankReturn.fixmedins_code))
        .execution_options(synchronize_session=False)
    )
    # A daily payment of this very period returned before it was computed counts as never
    # paid (daily_paid leaves it out): nothing more to take.
    session.execute(
        update(BankReturn)
        .where(open_returns, BankReturn.kind == "daily", BankReturn.period == period)
        .values(taken_by=_scope_value("absorbed", BankReturn.fixmedins_code))
        .execution_options(synchronize_session=False)
    )


def _absorbed_here(period: str) -> Any:
    """A returned daily payment counts as never paid (SPEC §3) where this statement absorbed
    its return of the period (`_take`), and only there. Taken by another document (a later
    statement adds it back as `returned`), or committed after `_take` ran (the next statement
    takes it), it counts as paid here: so it is paid once, also on a recompute after a
    dispute. (A return row of an instruction and period is absorbed only by the statement of
    that institution and period: this one.)"""
    return exists().where(
        BankReturn.instruction_id == PaymentInstruction.instruction_id,
        BankReturn.period == period,
        BankReturn.taken_by.startswith("absorbed:"),
    )


def _sums(session: Session, fund: FundLedger, period: str) -> dict[str, dict[str, int]]:
    """The components of every statement in scope, each read set-based for the whole scope."""
    codes = list(session.scalars(select(SCOPE.c.code)))
    sums: dict[str, dict[str, int]] = {code: defaultdict(int) for code in codes}
    for code, amount in session.execute(
        select(Revocation.fixmedins_code, func.sum(Settlement.fund_amount_fen))
        .join(Settlement, Settlement.id == Revocation.settlement_id)
        .where(
            Revocation.insutype == fund.insutype,
            Revocation.period == period,
            Revocation.batched.is_(True),
            _in_scope(Revocation.fixmedins_code),
            Settlement.region_code == fund.region_code,
        )
        .group_by(Revocation.fixmedins_code)
    ):
        sums[code]["fund_pay"] -= int(amount)
    both = daily_periods.fund_and_paid(
        fund_id=fund.id, settlements=_of_period(fund, period), returned_paid=~_absorbed_here(period)
    )
    for code, fund_pay, daily_paid in session.execute(both):
        sums[code]["fund_pay"] += int(fund_pay)
        sums[code]["daily_paid"] += int(daily_paid)
    for code, total in session.execute(
        select(SCOPE.c.code, func.sum(AuditItem.final_amount_fen))
        .join(AuditItem, AuditItem.taken_statement_id == SCOPE.c.statement_id)
        .group_by(SCOPE.c.code)
    ):
        sums[code]["audit"] += int(total or 0)
    for code, amount in session.execute(
        select(SCOPE.c.code, func.sum(ProcurementAdvance.amount_fen))
        .join(ProcurementAdvance, ProcurementAdvance.taken_statement_id == SCOPE.c.statement_id)
        .group_by(SCOPE.c.code)
    ):
        sums[code]["procurement"] += int(amount)
    for code, amount in session.execute(
        select(SCOPE.c.code, func.sum(BankReturn.amount_fen))
        .join(BankReturn, BankReturn.taken_by == SCOPE.c.mark)
        .group_by(SCOPE.c.code)
    ):
        sums[code]["returned"] += int(amount)
    return sums


def _compute(
    session: Session,
    fund: FundLedger,
    period: str,
    codes: Sequence[str],
    *,
    now: datetime,
    by: str,
    existing: dict[str, MonthlyStatement] | None = None,
) -> list[int]:
    if existing is None:
        new_ids = reserve_ids(session, STATEMENT, len(codes))
        ids = dict(zip(codes, new_ids, strict=True))
    else:
        ids = {code: statement.id for code, statement in existing.items()}
    _scope(session, codes, ids)
    _withdraw_unsent(session, fund, period, now)
    _take(session, fund, period)
    failpoints.hit("monthly.compute.after_withdraw")
    sums = _sums(session, fund, period)
    receivables = open_receivables(session, fund.region_code, fund.insutype, codes)
    policy = institutions.policy_on(session, fund.id, period_end(period))
    deposit_rate = policy.deposit_rate_bp if policy else 0
    rows = []
    for code in codes:
        values = sums[code]
        statement = rules.compute(
            rules.Inputs(
                fund_pay_fen=values["fund_pay"],
                deposit_rate_bp=deposit_rate,
                audit_fen=values["audit"],
                daily_paid_fen=values["daily_paid"],
                procurement_fen=values["procurement"],
                returned_fen=values["returned"],
                open_receivable_fen=receivables[code],
            )
        )
        rows.append(
            {
                "id": ids[code],
                "region_code": fund.region_code,
                "insutype": fund.insutype,
                "fixmedins_code": code,
                "period": period,
                "status": "COMPUTED",
                "deposit_rate_bp": deposit_rate,
                "fund_pay_fen": statement.fund_pay_fen,
                "deposit_fen": statement.deposit_fen,
                "ratio_amount_fen": statement.ratio_amount_fen,
                "audit_fen": statement.audit_fen,
                "daily_paid_fen": statement.daily_paid_fen,
                "procurement_fen": statement.procurement_fen,
                "returned_fen": statement.returned_fen,
                "offset_fen": statement.offset_fen,
                "net_fen": statement.net_fen,
                "computed_at": now,
                "computed_by": by,
            }
        )
    if existing is None:
        insert_rows(session, STATEMENT, [{**row, "version": 1} for row in rows])
        failpoints.hit("monthly.compute.after_statements")
    else:
        for row in rows:
            stored = existing[str(row["fixmedins_code"])]
            for key, value in row.items():
                if key != "id":
                    setattr(stored, key, value)
            stored.version += 1
            stored.confirmed_at = stored.confirmed_by = None
            stored.disputed_at = None
        session.flush()
    return [ids[code] for code in codes]


def recompute(session: Session, statement: MonthlyStatement, now: datetime, by: str) -> None:
    """Compute a disputed statement afresh: its offset and taken items are released first.
    The caller holds the fund ledger's lock and the statement's row."""
    session.execute(
        update(AuditItem)
        .where(AuditItem.taken_statement_id == statement.id)
        .values(taken_statement_id=None)
    )
    session.execute(
        update(ProcurementAdvance)
        .where(ProcurementAdvance.taken_statement_id == statement.id)
        .values(taken_statement_id=None)
    )
    session.execute(
        update(BankReturn)
        .where(
            BankReturn.taken_by.in_(
                [f"statement:{statement.id}", f"absorbed:statement:{statement.id}"]
            )
        )
        .values(taken_by=None)
    )
    statement.offset_fen = 0
    statement.net_fen = (
        statement.ratio_amount_fen
        - statement.audit_fen
        - statement.daily_paid_fen
        - statement.procurement_fen
        + statement.returned_fen
    )
    session.flush()
    fund = institutions.get_fund_ledger(session, statement.region_code, statement.insutype)
    _compute(
        session,
        fund,
        statement.period,
        [statement.fixmedins_code],
        now=now,
        by=by,
        existing={statement.fixmedins_code: statement},
    )
