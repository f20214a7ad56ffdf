"""Settlement uploads, single and bulk (moved out of app/settlements/service.py as they were):
one query per kind of lookup, multi-row inserts, never a round trip per settlement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import failpoints
from app.auth.principal import Principal
from app.clock import business_date
from app.daily import rules as daily_rules
from app.db import any_of, in_chunks, insert_rows, reserve_ids
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.settlements import recipients, rules
from app.settlements.context import load_contexts, lock_batch_states, lock_period_states
from app.settlements.models import Settlement, SettlementKey
from app.settlements.rules import UploadOutcome
from app.settlements.schemas import SettlementIn

BULK_ITEMS_MAX = 5000


_record_adapter = TypeAdapter(SettlementIn)


SETTLEMENT = cast(Table, Settlement.__table__)
SETTLEMENT_KEY = cast(Table, SettlementKey.__table__)
KEY_COLUMNS = ("id", "fixmedins_code", "setl_id", "period")


def insert_settlements(session: Session, rows: list[dict[str, Any]]) -> None:
    """Settlement rows (ids reserved) with their key rows: the keys first (the unique
    (fixmedins_code, setl_id) and what other tables refer to), then the settlements, which
    PostgreSQL routes to their period's partition (migration 0032)."""
    insert_rows(session, SETTLEMENT_KEY, [{c: row[c] for c in KEY_COLUMNS} for row in rows])
    insert_rows(session, SETTLEMENT, rows)


@dataclass(frozen=True)
class Outcome:
    index: int
    setl_id: str | None
    outcome: UploadOutcome
    errors: tuple[FieldError, ...] = ()
    settlement_id: int | None = None


def validate_item(raw: Any) -> tuple[SettlementIn | None, list[FieldError]]:
    """Field types and formats of one record; errors name field and rule."""
    try:
        return _record_adapter.validate_python(raw), []
    except ValidationError as error:
        errors = []
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"]) or "item"
            errors.append(FieldError(field, str(item["type"]), str(item["msg"])))
        return None, errors


def upload_one(
    session: Session, record: SettlementIn, *, actor: Principal, now: datetime
) -> tuple[Settlement, bool]:
    """Store one settlement: (row, created). Replay returns the stored row; 409/422 else."""
    if actor.is_hospital and record.fixmedins_code != actor.fixmedins_code:
        raise NotFound(f"no institution {record.fixmedins_code!r}")
    outcome = _store(session, [(0, record)], actor=actor, now=now)[0]
    if outcome.outcome == UploadOutcome.INVALID:
        raise Invalid(
            "; ".join(f"{e.field}: {e.message}" for e in outcome.errors),
            errors=list(outcome.errors),
        )
    if outcome.outcome == UploadOutcome.CONFLICT:
        raise Conflict(
            f"settlement {record.setl_id} of {record.fixmedins_code} "
            "was uploaded with other content"
        )
    assert outcome.settlement_id is not None
    settlement = stored(session, outcome.settlement_id)
    assert settlement is not None
    return settlement, outcome.outcome == UploadOutcome.CREATED


def upload_bulk(
    session: Session, items: Sequence[Any], *, actor: Principal, now: datetime
) -> list[Outcome]:
    """Each item judged on its own; what is valid is stored even when others fail."""
    if len(items) > BULK_ITEMS_MAX:
        raise Invalid.field("items", "bulk_size", f"at most {BULK_ITEMS_MAX} items per request")
    outcomes: list[Outcome] = []
    valid: list[tuple[int, SettlementIn]] = []
    for index, raw in enumerate(items):
        record, errors = validate_item(raw)
        setl_id = raw.get("setl_id") if isinstance(raw, dict) else None
        setl_id = setl_id if isinstance(setl_id, str) else None
        if (
            record is not None
            and actor.is_hospital
            and record.fixmedins_code != actor.fixmedins_code
        ):
            errors = [FieldError("fixmedins_code", "institution_exists", "no such institution")]
            record = None
        if record is None:
            outcomes.append(Outcome(index, setl_id, UploadOutcome.INVALID, tuple(errors)))
        else:
            valid.append((index, record))
    outcomes.extend(_store(session, valid, actor=actor, now=now))
    return sorted(outcomes, key=lambda outcome: outcome.index)


def _existing_hashes(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str]]:
    by_code: dict[str, list[str]] = defaultdict(list)
    for code, setl_id in keys:
        by_code[code].append(setl_id)
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for code, ids in by_code.items():
        for chunk in in_chunks(session, ids):
            held = session.execute(
                select(SettlementKey.setl_id, SettlementKey.id, SettlementKey.period).where(
                    SettlementKey.fixmedins_code == code,
                    any_of(session, SettlementKey.setl_id, chunk),
                )
            ).all()
            if not held:
                continue  # the usual upload: nothing stored yet
            # their rows by id and period: the periods name the partitions to read
            digests: dict[int, str] = {
                settlement_id: digest
                for settlement_id, digest in session.execute(
                    select(Settlement.id, Settlement.content_hash).where(
                        any_of(session, Settlement.id, [k.id for k in held]),
                        any_of(session, Settlement.period, sorted({k.period for k in held})),
                    )
                )
            }
            for setl_id, settlement_id, _ in held:
                found[(code, setl_id)] = (settlement_id, digests[settlement_id])
    return found


def stored(session: Session, settlement_id: int) -> Settlement | None:
    """A settlement by id, read from its own period's partition (through its key)."""
    period = select(SettlementKey.period).where(SettlementKey.id == settlement_id)
    return session.scalar(
        select(Settlement).where(
            Settlement.id == settlement_id, Settlement.period == period.scalar_subquery()
        )
    )


def _store(
    session: Session,
    records: Sequence[tuple[int, SettlementIn]],
    *,
    actor: Principal,
    now: datetime,
) -> list[Outcome]:
    if not records:
        return []
    contexts = load_contexts(session, (record.fixmedins_code for _, record in records))
    batch_states = lock_batch_states(
        session,
        [
            fund_id
            for _, r in records
            if (context := contexts.get(r.fixmedins_code)) is not None
            and (fund_id := context.fund_ids.get(r.insutype)) is not None
        ],
    )
    states = lock_period_states(
        session,
        [(r.fixmedins_code, r.insutype) for _, r in records if r.fixmedins_code in contexts],
    )
    existing = _existing_hashes(session, [(r.fixmedins_code, r.setl_id) for _, r in records])
    recipients_on = recipients.holding_on(
        session,
        [(r.psn_no, business_date(r.setl_time)) for _, r in records if r.maf_pay > 0],
    )
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []
    pending: dict[tuple[str, str], tuple[int, str]] = {}  # key -> (index, hash) in this call
    for index, record in records:
        values = record.record()
        key = (record.fixmedins_code, record.setl_id)
        digest = rules.content_hash(values)
        stored = existing.get(key)
        if stored is not None or key in pending:
            stored_digest = stored[1] if stored is not None else pending[key][1]
            outcome = UploadOutcome.DUPLICATE if stored_digest == digest else UploadOutcome.CONFLICT
            outcomes.append(
                Outcome(index, record.setl_id, outcome, (), stored[0] if stored else None)
            )
            continue
        context = contexts.get(record.fixmedins_code)
        errors = rules.eligibility_errors(values, context, now)
        holds = (record.psn_no, business_date(values["setl_time"])) in recipients_on
        errors += rules.one_stop_errors(values, holds)
        if errors:
            outcomes.append(Outcome(index, record.setl_id, UploadOutcome.INVALID, tuple(errors)))
            continue
        assert context is not None
        day = business_date(values["setl_time"])
        fund_amount = rules.fund_amount(record.insutype, record.hifp_pay, record.hifob_pay)
        ratio = daily_rules.ratio_on(context.policies[record.insutype], day)
        rows.append(
            {
                "fixmedins_code": record.fixmedins_code,
                "setl_id": record.setl_id,
                "mdtrt_id": record.mdtrt_id,
                "psn_no": record.psn_no,
                "insutype": record.insutype,
                "med_type": record.med_type,
                "insuplc_admdvs": record.insuplc_admdvs,
                "setl_time": values["setl_time"],
                "setl_date": day,
                "medfee_sumamt_fen": record.medfee_sumamt,
                "hifp_pay_fen": record.hifp_pay,
                "hifob_pay_fen": record.hifob_pay,
                "fund_amount_fen": fund_amount,
                "fund_pay_sumamt_fen": record.fund_pay_sumamt,
                "psn_cash_pay_fen": record.psn_cash_pay,
                "acct_pay_fen": record.acct_pay,
                "clr_type": record.clr_type,
                "clr_way": record.clr_way,
                "inscp_scp_amt_fen": record.inscp_scp_amt,
                "hifmi_pay_fen": record.hifmi_pay,
                "cvlserv_pay_fen": record.cvlserv_pay,
                "hifes_pay_fen": record.hifes_pay,
                "maf_pay_fen": record.maf_pay,
                "oth_pay_fen": record.oth_pay,
                "region_code": context.region_code,
                "period": rules.assign_period(
                    day, states.get((record.fixmedins_code, record.insutype))
                ),
                "batch_date": rules.batch_date(
                    day, batch_states[context.fund_ids[record.insutype]]
                ),
                "ratio_bp": ratio,
                "daily_amount_fen": daily_rules.daily_amount(fund_amount, ratio),
                "content_hash": digest,
                "uploaded_at": now,
                "uploaded_by": actor.name,
            }
        )
        pending[key] = (index, digest)
        outcomes.append(Outcome(index, record.setl_id, UploadOutcome.CREATED))
    ids: dict[tuple[str, str], int] = {key: stored[0] for key, stored in existing.items()}
    if rows:
        for row, new_id in zip(rows, reserve_ids(session, SETTLEMENT, len(rows)), strict=True):
            row["id"] = new_id
            ids[(row["fixmedins_code"], row["setl_id"])] = new_id
        try:
            with session.begin_nested():
                insert_settlements(session, rows)
            failpoints.hit("settlements.bulk.after_rows")
        except IntegrityError:
            # Another upload of the same settlement committed meanwhile; nothing of this
            # request is stored, and replaying it gives every item its true outcome.
            raise Conflict(
                "a concurrent upload stored some of these settlements; send the request again"
            ) from None
    by_index = dict(records)
    result = []
    for item in outcomes:
        if item.settlement_id is None and item.outcome in (
            UploadOutcome.CREATED,
            UploadOutcome.DUPLICATE,
        ):
            stored_record = by_index[item.index]
            item = replace(
                item, settlement_id=ids[(stored_record.fixmedins_code, stored_record.setl_id)]
            )
        result.append(item)
    return result
