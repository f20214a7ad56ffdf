"""The three-flow check: the fund flow against the bank's statements. Moved out of
app/threeflow/service.py as they were."""

from __future__ import annotations

from collections import defaultdict
from datetime import time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.assistance.person_models import PersonRepayment
from app.assistance.policy_models import PrepaymentRow
from app.bank.models import PaymentInstruction
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.clock import at_shanghai
from app.institutions.models import ASSISTANCE_INSUTYPE as ASSISTANCE
from app.monthly.models import ProcurementAdvance, Repayment
from app.threeflow.report import PAID, Difference, Report, _between
from app.treasury.models import Appropriation


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
    if insutype == ASSISTANCE:
        # the assistance fund: persons' cash repayments (A7) and the prepayment's transfer (A8)
        for receipt_no, amount in session.execute(
            select(PersonRepayment.receipt_no, PersonRepayment.amount_fen).where(
                PersonRepayment.region_code == region
            )
        ):
            expected.setdefault(("C", receipt_no), amount)
        for transfer_ref, amount in session.execute(
            select(PrepaymentRow.bank_reference, PrepaymentRow.transfer_fen).where(
                PrepaymentRow.region_code == region,
                PrepaymentRow.bank_reference.is_not(None),
                PrepaymentRow.transfer_fen > 0,
            )
        ):
            expected.setdefault(("C", str(transfer_ref)), amount)
    return expected
