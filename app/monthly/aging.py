"""Receivables from institutions by age (应收款账龄): 0–30, 31–90 and more than 90 days.

A receivable arises when a document with a negative amount is approved (a debit of the
institution's `receivable` account); offsets and cash repayments (credits) pay the oldest
first, so what is still owed is made of the newest debits. The age of a part is counted in
calendar days from the Shanghai date it arose."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import business_date
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import normal_balance
from app.payables import offsets

BUCKET_LIMITS_DAYS = (30, 90)  # 0–30, 31–90, > 90
LIST_MAX = 500


@dataclass(frozen=True)
class AgedReceivable:
    region_code: str
    insutype: str
    fixmedins_code: str
    balance_fen: int  # the ledger balance
    open_fen: int  # less the offsets taken by documents not yet approved
    buckets_fen: tuple[int, int, int]  # 0–30, 31–90, > 90 days
    oldest: date  # the day the oldest part still owed arose


def by_age(
    debits: Sequence[tuple[date, int]], balance_fen: int, today: date
) -> tuple[tuple[int, int, int], date]:
    """Split a balance over the debits that make it (the newest first, FIFO repayment) into
    the three age buckets; also the day its oldest part arose. Σ buckets = balance."""
    assert balance_fen > 0
    buckets = [0, 0, 0]
    left = balance_fen
    oldest = today
    for day, amount in sorted(debits, key=lambda d: d[0], reverse=True):
        if left == 0:
            break
        part = min(left, amount)
        age = (today - day).days
        index = 0 if age <= BUCKET_LIMITS_DAYS[0] else 1 if age <= BUCKET_LIMITS_DAYS[1] else 2
        buckets[index] += part
        left -= part
        oldest = day
    buckets[2] += left  # debits older than the ledger knows (never: the ledger holds them all)
    assert sum(buckets) == balance_fen
    return (buckets[0], buckets[1], buckets[2]), oldest


def receivables(session: Session, *, today: date, limit: int = LIST_MAX) -> list[AgedReceivable]:
    """Every institution owing the fund (positive `receivable` balance), oldest first, at most
    `limit`: the accounts, their debits and the open amounts in a few queries."""
    assert 0 < limit <= LIST_MAX
    accounts = session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.balance_fen)
        .where(LedgerAccount.name == "receivable", LedgerAccount.balance_fen > 0)
        .order_by(LedgerAccount.code)
    ).all()
    if not accounts:
        return []
    ids = [account_id for account_id, _, _ in accounts]
    debits: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for account_id, at, amount in session.execute(
        select(LedgerPosting.account_id, JournalEntry.effective_at, LedgerPosting.amount_fen)
        .join(JournalEntry, JournalEntry.id == LedgerPosting.entry_id)
        .where(LedgerPosting.account_id.in_(ids), LedgerPosting.side == "D")
    ):
        debits[account_id].append((_day(at), int(amount)))
    per_fund: dict[tuple[str, str], list[str]] = defaultdict(list)
    for _, code, _ in accounts:
        _, region, insutype, institution = code.split(":")
        per_fund[(region, insutype)].append(institution)
    open_amounts = {
        (region, insutype, institution): amount
        for (region, insutype), codes in per_fund.items()
        for institution, amount in offsets.open_receivables(
            session, region, insutype, codes
        ).items()
    }
    found = []
    for account_id, code, debit_minus_credit in accounts:
        _, region, insutype, institution = code.split(":")
        balance = normal_balance("receivable", int(debit_minus_credit))
        buckets, oldest = by_age(debits[account_id], balance, today)
        found.append(
            AgedReceivable(
                region,
                insutype,
                institution,
                balance,
                open_amounts[(region, insutype, institution)],
                buckets,
                oldest,
            )
        )
    found.sort(key=lambda r: (r.oldest, r.region_code, r.insutype, r.fixmedins_code))
    return found[:limit]


def _day(moment: datetime) -> date:
    return business_date(moment)
