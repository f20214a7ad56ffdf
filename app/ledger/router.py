"""Ledger read API. No endpoint posts arbitrary entries: money moves only through the domains."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from app.auth.deps import Reader, Staff, scope
from app.deps import SessionDep
from app.errors import NotFound
from app.http import IdPath, StrictJSONRoute
from app.inputs import Moment
from app.ledger import service
from app.ledger.models import JournalEntry
from app.ledger.rules import parse_account_code
from app.ledger.schemas import (
    AccountOut,
    EntryOut,
    PostingOut,
    TrialBalanceAccount,
    TrialBalanceOut,
)
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

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
