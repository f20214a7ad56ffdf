"""Bank statements (银行对账单): uploaded by an operator or fetched by the job, read by staff."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Response

from app.auth.deps import Operator, Staff
from app.bankrecon import service
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.bankrecon.schemas import (
    ReconciliationOut,
    StatementEntryOut,
    StatementIn,
    StatementOut,
)
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["bank statements"])


def _entry_out(row: BankStatementEntry) -> StatementEntryOut:
    return StatementEntryOut(
        line_no=row.line_no,
        bank_serial=row.bank_serial,
        direction="DEBIT" if row.direction == "D" else "CREDIT",
        amount=row.amount_fen,
        value_date=row.value_date,
        counterparty_account=row.counterparty_account,
        counterparty_name=row.counterparty_name,
        business_ref=row.business_ref,
        match_kind=row.match_kind,
        ledger_ref=row.ledger_ref,
        outcome=row.outcome,
        expected_amount=row.expected_fen,
    )


def _out(row: BankStatement, entries: list[BankStatementEntry] | None = None) -> StatementOut:
    return StatementOut(
        id=row.id,
        account=row.account,
        region_code=row.region_code,
        insutype=row.insutype,
        statement_date=row.statement_date,
        from_date=row.from_date,
        version=row.version,
        opening_balance=row.opening_fen,
        closing_balance=row.closing_fen,
        entry_count=row.entry_count,
        source=row.source,
        received_at=row.received_at,
        received_by=row.received_by,
        superseded_at=row.superseded_at,
        superseded_by_id=row.superseded_by_id,
        status=row.status,
        reconciliation=ReconciliationOut(
            bank_closing_balance=row.closing_fen,
            bank_only=row.bank_only_fen,
            ledger_only=row.ledger_only_fen,
            adjusted_bank_balance=row.closing_fen - row.bank_only_fen + row.ledger_only_fen,
            ledger_balance=row.ledger_balance_fen,
            unexplained=row.unexplained_fen,
            items=row.reconciliation,
        ),
        entries=None if entries is None else [_entry_out(e) for e in entries],
    )


@router.post("/bank-statements", status_code=201)
def upload_statement(
    body: StatementIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> StatementOut:
    """A bank statement received outside the bank connection (the bank's file): stored,
    matched and reconciled like a fetched one. The same statement again: 200, the stored
    one; another statement for the same account and date supersedes it (a new version)."""
    with session.begin():
        row, created = service.receive(
            session, body, source="upload", actor=actor.name, now=clock.now()
        )
        if not created:
            response.status_code = 200
        return _out(row, service.entries_of(session, row.id))


@router.get("/bank-statements")
def list_statements(
    _: Staff,
    session: SessionDep,
    region_code: str | None = None,
    insutype: Literal["310", "390"] | None = None,
    statement_date: date | None = None,
    include_superseded: bool = False,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[StatementOut]:
    """Statements with their balance reconciliation (current versions unless asked)."""
    rows = service.list_statements(
        session,
        region_code=region_code,
        insutype=insutype,
        statement_date=statement_date,
        include_superseded=include_superseded,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    return Page(items=[_out(r) for r in page], next_cursor=next_cursor)


@router.get("/bank-statements/{statement_id}")
def get_statement(statement_id: IdPath, _: Staff, session: SessionDep) -> StatementOut:
    """One statement version with its entries, what each matched, and 余额调节表."""
    row = service.get(session, statement_id)
    return _out(row, service.entries_of(session, row.id))
