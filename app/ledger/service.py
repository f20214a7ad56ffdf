"""The ledger: the only place money moves (STYLE.md 2).

`post` / `post_many` write balanced, idempotent, hash-chained journal entries; `reverse`
corrects by a mirror entry; balances are maintained per account and can be recomputed by
`verify`. Callers open the transaction; the ledger only flushes.

This module is the ledger's public face (callers import `service as ledger`); the work is
split by concern: posting.py (and fastpost.py, PostgreSQL's one-call post), journal.py
(reading entries), balances.py, verify.py, snapshots.py.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.ledger.balances import (
    AccountBalance,
    TrialBalance,
    balance,
    balance_as_of,
    balance_or_zero,
    balances,
    trial_balance,
)
from app.ledger.bulk import paused_gc
from app.ledger.journal import entry_lines, get_entry, list_entries
from app.ledger.models import JournalEntry
from app.ledger.posting import LedgerConflict, Posted, ensure_accounts, post, post_many, reverse
from app.ledger.rules import enrolment_accounts
from app.ledger.verify import VerifyReport, verify

__all__ = [
    "AccountBalance",
    "JournalEntry",
    "LedgerConflict",
    "Posted",
    "TrialBalance",
    "VerifyReport",
    "balance",
    "balance_as_of",
    "balance_or_zero",
    "balances",
    "ensure_accounts",
    "entry_lines",
    "get_entry",
    "list_entries",
    "open_enrolment_accounts",
    "paused_gc",
    "post",
    "post_many",
    "reverse",
    "trial_balance",
    "verify",
]


def open_enrolment_accounts(
    session: Session, region_code: str, insutype: str, fixmedins_code: str
) -> None:
    """Open the accounts an institution's enrolment in a fund ledger needs (issue 20.3): a
    fund's first daily batch then finds them; a batch still creates any that are missing
    (enrolments made before this). Idempotent. Called through `app.wiring`."""
    ensure_accounts(session, enrolment_accounts(region_code, insutype, fixmedins_code))
