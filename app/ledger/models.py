from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, UTCDateTime

KIND_INDEXED = "kind <> 'daily_accrual'"


class LedgerAccount(Base):
    """An account `NAME:REGION:INSUTYPE[:INSTITUTION]` (SPEC §6), created on first use; an
    institution's expense and payable of a fund are opened when it is enrolled (issue 20.3).

    `balance_fen` is the maintained current balance, debit minus credit, updated in the same
    transaction as the postings that change it (row lock of the UPDATE). `verify` recomputes it.
    """

    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("normal_side IN ('D', 'C')", name="normal_side"),
        Index("ix_ledger_account_fund", "region_code", "insutype", "fixmedins_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str | None] = mapped_column(String(30))
    normal_side: Mapped[str] = mapped_column(String(1))
    balance_fen: Mapped[int] = mapped_column(Fen, default=0)


class JournalEntry(Base):
    """A balanced journal entry. Append-only: its postings are inserted first (their foreign
    key is checked at commit), then the entry, whose insert the database refuses unless its
    postings balance; postings cannot be added to an entry that exists, nothing is updated or
    deleted."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        Index("ix_journal_entry_fund", "region_code", "insutype", "id"),
        Index("ix_journal_entry_institution", "fixmedins_code", "period"),
        # a document's entries (bank reconciliation, the three-flow check)
        Index("ix_journal_entry_business_ref", "business_ref"),
        # a fund ledger's entries in time order: the tail of an as-of balance after a snapshot
        Index("ix_journal_entry_fund_effective", "region_code", "insutype", "effective_at"),
        Index("ix_journal_entry_fund_recorded", "region_code", "insutype", "recorded_at"),
        # the rare kinds (the three-flow check's instruction entries): the daily batch's
        # accruals, most of the ledger, are left out (issue 20.3, migration 0027)
        Index(
            "ix_journal_entry_kind",
            "kind",
            postgresql_where=text(KIND_INDEXED),
            sqlite_where=text(KIND_INDEXED),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    business_ref: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str | None] = mapped_column(String(30))
    period: Mapped[str | None] = mapped_column(String(7))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # no index of its own: its queries name the fund (ix_journal_entry_fund_recorded)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entry.id"), unique=True
    )
    memo: Mapped[str] = mapped_column(String(300), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class LedgerPosting(Base):
    """One side of an entry: an amount (> 0 fen) debited or credited to one account."""

    __tablename__ = "ledger_posting"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("side IN ('D', 'C')", name="side"),
        Index("ix_ledger_posting_account", "account_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("journal_entry.id", deferrable=True, initially="DEFERRED"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    side: Mapped[str] = mapped_column(String(1))
    amount_fen: Mapped[int] = mapped_column(Fen)


class LedgerChain(Base):
    """Head of each fund ledger's hash chain; its row lock serialises posting per fund."""

    __tablename__ = "ledger_chain"

    fund_key: Mapped[str] = mapped_column(String(10), primary_key=True)  # "640100:310"
    last_entry_id: Mapped[int | None] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))


class LedgerSnapshot(Base):
    """A balance snapshot of one fund ledger, on one time basis: every account's balance from
    the entries whose effective (or recorded) time is at or before `cut` (SPEC §6, issue 20).

    Derived data, never the ledger: written by `ledger snapshot` (the scheduler every few
    minutes) and checked by `ledger verify` against the postings. An entry inserted later with
    a time at or before `cut` makes it stale: a database trigger on journal_entry deletes it
    (and the later ones of its fund and basis) in the same transaction, so a snapshot that
    exists is always right. `entries` counts the fund's entries at or before `cut`.
    """

    __tablename__ = "ledger_snapshot"
    __table_args__ = (
        CheckConstraint("basis IN ('effective', 'recorded')", name="basis"),
        Index("ix_ledger_snapshot_fund", "fund_key", "basis", "cut"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fund_key: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str] = mapped_column(String(9))
    cut: Mapped[datetime] = mapped_column(UTCDateTime)
    entries: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerSnapshotBalance(Base):
    """An account's debit − credit at a snapshot, written for the accounts with postings since
    the fund's previous snapshot on that basis; an account without a row at a snapshot carries
    its latest earlier row (or 0)."""

    __tablename__ = "ledger_snapshot_balance"
    __table_args__ = (PrimaryKeyConstraint("account_id", "basis", "snapshot_id"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    basis: Mapped[str] = mapped_column(String(9))
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_snapshot.id", ondelete="CASCADE"), index=True
    )
    debit_minus_credit: Mapped[int] = mapped_column(Fen)
