"""The documents a hospital records per settlement for its assistance statement (A5: 疾病诊断
证明书, 救助结算单, 垫付统计表), single or bulk, and an operator's rejection with a reason.

A settlement is payable when its three documents are recorded and none is rejected;
recording a rejected document again replaces the rejection. Recording what is recorded
changes nothing (idempotent); a bulk is all or nothing. Services only flush."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from app.assistance.statement_models import (
    DOCUMENT_TYPES,
    RECORDED,
    REJECTED,
    AssistanceDocument,
)
from app.auth.deps import scope
from app.auth.principal import Principal
from app.db import in_chunks
from app.errors import Invalid, NotFound
from app.settlements.models import Settlement
from app.trail import service as trail


@dataclass(frozen=True)
class Request:
    fixmedins_code: str
    setl_id: str
    documents: Sequence[str]


@dataclass(frozen=True)
class State:
    """A settlement's documents as the API answers them."""

    fixmedins_code: str
    setl_id: str
    documents: dict[str, str | None]  # document → RECORDED | REJECTED | None

    @property
    def payable(self) -> bool:
        return all(self.documents[name] == RECORDED for name in DOCUMENT_TYPES)


def _settlements(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(fixmedins_code, setl_id) → settlement id, a few queries for any number."""
    found: dict[tuple[str, str], int] = {}
    for chunk in in_chunks(session, sorted(set(keys)), size=400):
        rows = session.execute(
            select(Settlement.fixmedins_code, Settlement.setl_id, Settlement.id).where(
                tuple_(Settlement.fixmedins_code, Settlement.setl_id).in_(chunk)
            )
        )
        found.update({(code, setl_id): sid for code, setl_id, sid in rows})
    return found


def _documents(session: Session, ids: Sequence[int]) -> dict[int, dict[str, AssistanceDocument]]:
    held: dict[int, dict[str, AssistanceDocument]] = {sid: {} for sid in ids}
    for chunk in in_chunks(session, sorted(set(ids))):
        for row in session.scalars(
            select(AssistanceDocument)
            .where(AssistanceDocument.settlement_id.in_(chunk))
            .with_for_update()
        ):
            held[row.settlement_id][row.document] = row
    return held


def _state(code: str, setl_id: str, rows: dict[str, AssistanceDocument]) -> State:
    return State(
        code,
        setl_id,
        {name: rows[name].status if name in rows else None for name in DOCUMENT_TYPES},
    )


def record(
    session: Session, requests: Sequence[Request], *, bulk: bool, actor: Principal, now: datetime
) -> list[State]:
    """Record the listed documents of each settlement (all or nothing): a hospital only for
    its own settlements (another's is a 404); an unknown settlement is a 404, or in a bulk a
    422 naming `items.N.setl_id`."""
    for request in requests:
        scope(actor, request.fixmedins_code)
    ids = _settlements(session, [(r.fixmedins_code, r.setl_id) for r in requests])
    for index, request in enumerate(requests):
        if (request.fixmedins_code, request.setl_id) not in ids:
            message = f"no settlement {request.fixmedins_code}/{request.setl_id}"
            if bulk:
                raise Invalid.field(f"items.{index}.setl_id", "settlement_exists", message)
            raise NotFound(message)
    held = _documents(session, list(ids.values()))
    states, added, events = [], [], []
    for request in requests:
        settlement_id = ids[(request.fixmedins_code, request.setl_id)]
        rows = held[settlement_id]
        changed: dict[str, Any] = {}
        for name in dict.fromkeys(request.documents):
            row = rows.get(name)
            if row is None:
                row = AssistanceDocument(settlement_id=settlement_id, document=name)
                added.append(row)  # inserted with the others below, not one by one
                rows[name] = row
            elif row.status == RECORDED:
                continue
            changed[name] = row.status if row.id is not None else None
            row.status = RECORDED
            row.recorded_at, row.recorded_by = now, actor.name
            row.rejected_at = row.rejected_by = row.reject_reason = None
        if changed:
            key = f"{request.fixmedins_code}:{request.setl_id}"
            events.append((key, changed, dict.fromkeys(changed, RECORDED)))
        states.append(_state(request.fixmedins_code, request.setl_id, rows))
    # the bulk's writes batched: the rejected ones recorded again (one flush), the new ones
    # and the audit events each in one multi-row insert
    session.flush()
    if added:
        session.execute(
            insert(AssistanceDocument),
            [
                {
                    "settlement_id": row.settlement_id,
                    "document": row.document,
                    "status": row.status,
                    "recorded_at": row.recorded_at,
                    "recorded_by": row.recorded_by,
                    "rejected_at": None,
                    "rejected_by": None,
                    "reject_reason": None,
                }
                for row in added
            ],
        )
    trail.record_many(
        session,
        actor=actor,
        action="assistance_document.record",
        entity="settlement",
        changes=events,
        now=now,
    )
    return states


def reject(
    session: Session,
    *,
    fixmedins_code: str,
    setl_id: str,
    document: str,
    reason: str,
    actor: Principal,
    now: datetime,
) -> State:
    """An operator rejects one document (不真实) with a reason; a document not recorded yet is
    recorded as rejected (the hospital must record it). The same rejection again changes
    nothing; another reason replaces the reason."""
    ids = _settlements(session, [(fixmedins_code, setl_id)])
    if not ids:
        raise NotFound(f"no settlement {fixmedins_code}/{setl_id}")
    settlement_id = ids[(fixmedins_code, setl_id)]
    rows = _documents(session, [settlement_id])[settlement_id]
    row = rows.get(document)
    if row is None or row.status != REJECTED or row.reject_reason != reason:
        before = None if row is None else {"status": row.status, "reason": row.reject_reason}
        if row is None:
            row = AssistanceDocument(settlement_id=settlement_id, document=document)
            session.add(row)
            rows[document] = row
        row.status = REJECTED
        row.rejected_at, row.rejected_by, row.reject_reason = now, actor.name, reason
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="assistance_document.reject",
            entity="settlement",
            key=f"{fixmedins_code}:{setl_id}",
            before={document: before},
            after={document: {"status": REJECTED, "reason": reason}},
            now=now,
        )
    return _state(fixmedins_code, setl_id, rows)
