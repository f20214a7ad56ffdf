"""Balance snapshots: an as-of balance is a snapshot plus a bounded tail (issue 20.2).

Per fund ledger and time basis (effective or recorded), a snapshot at a cut time holds each
account's debit − credit over the entries at or before the cut; rows are written only for the
accounts with postings since the previous snapshot (an account without a row carries its
latest earlier row). `take` cuts a fund's history into segments of about `every` entries, so
the balance of any account at any time T is

    its latest row at the fund's latest snapshot with cut ≤ T
    + its postings in the fund's entries with cut < time ≤ T   (fewer than `every`, plus ties,
                                                                 plus what came since the
                                                                 last `take`)

Snapshots are derived data: the ledger stays append-only. A trigger on journal_entry deletes
the snapshots an entry inserted at or before their cut makes stale (migration 0016), both the
snapshot job and posting hold the fund's chain lock, and `verify` recomputes every snapshot
from the postings; `rebuild` throws them away and cuts again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, case, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import UTCDateTime, any_of, in_chunks, insert_rows, transaction
from app.ledger.models import (
    JournalEntry,
    LedgerAccount,
    LedgerChain,
    LedgerPosting,
    LedgerSnapshot,
    LedgerSnapshotBalance,
)
from app.ledger.rules import parse_account_code

BASES = ("effective", "recorded")
EVERY_DEFAULT = 1000
SNAPSHOT = cast(Table, LedgerSnapshot.__table__)
BALANCE = cast(Table, LedgerSnapshotBalance.__table__)


def time_column(basis: str) -> Any:
    assert basis in BASES, "basis is effective or recorded"
    return JournalEntry.effective_at if basis == "effective" else JournalEntry.recorded_at


def _fund(fund_key: str) -> tuple[str, str]:
    region_code, insutype = fund_key.split(":")
    return region_code, insutype


def _of_fund(fund_key: str) -> ColumnElement[bool]:
    region_code, insutype = _fund(fund_key)
    return (JournalEntry.region_code == region_code) & (JournalEntry.insutype == insutype)


def _signed() -> Any:
    amount = LedgerPosting.amount_fen
    return func.coalesce(func.sum(case((LedgerPosting.side == "D", amount), else_=-amount)), 0)


def _window(fund_key: str, basis: str, after: datetime | None, until: datetime | None) -> Any:
    """Entries of the fund with after < time ≤ until (either end open)."""
    column = time_column(basis)
    condition = _of_fund(fund_key)
    if after is not None:
        condition = condition & (column > after)
    if until is not None:
        condition = condition & (column <= until)
    return condition


def tail_sums(
    session: Session,
    fund_key: str,
    basis: str,
    after: datetime | None,
    until: datetime | None,
    account_id: int | None = None,
) -> dict[int, int]:
    """Σ debit − credit per account over the fund's entries in (after, until].

    Driven by the entries of the window (the fund-time index), each one's postings looked up
    by entry: on PostgreSQL the window's entry ids are one array (`= ANY(ARRAY(...))`), else
    the planner may prefer to scan a hot account's postings, every one it ever had."""
    entries = select(JournalEntry.id).where(_window(fund_key, basis, after, until))
    if session.get_bind().dialect.name == "postgresql":
        ids = func.array(entries.scalar_subquery())
        in_window = LedgerPosting.entry_id == func.any(ids)
    else:
        in_window = LedgerPosting.entry_id.in_(entries)
    query = (
        select(LedgerPosting.account_id, _signed())
        .where(in_window)
        .group_by(LedgerPosting.account_id)
    )
    if account_id is not None:
        query = query.where(LedgerPosting.account_id == account_id)
    return {int(a): int(s) for a, s in session.execute(query)}


@dataclass(frozen=True)
class Cut:
    id: int
    cut: datetime
    entries: int


def latest(
    session: Session, fund_key: str, basis: str, until: datetime | None = None
) -> Cut | None:
    """The fund's latest snapshot on the basis (with cut ≤ until when given)."""
    query = (
        select(LedgerSnapshot.id, LedgerSnapshot.cut, LedgerSnapshot.entries)
        .where(LedgerSnapshot.fund_key == fund_key, LedgerSnapshot.basis == basis)
        .order_by(LedgerSnapshot.cut.desc(), LedgerSnapshot.id.desc())
        .limit(1)
    )
    if until is not None:
        query = query.where(LedgerSnapshot.cut <= until)
    row = session.execute(query).first()
    return None if row is None else Cut(row.id, row.cut, row.entries)


def carried(
    session: Session, basis: str, account_ids: Sequence[int], through: int
) -> dict[int, int]:
    """Each account's latest snapshot row at or before snapshot `through` (absent: none);
    one backward index probe per account, whatever the number of snapshots."""
    found: dict[int, int] = {}
    newest = (
        select(LedgerSnapshotBalance.debit_minus_credit)
        .where(
            LedgerSnapshotBalance.account_id == LedgerAccount.id,
            LedgerSnapshotBalance.basis == basis,
            LedgerSnapshotBalance.snapshot_id <= through,
        )
        .order_by(LedgerSnapshotBalance.snapshot_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    for chunk in in_chunks(session, sorted(set(account_ids))):
        rows = session.execute(
            select(LedgerAccount.id, newest).where(any_of(session, LedgerAccount.id, chunk))
        )
        found.update({int(a): int(d) for a, d in rows if d is not None})
    return found


# One round trip: the account, the fund's latest snapshot at or before the time, the
# account's row carried to it, and the postings of the fund's entries after its cut.
_AS_OF = """
WITH account AS (SELECT id FROM ledger_account WHERE code = :code),
snap AS (
    SELECT id, cut FROM ledger_snapshot
     WHERE fund_key = :fund_key AND basis = :basis AND cut <= :as_of
     ORDER BY cut DESC, id DESC LIMIT 1)
SELECT
    (SELECT id FROM account) AS account_id,
    (SELECT b.debit_minus_credit FROM ledger_snapshot_balance b
      WHERE b.account_id = (SELECT id FROM account) AND b.basis = :basis
        AND b.snapshot_id <= (SELECT id FROM snap)
      ORDER BY b.snapshot_id DESC LIMIT 1) AS base,
    (SELECT coalesce(sum(CASE WHEN p.side = 'D' THEN p.amount_fen ELSE -p.amount_fen END), 0)
       FROM ledger_posting p
      WHERE p.account_id = (SELECT id FROM account) AND p.entry_id {in_window}) AS tail
"""
_WINDOW = """(SELECT e.id FROM journal_entry e
      WHERE e.region_code = :region_code AND e.insutype = :insutype
        AND e.{column} <= :as_of AND e.{column} > coalesce((SELECT cut FROM snap), {origin}))"""


def _as_of_sql(dialect: str, basis: str) -> Any:
    window = _WINDOW.format(
        column="effective_at" if basis == "effective" else "recorded_at",
        # before any time: '-infinity' on PostgreSQL, '' below any stored text on SQLite
        origin="'-infinity'::timestamptz" if dialect == "postgresql" else "''",
    )
    in_window = f"= ANY(ARRAY{window})" if dialect == "postgresql" else f"IN {window}"
    statement = text(_AS_OF.format(in_window=in_window))
    return statement.bindparams(bindparam("as_of", type_=UTCDateTime()))


_AS_OF_SQL = {
    (dialect, basis): _as_of_sql(dialect, basis)
    for dialect in ("postgresql", "sqlite")
    for basis in BASES
}


def balance_as_of(session: Session, code: str, as_of: datetime, basis: str) -> int | None:
    """debit − credit of one account from the entries at or before `as_of` (on the basis);
    None when there is no such account."""
    assert basis in BASES
    _, region_code, insutype, _ = parse_account_code(code)
    dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    row = session.execute(
        _AS_OF_SQL[(dialect, basis)],
        {
            "code": code,
            "fund_key": f"{region_code}:{insutype}",
            "basis": basis,
            "as_of": as_of,
            "region_code": region_code,
            "insutype": insutype,
        },
    ).one()
    if row.account_id is None:
        return None
    return int(row.base or 0) + int(row.tail)


def balances_as_of(
    session: Session, accounts: Iterable[tuple[int, str]], as_of: datetime, basis: str
) -> dict[int, int]:
    """debit − credit as of a time of many accounts, given as (id, fund key)."""
    by_fund: dict[str, list[int]] = {}
    for account_id, fund_key in accounts:
        by_fund.setdefault(fund_key, []).append(account_id)
    result: dict[int, int] = {}
    for fund_key, ids in sorted(by_fund.items()):
        for _attempt in range(5):
            snapshot = latest(session, fund_key, basis, as_of)
            base = carried(session, basis, ids, snapshot.id) if snapshot is not None else {}
            # Three statements: under READ COMMITTED a back-dated entry committing in between
            # may have deleted the snapshot read (its trigger), so the rows carried could be
            # an earlier snapshot's. Still there after the read: the rows were its own (ids
            # are never reused). Gone: read again.
            if snapshot is None:
                break
            still = select(LedgerSnapshot.id).where(LedgerSnapshot.id == snapshot.id)
            if session.scalar(still) is not None:
                break
        after = snapshot.cut if snapshot is not None else None
        tail = tail_sums(session, fund_key, basis, after, as_of)
        for account_id in ids:
            result[account_id] = base.get(account_id, 0) + tail.get(account_id, 0)
    return result


# --- taking snapshots -----------------------------------------------------------------------


def _lock_chain(session: Session, fund_key: str) -> bool:
    """Hold the fund's chain lock (posting holds it too): no entry of the fund commits while a
    snapshot of it is computed. False when the fund has no entries yet."""
    row = session.execute(
        select(LedgerChain.fund_key).where(LedgerChain.fund_key == fund_key).with_for_update()
    ).first()
    return row is not None


def _next_cut(
    session: Session, fund_key: str, basis: str, after: datetime | None, every: int
) -> datetime | None:
    """The time of the `every`-th entry after `after`: the next cut, or None when fewer."""
    column = time_column(basis)
    return session.execute(
        select(column)
        .where(_window(fund_key, basis, after, None))
        .order_by(column)
        .offset(every - 1)
        .limit(1)
    ).scalar_one_or_none()


def _count(session: Session, fund_key: str, basis: str, after: datetime | None, until: Any) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(JournalEntry)
            .where(_window(fund_key, basis, after, until))
        ).scalar_one()
    )


def take_one(session: Session, fund_key: str, basis: str, *, every: int, now: datetime) -> bool:
    """Write the fund's next snapshot on the basis when `every` entries followed the latest
    one; True when one was written. The caller's transaction; it holds the chain lock."""
    assert every >= 1
    if not _lock_chain(session, fund_key):
        return False
    previous = latest(session, fund_key, basis)
    after = previous.cut if previous is not None else None
    cut = _next_cut(session, fund_key, basis, after, every)
    if cut is None:
        return False
    deltas = tail_sums(session, fund_key, basis, after, cut)
    entries = _count(session, fund_key, basis, after, cut)
    base = carried(session, basis, list(deltas), previous.id) if previous is not None else {}
    snapshot_id = session.execute(
        SNAPSHOT.insert()
        .values(
            fund_key=fund_key,
            basis=basis,
            cut=cut,
            entries=(previous.entries if previous is not None else 0) + entries,
            created_at=now,
        )
        .returning(SNAPSHOT.c.id)
    ).scalar_one()
    insert_rows(
        session,
        BALANCE,
        [
            {
                "account_id": account_id,
                "basis": basis,
                "snapshot_id": snapshot_id,
                "debit_minus_credit": base.get(account_id, 0) + delta,
            }
            for account_id, delta in sorted(deltas.items())
        ],
    )
    return True


def fund_keys(session: Session) -> list[str]:
    return list(session.scalars(select(LedgerChain.fund_key).order_by(LedgerChain.fund_key)))


def clear(session: Session, fund_key: str | None = None) -> int:
    """Delete the snapshots (of one fund ledger): derived data, `take` writes them again.
    Under each fund's chain lock, as the sweep takes them: a rebuild never interleaves with
    a snapshot being taken from one it deletes."""
    for key in [fund_key] if fund_key is not None else fund_keys(session):
        _lock_chain(session, key)
    ids = select(LedgerSnapshot.id)
    if fund_key is not None:
        ids = ids.where(LedgerSnapshot.fund_key == fund_key)
    session.execute(delete(LedgerSnapshotBalance).where(LedgerSnapshotBalance.snapshot_id.in_(ids)))
    query = delete(LedgerSnapshot)
    if fund_key is not None:
        query = query.where(LedgerSnapshot.fund_key == fund_key)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


# --- figures and verification ----------------------------------------------------------------


@dataclass(frozen=True)
class FundEntries:
    fund_key: str
    entries: int
    since_snapshot: int


def entry_counts(session: Session) -> list[FundEntries]:
    """Entries per fund ledger, counted as the latest snapshot's count plus the entries after
    its cut (an index range: bounded when snapshots are kept up)."""
    result = []
    for fund_key in fund_keys(session):
        snapshot = latest(session, fund_key, "recorded")
        after = snapshot.cut if snapshot is not None else None
        since = _count(session, fund_key, "recorded", after, None)
        result.append(
            FundEntries(fund_key, (snapshot.entries if snapshot is not None else 0) + since, since)
        )
    return result


@dataclass
class SnapshotReport:
    snapshots_checked: int = 0
    # (fund key, basis, snapshot id, what is wrong)
    problems: list[tuple[str, str, int, str]] = field(default_factory=list)


def verify(session: Session, report: SnapshotReport | None = None) -> SnapshotReport:
    """Recompute every snapshot from the postings: each segment's sums added to the running
    balances, every account with postings in the segment has a row, every row is right, the
    entry counts agree and the cuts ascend."""
    report = report or SnapshotReport()
    codes = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code)).all())
    pairs = session.execute(select(LedgerSnapshot.fund_key, LedgerSnapshot.basis).distinct()).all()
    for fund_key, basis in sorted(pairs):
        running: dict[int, int] = {}
        count = 0
        after: datetime | None = None
        snapshots = session.execute(
            select(LedgerSnapshot.id, LedgerSnapshot.cut, LedgerSnapshot.entries)
            .where(LedgerSnapshot.fund_key == fund_key, LedgerSnapshot.basis == basis)
            .order_by(LedgerSnapshot.id)
        ).all()
        for snapshot_id, cut, entries in snapshots:
            report.snapshots_checked += 1
            if after is not None and cut <= after:
                report.problems.append((fund_key, basis, snapshot_id, "cut does not ascend"))
            deltas = tail_sums(session, fund_key, basis, after, cut)
            count += _count(session, fund_key, basis, after, cut)
            for account_id, delta in deltas.items():
                running[account_id] = running.get(account_id, 0) + delta
            rows = dict(
                session.execute(
                    select(
                        LedgerSnapshotBalance.account_id, LedgerSnapshotBalance.debit_minus_credit
                    ).where(
                        LedgerSnapshotBalance.snapshot_id == snapshot_id,
                        LedgerSnapshotBalance.basis == basis,
                    )
                ).all()
            )
            for account_id in sorted(set(deltas) | set(rows)):
                code = codes.get(account_id, str(account_id))
                if account_id not in rows:
                    problem = f"{code}: no row, postings since the previous snapshot"
                    report.problems.append((fund_key, basis, snapshot_id, problem))
                elif rows[account_id] != running.get(account_id, 0):
                    problem = (
                        f"{code}: {rows[account_id]} fen, the postings say"
                        f" {running.get(account_id, 0)} fen"
                    )
                    report.problems.append((fund_key, basis, snapshot_id, problem))
            if entries != count:
                problem = f"{entries} entries recorded, {count} at or before the cut"
                report.problems.append((fund_key, basis, snapshot_id, problem))
            after = cut
    return report


def take(factory: sessionmaker[Session], *, every: int, now: datetime) -> dict[str, int]:
    """Snapshot every fund ledger on both bases up to its latest full segment of `every`
    entries; one transaction per snapshot (the chain lock is held for one segment only).
    Returns the snapshots written per fund ledger."""
    with transaction(factory) as session:
        funds = fund_keys(session)
    written: dict[str, int] = {}
    for fund_key in funds:
        for basis in BASES:
            while True:
                with transaction(factory) as session:
                    if not take_one(session, fund_key, basis, every=every, now=now):
                        break
                written[fund_key] = written.get(fund_key, 0) + 1
    return written


def rebuild(factory: sessionmaker[Session], *, every: int, now: datetime) -> dict[str, int]:
    """Throw every snapshot away and cut the whole history again."""
    with transaction(factory) as session:
        clear(session)
    return take(factory, every=every, now=now)
