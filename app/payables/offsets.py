"""The open receivable an institution's next document may offset (SPEC §4, §5): the ledger's
receivable less the offsets already taken by payable documents not yet approved.

Every kind whose document takes an offset is named in `OFFSET_HOLDERS` by its table (this
package sits below the kinds and imports none of them); `tests/unit/test_payables_offsets.py`
fails when a payable table with an `offset_fen` column is missing here, so a new kind cannot
be forgotten (a forgotten one would let two documents offset the same receivable)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, String, column, func, select, table
from sqlalchemy.orm import Session

from app.db import any_of, in_chunks
from app.ledger.models import LedgerAccount
from app.ledger.rules import account_code, normal_balance
from app.payables.machine import HOLDS_OFFSET

OFFSET_HOLDER_TABLES = ("monthly_statement", "annual_clearing", "assistance_statement")
OFFSET_HOLDERS = tuple(
    table(  # typed columns: PostgreSQL binds `= ANY(array)` of their type
        name,
        column("region_code", String),
        column("insutype", String),
        column("fixmedins_code", String),
        column("status", String),
        column("offset_fen", BigInteger),
    )
    for name in OFFSET_HOLDER_TABLES
)


def open_receivables(
    session: Session, region_code: str, insutype: str, codes: Sequence[str]
) -> dict[str, int]:
    """The receivable (ledger) less offsets already taken by documents not yet approved;
    a few queries for any number of institutions."""
    by_account = {account_code("receivable", region_code, insutype, code): code for code in codes}
    balances = dict.fromkeys(codes, 0)
    for chunk in in_chunks(session, list(by_account)):
        for account, name, amount in session.execute(
            select(LedgerAccount.code, LedgerAccount.name, LedgerAccount.balance_fen).where(
                any_of(session, LedgerAccount.code, chunk)
            )
        ):
            balances[by_account[account]] = normal_balance(name, amount)
    # Statements, annual clearings and assistance statements not yet approved hold their
    # offsets (SPEC §5; an assistance statement only ever of the `610` receivable).
    for document in OFFSET_HOLDERS:
        for chunk in in_chunks(session, list(codes)):
            for code, amount in session.execute(
                select(document.c.fixmedins_code, func.sum(document.c.offset_fen))
                .where(
                    document.c.region_code == region_code,
                    document.c.insutype == insutype,
                    any_of(session, document.c.fixmedins_code, chunk),
                    document.c.status.in_([status.value for status in HOLDS_OFFSET]),
                )
                .group_by(document.c.fixmedins_code)
            ):
                balances[code] -= int(amount)
    return {code: max(amount, 0) for code, amount in balances.items()}
