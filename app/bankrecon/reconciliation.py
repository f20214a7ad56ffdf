"""The balance reconciliation (余额调节表) of a stored bank statement with the ledger's `bank`
account, and its differences, alerted (docs/bank-statements.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.bank.models import PaymentInstruction
from app.bankrecon import rules
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.clock import at_shanghai
from app.db import any_of, in_chunks
from app.institutions.models import FundLedger
from app.ledger import service as ledger
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import account_code

ALERT_KIND = "bank_statement_difference"
ITEMS_LISTED_MAX = 200  # per kind of item in the stored reconciliation
RECONCILE_WINDOW_DAYS = 92  # open items are looked for this far back


def _day_end(day: date) -> datetime:
    """The first instant after a Shanghai date."""
    return at_shanghai(day + timedelta(days=1), time(0, 0))


def alert_subject(statement: BankStatement) -> str:
    return f"{statement.account}:{statement.statement_date}:v{statement.version}"


def _bank_code(fund: FundLedger) -> str:
    return account_code("bank", fund.region_code, fund.insutype)


def _bank_account_id(session: Session, fund: FundLedger) -> int | None:
    return session.scalar(select(LedgerAccount.id).where(LedgerAccount.code == _bank_code(fund)))


OPPOSITE = {"D": "C", "C": "D"}  # a debit on the statement is a credit of `bank`


def reconcile(session: Session, row: BankStatement, fund: FundLedger, now: datetime) -> None:
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
        # an entry's value date lies within its statement's days: the statements of the
        # window only (the account's statements index), not every one the account ever had
        .where(
            current,
            BankStatement.statement_date >= window_from,
            BankStatementEntry.value_date >= window_from,
        )
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
                    # the fund's entries of the window (ix_journal_entry_fund_effective), not
                    # every fund's, nor every `bank` posting ever
                    JournalEntry.region_code == fund.region_code,
                    JournalEntry.insutype == fund.insutype,
                    JournalEntry.effective_at >= start,
                    JournalEntry.effective_at < end,
                )
                .order_by(JournalEntry.id)
            ).all()
        )
        # `bank` is a debit account: its balance is the money in it. The entries effective
        # before the day's end, from the fund's balance snapshot and the postings after it:
        # a bounded read however long the history (issue 20.2, 20.4).
        ledger_balance = ledger.balance_as_of(
            session, _bank_code(fund), end - timedelta(microseconds=1)
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
            subject=alert_subject(row),
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
