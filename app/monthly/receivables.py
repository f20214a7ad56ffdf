"""Receivables from institutions (应收): offsets by later documents, cash repayments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Invalid
from app.institutions import service as institutions
from app.ledger import entries
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.monthly.models import Repayment
from app.payables import offsets
from app.trail import service as trail


def balance(session: Session, region: str, insutype: str, code: str) -> tuple[int, int]:
    """(ledger balance, open = balance less offsets taken by unapproved documents)."""
    owed = ledger.balance_or_zero(session, account_code("receivable", region, insutype, code))
    return owed, offsets.open_receivables(session, region, insutype, [code])[code]


def repay(
    session: Session,
    *,
    region: str,
    insutype: str,
    code: str,
    amount_fen: int,
    receipt_no: str,
    actor: Principal,
    now: datetime,
) -> tuple[Repayment, bool]:
    """Cash repaid by the institution (debit bank, credit receivable); a repayment above the
    open receivable is refused; idempotent on the incoming receipt number."""
    institution = institutions.get_institution(session, code)
    if institution.region_code != region:
        raise Invalid.field("fixmedins_code", "institution_in_region", f"{code} is not of {region}")
    fund = institutions.get_fund_ledger(session, region, insutype)
    # Statements and clearings take offsets from the same receivable under this lock.
    institutions.lock_fund_ledger(session, fund.id)
    existing = session.scalar(
        select(Repayment).where(
            Repayment.region_code == region,
            Repayment.insutype == insutype,
            Repayment.receipt_no == receipt_no,
        )
    )
    if existing is not None:
        if (existing.fixmedins_code, existing.amount_fen) != (code, amount_fen):
            raise Conflict(f"receipt {receipt_no} was recorded with other content")
        return existing, False
    _, open_amount = balance(session, region, insutype, code)
    if amount_fen > open_amount:
        raise Invalid.field(
            "amount", "repayment_within_receivable", "the repayment is above the open receivable"
        )
    row = Repayment(
        region_code=region,
        insutype=insutype,
        fixmedins_code=code,
        amount_fen=amount_fen,
        receipt_no=receipt_no,
        recorded_at=now,
        recorded_by=actor.name,
    )
    session.add(row)
    session.flush()
    ledger.post(
        session,
        entries.repayment(
            receipt_no=receipt_no,
            repayment_id=row.id,
            region_code=region,
            insutype=insutype,
            fixmedins_code=code,
            amount_fen=amount_fen,
            effective_at=now,
        ),
        now=now,
    )
    trail.record(
        session,
        actor=actor,
        action="repayment.create",
        entity="institution",
        key=code,
        before=None,
        after={"insutype": insutype, "amount_fen": amount_fen, "receipt_no": receipt_no},
        now=now,
    )
    return row, True
