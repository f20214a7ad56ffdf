"""The three-flow check: the fund flow (instructions, documents paid, receipts). Moved out of
app/threeflow/service.py as they were."""

from __future__ import annotations

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from app.annual.models import AnnualClearing
from app.assistance.statement_models import AssistanceStatement
from app.bank.models import PaymentInstruction
from app.daily.models import DailyBatch, DailyLine
from app.ledger.models import JournalEntry, LedgerPosting
from app.monthly.models import MonthlyStatement
from app.threeflow.report import APPROVED, PAID, Difference, Report, _between


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
        (
            AssistanceStatement,
            AssistanceStatement.amount_fen,
            "assistance_statement",
            "assistance_statements",
        ),
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
