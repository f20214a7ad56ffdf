"""Hand-over of approved daily batches to the bank outbox on their pay date (SPEC §3.5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.bank import rules as bank_rules
from app.bank import service as bank
from app.daily.batches import period_splits
from app.daily.models import DailyBatch, DailyLine
from app.daily.rules import BATCH, BatchStatus
from app.institutions import service as institutions
from app.institutions.models import FundLedger


def submit_due(session: Session, fund: FundLedger, *, today: date, now: datetime) -> list[str]:
    """Hand every approved batch with pay_date ≤ today to the bank outbox: one instruction per
    non-zero line not held back or withdrawn. Returns the new instruction ids. Under the
    fund ledger's lock: the monthly computation withdraws unsent lines under the same one."""
    institutions.lock_fund_ledger(session, fund.id)
    batches = list(
        session.scalars(
            select(DailyBatch)
            .where(
                DailyBatch.fund_ledger_id == fund.id,
                DailyBatch.status == BatchStatus.APPROVED,
                DailyBatch.pay_date <= today,
            )
            .order_by(DailyBatch.business_date)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    items: list[bank.NewInstruction] = []
    assignments: list[dict[str, Any]] = []
    for batch in batches:
        splits = period_splits(session, batch)
        lines = session.execute(
            select(DailyLine.id, DailyLine.fixmedins_code, DailyLine.amount_fen).where(
                DailyLine.batch_id == batch.id,
                DailyLine.held.is_(False),
                DailyLine.withdrawn_at.is_(None),
                DailyLine.instruction_id.is_(None),
                DailyLine.amount_fen > 0,
            )
        ).all()
        for line_id, code, amount in lines:
            instruction_id = bank_rules.daily_instruction_id(
                batch.business_date, batch.region_code, batch.insutype, code
            )
            items.append(
                bank.NewInstruction(
                    instruction_id=instruction_id,
                    kind="daily",
                    fixmedins_code=code,
                    amount_fen=int(amount),
                    purpose=f"医保基金日拨付 {batch.business_date}",
                    source_kind="daily_line",
                    source_id=line_id,
                    period_split=splits.get(code, []),
                )
            )
            assignments.append({"line_id": line_id, "instruction_id": instruction_id})
        BATCH.check(batch.status, BatchStatus.SUBMITTED)
        batch.status = BatchStatus.SUBMITTED
        batch.submitted_at = now
    bank.create_instructions(session, fund, items, requested_date=today, now=now)
    for assignment in assignments:
        session.execute(
            update(DailyLine)
            .where(DailyLine.id == assignment["line_id"])
            .values(instruction_id=assignment["instruction_id"])
        )
    session.flush()
    return [item.instruction_id for item in items]
