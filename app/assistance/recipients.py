"""The recipients register (SPEC-ASSISTANCE A2, A10 "Recipients"): register or update one
person, the offices' monthly imports, lists. Flush-only; records its own audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from app.assistance import register
from app.assistance.models import Recipient, RecipientCategory, RecipientImport
from app.assistance.policy import Category, Holding
from app.assistance.schemas import ImportIn, PersonFields, RecipientIn
from app.auth.principal import Principal
from app.db import any_of, in_chunks
from app.errors import Conflict, Invalid, NotFound
from app.institutions.models import Region
from app.trail import service as trail

PERSON_FIELDS = (
    "name",
    "certno",
    "region_code",
    "bank_account",
    "bank_account_name",
    "bank_code",
    "last_year_income_fen",
)


def find(session: Session, psn_no: str) -> Recipient | None:
    return session.scalar(select(Recipient).where(Recipient.psn_no == psn_no))


def find_many(session: Session, psn_nos: list[str]) -> dict[str, Recipient]:
    """The recipients of these persons, by person (one query; a person not registered is
    absent)."""
    found: dict[str, Recipient] = {}
    for chunk in in_chunks(session, sorted(set(psn_nos))):
        for recipient in session.scalars(
            select(Recipient).where(any_of(session, Recipient.psn_no, chunk))
        ):
            found[recipient.psn_no] = recipient
    return found


def get(session: Session, psn_no: str) -> Recipient:
    recipient = find(session, psn_no)
    if recipient is None:
        raise NotFound(f"no recipient {psn_no}")
    return recipient


def holdings(session: Session, recipient_id: int) -> list[Holding]:
    rows = session.scalars(
        select(RecipientCategory).where(RecipientCategory.recipient_id == recipient_id)
    )
    held = [Holding(Category(row.category), row.valid_from, row.valid_to) for row in rows]
    return register.merge_holdings(held, [])


def _snapshot(recipient: Recipient, held: Sequence[Holding]) -> dict[str, Any]:
    """The trail's view: the certificate number masked (personal data stays out of the trail)."""
    values = {field: getattr(recipient, field) for field in PERSON_FIELDS}
    values["certno"] = register.mask_certno(recipient.certno)
    values["categories"] = [
        [h.category.value, h.valid_from.isoformat(), h.valid_to and h.valid_to.isoformat()]
        for h in held
    ]
    return values


def _region_exists(session: Session, region_code: str, field: str) -> None:
    if session.get(Region, region_code) is None:
        raise Invalid.field(field, "region_exists", f"no region {region_code}")


def _apply_fields(recipient: Recipient, data: PersonFields) -> None:
    recipient.name = data.name
    recipient.certno = data.certno
    recipient.region_code = data.region_code
    recipient.bank_account = data.bank_account
    recipient.bank_account_name = data.bank_account_name
    recipient.bank_code = data.bank_code
    recipient.last_year_income_fen = data.last_year_income


def _upsert_person(
    session: Session, psn_no: str, data: PersonFields, *, now: datetime
) -> tuple[Recipient, bool]:
    recipient = find(session, psn_no)
    created = recipient is None
    if recipient is None:
        recipient = Recipient(psn_no=psn_no, created_at=now)
        session.add(recipient)
    _apply_fields(recipient, data)
    recipient.updated_at = now
    session.flush()
    return recipient, created


def _save_holdings(session: Session, recipient_id: int, merged: Sequence[Holding]) -> None:
    """Write the merged holdings: rows keyed (category, valid_from) updated or added."""
    rows = {
        (row.category, row.valid_from): row
        for row in session.scalars(
            select(RecipientCategory).where(RecipientCategory.recipient_id == recipient_id)
        )
    }
    for holding in merged:
        row = rows.get((holding.category.value, holding.valid_from))
        if row is None:
            session.add(
                RecipientCategory(
                    recipient_id=recipient_id,
                    category=holding.category.value,
                    valid_from=holding.valid_from,
                    valid_to=holding.valid_to,
                )
            )
        elif row.valid_to != holding.valid_to:
            row.valid_to = holding.valid_to
    session.flush()


def put(
    session: Session, psn_no: str, data: RecipientIn, *, actor: Principal, now: datetime
) -> tuple[Recipient, bool]:
    """Register or update one person (A10): the record replaces the person's fields, its
    categories merge into the held ones by (category, valid_from). (recipient, created)."""
    _region_exists(session, data.region_code, "region_code")
    existing = find(session, psn_no)
    before = None if existing is None else _snapshot(existing, holdings(session, existing.id))
    recipient, created = _upsert_person(session, psn_no, data, now=now)
    listed = [Holding(c.category, c.valid_from, c.valid_to) for c in data.categories]
    merged = register.merge_holdings(holdings(session, recipient.id), listed)
    _save_holdings(session, recipient.id, merged)
    trail.record(
        session,
        actor=actor,
        action="recipient.create" if created else "recipient.update",
        entity="recipient",
        key=psn_no,
        before=before,
        after=_snapshot(recipient, merged),
        now=now,
    )
    return recipient, created


def content_hash(data: ImportIn) -> str:
    """sha256 of the list's canonical JSON: what decides replay (same) or conflict (other)."""
    canonical = json.dumps(
        [item.model_dump(mode="json") for item in data.items],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_import(session: Session, data: ImportIn) -> None:
    regions = {item.region_code for item in data.items}
    known = set(session.scalars(select(Region.code).where(Region.code.in_(regions))))
    for index, item in enumerate(data.items):
        if item.region_code not in known:
            raise Invalid.field(
                f"items.{index}.region_code", "region_exists", f"no region {item.region_code}"
            )


def _fields_of(data: PersonFields) -> dict[str, Any]:
    """The columns `_apply_fields` sets, for a multi-row insert."""
    return {
        "name": data.name,
        "certno": data.certno,
        "region_code": data.region_code,
        "bank_account": data.bank_account,
        "bank_account_name": data.bank_account_name,
        "bank_code": data.bank_code,
        "last_year_income_fen": data.last_year_income,
    }


def _import_people(
    session: Session, items: Sequence[Any], *, now: datetime
) -> tuple[dict[str, int], set[str]]:
    """Each listed person's recipient id, registered or updated set-based (one read of the
    known ones, one multi-row insert of the new ones; a person on several lines gets the
    fields of its last line), and the persons not registered before."""
    last = {item.psn_no: item for item in items}  # a later line of the same person wins
    known = find_many(session, list(last))
    for psn_no, recipient in known.items():
        _apply_fields(recipient, last[psn_no])
        recipient.updated_at = now
    session.flush()
    new = [psn_no for psn_no in last if psn_no not in known]
    if new:
        session.execute(
            insert(Recipient),
            [
                {"psn_no": psn_no, **_fields_of(last[psn_no]), "created_at": now, "updated_at": now}
                for psn_no in new
            ],
        )
        known.update(find_many(session, new))
    return {psn_no: recipient.id for psn_no, recipient in known.items()}, set(new)


def _line_holdings(held: list[Holding], item: Any) -> tuple[list[Holding], str]:
    """The holdings after one line of a monthly list, and the line's flag (new is decided by
    the caller)."""
    if item.exited_on is None:
        return register.merge_holdings(held, [Holding(item.category, item.valid_from, None)]), ""
    to_end = register.holding_to_end(held, item.category, item.exited_on)
    known = any(h.category == item.category and h.valid_from == item.valid_from for h in held)
    if to_end is not None or not known:
        # an exit of one not yet held records it, ended; one that ended earlier already
        # stays as it is (an exit never lengthens a holding)
        to_end = to_end or Holding(item.category, item.valid_from, None)
        return register.merge_holdings(held, [register.ended(to_end, item.exited_on)]), "exited"
    return held, "exited"


def _import_lines(session: Session, items: Sequence[Any], *, now: datetime) -> list[dict[str, str]]:
    """Apply a monthly list's lines set-based (a few statements whatever the lines): the
    persons, then their holdings read at once, merged line by line in memory, and the
    changed ones written in one flush and one multi-row insert."""
    ids, new = _import_people(session, items, now=now)
    rows: dict[int, dict[tuple[str, date], RecipientCategory]] = {rid: {} for rid in ids.values()}
    for chunk in in_chunks(session, sorted(rows)):
        for row in session.scalars(
            select(RecipientCategory).where(any_of(session, RecipientCategory.recipient_id, chunk))
        ):
            rows[row.recipient_id][(row.category, row.valid_from)] = row
    start = {
        rid: register.merge_holdings(
            [Holding(Category(r.category), r.valid_from, r.valid_to) for r in keyed.values()], []
        )
        for rid, keyed in rows.items()
    }
    held = dict(start)
    lines = []
    for item in items:
        rid = ids[item.psn_no]
        held[rid], flag = _line_holdings(held[rid], item)
        if not flag:
            flag = "new" if item.psn_no in new else "updated"
        lines.append({"psn_no": item.psn_no, "flag": flag, "category": item.category.value})
    added: list[dict[str, Any]] = []
    for rid, merged in held.items():
        if merged == start[rid]:
            continue  # holdings the lines leave as they are are not written again
        for holding in merged:
            stored = rows[rid].get((holding.category.value, holding.valid_from))
            if stored is None:
                added.append(
                    {
                        "recipient_id": rid,
                        "category": holding.category.value,
                        "valid_from": holding.valid_from,
                        "valid_to": holding.valid_to,
                    }
                )
            elif stored.valid_to != holding.valid_to:
                stored.valid_to = holding.valid_to
    session.flush()
    if added:
        session.execute(insert(RecipientCategory), added)
    return lines


def import_list(
    session: Session, data: ImportIn, *, actor: Principal, now: datetime
) -> tuple[RecipientImport, bool]:
    """An office's monthly list (A2), idempotent per (source, month): the same content again
    is a replay (False), other content a Conflict. Atomic: an invalid line refuses the list."""
    digest = content_hash(data)
    existing = session.scalar(
        select(RecipientImport).where(
            RecipientImport.source == data.source, RecipientImport.month == data.month
        )
    )
    if existing is not None:
        if existing.content_hash != digest:
            raise Conflict(
                f"the {data.source} list of {data.month} was imported with other content"
            )
        return existing, False
    _check_import(session, data)
    lines = _import_lines(session, data.items, now=now)
    row = RecipientImport(
        source=data.source,
        month=data.month,
        content_hash=digest,
        item_count=len(data.items),
        result=lines,
        imported_at=now,
        imported_by=actor.name,
    )
    session.add(row)
    session.flush()
    counts = {
        flag: sum(1 for line in lines if line["flag"] == flag)
        for flag in ("new", "updated", "exited")
    }
    trail.record(
        session,
        actor=actor,
        action="recipient.import",
        entity="recipient_import",
        key=f"{data.source}:{data.month}",
        before=None,
        after={"items": len(lines), **counts, "content_hash": digest},
        now=now,
    )
    return row, True


def listing(
    session: Session,
    *,
    region_code: str | None,
    category: Category | None,
    on: date | None,
    after_psn_no: str | None,
    limit: int,
) -> list[Recipient]:
    """Recipients by psn_no; with `category` and/or `on`, those holding it (any, on that day)."""
    query = select(Recipient).order_by(Recipient.psn_no).limit(limit)
    if region_code is not None:
        query = query.where(Recipient.region_code == region_code)
    if after_psn_no is not None:
        query = query.where(Recipient.psn_no > after_psn_no)
    if category is not None or on is not None:
        held = RecipientCategory.recipient_id == Recipient.id
        conditions = [held]
        if category is not None:
            conditions.append(RecipientCategory.category == category.value)
        if on is not None:
            conditions.append(RecipientCategory.valid_from <= on)
            conditions.append(
                (RecipientCategory.valid_to.is_(None)) | (RecipientCategory.valid_to >= on)
            )
        query = query.where(exists().where(*conditions))
    return list(session.scalars(query))


def holdings_of(session: Session, recipient_ids: Sequence[int]) -> dict[int, list[Holding]]:
    found: dict[int, list[Holding]] = {rid: [] for rid in recipient_ids}
    if not recipient_ids:
        return found
    for row in session.scalars(
        select(RecipientCategory).where(RecipientCategory.recipient_id.in_(recipient_ids))
    ):
        found[row.recipient_id].append(
            Holding(Category(row.category), row.valid_from, row.valid_to)
        )
    return {rid: register.merge_holdings(held, []) for rid, held in found.items()}
