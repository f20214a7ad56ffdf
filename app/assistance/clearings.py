"""Individual clearing (个人清算; SPEC-ASSISTANCE A7, A10 "Clearings"; issue 22 item 4): a
person-year computed afresh, its difference recorded as a result with an immutable,
content-hashed snapshot of its inputs; > 0 becomes a top-up (补差, approved by an accountant,
paid by the 610 submission), < 0 a person claim (posted receivable:P → expense). Real-time
clearings (a case worker's reference, idempotent on it) and the annual clearing of a region
and year (every recipient with an item, zero included). Flush-only; records its own trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, defer

from app.assistance import (
    claims,
    clearing_candidates,
    person_payments,
    policy_source,
    recipients,
)
from app.assistance.clearing_models import AnnualClearingRun, AssistanceClearing, ClearingSuggestion
from app.assistance.clearing_snapshot import canonical, inputs_hash, sha256, snapshot
from app.assistance.models import Recipient
from app.assistance.person_year import PersonYear, PolicyFor, person_year
from app.assistance.policy import Holding
from app.assistance.recovery import ClearingMode, Resolution, clearing_resolution
from app.auth.principal import Principal
from app.db import any_of, in_chunks
from app.errors import Conflict, Invalid, NotFound
from app.institutions.models import Region
from app.money import yuan
from app.trail import service as trail

REALTIME, ANNUAL = ClearingMode.REALTIME, ClearingMode.ANNUAL


def find(session: Session, reference: str) -> AssistanceClearing | None:
    return session.scalar(
        select(AssistanceClearing)
        .where(AssistanceClearing.reference == reference)
        .execution_options(populate_existing=True)
    )


def get(session: Session, reference: str) -> AssistanceClearing:
    row = find(session, reference)
    if row is None:
        raise NotFound(f"no clearing {reference}")
    return row


def recipients_of(session: Session, psn_nos: list[str]) -> list[Recipient]:
    """The register's rows of these persons, by psn_no (one query per chunk)."""
    found: list[Recipient] = []
    for chunk in in_chunks(session, psn_nos):
        found.extend(
            session.scalars(select(Recipient).where(any_of(session, Recipient.psn_no, chunk)))
        )
    return sorted(found, key=lambda row: row.psn_no)


def compute(session: Session, recipient: Recipient, year: int) -> tuple[PersonYear, list[Holding]]:
    """The person-year afresh (the stored policy of the person's region) and the categories held."""
    policy_for = policy_source.policy_for_region(session, recipient.region_code)
    found = person_year(session, recipient.psn_no, year, policy_for)
    return found, recipients.holdings(session, recipient.id)


def _store(
    session: Session,
    *,
    reference: str,
    found: PersonYear,
    holdings: list[Holding],
    mode: ClearingMode,
    resolution: Resolution | None,
    request_hash: str,
    actor: Principal,
    now: datetime,
) -> AssistanceClearing:
    text = canonical(snapshot(found, holdings))
    difference_fen = found.difference_fen
    row = AssistanceClearing(
        reference=reference,
        psn_no=found.psn_no,
        region_code=found.region_code,
        year=found.year,
        mode=mode.value,
        due_fen=found.due_fen,
        granted_fen=found.granted_fen,
        difference_fen=difference_fen,
        resolution=resolution.value if resolution else None,
        made_at=now,
        made_by=actor.name,
        request_hash=request_hash,
        inputs_hash=inputs_hash(found, holdings),
        snapshot=text,
        snapshot_hash=sha256(text),
    )
    session.add(row)
    session.flush()
    if difference_fen > 0:
        person_payments.add_top_up(
            session,
            reference=reference,
            psn_no=found.psn_no,
            region_code=found.region_code,
            amount_fen=difference_fen,
            actor=actor,
            now=now,
        )
    elif difference_fen < 0:
        assert resolution is not None
        claims.add_claim(
            session,
            reference=reference,
            psn_no=found.psn_no,
            region_code=found.region_code,
            year=found.year,
            amount_fen=-difference_fen,
            resolution=resolution,
            made_at=now,
            now=now,
        )
    session.execute(
        delete(ClearingSuggestion).where(
            ClearingSuggestion.psn_no == found.psn_no, ClearingSuggestion.year == found.year
        )
    )
    trail.record(
        session,
        actor=actor,
        action="assistance_clearing.make",
        entity="assistance_clearing",
        key=reference,
        before=None,
        after={
            "mode": mode.value,
            "psn_no": found.psn_no,
            "year": found.year,
            "difference": yuan(difference_fen),
            "resolution": row.resolution,
            "snapshot_hash": row.snapshot_hash,
        },
        now=now,
    )
    return row


def clear(
    session: Session,
    *,
    reference: str,
    psn_no: str,
    year: int,
    resolution: Resolution | None,
    actor: Principal,
    now: datetime,
) -> tuple[AssistanceClearing, bool]:
    """实时清算 of one person-year under the case worker's reference: (result, True) made,
    (result, False) the same request again. The difference is taken afresh; zero is 409
    `nothing-to-clear`; the reference with another request (or an annual result) 409."""
    request = {
        "psn_no": psn_no,
        "year": year,
        "resolution": resolution.value if resolution else None,
    }
    request_hash = sha256(canonical(request))
    existing = find(session, reference)
    if existing is None:
        recipient = recipients.get(session, psn_no)
        claims.lock_person(session, psn_no)  # one clearing of a person at a time
        existing = find(session, reference)
    if existing is not None:
        if existing.mode != REALTIME or existing.request_hash != request_hash:
            raise Conflict(
                f"clearing {reference} was made with other data", code="reference-conflict"
            )
        return existing, False
    found, holdings = compute(session, recipient, year)
    chosen = clearing_resolution(found.difference_fen, mode=REALTIME, requested=resolution)
    row = _store(
        session,
        reference=reference,
        found=found,
        holdings=holdings,
        mode=REALTIME,
        resolution=chosen,
        request_hash=request_hash,
        actor=actor,
        now=now,
    )
    return row, True


def annual_reference(year: int, psn_no: str) -> str:
    return f"Y{year}:{psn_no}"


def clear_year(
    session: Session, *, region_code: str, year: int, actor: Principal, now: datetime
) -> tuple[AnnualClearingRun, list[AssistanceClearing]]:
    """定时清算 of a region and year: every recipient of the region with at least one item in
    the year gets a result (zero included), reference `Y<year>:<psn_no>`; negative results are
    `next_period` claims. A second trigger of the same region and year is 409."""
    if session.get(Region, region_code) is None:
        raise Invalid.field("region", "region_exists", f"no region {region_code}")
    already = session.scalar(
        select(AnnualClearingRun).where(
            AnnualClearingRun.region_code == region_code, AnnualClearingRun.year == year
        )
    )
    if already is not None:
        raise Conflict(
            f"the annual clearing of {region_code} {year} was made on {already.made_at}",
            code="annual-clearing-exists",
        )
    run = AnnualClearingRun(
        region_code=region_code, year=year, persons=0, made_at=now, made_by=actor.name
    )
    session.add(run)
    session.flush()  # a concurrent second trigger fails on the unique key here
    persons = sorted(clearing_candidates.with_items(session, region_code, year))
    rows = []
    request_hash = sha256(canonical({"region": region_code, "year": year}))
    for recipient in recipients_of(session, persons):
        reference = annual_reference(year, recipient.psn_no)
        claims.lock_person(session, recipient.psn_no)
        if find(session, reference) is not None:
            raise Conflict(f"clearing {reference} exists already", code="reference-conflict")
        found, holdings = compute(session, recipient, year)
        if not found.result.items:
            continue
        resolution = clearing_resolution(found.difference_fen, mode=ANNUAL)
        rows.append(
            _store(
                session,
                reference=reference,
                found=found,
                holdings=holdings,
                mode=ANNUAL,
                resolution=resolution,
                request_hash=request_hash,
                actor=actor,
                now=now,
            )
        )
    run.persons = len(rows)
    session.flush()
    return run, rows


def listing(
    session: Session,
    *,
    psn_no: str | None,
    year: int | None,
    mode: str | None,
    after_id: int | None,
    limit: int,
) -> list[AssistanceClearing]:
    query = (
        select(AssistanceClearing)
        .options(defer(AssistanceClearing.snapshot))  # shown by the single read only
        .order_by(AssistanceClearing.id)
        .limit(limit)
    )
    for column, value in (
        (AssistanceClearing.psn_no, psn_no),
        (AssistanceClearing.year, year),
        (AssistanceClearing.mode, mode),
    ):
        if value is not None:
            query = query.where(column == value)
    if after_id is not None:
        query = query.where(AssistanceClearing.id > after_id)
    return list(session.scalars(query))


def scenario_rows_assistance_clearings(session: Session) -> list[dict[str, Any]]:
    """SCENARIOS.md `assistance_clearings`, sorted by reference (taken-back ones included:
    a result is never deleted)."""
    rows = session.scalars(select(AssistanceClearing).order_by(AssistanceClearing.reference))
    return [
        {
            "reference": row.reference,
            "psn_no": row.psn_no,
            "year": row.year,
            "mode": row.mode,
            "difference": yuan(row.difference_fen),
            "resolution": row.resolution,
        }
        for row in rows
    ]


def scenario_rows_assistance_persons(session: Session) -> list[dict[str, Any]]:
    """SCENARIOS.md `assistance_persons`: every person-year with an item or a non-zero
    granted, due and granted as of now, sorted by (year, psn_no)."""
    candidates = clearing_candidates.with_anything(session, None)
    rows = []
    policies: dict[str, PolicyFor] = {}
    for recipient in recipients_of(session, sorted(candidates)):
        region = recipient.region_code
        if region not in policies:
            policies[region] = policy_source.policy_for_region(session, region)
        policy_for = policies[region]
        for year in sorted(candidates[recipient.psn_no]):
            found = person_year(session, recipient.psn_no, year, policy_for)
            if found.result.items or found.granted_fen != 0:
                rows.append(
                    {
                        "year": year,
                        "psn_no": recipient.psn_no,
                        "due": yuan(found.due_fen),
                        "granted": yuan(found.granted_fen),
                    }
                )
    return sorted(rows, key=lambda row: (row["year"], row["psn_no"]))
