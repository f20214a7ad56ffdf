"""Deduction data (扣减数据, SPEC-ASSISTANCE A7, A10 "Deductions"; issue 22 item 3): record one
or a file of them, each idempotent on its own reference; list them. Flush-only; records its
own audit trail.

The checks run set-based over every row given (one query per table and chunk, never one per
row): the shape (a per-item type names exactly one item, `burden_relief` a year), the
reference (stored with the same content: a replay; with other content: 409), the person (in
the register, else 404), the item (unknown, revoked, or no item — a settlement dated before the
region's `610` switch-on —: 404; another person's: 422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import items
from app.assistance.deduction_models import DeductionRecord
from app.assistance.deduction_schemas import DeductionIn
from app.assistance.models import Recipient
from app.assistance.rules import DeductionKind
from app.auth.principal import Principal
from app.db import any_of, in_chunks
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.money import yuan
from app.trail import service as trail

RECORDS_PER_CALL_MAX = 10_000
ITEM_FIELDS = ("fixmedins_code", "setl_id", "invoice_no")


@dataclass(frozen=True)
class Issue:
    """A refused row: `index` in the rows given; `status` as a single record answers it."""

    index: int
    field: str
    rule: str
    message: str
    status: int  # 404, 409 or 422


@dataclass
class Checked:
    data: DeductionIn
    digest: str
    item_key: str | None = None
    year: int | None = None
    stored: DeductionRecord | None = None  # this reference, stored with the same content
    same_as: int | None = None  # an earlier row of this call: same reference, same content


def content_hash(data: DeductionIn) -> str:
    """sha256 of the record's canonical JSON: what decides replay (same) or conflict."""
    canonical = json.dumps(
        data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _shape(data: DeductionIn) -> list[tuple[str, str, str]]:
    """(field, rule, message) of what the record's type requires of its other fields."""
    found = []
    if data.type is DeductionKind.BURDEN_RELIEF:
        if data.year is None:
            found.append(("year", "relief_names_a_year", "burden_relief names a year"))
        for name in ITEM_FIELDS:
            if getattr(data, name) is not None:
                found.append((name, "relief_names_no_item", "burden_relief names no item"))
        return found
    if data.year is not None:
        found.append(("year", "item_names_no_year", f"{data.type} names its item, not a year"))
    by_settlement = data.fixmedins_code is not None or data.setl_id is not None
    if data.invoice_no is not None and by_settlement:
        found.append(("invoice_no", "one_item", "fixmedins_code + setl_id, or invoice_no"))
    elif data.invoice_no is None:
        for name in ("fixmedins_code", "setl_id"):
            if getattr(data, name) is None:
                found.append((name, "item_named", "fixmedins_code + setl_id, or invoice_no"))
    return found


def _stored(session: Session, references: list[str]) -> dict[str, DeductionRecord]:
    found: dict[str, DeductionRecord] = {}
    for chunk in in_chunks(session, sorted(set(references))):
        for row in session.scalars(
            select(DeductionRecord).where(any_of(session, DeductionRecord.reference, chunk))
        ):
            found[row.reference] = row
    return found


def _regions(session: Session, people: set[str]) -> dict[str, str]:
    """psn_no -> region of the persons of the register among `people`."""
    found: dict[str, str] = {}
    for chunk in in_chunks(session, sorted(people)):
        rows = session.execute(
            select(Recipient.psn_no, Recipient.region_code).where(
                any_of(session, Recipient.psn_no, chunk)
            )
        )
        found.update({psn_no: region for psn_no, region in rows})
    return found


def _check_items(session: Session, checked: list[Checked], pending: list[int]) -> list[Issue]:
    """The persons and items of the rows still to store; fills each one's key and year."""
    rows = [checked[index].data for index in pending]
    regions = _regions(session, {data.psn_no for data in rows})
    since = {region: items.switched_on(session, region) for region in set(regions.values())}
    settlements = items.find_settlements(
        session,
        [(d.fixmedins_code, d.setl_id) for d in rows if d.fixmedins_code and d.setl_id],
    )
    invoices = items.find_invoices(session, [d.invoice_no for d in rows if d.invoice_no])
    issues = []
    for index in pending:
        entry = checked[index]
        data = entry.data
        region = regions.get(data.psn_no)
        if data.type is DeductionKind.BURDEN_RELIEF:
            if region is None:
                issues.append(_no_recipient(index, data))
            entry.year = data.year
            continue
        if data.invoice_no is not None:
            field, key = "invoice_no", items.invoice_key(data.invoice_no)
            named = invoices.get(data.invoice_no)
        else:
            assert data.fixmedins_code is not None and data.setl_id is not None
            field, key = "setl_id", items.settlement_key(data.fixmedins_code, data.setl_id)
            named = settlements.get((data.fixmedins_code, data.setl_id))
        if named is None or named.revoked:
            issues.append(Issue(index, field, "item_unknown", f"no item {key}", 404))
        elif named.psn_no != data.psn_no:
            message = f"{key} is an item of another person"
            issues.append(Issue(index, "psn_no", "item_of_another_person", message, 422))
        elif region is None:
            issues.append(_no_recipient(index, data))
        elif field == "setl_id" and not _on_or_after(named.day, since[region]):
            message = f"{key} is dated before the 610 fund of {region} was switched on"
            issues.append(Issue(index, field, "item_unknown", message, 404))
        else:
            entry.item_key, entry.year = key, named.day.year
    return issues


def _on_or_after(day: date, switched_on: date | None) -> bool:
    return switched_on is not None and day >= switched_on


def _no_recipient(index: int, data: DeductionIn) -> Issue:
    return Issue(index, "psn_no", "recipient_unknown", f"no recipient {data.psn_no}", 404)


def check(session: Session, rows: Sequence[DeductionIn]) -> tuple[list[Checked], list[Issue]]:
    """Every row checked; the issues in row order (nothing is stored here)."""
    assert len(rows) <= RECORDS_PER_CALL_MAX
    checked = [Checked(data, content_hash(data)) for data in rows]
    issues: list[Issue] = []
    well_formed = set()
    for index, entry in enumerate(checked):
        found = _shape(entry.data)
        issues.extend(Issue(index, field, rule, text, 422) for field, rule, text in found)
        if not found:
            well_formed.add(index)
    stored = _stored(session, [entry.data.reference for entry in checked])
    first_of: dict[str, int] = {}
    pending = []
    for index, entry in enumerate(checked):
        reference = entry.data.reference
        if reference in stored:
            if stored[reference].content_hash == entry.digest:
                entry.stored = stored[reference]
            else:
                message = f"{reference} was recorded with other content"
                issues.append(Issue(index, "reference", "reference_reused", message, 409))
        elif reference in first_of:
            if checked[first_of[reference]].digest == entry.digest:
                entry.same_as = first_of[reference]
            else:
                message = f"{reference} is given twice with other content"
                issues.append(Issue(index, "reference", "reference_repeated", message, 422))
        else:
            first_of[reference] = index
            if index in well_formed:
                pending.append(index)
    issues.extend(_check_items(session, checked, pending))
    issues.sort(key=lambda issue: issue.index)
    return checked, issues


def raise_for_one(issues: Sequence[Issue]) -> None:
    """A single record: 422 (shape, another person's item), else 404, else 409."""
    for status, error in ((422, Invalid), (404, NotFound), (409, Conflict)):
        chosen = [issue for issue in issues if issue.status == status]
        if chosen:
            raise error(
                "; ".join(f"{issue.field}: {issue.message}" for issue in chosen),
                errors=[FieldError(issue.field, issue.rule, issue.message) for issue in chosen],
            )


def _snapshot(row: DeductionRecord) -> dict[str, object]:
    return {
        "type": row.type,
        "psn_no": row.psn_no,
        "year": row.year,
        "item_key": row.item_key,
        "amount": yuan(row.amount_fen),
    }


def store(
    session: Session, checked: Sequence[Checked], *, actor: Principal, now: datetime
) -> list[tuple[DeductionRecord, bool]]:
    """Store the checked rows (no issue left): (record, created) per row, replays included."""
    results: list[tuple[DeductionRecord, bool]] = []
    for entry in checked:
        if entry.stored is not None:
            results.append((entry.stored, False))
            continue
        if entry.same_as is not None:
            results.append((results[entry.same_as][0], False))
            continue
        assert entry.year is not None
        data = entry.data
        row = DeductionRecord(
            reference=data.reference,
            type=data.type.value,
            psn_no=data.psn_no,
            year=entry.year,
            fixmedins_code=data.fixmedins_code,
            setl_id=data.setl_id,
            invoice_no=data.invoice_no,
            item_key=entry.item_key,
            amount_fen=data.amount,
            content_hash=entry.digest,
            recorded_at=now,
            recorded_by=actor.name,
        )
        session.add(row)
        results.append((row, True))
    session.flush()
    return results


def record(
    session: Session, data: DeductionIn, *, actor: Principal, now: datetime
) -> tuple[DeductionRecord, bool]:
    """One record (201 new, 200 replay); refused as `raise_for_one` says."""
    checked, issues = check(session, [data])
    raise_for_one(issues)
    ((row, created),) = store(session, checked, actor=actor, now=now)
    if created:
        trail.record(
            session,
            actor=actor,
            action="assistance_deduction.record",
            entity="assistance_deduction",
            key=row.reference,
            before=None,
            after=_snapshot(row),
            now=now,
        )
    return row, created


def store_import(
    session: Session,
    checked: Sequence[Checked],
    *,
    actor: Principal,
    now: datetime,
    source: str,
) -> list[tuple[DeductionRecord, bool]]:
    """Store a file's checked rows (no issue left), with one trail event for the file
    (`source`: the sha256 of its content)."""
    results = store(session, checked, actor=actor, now=now)
    created = [row.reference for row, new in results if new]
    trail.record(
        session,
        actor=actor,
        action="assistance_deduction.import",
        entity="assistance_deduction",
        key=source,
        before=None,
        after={"rows": len(results), "recorded": len(created), "references": created},
        now=now,
    )
    return results


def listing(
    session: Session, *, psn_no: str | None, year: int | None, after_id: int | None, limit: int
) -> list[DeductionRecord]:
    query = select(DeductionRecord).order_by(DeductionRecord.id).limit(limit)
    if psn_no is not None:
        query = query.where(DeductionRecord.psn_no == psn_no)
    if year is not None:
        query = query.where(DeductionRecord.year == year)
    if after_id is not None:
        query = query.where(DeductionRecord.id > after_id)
    return list(session.scalars(query))


def of_person_year(session: Session, psn_no: str, year: int) -> list[DeductionRecord]:
    """Every record of a person-year (one query), in the order recorded."""
    return list(
        session.scalars(
            select(DeductionRecord)
            .where(DeductionRecord.psn_no == psn_no, DeductionRecord.year == year)
            .order_by(DeductionRecord.id)
        )
    )
