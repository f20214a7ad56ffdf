"""A person-year over the stored data (SPEC-ASSISTANCE A4, A7, A10; issue 22 item 3): the
person's items, holdings and deductions of one calendar year read set-based (one query per
table), the pure `rules.compute_year` over them, and granted and difference beside it.

The policy comes from `policy_for(day)`, the version in force on that day in the person's
region (None: none in force, every category pays 0); app/assistance/policy_source.py provides
it for the API. Applications' invoices and amounts come from `application_items`; earlier
clearing results from `clearing_models` (`_clearings_granted`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assistance import application_items, deductions, items, recipients
from app.assistance.clearing_models import AssistanceClearing
from app.assistance.deduction_models import DeductionRecord
from app.assistance.items import StoredItem
from app.assistance.policy import Policy
from app.assistance.recovery import difference, granted
from app.assistance.rules import Deduction, DeductionKind, YearResult, compute_year

PolicyFor = Callable[[date], Policy | None]


def versions_for(days: Iterable[date], policy_for: PolicyFor) -> list[Policy]:
    """Policy versions such that `policy_in_force(versions, day)` is `policy_for(day)` for
    each of `days` (the rules take versions, the caller a provider): each run of days with
    the same policy becomes one version starting on its first day; a day without a policy
    becomes an empty version (no rule: every category pays 0, as with none). One call of
    `policy_for` per distinct day."""
    versions: list[Policy] = []
    previous: Policy | None = None
    for day in sorted(set(days)):
        current = policy_for(day)
        if versions and current == previous:
            continue
        versions.append(replace(current or Policy(effective_from=day), effective_from=day))
        previous = current
    return versions


@dataclass(frozen=True)
class Granted:
    """A7's granted, by source: maf_pay of unrevoked settlements, application amounts
    (before deduction), earlier clearing results (signed)."""

    maf_pay_fen: int
    applications_fen: int
    clearings_fen: int

    @property
    def total_fen(self) -> int:
        return granted(
            maf_pay_fen=self.maf_pay_fen,
            applications_fen=self.applications_fen,
            clearings_fen=self.clearings_fen,
        )


@dataclass(frozen=True)
class PersonYear:
    psn_no: str
    year: int
    region_code: str
    result: YearResult
    stored: dict[str, StoredItem]  # by item key
    deductions: tuple[tuple[DeductionRecord, bool], ...]  # (record, counted)
    granted: Granted

    @property
    def due_fen(self) -> int:
        return self.result.due_fen

    @property
    def granted_fen(self) -> int:
        return self.granted.total_fen

    @property
    def difference_fen(self) -> int:
        return difference(self.due_fen, self.granted_fen)


def _applications_granted(session: Session, psn_no: str, year: int) -> int:
    """Σ the year's parts of the person's unrejected applications (counted from the moment
    each is recorded)."""
    return application_items.granted_by_year(session, psn_no).get(year, 0)


def _clearings_granted(session: Session, psn_no: str, year: int) -> int:
    """Σ the person-year's earlier clearing results (signed; a rejected top-up's result
    taken back)."""
    total = session.scalar(
        select(func.sum(AssistanceClearing.difference_fen)).where(
            AssistanceClearing.psn_no == psn_no,
            AssistanceClearing.year == year,
            AssistanceClearing.taken_back_at.is_(None),
        )
    )
    return int(total or 0)


def _rule_deduction(record: DeductionRecord) -> Deduction:
    kind = DeductionKind(record.type)
    if kind is DeductionKind.BURDEN_RELIEF:
        return Deduction(kind, record.amount_fen, year=record.year)
    return Deduction(kind, record.amount_fen, item_key=record.item_key)


def counted(
    records: Sequence[DeductionRecord], keys: set[str]
) -> tuple[tuple[DeductionRecord, bool], ...]:
    """Each record and whether it counts: relief always; a per-item one while its item is
    an item (a revoked settlement takes its deductions out with it)."""
    return tuple((record, record.item_key is None or record.item_key in keys) for record in records)


def person_year(session: Session, psn_no: str, year: int, policy_for: PolicyFor) -> PersonYear:
    """Due, granted and difference of one person-year, afresh from everything stored.
    A person not in the register is 404."""
    recipient = recipients.get(session, psn_no)
    holdings = recipients.holdings(session, recipient.id)
    since = items.switched_on(session, recipient.region_code)
    stored = [
        *items.settlement_items(session, psn_no, year, since=since),
        *items.invoice_items(session, psn_no, year),
    ]
    by_key = {entry.item.key: entry for entry in stored}
    records = counted(deductions.of_person_year(session, psn_no, year), set(by_key))
    result = compute_year(
        year,
        [entry.item for entry in stored],
        holdings=holdings,
        policies=versions_for((entry.item.day for entry in stored), policy_for),
        deductions=[_rule_deduction(record) for record, counts in records if counts],
    )
    parts = Granted(
        maf_pay_fen=sum(entry.maf_pay_fen for entry in stored),
        applications_fen=_applications_granted(session, psn_no, year),
        clearings_fen=_clearings_granted(session, psn_no, year),
    )
    return PersonYear(psn_no, year, recipient.region_code, result, by_key, records, parts)
