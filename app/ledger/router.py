"""Ledger read API. No endpoint posts arbitrary entries: money moves only through the domains."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.auth.deps import Reader, Staff, scope
from app.clock import at_shanghai, business_date
from app.deps import SessionDep
from app.errors import NotFound
from app.http import IdPath, StrictJSONRoute
from app.inputs import Moment
from app.institutions import payees
from app.institutions.rules import PAYEE_FIELDS
from app.ledger import account_statement, service
from app.ledger.models import JournalEntry
from app.ledger.rules import parse_account_code
from app.ledger.schemas import (
    AccountOut,
    AccountStatementOut,
    EntryOut,
    MovementOut,
    PayeeVersionOut,
    PostingOut,
    TrialBalanceAccount,
    TrialBalanceOut,
)
from app.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
    page_of,
)

router = APIRouter(prefix="/api/v1/ledger", route_class=StrictJSONRoute, tags=["ledger"])

Basis = Literal["effective", "recorded"]


@router.get("/accounts")
def list_accounts(
    principal: Reader,
    session: SessionDep,
    region_code: str | None = None,
    insutype: str | None = None,
    fixmedins_code: str | None = None,
    as_of: Moment | None = None,
    basis: Basis = "effective",
) -> list[AccountOut]:
    """Accounts with balances (current, or as of a time). Hospitals see their own accounts."""
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    rows = service.balances(
        session,
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        as_of=as_of,
        basis=basis,
    )
    return [
        AccountOut(code=r.code, name=r.name, fixmedins_code=r.fixmedins_code, balance=r.balance_fen)
        for r in rows
    ]


@router.get("/accounts/{code}")
def get_account(
    code: str,
    principal: Reader,
    session: SessionDep,
    as_of: Moment | None = None,
    basis: Basis = "effective",
) -> AccountOut:
    try:
        name, _, _, institution = parse_account_code(code)
    except ValueError:
        raise NotFound(f"no ledger account {code!r}") from None
    if principal.is_hospital and institution != principal.fixmedins_code:
        raise NotFound(f"no ledger account {code!r}")
    amount = (
        service.balance(session, code)
        if as_of is None
        else service.balance_as_of(session, code, as_of, basis=basis)
    )
    return AccountOut(code=code, name=name, fixmedins_code=institution, balance=amount)


@router.get("/accounts/{code}/statement", response_model_by_alias=True)
def get_account_statement(
    code: str,
    principal: Reader,
    session: SessionDep,
    first: Annotated[date, Query(alias="from", description="first business date (Shanghai)")],
    last: Annotated[date, Query(alias="to", description="last business date, ≤ 366 days on")],
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> AccountStatementOut:
    """The account's statement (往来对账单) for whole days [from, to] in Shanghai time: the
    opening balance (before `from`), every posting of the range by effective time with the
    document it belongs to (`business_ref`), the bank receipt number of a payment and the
    balance after it, the closing balance (after `to`). Balances in the account's normal
    direction; opening + movements = closing. Paged (`limit` ≤ 500, `cursor`); a hospital
    reads only its own institution's accounts (404 otherwise)."""
    result = account_statement.statement(
        session,
        code,
        first,
        last,
        actor=principal,
        after_position=decode_cursor(cursor),
        limit=limit,
    )
    items = [
        MovementOut(
            position=m.position,
            entry_id=m.entry_id,
            effective_at=m.effective_at,
            business_date=business_date(m.effective_at),
            kind=m.kind,
            business_ref=m.business_ref,
            period=m.period,
            memo=m.memo,
            reverses_entry_id=m.reverses_entry_id,
            side=m.side,
            debit=m.debit_fen,
            credit=m.credit_fen,
            balance=m.balance_fen,
            instruction_id=m.instruction_id,
            receipt_no=m.receipt_no,
        )
        for m in result.movements
    ]
    return AccountStatementOut(
        account=result.code,
        name=result.name,
        fixmedins_code=result.fixmedins_code,
        normal_side=result.normal_side,
        first=result.first,
        last=result.last,
        opening_balance=result.opening_fen,
        closing_balance=result.closing_fen,
        debits=result.debits_fen,
        credits=result.credits_fen,
        movements_count=result.movements_count,
        items=items,
        next_cursor=encode_cursor(items[-1].position) if result.more else None,
        payee_changes=_payee_versions(session, result.fixmedins_code, first, last),
    )


def _payee_versions(
    session: SessionDep, fixmedins_code: str | None, first: date, last: date
) -> list[PayeeVersionOut]:
    if fixmedins_code is None:
        return []
    changes = payees.approved_between(
        session,
        fixmedins_code,
        at_shanghai(first, time(0, 0)),
        at_shanghai(last + timedelta(days=1), time(0, 0)),
    )
    return [
        PayeeVersionOut(
            id=c.id,
            decided_at=c.decided_at,  # type: ignore[arg-type]
            requested_by=c.requested_by,
            decided_by=c.decided_by or "",
            old={field: getattr(c, f"old_{field}") for field in PAYEE_FIELDS},
            new={field: getattr(c, field) for field in PAYEE_FIELDS},
        )
        for c in changes
    ]


def _entries_out(session: SessionDep, entries: list[JournalEntry]) -> list[EntryOut]:
    lines = service.entry_lines(session, [entry.id for entry in entries])
    return [
        EntryOut(
            id=e.id,
            kind=e.kind,
            idempotency_key=e.idempotency_key,
            business_ref=e.business_ref,
            region_code=e.region_code,
            insutype=e.insutype,
            fixmedins_code=e.fixmedins_code,
            period=e.period,
            effective_at=e.effective_at,
            recorded_at=e.recorded_at,
            reverses_entry_id=e.reverses_entry_id,
            memo=e.memo,
            entry_hash=e.entry_hash,
            postings=[
                PostingOut(account=line.account, side=line.side, amount=line.amount_fen)
                for line in lines.get(e.id, [])
            ],
        )
        for e in entries
    ]


@router.get("/entries")
def list_entries(
    principal: Reader,
    session: SessionDep,
    region_code: str | None = None,
    insutype: str | None = None,
    fixmedins_code: str | None = None,
    kind: str | None = None,
    period: str | None = None,
    account: str | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[EntryOut]:
    """Journal entries with their postings, oldest first."""
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    rows = service.list_entries(
        session,
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        kind=kind,
        period=period,
        account_code=account,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    return Page(items=_entries_out(session, page), next_cursor=next_cursor)


@router.get("/entries/{entry_id}")
def get_entry(entry_id: IdPath, principal: Reader, session: SessionDep) -> EntryOut:
    entry = service.get_entry(session, entry_id)
    if principal.is_hospital and entry.fixmedins_code != principal.fixmedins_code:
        raise NotFound(f"no journal entry {entry_id}")
    return _entries_out(session, [entry])[0]


@router.get("/trial-balance")
def trial_balance(
    _: Staff,
    session: SessionDep,
    region_code: str | None = None,
    insutype: str | None = None,
    as_of: Moment | None = None,
    basis: Basis = "effective",
) -> TrialBalanceOut:
    """Every account with a posting; Σ debit-side balances = Σ credit-side balances."""
    trial = service.trial_balance(
        session, region_code=region_code, insutype=insutype, as_of=as_of, basis=basis
    )
    return TrialBalanceOut(
        balanced=trial.balanced,
        debits=trial.debits_fen,
        credits=trial.credits_fen,
        as_of=as_of,
        accounts=[
            TrialBalanceAccount(code=row.code, balance=row.balance_fen) for row in trial.accounts
        ],
    )
