"""Balances: the maintained current balance, as-of balances (snapshots.py), trial balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.ledger import rules, snapshots
from app.ledger.models import LedgerAccount, LedgerPosting


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    fixmedins_code: str | None
    balance_fen: int  # signed in the account's normal direction
    debit_minus_credit: int


def _account(session: Session, code: str) -> LedgerAccount:
    account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if account is None:
        raise NotFound(f"no ledger account {code!r}")
    return account


def balance(session: Session, code: str) -> int:
    """Current balance in the normal direction, O(1): the maintained row."""
    account = _account(session, code)
    return rules.normal_balance(account.name, account.balance_fen)


def balance_or_zero(session: Session, code: str) -> int:
    row = session.execute(
        select(LedgerAccount.name, LedgerAccount.balance_fen).where(LedgerAccount.code == code)
    ).first()
    return 0 if row is None else rules.normal_balance(row.name, row.balance_fen)


def balance_as_of(session: Session, code: str, as_of: datetime, *, basis: str = "effective") -> int:
    """Balance from the entries effective (or recorded) at or before `as_of`: the fund's
    latest balance snapshot at or before it plus the postings after its cut (snapshots.py),
    so the read is bounded whatever the history's length."""
    assert basis in ("effective", "recorded")
    try:
        name = rules.parse_account_code(code)[0]
    except rules.LedgerRuleError:
        raise NotFound(f"no ledger account {code!r}") from None
    dmc = snapshots.balance_as_of(session, code, as_of, basis)
    if dmc is None:
        raise NotFound(f"no ledger account {code!r}")
    return rules.normal_balance(name, dmc)


def balances(
    session: Session,
    *,
    region_code: str | None = None,
    insutype: str | None = None,
    fixmedins_code: str | None = None,
    as_of: datetime | None = None,
    basis: str = "effective",
    posted_only: bool = False,
) -> list[AccountBalance]:
    """Balances of accounts (sorted by code); maintained rows, or as of a time from the
    balance snapshots and the postings after them. `posted_only`: leave out the accounts
    never posted to (opened at an enrolment, issue 20.3)."""
    query = select(LedgerAccount).order_by(LedgerAccount.code)
    if posted_only:
        query = query.where(
            exists(select(LedgerPosting.id).where(LedgerPosting.account_id == LedgerAccount.id))
        )
    if region_code:
        query = query.where(LedgerAccount.region_code == region_code)
    if insutype:
        query = query.where(LedgerAccount.insutype == insutype)
    if fixmedins_code:
        query = query.where(LedgerAccount.fixmedins_code == fixmedins_code)
    accounts = list(session.scalars(query))
    at: dict[int, int] | None = None
    if as_of is not None:
        assert basis in ("effective", "recorded")
        at = snapshots.balances_as_of(
            session, [(a.id, f"{a.region_code}:{a.insutype}") for a in accounts], as_of, basis
        )
    result = []
    for account in accounts:
        dmc = account.balance_fen if at is None else at[account.id]
        result.append(
            AccountBalance(
                account.code,
                account.name,
                account.fixmedins_code,
                rules.normal_balance(account.name, dmc),
                dmc,
            )
        )
    return result


@dataclass(frozen=True)
class TrialBalance:
    accounts: list[AccountBalance]
    debits_fen: int
    credits_fen: int

    @property
    def balanced(self) -> bool:
        return self.debits_fen == self.credits_fen


def trial_balance(
    session: Session,
    *,
    region_code: str | None = None,
    insutype: str | None = None,
    as_of: datetime | None = None,
    basis: str = "effective",
    posted_only: bool = False,
) -> TrialBalance:
    rows = balances(
        session,
        region_code=region_code,
        insutype=insutype,
        as_of=as_of,
        basis=basis,
        posted_only=posted_only,
    )
    debits = sum(row.debit_minus_credit for row in rows if row.debit_minus_credit > 0)
    credits = sum(-row.debit_minus_credit for row in rows if row.debit_minus_credit < 0)
    return TrialBalance(rows, debits, credits)
