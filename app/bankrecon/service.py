"""Bank statement reconciliation (银行对账, docs/bank-statements.md): the bank's end-of-day
statement of each expenditure account, fetched after the bank's close or uploaded, matched
entry by entry to the service's documents, and the balance reconciliation (余额调节表) with
the ledger's `bank` account. Idempotent per statement; a corrected statement supersedes the
earlier version, which is kept."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.bank.models import PaymentInstruction
from app.bank.protocol import StatementOutcome
from app.bankrecon import rules
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.bankrecon.schemas import StatementIn
from app.clock import at_shanghai
from app.db import any_of, in_chunks, transaction
from app.errors import Conflict, Invalid, NotFound
from app.institutions.models import FundLedger
from app.jobcontext import JobContext
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import account_code
from app.monthly.models import ProcurementAdvance, Repayment
from app.treasury.models import Appropriation
from app.workdays import service as workdays

ALERT_KIND = "bank_statement_difference"
MISSING_KIND = "bank_statement_missing"
ITEMS_LISTED_MAX = 200  # per kind of item in the stored reconciliation
RECONCILE_WINDOW_DAYS = 92  # open items are looked for this far back
DIRECTIONS = {"DEBIT": "D", "CREDIT": "C"}


def _day_end(day: date) -> datetime:
    """The first instant after a Shanghai date."""
    return at_shanghai(day + timedelta(days=1), time(0, 0))


def _canonical_hash(statement: StatementIn) -> str:
    body = statement.model_dump(mode="json")
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _fund_of(session: Session, account: str) -> FundLedger:
    fund = session.scalar(select(FundLedger).where(FundLedger.expenditure_account == account))
    if fund is None:
        raise Invalid.field(
            "account", "unknown_account", "no fund ledger has this expenditure account"
        )
    return fund


def current(session: Session, account: str, statement_date: date) -> BankStatement | None:
    return session.scalar(
        select(BankStatement).where(
            BankStatement.account == account,
            BankStatement.statement_date == statement_date,
            BankStatement.superseded_at.is_(None),
        )
    )


def receive(
    session: Session,
    statement: StatementIn,
    *,
    source: str,
    actor: str,
    now: datetime,
) -> tuple[BankStatement, bool]:
    """Store and reconcile a statement. The same statement again returns the stored one
    (False); another body for the same account and date supersedes it (a new version)."""
    assert source in ("fetch", "upload")
    fund = _fund_of(session, statement.account)
    if statement.from_date > statement.statement_date:
        raise Invalid.field("from_date", "not_after_statement_date", "is after statement_date")
    entries = [
        rules.Entry(number, DIRECTIONS[e.direction], e.amount, e.business_ref)
        for number, e in enumerate(statement.entries, start=1)
    ]
    for number, entry in enumerate(statement.entries, start=1):
        if not statement.from_date <= entry.value_date <= statement.statement_date:
            raise Invalid.field(
                f"entries[{number - 1}].value_date",
                "within_statement",
                "lies outside from_date..statement_date",
            )
    if not rules.adds_up(statement.opening_balance, statement.closing_balance, entries):
        raise Invalid.field(
            "closing_balance",
            "balance_adds_up",
            "is not the opening balance plus credits minus debits",
        )
    digest = _canonical_hash(statement)
    earlier = session.scalar(
        select(BankStatement)
        .where(
            BankStatement.account == statement.account,
            BankStatement.statement_date == statement.statement_date,
            BankStatement.superseded_at.is_(None),
        )
        .with_for_update()
    )
    if earlier is not None and earlier.body_hash == digest:
        return earlier, False
    version = 1
    if earlier is not None and earlier.source == "fetch" and source != "fetch":
        # What the bank itself delivered is replaced only by the bank: one person's upload
        # could otherwise hide a double payment and clear its alert.
        raise Conflict(
            f"the statement of {statement.account} for {statement.statement_date} came from "
            "the bank; only the bank's own corrected statement replaces it"
        )
    if earlier is not None:
        version = earlier.version + 1
        earlier.superseded_at = now
    row = BankStatement(
        account=statement.account,
        region_code=fund.region_code,
        insutype=fund.insutype,
        statement_date=statement.statement_date,
        from_date=statement.from_date,
        version=version,
        opening_fen=statement.opening_balance,
        closing_fen=statement.closing_balance,
        entry_count=len(entries),
        body_hash=digest,
        body=statement.model_dump(mode="json"),
        source=source,
        received_at=now,
        received_by=actor,
        status="RECONCILED",
        ledger_balance_fen=0,
        bank_only_fen=0,
        ledger_only_fen=0,
        unexplained_fen=0,
        reconciliation={},
    )
    session.add(row)
    session.flush()
    alerts.resolve(
        session, kind=MISSING_KIND, subject=_day(row.account, row.statement_date), now=now
    )
    if earlier is not None:
        earlier.superseded_by_id = row.id
        alerts.resolve(session, kind=ALERT_KIND, subject=_subject(earlier), now=now)
    _store_entries(session, row, fund, statement)
    _reconcile(session, row, fund, now)
    return row, True


def _day(account: str, day: date) -> str:
    return f"{account}:{day}"


def _subject(statement: BankStatement) -> str:
    return f"{statement.account}:{statement.statement_date}:v{statement.version}"


def _candidates(session: Session, fund: FundLedger, refs: set[str]) -> rules.Candidates:
    if not refs:
        return rules.Candidates({}, {}, {}, {})
    region, insutype = fund.region_code, fund.insutype
    listed = sorted(refs)
    instructions = {
        i: (amount, status)
        for i, amount, status in session.execute(
            select(
                PaymentInstruction.instruction_id,
                PaymentInstruction.amount_fen,
                PaymentInstruction.status,
            ).where(
                PaymentInstruction.region_code == region,
                PaymentInstruction.insutype == insutype,
                PaymentInstruction.instruction_id.in_(listed),
            )
        )
    }
    appropriations = {
        reference: amount
        for reference, amount in session.execute(
            select(Appropriation.reference, Appropriation.amount_fen).where(
                Appropriation.region_code == region,
                Appropriation.insutype == insutype,
                Appropriation.reference.in_(listed),
            )
        )
    }
    repayments = {
        receipt_no: (row_id, amount)
        for row_id, receipt_no, amount in session.execute(
            select(Repayment.id, Repayment.receipt_no, Repayment.amount_fen).where(
                Repayment.region_code == region,
                Repayment.insutype == insutype,
                Repayment.receipt_no.in_(listed),
            )
        )
    }
    advances = {
        reference: (row_id, amount)
        for row_id, reference, amount in session.execute(
            select(
                ProcurementAdvance.id, ProcurementAdvance.reference, ProcurementAdvance.amount_fen
            ).where(
                ProcurementAdvance.region_code == region,
                ProcurementAdvance.insutype == insutype,
                ProcurementAdvance.reference.in_(listed),
            )
        )
    }
    return rules.Candidates(instructions, appropriations, repayments, advances)


def _store_entries(
    session: Session, row: BankStatement, fund: FundLedger, statement: StatementIn
) -> None:
    entries = [
        rules.Entry(number, DIRECTIONS[e.direction], e.amount, e.business_ref)
        for number, e in enumerate(statement.entries, start=1)
    ]
    known = _candidates(session, fund, {e.business_ref for e in entries})
    taken = (
        session.execute(
            select(BankStatementEntry.direction, BankStatementEntry.ledger_ref)
            .join(BankStatement, BankStatement.id == BankStatementEntry.statement_id)
            .where(
                BankStatement.account == row.account,
                BankStatement.superseded_at.is_(None),
                BankStatement.id != row.id,
                BankStatementEntry.ledger_ref.is_not(None),
                BankStatementEntry.outcome != rules.DUPLICATE,
                # the same document has the same business reference
                BankStatementEntry.business_ref.in_(sorted({e.business_ref for e in entries})),
            )
        ).all()
        if entries
        else []
    )
    matches = rules.match_entries(entries, known, [(d, r) for d, r in taken if r is not None])
    for wire, match in zip(statement.entries, matches, strict=True):
        session.add(
            BankStatementEntry(
                statement_id=row.id,
                line_no=match.line_no,
                bank_serial=wire.bank_serial,
                direction=DIRECTIONS[wire.direction],
                amount_fen=wire.amount,
                value_date=wire.value_date,
                counterparty_account=wire.counterparty_account,
                counterparty_name=wire.counterparty_name,
                business_ref=wire.business_ref,
                match_kind=match.kind,
                ledger_ref=match.ledger_ref,
                outcome=match.outcome,
                expected_fen=match.expected_fen,
            )
        )
    session.flush()


def _bank_account_id(session: Session, fund: FundLedger) -> int | None:
    return session.scalar(
        select(LedgerAccount.id).where(
            LedgerAccount.code == account_code("bank", fund.region_code, fund.insutype)
        )
    )


OPPOSITE = {"D": "C", "C": "D"}  # a debit on the statement is a credit of `bank`


def _reconcile(session: Session, row: BankStatement, fund: FundLedger, now: datetime) -> None:
    """The balance reconciliation as of the statement's day and the differences, alerted.

    Items are looked for among the bank's entries and the ledger's `bank` postings of the
    last RECONCILE_WINDOW_DAYS (from the account's first statement at most); their other
    side wherever it lies (by business reference, indexed). An item open for longer is not
    itemised: it shows as unexplained."""
    end = _day_end(row.statement_date)
    first_from = session.scalar(
        select(func.min(BankStatement.from_date)).where(
            BankStatement.account == row.account, BankStatement.superseded_at.is_(None)
        )
    )
    assert first_from is not None
    window_from = max(first_from, row.statement_date - timedelta(days=RECONCILE_WINDOW_DAYS))
    start = at_shanghai(window_from, time(0, 0))
    bank_id = _bank_account_id(session, fund)
    current = and_(
        BankStatement.account == row.account,
        BankStatement.superseded_at.is_(None),
        BankStatement.statement_date <= row.statement_date,
    )
    entries = session.execute(
        select(
            BankStatement.statement_date,
            BankStatementEntry.line_no,
            BankStatementEntry.direction,
            BankStatementEntry.amount_fen,
            BankStatementEntry.business_ref,
            BankStatementEntry.ledger_ref,
            BankStatementEntry.outcome,
        )
        .join(BankStatement, BankStatement.id == BankStatementEntry.statement_id)
        .where(current, BankStatementEntry.value_date >= window_from)
        .order_by(BankStatement.statement_date, BankStatementEntry.line_no)
    ).all()
    postings: list[Any] = []
    ledger_balance = 0
    if bank_id is not None:
        postings = list(
            session.execute(
                select(
                    JournalEntry.id,
                    JournalEntry.business_ref,
                    LedgerPosting.side,
                    LedgerPosting.amount_fen,
                    JournalEntry.effective_at,
                )
                .join(JournalEntry, JournalEntry.id == LedgerPosting.entry_id)
                .where(
                    LedgerPosting.account_id == bank_id,
                    JournalEntry.effective_at >= start,
                    JournalEntry.effective_at < end,
                )
                .order_by(JournalEntry.id)
            ).all()
        )
        amount = LedgerPosting.amount_fen
        # a debit of `bank` is money in, a credit money out
        money_in = case((LedgerPosting.side == "D", amount), else_=-amount)
        ledger_balance = int(
            session.scalar(
                select(func.coalesce(func.sum(money_in), 0))
                .join(JournalEntry, JournalEntry.id == LedgerPosting.entry_id)
                .where(LedgerPosting.account_id == bank_id, JournalEntry.effective_at < end)
            )
            or 0
        )
    ledger_keys = {(p.business_ref, p.side) for p in postings}
    outside = sorted({e.ledger_ref for e in entries if e.ledger_ref} - {k[0] for k in ledger_keys})
    if bank_id is not None:
        for chunk in in_chunks(session, outside):
            ledger_keys.update(
                session.execute(
                    select(JournalEntry.business_ref, LedgerPosting.side)
                    .join(JournalEntry, JournalEntry.id == LedgerPosting.entry_id)
                    .where(
                        LedgerPosting.account_id == bank_id,
                        any_of(session, JournalEntry.business_ref, chunk),
                        JournalEntry.effective_at < end,
                    )
                ).all()
            )
    bank_keys = {(e.ledger_ref, e.direction) for e in entries if e.ledger_ref}
    outside = sorted({p.business_ref for p in postings} - {k[0] for k in bank_keys})
    for chunk in in_chunks(session, outside):
        bank_keys.update(
            session.execute(
                select(BankStatementEntry.ledger_ref, BankStatementEntry.direction)
                .join(BankStatement, BankStatement.id == BankStatementEntry.statement_id)
                .where(current, any_of(session, BankStatementEntry.ledger_ref, chunk))
            ).all()
        )
    bank_only = [
        e
        for e in entries
        if e.ledger_ref is None or (e.ledger_ref, OPPOSITE[e.direction]) not in ledger_keys
    ]
    ledger_only = [p for p in postings if (p.business_ref, OPPOSITE[p.side]) not in bank_keys]
    table = rules.BalanceReconciliation(
        bank_closing_fen=row.closing_fen,
        bank_only_fen=sum(rules.signed(r.direction, r.amount_fen) for r in bank_only),
        # the ledger's debit of `bank` is money in
        ledger_only_fen=sum(r.amount_fen if r.side == "D" else -r.amount_fen for r in ledger_only),
        ledger_balance_fen=ledger_balance,
    )
    own = session.execute(
        select(BankStatementEntry).where(
            BankStatementEntry.statement_id == row.id,
            BankStatementEntry.outcome != rules.MATCHED,
        )
    ).scalars()
    differences = [
        {
            "line_no": e.line_no,
            "business_ref": e.business_ref,
            "direction": e.direction,
            "amount_fen": e.amount_fen,
            "expected_fen": e.expected_fen,
            "outcome": e.outcome,
        }
        for e in own
    ]
    missing = _paid_without_entry(session, row, fund, end)
    # A ledger posting from before the statement's days that no statement shows is no timing
    # item: the money the ledger holds (an appropriation, a repayment, a return) never reached
    # the bank (or left it unbooked). Only the statement's own days may be in transit.
    opened = at_shanghai(row.from_date, time(0, 0))
    overdue = [p for p in ledger_only if p.effective_at < opened]
    row.ledger_balance_fen = table.ledger_balance_fen
    row.bank_only_fen = table.bank_only_fen
    row.ledger_only_fen = table.ledger_only_fen
    row.unexplained_fen = table.unexplained_fen
    row.reconciliation = {
        "bank_only": [
            {
                "statement_date": r.statement_date.isoformat(),
                "line_no": r.line_no,
                "direction": r.direction,
                "amount_fen": r.amount_fen,
                "business_ref": r.business_ref,
                "outcome": r.outcome,
            }
            for r in bank_only[:ITEMS_LISTED_MAX]
        ],
        "ledger_only": [
            {
                "entry_id": r.id,
                "business_ref": r.business_ref,
                "side": r.side,
                "amount_fen": r.amount_fen,
                "effective_at": r.effective_at.isoformat(),
            }
            for r in ledger_only[:ITEMS_LISTED_MAX]
        ],
        "differences": differences[:ITEMS_LISTED_MAX],
        "paid_without_entry": missing[:ITEMS_LISTED_MAX],
        "ledger_only_overdue": [
            {"entry_id": r.id, "business_ref": r.business_ref, "amount_fen": r.amount_fen}
            for r in overdue[:ITEMS_LISTED_MAX]
        ],
        "counts": {
            "bank_only": len(bank_only),
            "ledger_only": len(ledger_only),
            "ledger_only_overdue": len(overdue),
            "differences": len(differences),
            "paid_without_entry": len(missing),
        },
    }
    bad = bool(differences or missing or overdue or table.unexplained_fen)
    row.status = "DIFFERENCES" if bad else "RECONCILED"
    session.flush()
    if bad:
        alerts.raise_alert(
            session,
            kind=ALERT_KIND,
            subject=_subject(row),
            detail=(
                f"银行对账单 {row.account} {row.statement_date} 第{row.version}版: "
                f"未匹配或金额不符 {len(differences)} 笔, 已支付无对账单记录 {len(missing)} 笔, "
                f"账已记而银行逾期未记 {len(overdue)} 笔, "
                f"余额调节后差额 {table.unexplained_fen / 100:.2f} 元"
            ),
            now=now,
        )


def _paid_without_entry(
    session: Session, row: BankStatement, fund: FundLedger, end: datetime
) -> list[dict[str, Any]]:
    """Instructions of the fund ledger the service holds as paid (the bank's result
    arrived during the statement's days) without a debit on any current statement of the
    account up to this one."""
    start = at_shanghai(row.from_date, time(0, 0))
    listed = exists().where(
        BankStatementEntry.statement_id == BankStatement.id,
        BankStatement.account == row.account,
        BankStatement.superseded_at.is_(None),
        BankStatement.statement_date <= row.statement_date,
        BankStatementEntry.direction == "D",
        BankStatementEntry.business_ref == PaymentInstruction.instruction_id,
    )
    rows = session.execute(
        select(PaymentInstruction.instruction_id, PaymentInstruction.amount_fen)
        .where(
            PaymentInstruction.region_code == fund.region_code,
            PaymentInstruction.insutype == fund.insutype,
            PaymentInstruction.status.in_(rules.PAID_STATUSES),
            PaymentInstruction.result_at >= start,
            PaymentInstruction.result_at < end,
            ~listed,
        )
        .order_by(PaymentInstruction.instruction_id)
    ).all()
    return [{"instruction_id": i, "amount_fen": amount} for i, amount in rows]


# --- fetching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchOutcome:
    account: str
    outcome: str  # stored | known | absent | not_ready | invalid
    statement_id: int | None = None
    status: str | None = None


def accounts(session: Session) -> list[tuple[str, str, str]]:
    """(expenditure account, region, insutype) of every fund ledger."""
    return [
        (a, r, t)
        for a, r, t in session.execute(
            select(
                FundLedger.expenditure_account, FundLedger.region_code, FundLedger.insutype
            ).order_by(FundLedger.region_code, FundLedger.insutype)
        )
    ]


def receive_fetched(
    session: Session, body: dict[str, Any] | None, *, account: str, now: datetime
) -> FetchOutcome:
    """Store what the bank sent; a statement that breaks the format or does not add up is
    an alert (nothing stored)."""
    try:
        statement = StatementIn.model_validate(body)
        if statement.account != account:
            raise ValueError("another account's statement")
        row, created = receive(session, statement, source="fetch", actor="bank", now=now)
    except (ValidationError, ValueError, Invalid) as error:
        alerts.raise_alert(
            session,
            kind="bank_statement_invalid",
            subject=f"{account}:{(body or {}).get('statement_date')}",
            detail=f"银行对账单无法读取: {str(error)[:300]}",
            now=now,
        )
        return FetchOutcome(account, "invalid")
    return FetchOutcome(account, "stored" if created else "known", row.id, row.status)


def fetch_day(ctx: JobContext, day: date) -> dict[str, Any]:
    """After the bank's close: the statement of `day` of every expenditure account, one
    transaction per account (the bank's answer is read outside any transaction)."""
    with transaction(ctx.session_factory) as session:
        if not workdays.load(session).is_working(day):
            return {"working_day": False}
        wanted = accounts(session)
    gateway = ctx.gateway
    assert gateway is not None, "the statement job runs only with a bank gateway"
    outcomes: dict[str, str] = {}
    for account, _region, _insutype in wanted:
        result = gateway.statement(account, day.isoformat())
        if result.outcome != StatementOutcome.FOUND:
            # A working day's statement the bank did not deliver: said, not skipped (the
            # job is done for the day; the statement is uploaded or fetched again by hand).
            with transaction(ctx.session_factory) as session:
                alerts.raise_alert(
                    session,
                    kind=MISSING_KIND,
                    subject=_day(account, day),
                    detail=f"银行未提供 {account} {day} 的对账单（{result.outcome}）："
                    "请向银行索取后上传，或再次运行 bank_statement 任务",
                    now=ctx.clock.now(),
                )
            outcomes[account] = result.outcome
            continue
        with transaction(ctx.session_factory) as session:
            done = receive_fetched(session, result.body, account=account, now=ctx.clock.now())
        outcomes[account] = done.outcome if done.status is None else done.status
    return {"statements": outcomes}


def get(session: Session, statement_id: int) -> BankStatement:
    row = session.get(BankStatement, statement_id)
    if row is None:
        raise NotFound(f"no bank statement {statement_id}")
    return row


def entries_of(session: Session, statement_id: int) -> list[BankStatementEntry]:
    return list(
        session.scalars(
            select(BankStatementEntry)
            .where(BankStatementEntry.statement_id == statement_id)
            .order_by(BankStatementEntry.line_no)
        )
    )


def list_statements(
    session: Session,
    *,
    region_code: str | None,
    insutype: str | None,
    statement_date: date | None,
    include_superseded: bool,
    after_id: int | None,
    limit: int,
) -> list[BankStatement]:
    query = select(BankStatement).order_by(BankStatement.id).limit(limit)
    if region_code:
        query = query.where(BankStatement.region_code == region_code)
    if insutype:
        query = query.where(BankStatement.insutype == insutype)
    if statement_date:
        query = query.where(BankStatement.statement_date == statement_date)
    if not include_superseded:
        query = query.where(BankStatement.superseded_at.is_(None))
    if after_id is not None:
        query = query.where(BankStatement.id > after_id)
    return list(session.scalars(query))
