"""Monthly statements (SPEC §4): set-based computation per fund ledger and period, the
confirm/dispute/approve flow, postings at approval (SPEC §6) and payment."""

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
    case,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app import failpoints
from app.auth.service import Principal
from app.bank import rules as bank_rules
from app.bank import service as bank
from app.bank.models import BankReturn, PaymentInstruction
from app.clock import business_date, period_end
from app.daily.models import DailyBatch, DailyLine
from app.db import any_of, in_chunks, insert_rows, reserve_ids
from app.errors import Conflict, Forbidden, NotFound
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution
from app.ledger import entries
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount
from app.ledger.rules import account_code, normal_balance
from app.monthly import deadlines, rules
from app.monthly.models import AuditItem, Declaration, MonthlyStatement, ProcurementAdvance
from app.settlements.models import BatchState, Revocation, Settlement
from app.trail import service as trail
from app.workdays.rules import WorkCalendar

STATEMENT = cast(Table, MonthlyStatement.__table__)
PENDING_OFFSET_STATUSES = ("COMPUTED", "DISPUTED", "CONFIRMED")
FINAL_STATUSES = ("PAID", "SETTLED", "RECEIVABLE", "RETURNED")
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


def _batched_before_revocation() -> Any:
    """Not revoked before batching (such a settlement counts in no period)."""
    return ~exists().where(Revocation.settlement_id == Settlement.id, Revocation.batched.is_(False))


def _line_of_settlement() -> Any:
    """Join condition: the daily batch and line that hold a settlement."""
    return and_(
        DailyBatch.region_code == Settlement.region_code,
        DailyBatch.insutype == Settlement.insutype,
        Settlement.batch_date <= DailyBatch.business_date,
        (DailyBatch.first_batch_date.is_(None))
        | (Settlement.batch_date >= DailyBatch.first_batch_date),
    )


def _waiting(session: Session, fund: FundLedger, period: str, codes: Sequence[str]) -> set[str]:
    """Institutions whose period must wait: settlements not yet batched, or a daily payment
    of its settlements sent without a final result."""
    _scope(session, codes)
    last = session.scalar(
        select(BatchState.last_generated_date).where(BatchState.fund_ledger_id == fund.id)
    )
    unbatched = select(Settlement.fixmedins_code).where(
        _of_period(fund, period), _batched_before_revocation()
    )
    if last is not None:
        unbatched = unbatched.where(Settlement.batch_date > last)
    waiting = set(session.scalars(unbatched.distinct()))
    in_flight = (
        select(DailyLine.fixmedins_code)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .join(PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id)
        .where(
            DailyBatch.fund_ledger_id == fund.id,
            _in_scope(DailyLine.fixmedins_code),
            PaymentInstruction.status.in_(sorted(bank_rules.AWAITING_RESULT)),
            exists().where(
                _of_period(fund, period),
                Settlement.fixmedins_code == DailyLine.fixmedins_code,
                _line_of_settlement(),
            ),
        )
        .distinct()
    )
    return waiting | set(session.scalars(in_flight))


def _withdraw_unsent(session: Session, fund: FundLedger, period: str, now: datetime) -> None:
    """Daily lines holding the period's settlements that were never sent are never sent
    afterwards: the statement pays their settlements (SPEC §4)."""
    holding = (
        select(DailyLine.id)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .where(
            DailyBatch.fund_ledger_id == fund.id,
            _in_scope(DailyLine.fixmedins_code),
            DailyLine.instruction_id.is_(None),
            DailyLine.withdrawn_at.is_(None),
            exists().where(
                _of_period(fund, period),
                Settlement.fixmedins_code == DailyLine.fixmedins_code,
                _line_of_settlement(),
            ),
        )
    )
    session.execute(
        update(DailyLine)
        .where(
            DailyLine.id.in_(holding),
            DailyLine.instruction_id.is_(None),
            DailyLine.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
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
    # One scan of the period's settlements: per institution and batch date, the fund amount
    # and the daily amounts (the batch of a batch date is found once per date, below).
    per_day = (
        select(
            Settlement.fixmedins_code.label("code"),
            Settlement.batch_date.label("day"),
            func.sum(Settlement.fund_amount_fen).label("fund"),
            func.sum(Settlement.daily_amount_fen).label("daily"),
        )
        .where(_of_period(fund, period), _batched_before_revocation())
        .group_by(Settlement.fixmedins_code, Settlement.batch_date)
        .cte("per_day")
    )
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
    days = select(per_day.c.day).distinct().subquery()
    day_batch = (
        select(days.c.day, DailyBatch.id.label("batch_id"))
        .join(
            DailyBatch,
            and_(
                DailyBatch.fund_ledger_id == fund.id,
                days.c.day <= DailyBatch.business_date,
                (DailyBatch.first_batch_date.is_(None))
                | (days.c.day >= DailyBatch.first_batch_date),
            ),
        )
        .subquery()
    )
    # Each (institution, batch date) has at most one line and one instruction: outer joins
    # keep every row for the fund amount, and the daily amount counts where it was paid.
    paid = (PaymentInstruction.status == "SUCCESS") | (
        (PaymentInstruction.status == "RETURNED") & ~_absorbed_here(period)
    )
    both = (
        select(
            per_day.c.code,
            func.sum(per_day.c.fund),
            func.sum(case((paid, per_day.c.daily), else_=0)),
        )
        .outerjoin(day_batch, day_batch.c.day == per_day.c.day)
        .outerjoin(
            DailyLine,
            and_(
                DailyLine.batch_id == day_batch.c.batch_id,
                DailyLine.fixmedins_code == per_day.c.code,
            ),
        )
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id
        )
        .group_by(per_day.c.code)
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


def open_receivables(
    session: Session, region_code: str, insutype: str, codes: Sequence[str]
) -> dict[str, int]:
    """The receivable (ledger) less offsets already taken by documents not yet approved;
    a few queries for any number of institutions."""
    from app.annual.models import AnnualClearing

    by_account = {account_code("receivable", region_code, insutype, code): code for code in codes}
    balances = dict.fromkeys(codes, 0)
    for chunk in in_chunks(session, list(by_account)):
        for account, name, amount in session.execute(
            select(LedgerAccount.code, LedgerAccount.name, LedgerAccount.balance_fen).where(
                any_of(session, LedgerAccount.code, chunk)
            )
        ):
            balances[by_account[account]] = normal_balance(name, amount)
    # Statements and annual clearings not yet approved hold their offsets (SPEC §5).
    for document in (MonthlyStatement, AnnualClearing):
        for chunk in in_chunks(session, list(codes)):
            for code, amount in session.execute(
                select(document.fixmedins_code, func.sum(document.offset_fen))
                .where(
                    document.region_code == region_code,
                    document.insutype == insutype,
                    any_of(session, document.fixmedins_code, chunk),
                    document.status.in_(PENDING_OFFSET_STATUSES),
                )
                .group_by(document.fixmedins_code)
            ):
                balances[code] -= int(amount)
    return {code: max(amount, 0) for code, amount in balances.items()}


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


# --- flow --------------------------------------------------------------------------------------


def get(
    session: Session,
    statement_id: int,
    *,
    actor: Principal,
    lock: bool = False,
    fund_lock: bool = False,
) -> MonthlyStatement:
    """The statement; `lock` holds its row; `fund_lock` takes the fund ledger's lock first
    (where offsets move: the order every such path takes, fund ledger then document)."""
    if fund_lock:
        known = get(session, statement_id, actor=actor)
        fund = institutions.get_fund_ledger(session, known.region_code, known.insutype)
        institutions.lock_fund_ledger(session, fund.id)
    query = select(MonthlyStatement).where(MonthlyStatement.id == statement_id)
    if lock:
        query = query.with_for_update()
    statement = session.scalar(query.execution_options(populate_existing=True))
    if statement is None or (
        actor.is_hospital and actor.fixmedins_code != statement.fixmedins_code
    ):
        raise NotFound(f"no statement {statement_id}")
    return statement


def confirm(
    session: Session, statement_id: int, *, reference: str | None, actor: Principal, now: datetime
) -> MonthlyStatement:
    """The hospital confirms (费用确认); confirming again returns it unchanged."""
    statement = get(session, statement_id, actor=actor, lock=True)
    if statement.status == "CONFIRMED" or (
        statement.confirmed_at and statement.status not in ("COMPUTED", "DISPUTED")
    ):
        return statement
    if statement.status != "COMPUTED":
        raise Conflict(f"statement {statement_id} is {statement.status}, not awaiting confirmation")
    statement.status = "CONFIRMED"
    statement.confirmed_at = now
    statement.confirmed_by = actor.name
    statement.confirmation_reference = reference
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="statement.confirm",
        entity="statement",
        key=str(statement.id),
        before={"status": "COMPUTED"},
        after={"status": "CONFIRMED"},
        now=now,
    )
    return statement


def dispute(
    session: Session, statement_id: int, reason: str, *, actor: Principal, now: datetime
) -> MonthlyStatement:
    statement = get(session, statement_id, actor=actor, lock=True)
    if statement.status == "DISPUTED":
        return statement
    if statement.status != "COMPUTED":
        raise Conflict(
            f"statement {statement_id} is {statement.status}; only a computed one is disputed"
        )
    statement.status = "DISPUTED"
    statement.disputed_at = now
    statement.dispute_reason = reason[:300]
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="statement.dispute",
        entity="statement",
        key=str(statement.id),
        before={"status": "COMPUTED"},
        after={"status": "DISPUTED", "reason": reason},
        now=now,
    )
    return statement


def recompute(
    session: Session, statement_id: int, *, actor: Principal, now: datetime
) -> MonthlyStatement:
    """The operator recomputes a disputed statement: its offset and taken items are released
    first, then it is computed afresh."""
    statement = get(session, statement_id, actor=actor, lock=True, fund_lock=True)
    if statement.status != "DISPUTED":
        raise Conflict(
            f"statement {statement_id} is {statement.status}; only a disputed one is recomputed"
        )
    before = _components(statement)
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
        by=actor.name,
        existing={statement.fixmedins_code: statement},
    )
    trail.record(
        session,
        actor=actor,
        action="statement.recompute",
        entity="statement",
        key=str(statement.id),
        before=before,
        after=_components(statement),
        now=now,
    )
    return statement


def _components(statement: MonthlyStatement) -> dict[str, int]:
    return {
        "fund_pay": statement.fund_pay_fen,
        "deposit": statement.deposit_fen,
        "audit": statement.audit_fen,
        "daily_paid": statement.daily_paid_fen,
        "procurement": statement.procurement_fen,
        "returned": statement.returned_fen,
        "offset": statement.offset_fen,
        "net": statement.net_fen,
    }


def approval_refusal(statement: MonthlyStatement, actor: Principal) -> str | None:
    """Why `actor` may not approve (or re-approve) the statement (maker–checker: nobody
    approves what they computed or changed), or None. approve() refuses with it."""
    if actor.name == statement.computed_by:
        return "nobody approves what they computed or changed (maker–checker)"
    return None


def approve(
    session: Session, statement_id: int, *, actor: Principal, now: datetime
) -> MonthlyStatement:
    """Approve a confirmed statement (maker–checker), posting it (SPEC §6); or re-approve a
    failed payment for resending. Approving twice posts once."""
    statement = get(session, statement_id, actor=actor, lock=True, fund_lock=True)
    if statement.status == "FAILED":
        refusal = approval_refusal(statement, actor)
        if refusal is not None:
            raise Forbidden(refusal)
        statement.status = "APPROVED"
        statement.approved_at, statement.approved_by = now, actor.name
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="statement.reapprove",
            entity="statement",
            key=str(statement.id),
            before={"status": "FAILED"},
            after={"status": "APPROVED"},
            now=now,
        )
        return statement
    if statement.status != "CONFIRMED":
        if statement.approved_at is not None:
            return statement
        raise Conflict(f"statement {statement_id} is {statement.status}, not confirmed")
    refusal = approval_refusal(statement, actor)
    if refusal is not None:
        raise Forbidden(refusal)
    _post_approval(session, statement, now)
    statement.status = rules.status_after_approval(statement.net_fen)
    statement.approved_at, statement.approved_by = now, actor.name
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="statement.approve",
        entity="statement",
        key=str(statement.id),
        before={"status": "CONFIRMED"},
        after={"status": statement.status},
        now=now,
    )
    return statement


def _post_approval(session: Session, statement: MonthlyStatement, now: datetime) -> None:
    draft = entries.statement_approval(
        statement_id=statement.id,
        version=statement.version,
        region_code=statement.region_code,
        insutype=statement.insutype,
        fixmedins_code=statement.fixmedins_code,
        period=statement.period,
        audit_fen=statement.audit_fen,
        deposit_fen=statement.deposit_fen,
        procurement_fen=statement.procurement_fen,
        offset_fen=statement.offset_fen,
        net_fen=statement.net_fen,
        effective_at=now,
    )
    if draft is not None:
        ledger.post(session, draft, now=now)


def submit_due(session: Session, fund: FundLedger, *, today: date, now: datetime) -> list[str]:
    """Approved statements with net > 0 leave with the submission: a first instruction, or
    after a failure and re-approval a resend with a new id linked to the first."""
    statements = session.scalars(
        select(MonthlyStatement)
        .where(
            MonthlyStatement.region_code == fund.region_code,
            MonthlyStatement.insutype == fund.insutype,
            MonthlyStatement.status == "APPROVED",
            MonthlyStatement.net_fen > 0,
        )
        .order_by(MonthlyStatement.id)
    ).all()
    items = []
    for statement in statements:
        first_id = bank_rules.monthly_instruction_id(
            statement.period, fund.region_code, fund.insutype, statement.fixmedins_code
        )
        instruction_id, resend_of = first_id, None
        if statement.instruction_id is not None:
            current = session.get(PaymentInstruction, statement.instruction_id)
            if current is None or current.status != "FAILED":
                continue  # sent already, awaiting its result
            resends = (
                session.scalar(
                    select(func.count())
                    .select_from(PaymentInstruction)
                    .where(PaymentInstruction.resend_of == first_id)
                )
                or 0
            )
            instruction_id, resend_of = bank_rules.resend_id(first_id, resends + 1), first_id
        items.append(
            bank.NewInstruction(
                instruction_id=instruction_id,
                kind="monthly",
                fixmedins_code=statement.fixmedins_code,
                amount_fen=statement.net_fen,
                purpose=f"医保基金月结算 {statement.period}",
                source_kind="statement",
                source_id=statement.id,
                period=statement.period,
                resend_of=resend_of,
            )
        )
        statement.instruction_id = instruction_id
    bank.create_instructions(session, fund, items, requested_date=today, now=now)
    session.flush()
    return [item.instruction_id for item in items]


def on_payment_result(session: Session, instruction: PaymentInstruction, now: datetime) -> None:
    statement = session.get(MonthlyStatement, instruction.source_id, with_for_update=True)
    if statement is None or statement.instruction_id != instruction.instruction_id:
        return
    statement.status = {"SUCCESS": "PAID", "FAILED": "FAILED", "RETURNED": "RETURNED"}.get(
        instruction.status, statement.status
    )
    statement.payment_result_at = now
    session.flush()


# --- reading -----------------------------------------------------------------------------------


def list_statements(
    session: Session,
    *,
    fixmedins_code: str | None,
    insutype: str | None,
    period: str | None,
    status: str | None,
    region_code: str | None,
    after_id: int | None,
    limit: int,
) -> list[MonthlyStatement]:
    query = select(MonthlyStatement).order_by(MonthlyStatement.id).limit(limit)
    for value, column in (
        (fixmedins_code, MonthlyStatement.fixmedins_code),
        (insutype, MonthlyStatement.insutype),
        (period, MonthlyStatement.period),
        (status, MonthlyStatement.status),
        (region_code, MonthlyStatement.region_code),
    ):
        if value is not None:
            query = query.where(column == value)
    if after_id is not None:
        query = query.where(MonthlyStatement.id > after_id)
    return list(session.scalars(query))


def scenario_rows(session: Session) -> list[dict[str, Any]]:
    from app.money import yuan

    rows = session.scalars(select(MonthlyStatement)).all()
    result = [
        {
            "period": s.period,
            "region": s.region_code,
            "insutype": s.insutype,
            "fixmedins_code": s.fixmedins_code,
            "fund_pay": yuan(s.fund_pay_fen),
            "deposit": yuan(s.deposit_fen),
            "ratio_amount": yuan(s.ratio_amount_fen),
            "audit": yuan(s.audit_fen),
            "daily_paid": yuan(s.daily_paid_fen),
            "procurement": yuan(s.procurement_fen),
            "returned": yuan(s.returned_fen),
            "offset": yuan(s.offset_fen),
            "net": yuan(s.net_fen),
            "status": s.status,
        }
        for s in rows
    ]
    return sorted(
        result, key=lambda r: (r["period"], r["region"], r["insutype"], r["fixmedins_code"])
    )


def overdue(session: Session, *, today: date, calendar: WorkCalendar) -> list[tuple[str, str, str]]:
    """Deadline alerts of the monthly side (SPEC §4, docs/rules.md "Deadline alerts"), on the
    declaration day of the fund ledger's policy for the period, in Shanghai business dates:
    - `statement_not_computed`: a declared period uncomputed after its settlement deadline
      (the 20th working day after its computation date);
    - `statement_not_confirmed`: a statement still awaiting the hospital's confirmation (or
      disputed) when five working days or fewer are left before that deadline;
    - `statement_not_paid`: an approved payment unpaid after the 5th working day after the
      (Shanghai) date of its approval."""
    found: list[tuple[str, str, str]] = []
    days: dict[tuple[str, str, str], int] = {}
    region_of = dict(session.execute(select(Institution.code, Institution.region_code)).all())

    def declaration_day(code: str, insutype: str, period: str) -> int:
        key = (region_of.get(code, ""), insutype, period)
        if key not in days:
            fund = institutions.find_fund_ledger(session, key[0], insutype)
            policy = institutions.policy_on(session, fund.id, period_end(period)) if fund else None
            days[key] = policy.declaration_day if policy else 15
        return days[key]

    uncomputed = session.execute(
        select(Declaration.fixmedins_code, Declaration.insutype, Declaration.period).where(
            ~exists().where(
                MonthlyStatement.fixmedins_code == Declaration.fixmedins_code,
                MonthlyStatement.insutype == Declaration.insutype,
                MonthlyStatement.period == Declaration.period,
            )
        )
    ).all()
    for code, insutype, period in uncomputed:
        due = deadlines.settlement_deadline(
            period, declaration_day(code, insutype, period), calendar
        )
        if deadlines.past(due, today):
            found.append(
                (
                    "statement_not_computed",
                    f"{code}:{insutype}:{period}",
                    f"{period} 月度结算应于 {due} 前完成，尚未计算",
                )
            )
    unconfirmed = session.execute(
        select(MonthlyStatement.fixmedins_code, MonthlyStatement.insutype, MonthlyStatement.period)
        .where(MonthlyStatement.status.in_(["COMPUTED", "DISPUTED"]))
        .order_by(MonthlyStatement.id)
    ).all()
    for code, insutype, period in unconfirmed:
        limit = deadlines.confirmation_late(
            period, declaration_day(code, insutype, period), today, calendar
        )
        if limit is not None:
            found.append(
                (
                    "statement_not_confirmed",
                    f"{code}:{insutype}:{period}",
                    f"{period} 月度结算单尚未经医院确认，结算期限 {limit}",
                )
            )
    unpaid = session.scalars(
        select(MonthlyStatement)
        .where(MonthlyStatement.status.in_(["APPROVED", "FAILED"]), MonthlyStatement.net_fen > 0)
        .order_by(MonthlyStatement.id)
    ).all()
    for statement in unpaid:
        approved = statement.approved_at
        if approved is None:
            continue
        approved_on = business_date(approved)
        due = deadlines.payment_deadline(approved_on, calendar)
        if deadlines.past(due, today):
            found.append(
                (
                    "statement_not_paid",
                    f"{statement.fixmedins_code}:{statement.insutype}:{statement.period}",
                    f"{approved_on} 审批，应于 {due} 前支付，尚未支付成功",
                )
            )
    return found
