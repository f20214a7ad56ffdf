"""Verification: every balance recomputed from the postings, every hash chain from the
entries, every balance snapshot from the postings (`fundledger ledger verify`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from app.ledger import rules, snapshots
from app.ledger.journal import entry_lines
from app.ledger.models import JournalEntry, LedgerAccount, LedgerChain, LedgerPosting
from app.ledger.rules import Draft

VERIFY_BATCH = 5000


def _sum_query() -> Select[Any]:
    """Σ debit − credit per account over every posting (verify)."""
    amount = LedgerPosting.amount_fen
    signed_sum = func.coalesce(
        func.sum(case((LedgerPosting.side == "D", amount), else_=-amount)), 0
    )
    return select(LedgerPosting.account_id, signed_sum).group_by(LedgerPosting.account_id)


@dataclass
class VerifyReport:
    entries_checked: int = 0
    balance_mismatches: list[tuple[str, int, int]] = field(default_factory=list)
    chain_breaks: list[tuple[str, int, str]] = field(default_factory=list)
    trial_balance_fen: int = 0
    snapshots: snapshots.SnapshotReport = field(default_factory=snapshots.SnapshotReport)

    @property
    def ok(self) -> bool:
        return not (
            self.balance_mismatches
            or self.chain_breaks
            or self.trial_balance_fen
            or self.snapshots.problems
        )


def verify(session: Session) -> VerifyReport:
    """Recompute every balance from postings, every hash chain from the entries and every
    balance snapshot from the postings."""
    report = VerifyReport()
    computed = {int(a): int(b) for a, b in session.execute(_sum_query())}
    for account in session.scalars(select(LedgerAccount).order_by(LedgerAccount.code)):
        expected = computed.get(account.id, 0)
        if expected != account.balance_fen:
            report.balance_mismatches.append((account.code, account.balance_fen, expected))
    report.trial_balance_fen = sum(computed.values())
    heads = dict(session.execute(select(LedgerChain.fund_key, LedgerChain.last_hash)).all())
    funds = session.execute(
        select(JournalEntry.region_code, JournalEntry.insutype).distinct()
    ).all()
    for region_code, insutype in funds:
        fund_key = f"{region_code}:{insutype}"
        last = _verify_chain(session, region_code, insutype, report)
        if heads.get(fund_key, rules.GENESIS_HASH) != last:
            report.chain_breaks.append((fund_key, 0, "chain head does not match the last entry"))
    snapshots.verify(session, report.snapshots)
    return report


def _verify_chain(session: Session, region_code: str, insutype: str, report: VerifyReport) -> str:
    prev = rules.GENESIS_HASH
    after_id = 0
    fund_key = f"{region_code}:{insutype}"
    while True:
        entries = list(
            session.scalars(
                select(JournalEntry)
                .where(
                    and_(
                        JournalEntry.region_code == region_code,
                        JournalEntry.insutype == insutype,
                        JournalEntry.id > after_id,
                    )
                )
                .order_by(JournalEntry.id)
                .limit(VERIFY_BATCH)
            )
        )
        if not entries:
            return prev
        lines = entry_lines(session, [entry.id for entry in entries])
        reversed_ids = [e.reverses_entry_id for e in entries if e.reverses_entry_id]
        reversed_keys = (
            dict(
                session.execute(
                    select(JournalEntry.id, JournalEntry.idempotency_key).where(
                        JournalEntry.id.in_(reversed_ids)
                    )
                ).all()
            )
            if reversed_ids
            else {}
        )
        for entry in entries:
            report.entries_checked += 1
            after_id = entry.id
            draft_lines = tuple(lines.get(entry.id, ()))
            if entry.prev_hash != prev:
                report.chain_breaks.append((fund_key, entry.id, "previous hash differs"))
            try:
                draft = Draft(
                    kind=entry.kind,
                    key=entry.idempotency_key,
                    region_code=entry.region_code,
                    insutype=entry.insutype,
                    lines=draft_lines,
                    effective_at=entry.effective_at,
                    business_ref=entry.business_ref,
                    fixmedins_code=entry.fixmedins_code,
                    period=entry.period,
                    reverses_entry_id=entry.reverses_entry_id,
                )
            except (rules.LedgerRuleError, AssertionError) as error:
                report.chain_breaks.append((fund_key, entry.id, f"postings: {error}"))
                prev = entry.entry_hash
                continue
            digest = rules.request_hash(draft, reversed_keys.get(entry.reverses_entry_id or 0))
            if digest != entry.request_hash:
                report.chain_breaks.append((fund_key, entry.id, "content differs from its hash"))
            recomputed = rules.chain_hash(
                entry.prev_hash,
                entry.idempotency_key,
                entry.request_hash,
                entry.effective_at,
                entry.recorded_at,
            )
            if recomputed != entry.entry_hash:
                report.chain_breaks.append((fund_key, entry.id, "entry hash differs"))
            prev = entry.entry_hash
