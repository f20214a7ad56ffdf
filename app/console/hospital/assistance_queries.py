"""Reads of the hospital's medical-assistance pages, always scoped to the person's own
institution: its assistance statements (newest first), a statement's lines, its payments,
and its one-stop settlements with `maf_pay` > 0 not yet paid by a statement with the state of
their three documents (材料). No rule: the services compute and decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance.statement_models import (
    DOCUMENT_TYPES,
    AssistanceDocument,
    AssistanceStatement,
    AssistanceStatementLine,
)
from app.bank.models import PaymentInstruction
from app.settlements.models import Revocation, Settlement

STATEMENTS_MAX = 500
PENDING_MAX = 200
PAYMENTS_MAX = 50
MISSING = "MISSING"


def statement_rows(
    session: Session,
    code: str,
    *,
    period: str | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[AssistanceStatement]:
    """The institution's assistance statements, newest first (the cursor: the last id)."""
    assert 0 < limit <= STATEMENTS_MAX + 1
    s = AssistanceStatement
    query = select(s).where(s.fixmedins_code == code).order_by(s.id.desc()).limit(limit)
    if period is not None:
        query = query.where(s.period == period)
    if status is not None:
        query = query.where(s.status == status)
    if before_id is not None:
        query = query.where(s.id < before_id)
    return list(session.scalars(query))


def payments(session: Session, statement_id: int) -> list[PaymentInstruction]:
    return list(
        session.scalars(
            select(PaymentInstruction)
            .where(
                PaymentInstruction.source_kind == "assistance_statement",
                PaymentInstruction.source_id == statement_id,
            )
            .order_by(PaymentInstruction.created_at, PaymentInstruction.instruction_id)
            .limit(PAYMENTS_MAX)
        )
    )


@dataclass(frozen=True)
class Pending:
    """A settlement with `maf_pay` > 0 no statement has paid yet, and its documents."""

    setl_id: str
    setl_date: date
    psn_no: str
    maf_pay_fen: int
    documents: dict[str, str]  # document -> RECORDED | REJECTED | MISSING
    reasons: dict[str, str]  # a rejected document's reason

    @property
    def complete(self) -> bool:
        return all(state == "RECORDED" for state in self.documents.values())


def _documents(session: Session, ids: Sequence[int]) -> dict[int, list[AssistanceDocument]]:
    found: dict[int, list[AssistanceDocument]] = {sid: [] for sid in ids}
    if not ids:
        return found
    for row in session.scalars(
        select(AssistanceDocument).where(AssistanceDocument.settlement_id.in_(list(ids)))
    ):
        found[row.settlement_id].append(row)
    return found


def pending(session: Session, code: str, *, setl_id: str | None = None) -> list[Pending]:
    """The institution's unrevoked settlements with `maf_pay` > 0 that are no line of a
    statement yet (carried, or waiting for their month's statement), newest first."""
    line = AssistanceStatementLine
    is_line = select(line.id).where(line.settlement_id == Settlement.id, ~line.negative).exists()
    revoked = select(Revocation.id).where(Revocation.settlement_id == Settlement.id).exists()
    query = (
        select(Settlement)
        .where(Settlement.fixmedins_code == code, Settlement.maf_pay_fen > 0, ~is_line, ~revoked)
        .order_by(Settlement.setl_date.desc(), Settlement.id.desc())
        .limit(PENDING_MAX)
    )
    if setl_id is not None:
        query = query.where(Settlement.setl_id == setl_id)
    rows = list(session.scalars(query))
    held = _documents(session, [row.id for row in rows])
    found = []
    for row in rows:
        by_name = {doc.document: doc for doc in held[row.id]}
        found.append(
            Pending(
                setl_id=row.setl_id,
                setl_date=row.setl_date,
                psn_no=row.psn_no,
                maf_pay_fen=row.maf_pay_fen,
                documents={
                    name: by_name[name].status if name in by_name else MISSING
                    for name in DOCUMENT_TYPES
                },
                reasons={
                    name: doc.reject_reason
                    for name, doc in by_name.items()
                    if doc.status == "REJECTED" and doc.reject_reason
                },
            )
        )
    return found
