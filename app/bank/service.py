"""Payment instructions (outbox): created with their ledger posting, sent after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app.bank import rules
from app.bank.models import PaymentInstruction
from app.db import insert_rows
from app.institutions.models import FundLedger, Institution
from app.ledger import service as ledger
from app.ledger.rules import Draft, DraftLines, account_code

INSTRUCTION = cast(Table, PaymentInstruction.__table__)


@dataclass(frozen=True)
class NewInstruction:
    instruction_id: str
    kind: str  # daily | monthly | annual
    fixmedins_code: str
    amount_fen: int
    purpose: str
    source_kind: str
    source_id: int
    period: str | None = None
    resend_of: str | None = None


def create_instructions(
    session: Session,
    fund: FundLedger,
    items: Sequence[NewInstruction],
    *,
    requested_date: date,
    now: datetime,
) -> None:
    """Save instructions (QUEUED) and post each one's `payable -> in_transit` (SPEC §6)."""
    if not items:
        return
    codes = sorted({item.fixmedins_code for item in items})
    payees = {
        i.code: i for i in session.scalars(select(Institution).where(Institution.code.in_(codes)))
    }
    rows: list[dict[str, Any]] = []
    drafts = []
    for item in items:
        assert item.amount_fen > 0, "only non-zero amounts are sent"
        payee = payees[item.fixmedins_code]
        rows.append(
            {
                "instruction_id": item.instruction_id,
                "kind": item.kind,
                "region_code": fund.region_code,
                "insutype": fund.insutype,
                "fixmedins_code": item.fixmedins_code,
                "amount_fen": item.amount_fen,
                "payer_account": fund.expenditure_account,
                "payer_name": fund.expenditure_account_name,
                "payee_account": payee.bank_account,
                "payee_name": payee.bank_account_name,
                "payee_bank_code": payee.bank_code,
                "purpose": item.purpose,
                "requested_date": requested_date,
                "status": "QUEUED",
                "source_kind": item.source_kind,
                "source_id": item.source_id,
                "period": item.period,
                "resend_of": item.resend_of,
                "created_at": now,
                "attempts": 0,
            }
        )
        drafts.append(
            Draft(
                kind="instruction_sent",
                key=f"instruction:{item.instruction_id}:sent",
                region_code=fund.region_code,
                insutype=fund.insutype,
                fixmedins_code=item.fixmedins_code,
                period=item.period,
                lines=DraftLines()
                .transfer(
                    account_code("payable", fund.region_code, fund.insutype, item.fixmedins_code),
                    account_code("in_transit", fund.region_code, fund.insutype),
                    item.amount_fen,
                )
                .result(),
                effective_at=now,
                business_ref=f"instruction:{item.instruction_id}",
            )
        )
    insert_rows(session, INSTRUCTION, rows)
    ledger.post_many(session, drafts, now=now)


def transition(instruction: PaymentInstruction, new_status: str) -> None:
    """The one place statuses change; illegal transitions raise."""
    rules.check_transition(instruction.status, new_status)
    instruction.status = new_status


def statuses(session: Session, instruction_ids: Sequence[str]) -> dict[str, str]:
    if not instruction_ids:
        return {}
    rows = session.execute(
        select(PaymentInstruction.instruction_id, PaymentInstruction.status).where(
            PaymentInstruction.instruction_id.in_(list(instruction_ids))
        )
    ).all()
    return {instruction_id: status for instruction_id, status in rows}
