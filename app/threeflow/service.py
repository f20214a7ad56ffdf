"""The three-flow check (三流核对, issue 19): business flow (settlements, daily lines,
statements, clearings), fund flow (instructions, receipts, the bank's statements) and
information flow (the ledger) agree, per fund ledger. Set-based SQL: each check is a few
grouped queries, whatever the number of rows. Reads only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, true
from sqlalchemy.orm import Session, aliased

from app.annual.models import AnnualClearing
from app.bank.models import PaymentInstruction
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.clock import at_shanghai
from app.daily import membership
from app.daily.models import DailyBatch, DailyLine
from app.institutions.models import FundLedger
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import normal_balance
from app.monthly.models import MonthlyStatement, ProcurementAdvance, Repayment
from app.settlements.models import BatchState, Revocation, Settlement
from app.threeflow import rules
from app.treasury.models import Appropriation

APPROVED = ("APPROVED", "PAID", "FAILED", "RETURNED", "SETTLED", "RECEIVABLE")
AWAITING = ("QUEUED", "ACCEPTED", "UNKNOWN")
PAID = ("SUCCESS", "RETURNED")
DIFFERENCES_MAX = 1000  # listed; the count says how many there were


@dataclass(frozen=True)
class Difference:
    check: str
    region_code: str
    insutype: str
    fixmedins_code: str | None
    document: str
    detail: str


@dataclass
class Report:
    date_from: date | None
    date_to: date | None
    counts: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return self.difference_count == 0

    def add(self, difference: Difference) -> None:
        self.difference_count += 1
        if len(self.differences) < DIFFERENCES_MAX:
            self.differences.append(difference)


def _between(column: Any, date_from: date | None, date_to: date | None) -> Any:
    conditions = []
    if date_from is not None:
        conditions.append(column >= date_from)
    if date_to is not None:
        conditions.append(column <= date_to)
    return and_(true(), *conditions)


def check(
    session: Session, *, date_from: date | None = None, date_to: date | None = None
) -> Report:
    """Every check, for every fund ledger; documents dated within the range (settlement
    date, batch date, requested date, statement date), balances as they stand now."""
    report = Report(date_from, date_to)
    _settlements_in_lines(session, report)
    _line_amounts(session, report)
    _instructions(session, report)
    _documents_paid(session, report)
    _receipts(session, report)
    _bank_statements(session, report)
    _in_transit(session, report)
    _institutions(session, report)
    return report


# --- business flow ------------------------------------------------------------------------------


def _settlements_in_lines(session: Session, report: Report) -> None:
    """Every accepted settlement whose batch was generated is in exactly one daily line (the
    line of its institution in the batch that holds its batch date), or was revoked before it."""
    revoked_unbatched = (
        select(Revocation.settlement_id).where(Revocation.batched.is_(False)).scalar_subquery()
    )
    generated = and_(
        BatchState.fund_ledger_id == FundLedger.id,
        BatchState.last_generated_date >= Settlement.batch_date,
    )
    lines = (
        select(func.count(DailyLine.id))
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .where(
            membership.holds(),
            DailyLine.fixmedins_code == Settlement.fixmedins_code,
        )
        .correlate(Settlement)
        .scalar_subquery()
    )
    scope = _between(Settlement.setl_date, report.date_from, report.date_to)
    rows = session.execute(
        select(
            Settlement.region_code,
            Settlement.insutype,
            Settlement.fixmedins_code,
            Settlement.setl_id,
            Settlement.batch_date,
            lines.label("lines"),
        )
        .join(
            FundLedger,
            and_(
                FundLedger.region_code == Settlement.region_code,
                FundLedger.insutype == Settlement.insutype,
            ),
        )
        .join(BatchState, generated)
        .where(scope, Settlement.id.not_in(revoked_unbatched), lines != 1)
    ).all()
    report.counts["settlements"] = (
        session.scalar(select(func.count(Settlement.id)).where(scope)) or 0
    )
    for row in rows:
        if row.lines != 1:
            report.add(
                Difference(
                    "settlement_in_line",
                    row.region_code,
                    row.insutype,
                    row.fixmedins_code,
                    f"settlement:{row.fixmedins_code}:{row.setl_id}",
                    f"in {row.lines} daily lines of batch date {row.batch_date}, not one",
                )
            )


def _line_amounts(session: Session, report: Report) -> None:
    """Every daily line's count, fund total and amount are those of its settlements."""
    revoked_unbatched = (
        select(Revocation.settlement_id).where(Revocation.batched.is_(False)).scalar_subquery()
    )
    members = (
        select(
            DailyBatch.id.label("batch_id"),
            Settlement.fixmedins_code,
            func.count(Settlement.id).label("count"),
            func.sum(Settlement.fund_amount_fen).label("fund"),
            func.sum(Settlement.daily_amount_fen).label("daily"),
        )
        .join(DailyBatch, membership.holds())
        .where(Settlement.id.not_in(revoked_unbatched))
        .group_by(DailyBatch.id, Settlement.fixmedins_code)
        .subquery()
    )
    scope = _between(DailyBatch.business_date, report.date_from, report.date_to)
    rows = session.execute(
        select(
            DailyLine.id,
            DailyBatch.region_code,
            DailyBatch.insutype,
            DailyLine.fixmedins_code,
            DailyLine.settlement_count,
            DailyLine.fund_total_fen,
            DailyLine.amount_fen,
            func.coalesce(members.c.count, 0),
            func.coalesce(members.c.fund, 0),
            func.coalesce(members.c.daily, 0),
        )
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .outerjoin(
            members,
            and_(
                members.c.batch_id == DailyLine.batch_id,
                members.c.fixmedins_code == DailyLine.fixmedins_code,
            ),
        )
        .where(
            scope,
            or_(
                DailyLine.settlement_count != func.coalesce(members.c.count, 0),
                DailyLine.fund_total_fen != func.coalesce(members.c.fund, 0),
                DailyLine.amount_fen != func.coalesce(members.c.daily, 0),
            ),
        )
    ).all()
    report.counts["daily_lines"] = (
        session.scalar(
            select(func.count(DailyLine.id))
            .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
            .where(scope)
        )
        or 0
    )
    for line_id, region, insutype, code, count, fund, amount, m_count, m_fund, m_daily in rows:
        if (count, fund, amount) != (m_count, m_fund, m_daily):
            report.add(
                Difference(
                    "line_amount",
                    region,
                    insutype,
                    code,
                    f"daily_line:{line_id}",
                    f"line says {count} settlements, fund {fund}, amount {amount} fen; its "
                    f"settlements say {m_count}, {m_fund}, {m_daily} fen",
                )
            )


# --- fund flow ------------------------------------------------------------------------------------


def _instructions(session: Session, report: Report) -> None:
    """Every daily line sent has its instruction, of its amount; every instruction's amount
    is what the ledger posted when it was sent."""
    scope = _between(DailyBatch.business_date, report.date_from, report.date_to)
    instruction = aliased(PaymentInstruction)
    rows = session.execute(
        select(
            DailyLine.id,
            DailyBatch.region_code,
            DailyBatch.insutype,
            DailyLine.fixmedins_code,
            DailyLine.amount_fen,
            DailyLine.instruction_id,
            instruction.instruction_id,
            instruction.amount_fen,
            instruction.source_id,
        )
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .outerjoin(instruction, instruction.instruction_id == DailyLine.instruction_id)
        .where(
            scope,
            or_(
                DailyLine.instruction_id.is_not(None),
                and_(
                    DailyBatch.status == "SUBMITTED",
                    DailyLine.held.is_(False),
                    DailyLine.withdrawn_at.is_(None),
                    DailyLine.amount_fen > 0,
                ),
            ),
        )
    ).all()
    for line_id, region, insutype, code, amount, wanted, found, i_amount, source_id in rows:
        document = f"daily_line:{line_id}"
        if wanted is None:
            detail = "sent with its batch, but has no instruction"
        elif found is None:
            detail = f"its instruction {wanted} does not exist"
        elif i_amount != amount or source_id != line_id:
            detail = f"instruction {found} is {i_amount} fen for line {source_id}; line {amount}"
        else:
            continue
        report.add(Difference("line_instruction", region, insutype, code, document, detail))
    # instructions of daily lines that their line does not name
    orphans = session.execute(
        select(
            PaymentInstruction.instruction_id,
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.source_id,
        )
        .outerjoin(
            DailyLine,
            and_(
                DailyLine.id == PaymentInstruction.source_id,
                DailyLine.instruction_id == PaymentInstruction.instruction_id,
            ),
        )
        .where(
            PaymentInstruction.source_kind == "daily_line",
            DailyLine.id.is_(None),
            _between(PaymentInstruction.requested_date, report.date_from, report.date_to),
        )
    ).all()
    for instruction_id, region, insutype, code, source_id in orphans:
        report.add(
            Difference(
                "line_instruction",
                region,
                insutype,
                code,
                f"instruction:{instruction_id}",
                f"daily line {source_id} does not name this instruction",
            )
        )
    # the amount the ledger posted when the instruction was sent
    scope = _between(PaymentInstruction.requested_date, report.date_from, report.date_to)
    posted = (
        select(
            JournalEntry.business_ref.label("ref"),
            func.sum(LedgerPosting.amount_fen).label("amount"),
        )
        .join(LedgerPosting, LedgerPosting.entry_id == JournalEntry.id)
        .where(JournalEntry.kind == "instruction_sent", LedgerPosting.side == "D")
        .group_by(JournalEntry.business_ref)
        .subquery()
    )
    sent_rows = session.execute(
        select(
            PaymentInstruction.instruction_id,
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.amount_fen,
            posted.c.amount,
        )
        .outerjoin(
            posted, posted.c.ref == literal("instruction:") + PaymentInstruction.instruction_id
        )
        .where(
            scope,
            or_(posted.c.amount.is_(None), posted.c.amount != PaymentInstruction.amount_fen),
        )
    ).all()
    report.counts["instructions"] = (
        session.scalar(select(func.count(PaymentInstruction.instruction_id)).where(scope)) or 0
    )
    for instruction_id, region, insutype, code, amount, ledger_amount in sent_rows:
        if ledger_amount != amount:
            report.add(
                Difference(
                    "instruction_amount",
                    region,
                    insutype,
                    code,
                    f"instruction:{instruction_id}",
                    f"instruction says {amount} fen, the ledger posted {ledger_amount} fen "
                    "when it was sent",
                )
            )


def _documents_paid(session: Session, report: Report) -> None:
    """Every approved statement and clearing with a positive amount is paid by instructions
    of exactly that amount, and nothing else is."""
    for model, amount_column, kind, label in (
        (MonthlyStatement, MonthlyStatement.net_fen, "statement", "statements"),
        (AnnualClearing, AnnualClearing.actual_fen, "clearing", "clearings"),
    ):
        paying = (
            select(
                PaymentInstruction.source_id.label("source_id"),
                func.count().label("count"),
                func.min(PaymentInstruction.amount_fen).label("low"),
                func.max(PaymentInstruction.amount_fen).label("high"),
            )
            .where(PaymentInstruction.source_kind == kind)
            .group_by(PaymentInstruction.source_id)
            .subquery()
        )
        rows = session.execute(
            select(
                model.id,
                model.region_code,
                model.insutype,
                model.fixmedins_code,
                model.status,
                amount_column,
                func.coalesce(paying.c.count, 0),
                paying.c.low,
                paying.c.high,
            ).outerjoin(paying, paying.c.source_id == model.id)
        ).all()
        report.counts[label] = len(rows)
        for doc_id, region, insutype, code, status, amount, count, low, high in rows:
            approved = status in APPROVED
            if approved and amount > 0:
                wrong = count == 0 or low != amount or high != amount
            else:
                wrong = count > 0
            if wrong:
                report.add(
                    Difference(
                        "document_instruction",
                        region,
                        insutype,
                        code,
                        f"{kind}:{doc_id}",
                        f"{status} for {amount} fen; {count} instructions of {low}..{high} fen",
                    )
                )


def _receipts(session: Session, report: Report) -> None:
    """Every paid instruction has its electronic receipt, posted once; nothing else has one."""
    posted = (
        select(JournalEntry.business_ref.label("ref"), func.count().label("count"))
        .where(JournalEntry.kind == "instruction_success")
        .group_by(JournalEntry.business_ref)
        .subquery()
    )
    scope = _between(PaymentInstruction.requested_date, report.date_from, report.date_to)
    rows = session.execute(
        select(
            PaymentInstruction.instruction_id,
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.status,
            PaymentInstruction.receipt_no,
            func.coalesce(posted.c.count, 0),
        )
        .outerjoin(
            posted, posted.c.ref == literal("instruction:") + PaymentInstruction.instruction_id
        )
        .where(
            scope,
            or_(
                and_(
                    PaymentInstruction.status.in_(PAID),
                    or_(
                        PaymentInstruction.receipt_no.is_(None),
                        func.coalesce(posted.c.count, 0) != 1,
                    ),
                ),
                and_(
                    PaymentInstruction.status.not_in(PAID),
                    func.coalesce(posted.c.count, 0) != 0,
                ),
            ),
        )
    ).all()
    for instruction_id, region, insutype, code, status, receipt_no, count in rows:
        paid = status in PAID
        if (paid and (not receipt_no or count != 1)) or (not paid and count != 0):
            report.add(
                Difference(
                    "receipt",
                    region,
                    insutype,
                    code,
                    f"instruction:{instruction_id}",
                    f"{status}, receipt {receipt_no or 'none'}, {count} receipts posted "
                    f"(one when paid, none otherwise)",
                )
            )


def _bank_statements(session: Session, report: Report) -> None:
    """Where the bank's statements exist: every paid instruction has exactly one debit on
    them, and every entry on them matches a document of its amount."""
    windows = session.execute(
        select(
            BankStatement.account,
            BankStatement.region_code,
            BankStatement.insutype,
            func.min(BankStatement.from_date),
            func.max(BankStatement.statement_date),
        )
        .where(
            BankStatement.superseded_at.is_(None),
            _between(BankStatement.statement_date, report.date_from, report.date_to),
        )
        .group_by(BankStatement.account, BankStatement.region_code, BankStatement.insutype)
    ).all()
    report.counts["bank_statements"] = (
        session.scalar(
            select(func.count(BankStatement.id)).where(
                BankStatement.superseded_at.is_(None),
                _between(BankStatement.statement_date, report.date_from, report.date_to),
            )
        )
        or 0
    )
    entry_count = 0
    for account, region, insutype, first, last in windows:
        current = and_(
            BankStatement.account == account,
            BankStatement.superseded_at.is_(None),
            BankStatement.statement_date >= first,
            BankStatement.statement_date <= last,
        )
        debits = (
            select(BankStatementEntry.business_ref.label("ref"), func.count().label("count"))
            .join(BankStatement, BankStatement.id == BankStatementEntry.statement_id)
            .where(current, BankStatementEntry.direction == "D")
            .group_by(BankStatementEntry.business_ref)
            .subquery()
        )
        start = at_shanghai(first, time(0, 0))
        end = at_shanghai(last + timedelta(days=1), time(0, 0))
        rows = session.execute(
            select(
                PaymentInstruction.instruction_id,
                PaymentInstruction.fixmedins_code,
                func.coalesce(debits.c.count, 0),
            )
            .outerjoin(debits, debits.c.ref == PaymentInstruction.instruction_id)
            .where(
                PaymentInstruction.region_code == region,
                PaymentInstruction.insutype == insutype,
                PaymentInstruction.status.in_(PAID),
                PaymentInstruction.result_at >= start,
                PaymentInstruction.result_at < end,
                func.coalesce(debits.c.count, 0) != 1,
            )
        ).all()
        for instruction_id, code, count in rows:
            if count != 1:
                report.add(
                    Difference(
                        "bank_statement_entry",
                        region,
                        insutype,
                        code,
                        f"instruction:{instruction_id}",
                        f"paid, on {count} debits of the bank's statements {first}..{last} (one)",
                    )
                )
        entries = session.execute(
            select(
                BankStatement.statement_date,
                BankStatementEntry.line_no,
                BankStatementEntry.direction,
                BankStatementEntry.amount_fen,
                BankStatementEntry.business_ref,
            )
            .join(BankStatement, BankStatement.id == BankStatementEntry.statement_id)
            .where(current)
        ).all()
        entry_count += len(entries)
        expected = _expected_amounts(session, region, insutype)
        seen: dict[tuple[str, str], int] = defaultdict(int)
        for statement_date, line_no, direction, amount, ref in entries:
            seen[(direction, ref)] += 1
            want = expected.get((direction, ref))
            if want == amount and seen[(direction, ref)] == 1:
                continue
            if want is None:
                detail = "matches no document"
            elif want != amount:
                detail = f"{amount} fen, the document says {want} fen"
            else:
                detail = "a second entry for the same document"
            report.add(
                Difference(
                    "bank_statement_entry",
                    region,
                    insutype,
                    None,
                    f"bank_statement:{account}:{statement_date}:{line_no}",
                    f"{'debit' if direction == 'D' else 'credit'} {ref}: {detail}",
                )
            )
    report.counts["bank_statement_entries"] = entry_count


def _expected_amounts(session: Session, region: str, insutype: str) -> dict[tuple[str, str], int]:
    """(direction, business reference) -> amount, of what may appear on the statement."""
    expected: dict[tuple[str, str], int] = {}
    for instruction_id, amount, status in session.execute(
        select(
            PaymentInstruction.instruction_id,
            PaymentInstruction.amount_fen,
            PaymentInstruction.status,
        ).where(
            PaymentInstruction.region_code == region,
            PaymentInstruction.insutype == insutype,
            PaymentInstruction.status.in_(PAID),
        )
    ):
        expected[("D", instruction_id)] = amount
        if status == "RETURNED":
            expected[("C", instruction_id)] = amount
    for reference, amount in session.execute(
        select(ProcurementAdvance.reference, ProcurementAdvance.amount_fen).where(
            ProcurementAdvance.region_code == region, ProcurementAdvance.insutype == insutype
        )
    ):
        expected.setdefault(("D", reference), amount)
    for reference, amount in session.execute(
        select(Appropriation.reference, Appropriation.amount_fen).where(
            Appropriation.region_code == region, Appropriation.insutype == insutype
        )
    ):
        expected.setdefault(("C", reference), amount)
    for receipt_no, amount in session.execute(
        select(Repayment.receipt_no, Repayment.amount_fen).where(
            Repayment.region_code == region, Repayment.insutype == insutype
        )
    ):
        expected.setdefault(("C", receipt_no), amount)
    return expected


# --- information flow (the ledger) ----------------------------------------------------------------


def _balances(session: Session, name: str) -> dict[tuple[str, str, str | None], int]:
    return {
        (region, insutype, code): normal_balance(name, dmc)
        for region, insutype, code, dmc in session.execute(
            select(
                LedgerAccount.region_code,
                LedgerAccount.insutype,
                LedgerAccount.fixmedins_code,
                LedgerAccount.balance_fen,
            ).where(LedgerAccount.name == name)
        )
    }


def _in_transit(session: Session, report: Report) -> None:
    """`in_transit` of each fund ledger equals its instructions awaiting a result."""
    awaiting = {
        (region, insutype): int(amount)
        for region, insutype, amount in session.execute(
            select(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                func.sum(PaymentInstruction.amount_fen),
            )
            .where(PaymentInstruction.status.in_(AWAITING))
            .group_by(PaymentInstruction.region_code, PaymentInstruction.insutype)
        )
    }
    ledger = {(r, t): b for (r, t, _), b in _balances(session, "in_transit").items()}
    funds = session.execute(select(FundLedger.region_code, FundLedger.insutype)).all()
    report.counts["fund_ledgers"] = len(funds)
    for region, insutype in funds:
        want, have = awaiting.get((region, insutype), 0), ledger.get((region, insutype), 0)
        # "sent" credits in_transit (SPEC §6): money on its way is a credit balance (negative)
        if want != -have:
            report.add(
                Difference(
                    "in_transit",
                    region,
                    insutype,
                    None,
                    f"in_transit:{region}:{insutype}",
                    f"ledger {-have} fen on its way, instructions awaiting a result {want} fen",
                )
            )


Key = tuple[str, str, str | None]


def _institutions(session: Session, report: Report) -> None:
    """`payable` of each institution equals what its documents leave open; its money
    received plus procurement advances minus repayments equals what its documents said it
    was owed."""
    docs: dict[Key, rules.Documents] = defaultdict(rules.Documents)

    def add(rows: Any, **fields: str) -> None:
        for row in rows:
            key = (row.region_code, row.insutype, row.code)
            values = {name: int(getattr(row, column) or 0) for name, column in fields.items()}
            current = docs[key]
            docs[key] = replace(current, **{n: getattr(current, n) + v for n, v in values.items()})

    add(
        session.execute(
            select(
                DailyBatch.region_code,
                DailyBatch.insutype,
                DailyLine.fixmedins_code.label("code"),
                func.sum(DailyLine.fund_total_fen).label("fund"),
            )
            .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
            .group_by(DailyBatch.region_code, DailyBatch.insutype, DailyLine.fixmedins_code)
        ),
        lines_fund="fund",
    )
    add(
        session.execute(
            select(
                Settlement.region_code,
                Settlement.insutype,
                Settlement.fixmedins_code.label("code"),
                func.sum(Settlement.fund_amount_fen).label("fund"),
            )
            .join(Revocation, Revocation.settlement_id == Settlement.id)
            .where(Revocation.reversal_batch_id.is_not(None))
            .group_by(Settlement.region_code, Settlement.insutype, Settlement.fixmedins_code)
        ),
        reversed_revocations="fund",
    )
    status = PaymentInstruction.status
    amount = PaymentInstruction.amount_fen
    add(
        session.execute(
            select(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                PaymentInstruction.fixmedins_code.label("code"),
                func.sum(amount).label("sent"),
                func.sum(_when(status.in_(("FAILED", "RETURNED")), amount)).label("back"),
                func.sum(_when(status == "SUCCESS", amount)).label("received"),
                func.sum(_when(status.in_(AWAITING), amount)).label("awaiting"),
            ).group_by(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                PaymentInstruction.fixmedins_code,
            )
        ),
        sent="sent",
        sent_back="back",
        received="received",
        awaiting="awaiting",
    )
    s = MonthlyStatement
    add(
        session.execute(
            select(
                s.region_code,
                s.insutype,
                s.fixmedins_code.label("code"),
                func.sum(s.audit_fen + s.deposit_fen + s.procurement_fen + s.offset_fen).label(
                    "taken"
                ),
                func.sum(_when(s.net_fen < 0, -s.net_fen)).label("negative"),
                func.sum(s.fund_pay_fen).label("fund"),
                func.sum(s.ratio_amount_fen - s.audit_fen).label("owed"),
                func.sum(s.procurement_fen).label("procurement"),
            )
            .where(s.status.in_(APPROVED))
            .group_by(s.region_code, s.insutype, s.fixmedins_code)
        ),
        statements_taken="taken",
        statements_negative="negative",
        statements_fund="fund",
        statements_owed="owed",
        statements_procurement="procurement",
    )
    c = AnnualClearing
    add(
        session.execute(
            select(
                c.region_code,
                c.insutype,
                c.fixmedins_code.label("code"),
                func.sum(
                    c.clearing_amount_fen
                    - c.approved_fund_fen
                    + c.deposit_held_fen
                    - c.forfeited_fen
                ).label("added"),
                func.sum(c.offset_fen).label("offset"),
                func.sum(_when(c.actual_fen < 0, -c.actual_fen)).label("negative"),
                func.sum(c.gross_fen).label("owed"),
            )
            .where(c.status.in_(APPROVED))
            .group_by(c.region_code, c.insutype, c.fixmedins_code)
        ),
        clearings_added="added",
        clearings_offset="offset",
        clearings_negative="negative",
        clearings_owed="owed",
    )
    add(
        session.execute(
            select(
                Repayment.region_code,
                Repayment.insutype,
                Repayment.fixmedins_code.label("code"),
                func.sum(Repayment.amount_fen).label("repaid"),
            ).group_by(Repayment.region_code, Repayment.insutype, Repayment.fixmedins_code)
        ),
        repayments="repaid",
    )
    payable = _balances(session, "payable")
    receivable = _balances(session, "receivable")
    keys = set(docs) | {k for k in payable if k[2]} | {k for k in receivable if k[2]}
    report.counts["institutions"] = len({k[2] for k in keys})
    for key in sorted(keys, key=lambda k: (k[0], k[1], k[2] or "")):
        region, insutype, code = key
        d = docs.get(key, rules.Documents())
        have_payable = payable.get(key, 0)
        want_payable = rules.payable_of(d)
        if have_payable != want_payable:
            report.add(
                Difference(
                    "payable",
                    region,
                    insutype,
                    code,
                    f"payable:{region}:{insutype}:{code}",
                    f"ledger {have_payable} fen, its open documents {want_payable} fen",
                )
            )
        got = rules.received_net(d)
        owed = rules.owed_of(d, payable_fen=have_payable, receivable_fen=receivable.get(key, 0))
        if got != owed:
            report.add(
                Difference(
                    "hospital_tie_out",
                    region,
                    insutype,
                    code,
                    f"institution:{code}",
                    f"received + procurement advances − repayments = {got} fen; "
                    f"its documents say it was owed {owed} fen",
                )
            )


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "from": report.date_from.isoformat() if report.date_from else None,
        "to": report.date_to.isoformat() if report.date_to else None,
        "ok": report.ok,
        "counts": report.counts,
        "difference_count": report.difference_count,
        "differences": [d.__dict__ for d in report.differences],
    }


def render(report: Report) -> str:
    """The command line's text: counts, then every difference, then the verdict."""
    span = f"{report.date_from or '…'} .. {report.date_to or '…'}"
    lines = [f"three-flow check (三流核对), documents {span}"]
    lines += [f"  {name}: {count}" for name, count in report.counts.items()]
    for d in report.differences:
        where = f"{d.region_code}:{d.insutype}" + (
            f":{d.fixmedins_code}" if d.fixmedins_code else ""
        )
        lines.append(f"DIFFERENCE {d.check} {where} {d.document}: {d.detail}")
    if report.difference_count > len(report.differences):
        lines.append(f"... {report.difference_count - len(report.differences)} more")
    lines.append("three flows agree" if report.ok else f"{report.difference_count} differences")
    return "\n".join(lines)
