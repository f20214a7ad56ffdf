"""Reads of the accountant's money pages: the payment monitor and the funds (moved out of
app/console/fund/queries.py as they were; the same rules: no business rule, each list in a
bounded number of queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.annual import service as annual
from app.annual.models import AnnualClearing
from app.auth.principal import Principal
from app.bank.models import PaymentInstruction
from app.console.fund.queries import _instructions, _period_title, institution_names
from app.daily.models import DailyBatch, DailyLine
from app.ledger.models import LedgerAccount
from app.ledger.rules import normal_balance
from app.monthly import aging, statements
from app.monthly.models import MonthlyStatement
from app.treasury import funds as treasury_funds
from app.treasury.models import Appropriation, FundingRequest

# --- the payment monitor ---------------------------------------------------------------------

PROBLEMS_MAX = 100


FAILED_DOCUMENTS_MAX = 200


def instructions_by_status(session: Session, day: date) -> dict[str, tuple[int, int]]:
    """The instructions of a submission day (requested date) per status: (count, fen)."""
    rows = session.execute(
        select(
            PaymentInstruction.status,
            func.count(),
            func.coalesce(func.sum(PaymentInstruction.amount_fen), 0),
        )
        .where(PaymentInstruction.requested_date == day)
        .group_by(PaymentInstruction.status)
    ).all()
    return {status: (int(count), int(amount)) for status, count, amount in rows}


def payment_problems(session: Session, since: datetime) -> list[PaymentInstruction]:
    """Failures and returns the bank reported since `since`, newest first (at most 100)."""
    moment = func.coalesce(PaymentInstruction.returned_at, PaymentInstruction.result_at)
    return list(
        session.scalars(
            select(PaymentInstruction)
            .where(
                or_(
                    and_(
                        PaymentInstruction.status == "FAILED",
                        PaymentInstruction.result_at >= since,
                    ),
                    and_(
                        PaymentInstruction.status == "RETURNED",
                        PaymentInstruction.returned_at >= since,
                    ),
                )
            )
            .order_by(moment.desc(), PaymentInstruction.instruction_id)
            .limit(PROBLEMS_MAX)
        )
    )


@dataclass(frozen=True)
class FailedDocument:
    """A statement or clearing whose payment failed: it waits for an accountant's
    re-approval, then goes again with a new instruction id."""

    entity: str
    id: int
    title: str
    region_code: str
    insutype: str
    fixmedins_code: str
    institution: str | None
    amount_fen: int
    approved_at: datetime | None
    approved_by: str | None
    instruction: PaymentInstruction | None
    refusal: str | None


def failed_documents(session: Session, viewer: Principal) -> list[FailedDocument]:
    """Failed monthly and annual payments waiting for re-approval (at most 200 of each),
    with the failed instruction and why the viewer may not re-approve (the services' rule)."""
    statement_rows = list(
        session.scalars(
            select(MonthlyStatement)
            .where(MonthlyStatement.status == "FAILED")
            .order_by(MonthlyStatement.approved_at, MonthlyStatement.id)
            .limit(FAILED_DOCUMENTS_MAX)
        )
    )
    clearing_rows = list(
        session.scalars(
            select(AnnualClearing)
            .where(AnnualClearing.status == "FAILED")
            .order_by(AnnualClearing.approved_at, AnnualClearing.id)
            .limit(FAILED_DOCUMENTS_MAX)
        )
    )
    documents: list[Any] = [*statement_rows, *clearing_rows]
    names = institution_names(session, sorted({d.fixmedins_code for d in documents}))
    instructions = _instructions(session, [d.instruction_id for d in documents])
    found = [
        _failed(
            "statement", s, f"月度结算单 {_period_title(s.period)}", s.net_fen, names, instructions
        )
        for s in statement_rows
    ]
    found = [
        _with_refusal(document, statements.FLOW.approval_refusal(s, viewer))
        for document, s in zip(found, statement_rows, strict=True)
    ]
    for c in clearing_rows:
        title = f"年度清算单 {c.year}年度"
        document = _failed("clearing", c, title, c.actual_fen, names, instructions)
        found.append(_with_refusal(document, annual.FLOW.approval_refusal(c, viewer)))
    return found


def _failed(
    entity: str,
    row: Any,
    title: str,
    amount_fen: int,
    names: dict[str, str],
    instructions: dict[str, PaymentInstruction],
) -> FailedDocument:
    return FailedDocument(
        entity,
        row.id,
        title,
        row.region_code,
        row.insutype,
        row.fixmedins_code,
        names.get(row.fixmedins_code),
        amount_fen,
        row.approved_at,
        row.approved_by,
        instructions.get(row.instruction_id or ""),
        None,
    )


def _with_refusal(document: FailedDocument, refusal: str | None) -> FailedDocument:
    return FailedDocument(**{**document.__dict__, "refusal": refusal})


def paid_per_day(session: Session, first: date, last: date) -> list[tuple[str, str, date, int]]:
    """Σ successful payments (all kinds) per fund ledger and pay date in [first, last]:
    (region, insurance type, day, fen)."""
    rows = session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.requested_date,
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(
            PaymentInstruction.status == "SUCCESS",
            PaymentInstruction.requested_date.between(first, last),
        )
        .group_by(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.requested_date,
        )
    ).all()
    return [(region, insutype, day, int(amount)) for region, insutype, day, amount in rows]


# --- funds --------------------------------------------------------------------------------------

APPROPRIATIONS_SHOWN = 20


def bank_balances(session: Session) -> dict[tuple[str, str], int]:
    """The expenditure account (`bank`) balance of every fund ledger, from the ledger."""
    rows = session.execute(
        select(LedgerAccount.region_code, LedgerAccount.insutype, LedgerAccount.balance_fen).where(
            LedgerAccount.name == "bank", LedgerAccount.fixmedins_code.is_(None)
        )
    ).all()
    return {
        (region, insutype): normal_balance("bank", int(amount)) for region, insutype, amount in rows
    }


@dataclass
class ToSend:
    """What today's submission of a fund ledger would send, by source (count, fen)."""

    daily: tuple[int, int] = (0, 0)
    statements: tuple[int, int] = (0, 0)
    clearings: tuple[int, int] = (0, 0)
    queued: tuple[int, int] = (0, 0)
    awaiting_approval: tuple[int, int] = (0, 0)  # pushed batches payable today

    @property
    def total_fen(self) -> int:
        return sum(p[1] for p in (self.daily, self.statements, self.clearings, self.queued))


def to_send(session: Session, today: date) -> dict[tuple[str, str], ToSend]:
    """Per fund ledger: approved daily lines payable by today and not sent, approved
    statements and clearings not sent (or failed and re-approved), instructions saved but
    not sent yet, and pushed batches payable today still waiting for approval."""
    found: dict[tuple[str, str], ToSend] = {}

    def put(key: tuple[str, str], name: str, count: Any, amount: Any) -> None:
        setattr(found.setdefault(key, ToSend()), name, (int(count), int(amount or 0)))

    b, line = DailyBatch, DailyLine
    unsent = and_(
        line.held.is_(False),
        line.withdrawn_at.is_(None),
        line.instruction_id.is_(None),
        line.amount_fen > 0,
    )
    for status, name in (("APPROVED", "daily"), ("PUSHED", "awaiting_approval")):
        for region, insutype, count, amount in session.execute(
            select(b.region_code, b.insutype, func.count(), func.sum(line.amount_fen))
            .join(line, line.batch_id == b.id)
            .where(b.status == status, b.pay_date <= today, unsent)
            .group_by(b.region_code, b.insutype)
        ):
            put((region, insutype), name, count, amount)
    for model, amount_column, name in (
        (MonthlyStatement, MonthlyStatement.net_fen, "statements"),
        (AnnualClearing, AnnualClearing.actual_fen, "clearings"),
    ):
        current = PaymentInstruction.instruction_id == model.instruction_id
        for region, insutype, count, amount in session.execute(
            select(model.region_code, model.insutype, func.count(), func.sum(amount_column))
            .outerjoin(PaymentInstruction, current)
            .where(
                model.status == "APPROVED",
                amount_column > 0,
                or_(model.instruction_id.is_(None), PaymentInstruction.status == "FAILED"),
            )
            .group_by(model.region_code, model.insutype)
        ):
            put((region, insutype), name, count, amount)
    for region, insutype, count, amount in session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            func.count(),
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(PaymentInstruction.status == "QUEUED")
        .group_by(PaymentInstruction.region_code, PaymentInstruction.insutype)
    ):
        put((region, insutype), "queued", count, amount)
    return found


def recent_appropriations(session: Session) -> list[Appropriation]:
    return list(
        session.scalars(
            select(Appropriation)
            .order_by(Appropriation.recorded_at.desc(), Appropriation.id.desc())
            .limit(APPROPRIATIONS_SHOWN)
        )
    )


def receivables_by_age(session: Session, today: date) -> list[aging.AgedReceivable]:
    return aging.receivables(session, today=today)


def open_funding_requests(session: Session) -> list[FundingRequest]:
    """The funds check's open funding requests (用款计划), oldest first."""
    return treasury_funds.list_requests(session, status="OPEN", limit=100)
