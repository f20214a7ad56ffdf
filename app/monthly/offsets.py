"""The open receivable an institution's next document may offset (SPEC §4, §5): the ledger's
receivable less the offsets already taken by documents not yet approved."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import any_of, in_chunks
from app.ledger.models import LedgerAccount
from app.ledger.rules import account_code, normal_balance
from app.monthly.models import MonthlyStatement
from app.payables.machine import HOLDS_OFFSET


def open_receivables(
    session: Session, region_code: str, insutype: str, codes: Sequence[str]
) -> dict[str, int]:
    """The receivable (ledger) less offsets already taken by documents not yet approved;
    a few queries for any number of institutions."""
    from app.annual.models import AnnualClearing

    by_account = {account_code("receivable", region_code, insutype, code): code for code in codes}
    balances = dict.fromkeys(codes, 0)
    for chunk in in_chunks(session, list(by_account)):
        for account, name, amount in session.execute(
            select(LedgerAccount.code, LedgerAccount.name, LedgerAccount.balance_fen).where(
                any_of(session, LedgerAccount.code, chunk)
            )
        ):
            balances[by_account[account]] = normal_balance(name, amount)
    # Statements and annual clearings not yet approved hold their offsets (SPEC §5).
    for document in (MonthlyStatement, AnnualClearing):
        for chunk in in_chunks(session, list(codes)):
            for code, amount in session.execute(
                select(document.fixmedins_code, func.sum(document.offset_fen))
                .where(
                    document.region_code == region_code,
                    document.insutype == insutype,
                    any_of(session, document.fixmedins_code, chunk),
                    document.status.in_([status.value for status in HOLDS_OFFSET]),
                )
                .group_by(document.fixmedins_code)
            ):
                balances[code] -= int(amount)
    return {code: max(amount, 0) for code, amount in balances.items()}
