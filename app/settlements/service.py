"""Settlement intake: uploads (single and bulk), revocations, settlement lists,
reconciliation and the period rule. Set-based: one query per kind of lookup, multi-row
inserts, never a round trip per settlement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table, column, func, select, table, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import failpoints
from app.auth.service import Principal
from app.clock import business_date
from app.daily import rules as daily_rules
from app.db import any_of, dialect_insert, in_chunks, insert_rows, reserve_ids
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.institutions import service as institutions
from app.institutions.models import Enrollment, FundLedger, Institution, Region
from app.institutions.rules import Policy
from app.settlements import rules
from app.settlements import status as settlement_status
from app.settlements.models import (
    BatchState,
    PeriodState,
    Reconciliation,
    Revocation,
    Settlement,
    SettlementList,
)
from app.settlements.rules import InstitutionContext, SettlementStatus, UploadOutcome
from app.settlements.schemas import ReconciliationIn, SettlementIn

BULK_ITEMS_MAX = 5000
IN_CHUNK = 900
RECONCILE_IDS_REPORTED_MAX = 1000

_record_adapter = TypeAdapter(SettlementIn)
SETTLEMENT = cast(Table, Settlement.__table__)


@dataclass(frozen=True)
class Outcome:
    index: int
    setl_id: str | None
    outcome: UploadOutcome
    errors: tuple[FieldError, ...] = ()
    settlement_id: int | None = None


# --- context ---------------------------------------------------------------------------------


def load_contexts(session: Session, codes: Iterable[str]) -> dict[str, InstitutionContext]:
    """Institutions with their region, enrollments and fund ledger policies (4 queries)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(
        select(Institution, Region)
        .join(Region, Region.code == Institution.region_code)
        .where(Institution.code.in_(wanted))
    ).all()
    spans: dict[str, dict[str, list[tuple[date, date | None]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for enrollment in session.scalars(
        select(Enrollment).where(Enrollment.fixmedins_code.in_(wanted))
    ):
        spans[enrollment.fixmedins_code][enrollment.insutype].append(
            (enrollment.start_date, enrollment.end_date)
        )
    regions = {region.code for _, region in rows}
    policies: dict[tuple[str, str], tuple[Policy, ...]] = {}
    fund_ids: dict[tuple[str, str], int] = {}
    for fund in session.scalars(select(FundLedger).where(FundLedger.region_code.in_(regions))):
        policies[(fund.region_code, fund.insutype)] = tuple(institutions.policies(session, fund.id))
        fund_ids[(fund.region_code, fund.insutype)] = fund.id
    contexts = {}
    for institution, region in rows:
        contexts[institution.code] = InstitutionContext(
            code=institution.code,
            level=institution.level,
            region_code=region.code,
            division_prefixes=tuple(region.division_prefixes),
            med_type_prefixes=tuple(institution.med_type_prefixes),
            enrollments={k: tuple(v) for k, v in spans[institution.code].items()},
            policies={
                insutype: policies.get((region.code, insutype), ()) for insutype in ("310", "390")
            },
            fund_ids={
                insutype: fund_ids[(region.code, insutype)]
                for insutype in ("310", "390")
                if (region.code, insutype) in fund_ids
            },
        )
    return contexts


# --- periods ---------------------------------------------------------------------------------


def lock_period_states(
    session: Session, pairs: Iterable[tuple[str, str]], *, exclusive: bool = False
) -> dict[tuple[str, str], str | None]:
    """Declared-through period per (institution, insutype), locked for this transaction:
    shared for uploads and revocations, exclusive for declarations."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    statement = dialect_insert(session, PeriodState.__table__)
    session.execute(
        statement.on_conflict_do_nothing(),
        [{"fixmedins_code": c, "insutype": t, "declared_through": None} for c, t in wanted],
    )
    states: dict[tuple[str, str], str | None] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        query = (
            select(PeriodState)
            .where(tuple_(PeriodState.fixmedins_code, PeriodState.insutype).in_(chunk))
            .order_by(PeriodState.fixmedins_code, PeriodState.insutype)
            .with_for_update(read=not exclusive)
            .execution_options(populate_existing=True)
        )
        for state in session.scalars(query):
            states[(state.fixmedins_code, state.insutype)] = state.declared_through
    return states


def lock_batch_states(
    session: Session, fund_ids: Iterable[int], *, exclusive: bool = False
) -> dict[int, date | None]:
    """Last generated batch date per fund ledger, locked for this transaction: shared for
    uploads and revocations, exclusive for batch generation."""
    wanted = sorted(set(fund_ids))
    if not wanted:
        return {}
    statement = dialect_insert(session, BatchState.__table__)
    session.execute(
        statement.on_conflict_do_nothing(),
        [{"fund_ledger_id": fund_id, "last_generated_date": None} for fund_id in wanted],
    )
    rows = session.execute(
        select(BatchState.fund_ledger_id, BatchState.last_generated_date)
        .where(BatchState.fund_ledger_id.in_(wanted))
        .order_by(BatchState.fund_ledger_id)
        .with_for_update(read=not exclusive)
    ).all()
    return {fund_id: last for fund_id, last in rows}


# --- uploads ---------------------------------------------------------------------------------


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
    settlement = session.get(Settlement, outcome.settlement_id)
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
            rows = session.execute(
                select(Settlement.setl_id, Settlement.id, Settlement.content_hash).where(
                    Settlement.fixmedins_code == code, any_of(session, Settlement.setl_id, chunk)
                )
            )
            for setl_id, settlement_id, digest in rows:
                found[(code, setl_id)] = (settlement_id, digest)
    return found


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
                insert_rows(session, SETTLEMENT, rows)
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


# --- revocations and settlement lists --------------------------------------------------------


def get_settlement(session: Session, code: str, setl_id: str, *, actor: Principal) -> Settlement:
    if actor.is_hospital and actor.fixmedins_code != code:
        raise NotFound(f"no settlement {setl_id} of {code}")
    settlement = session.scalar(
        select(Settlement).where(Settlement.fixmedins_code == code, Settlement.setl_id == setl_id)
    )
    if settlement is None:
        raise NotFound(f"no settlement {setl_id} of {code}")
    return settlement


def revoke(
    session: Session, code: str, setl_id: str, reason: str, *, actor: Principal, now: datetime
) -> tuple[Revocation, bool]:
    """Revoke once (national 2305); repeating returns the first revocation."""
    settlement = get_settlement(session, code, setl_id, actor=actor)
    fund = institutions.get_fund_ledger(session, settlement.region_code, settlement.insutype)
    last_generated = lock_batch_states(session, [fund.id])[fund.id]
    states = lock_period_states(session, [(code, settlement.insutype)])
    # The settlement's row last: two revocations, or a revocation and an audit result, of
    # one settlement are applied one after the other.
    session.execute(
        select(Settlement.id).where(Settlement.id == settlement.id).with_for_update(key_share=True)
    )
    existing = session.scalar(select(Revocation).where(Revocation.settlement_id == settlement.id))
    if existing is not None:
        return existing, False
    if _has_audit_results(session, settlement.id):
        raise Conflict(
            f"settlement {setl_id} has audit results: correct it through the audit process"
        )
    revocation = Revocation(
        settlement_id=settlement.id,
        fixmedins_code=code,
        insutype=settlement.insutype,
        reason=reason,
        revoked_at=now,
        revoked_date=business_date(now),
        period=rules.revocation_period(settlement.period, states[(code, settlement.insutype)]),
        revoked_by=actor.name,
        batched=last_generated is not None and settlement.batch_date <= last_generated,
    )
    session.add(revocation)
    session.flush()
    return revocation, True


# Monthly's audit items refer to settlements (monthly imports settlements, not the other way):
# read by table name; tests/unit/test_imports.py keeps the import graph acyclic.
AUDIT_ITEM = table("audit_item", column("id"), column("settlement_id"))


def _has_audit_results(session: Session, settlement_id: int) -> bool:
    return (
        session.scalar(
            select(AUDIT_ITEM.c.id).where(AUDIT_ITEM.c.settlement_id == settlement_id).limit(1)
        )
        is not None
    )


def record_list(
    session: Session, code: str, setl_id: str, list_no: str, *, actor: Principal, now: datetime
) -> tuple[SettlementList, bool]:
    """Record the settlement list (4101A) of a settlement; idempotent, first number wins."""
    settlement = get_settlement(session, code, setl_id, actor=actor)
    existing = session.get(SettlementList, settlement.id)
    if existing is not None:
        if existing.list_no != list_no:
            raise Conflict(f"settlement {setl_id} already has settlement list {existing.list_no}")
        return existing, False
    row = SettlementList(
        settlement_id=settlement.id, list_no=list_no, recorded_at=now, recorded_by=actor.name
    )
    session.add(row)
    session.flush()
    return row, True


# --- reconciliation ---------------------------------------------------------------------------


def held_totals(
    session: Session, code: str, insutype: str, first: date, last: date
) -> dict[date, rules.DayTotals]:
    """Held totals of every day in [first, last] with activity (SPEC §3.2)."""
    settled = session.execute(
        select(
            Settlement.setl_date,
            func.count(),
            func.coalesce(func.sum(Settlement.fund_amount_fen), 0),
        )
        .where(
            Settlement.fixmedins_code == code,
            Settlement.insutype == insutype,
            Settlement.setl_date.between(first, last),
        )
        .group_by(Settlement.setl_date)
    ).all()
    revoked = session.execute(
        select(
            Revocation.revoked_date,
            func.count(),
            func.coalesce(func.sum(Settlement.fund_amount_fen), 0),
        )
        .join(Settlement, Settlement.id == Revocation.settlement_id)
        .where(
            Revocation.fixmedins_code == code,
            Revocation.insutype == insutype,
            Revocation.revoked_date.between(first, last),
        )
        .group_by(Revocation.revoked_date)
    ).all()
    return rules.held_totals(
        [(d, int(c), int(f)) for d, c, f in settled], [(d, int(c), int(f)) for d, c, f in revoked]
    )


def reconcile(
    session: Session, data: ReconciliationIn, *, actor: Principal, now: datetime
) -> Reconciliation:
    """Compare the hospital's totals of a day with the held totals; store the result."""
    if actor.is_hospital and actor.fixmedins_code != data.fixmedins_code:
        raise NotFound(f"no institution {data.fixmedins_code!r}")
    if session.get(Institution, data.fixmedins_code) is None:
        raise NotFound(f"no institution {data.fixmedins_code!r}")
    if data.setl_date > business_date(now):
        raise Invalid.field("setl_date", "not_in_future", "a day is reconciled once it has begun")
    held = held_totals(session, data.fixmedins_code, data.insutype, data.setl_date, data.setl_date)
    totals = held.get(data.setl_date, rules.DayTotals(0, 0))
    differences: list[dict[str, str]] = []
    if data.setl_ids is not None:
        held_ids = set(
            session.scalars(
                select(Settlement.setl_id)
                .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
                .where(
                    Settlement.fixmedins_code == data.fixmedins_code,
                    Settlement.insutype == data.insutype,
                    Settlement.setl_date == data.setl_date,
                    # Held on that day: a revocation on a later day counts on its own day
                    # (as the held totals do), so it does not leave this day's list.
                    Revocation.id.is_(None) | (Revocation.revoked_date > data.setl_date),
                )
            )
        )
        sent = set(data.setl_ids)
        differences = [{"setl_id": i, "issue": "not_held"} for i in sorted(sent - held_ids)]
        differences += [{"setl_id": i, "issue": "not_sent"} for i in sorted(held_ids - sent)]
        differences = differences[:RECONCILE_IDS_REPORTED_MAX]
    matches = (data.count, data.fund_amount) == (totals.count, totals.fund_fen)
    row = Reconciliation(
        fixmedins_code=data.fixmedins_code,
        insutype=data.insutype,
        setl_date=data.setl_date,
        submitted_count=data.count,
        submitted_fund_fen=data.fund_amount,
        held_count=totals.count,
        held_fund_fen=totals.fund_fen,
        status=rules.reconciliation_status(matches, differences),
        differences=differences,
        submitted_at=now,
        submitted_by=actor.name,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class DayStatus:
    day: date
    held: rules.DayTotals
    status: rules.DayReconciliation


def day_statuses(
    session: Session, code: str, insutype: str, first: date, last: date
) -> list[DayStatus]:
    """Every day with activity in [first, last] and whether it is reconciled *now*: its latest
    reconciliation matched totals equal to the current held totals (SPEC §3.2)."""
    held = held_totals(session, code, insutype, first, last)
    latest_ids = (
        select(func.max(Reconciliation.id))
        .where(
            Reconciliation.fixmedins_code == code,
            Reconciliation.insutype == insutype,
            Reconciliation.setl_date.between(first, last),
        )
        .group_by(Reconciliation.setl_date)
    )
    latest = {
        row.setl_date: row
        for row in session.scalars(select(Reconciliation).where(Reconciliation.id.in_(latest_ids)))
    }
    result = []
    for day in sorted(set(held) | set(latest)):
        totals = held.get(day, rules.DayTotals(0, 0))
        row = latest.get(day)
        if row is None:
            status = (
                rules.DayReconciliation.RECONCILED
                if totals == rules.DayTotals(0, 0)
                else rules.DayReconciliation.UNRECONCILED
            )
        elif (row.held_count, row.held_fund_fen) != (totals.count, totals.fund_fen):
            # the held totals changed after it was reconciled
            status = rules.DayReconciliation.UNRECONCILED
        else:
            status = rules.DayReconciliation(row.status)
        if status == rules.DayReconciliation.RECONCILED and row is None:
            continue  # a day without activity counts as reconciled; not listed
        result.append(DayStatus(day, totals, status))
    return result


def unreconciled_days(
    session: Session, code: str, insutype: str, days: Iterable[date]
) -> list[date]:
    """Days (of those given) that are not reconciled now."""
    wanted = sorted(set(days))
    if not wanted:
        return []
    statuses = day_statuses(session, code, insutype, wanted[0], wanted[-1])
    wanted_set = set(wanted)
    return [
        s.day
        for s in statuses
        if s.day in wanted_set and s.status != rules.DayReconciliation.RECONCILED
    ]


# --- listing ---------------------------------------------------------------------------------


def list_settlements(
    session: Session,
    *,
    fixmedins_code: str | None,
    insutype: str | None,
    setl_date: date | None,
    period: str | None,
    status: SettlementStatus | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[Settlement, Revocation | None, str | None]]:
    query = (
        select(Settlement, Revocation, SettlementList.list_no)
        .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
        .outerjoin(SettlementList, SettlementList.settlement_id == Settlement.id)
        .order_by(Settlement.id)
        .limit(limit)
    )
    filters = [
        (fixmedins_code, Settlement.fixmedins_code),
        (insutype, Settlement.insutype),
        (setl_date, Settlement.setl_date),
        (period, Settlement.period),
    ]
    for value, field in filters:
        if value is not None:
            query = query.where(field == value)
    if after_id is not None:
        query = query.where(Settlement.id > after_id)
    query = _status_filter(query, status)
    return [(s, r, n) for s, r, n in session.execute(query).all()]


def _status_filter(query: Any, status: SettlementStatus | None) -> Any:
    if status is None:
        return query
    return query.where(settlement_status.condition(status))


def statuses_of(session: Session, settlement_ids: Sequence[int]) -> dict[int, SettlementStatus]:
    return settlement_status.of(session, settlement_ids)
