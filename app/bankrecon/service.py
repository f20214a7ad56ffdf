"""Bank statement reconciliation (银行对账, docs/bank-statements.md): the bank's end-of-day
statement of each expenditure account, fetched after the bank's close or uploaded, matched
entry by entry to the service's documents, and the balance reconciliation (余额调节表) with
the ledger's `bank` account. Idempotent per statement; a corrected statement supersedes the
earlier version, which is kept.

Here: receiving a statement and matching its entries; the balance reconciliation is in
`reconciliation`, the daily fetch from the bank in `fetching`."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from app.alerts import service as alerts
from app.bank.models import PaymentInstruction
from app.bankrecon import rules
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.bankrecon.reconciliation import ALERT_KIND, alert_subject, reconcile
from app.bankrecon.schemas import StatementIn
from app.errors import Conflict, Invalid, NotFound
from app.institutions.models import FundLedger
from app.monthly.models import ProcurementAdvance, Repayment
from app.treasury.models import Appropriation

MISSING_KIND = "bank_statement_missing"
DIRECTIONS = {"DEBIT": "D", "CREDIT": "C"}


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
        session,
        kind=MISSING_KIND,
        subject=missing_subject(row.account, row.statement_date),
        now=now,
    )
    if earlier is not None:
        earlier.superseded_by_id = row.id
        alerts.resolve(session, kind=ALERT_KIND, subject=alert_subject(earlier), now=now)
    _store_entries(session, row, fund, statement)
    reconcile(session, row, fund, now)
    return row, True


def missing_subject(account: str, day: date) -> str:
    return f"{account}:{day}"


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


def get(session: Session, statement_id: int) -> BankStatement:
    row = session.get(BankStatement, statement_id, options=[defer(BankStatement.body)])
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
    # the stored body (up to 3,000 entries) is not shown: a page of them read 10 s on PostgreSQL
    query = (
        select(BankStatement)
        .options(defer(BankStatement.body))
        .order_by(BankStatement.id)
        .limit(limit)
    )
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
