"""Real-time clearing suggestions (实时清算提示; SPEC-ASSISTANCE A7): the 06:00 job finds the
person-years whose items, deductions or categories changed since their last clearing (or that
were never cleared) and whose difference is not zero, and stores them as the list a case
worker clears from; nothing clears by itself. A clearing removes its person-year's suggestion;
a result taken back (its top-up rejected) does not count as a last clearing. Flush-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.assistance import clearing_candidates, clearings, recipients
from app.assistance.clearing_models import AssistanceClearing, ClearingSuggestion
from app.assistance.clearing_snapshot import inputs_hash
from app.assistance.recovery import Resolution
from app.auth.principal import Principal
from app.errors import Conflict, Invalid

REFERENCE_MAX = 40


def _last_inputs(session: Session, region_code: str) -> dict[tuple[str, int], str]:
    """The inputs hash of each person-year's last clearing not taken back (one query)."""
    rows = session.execute(
        select(AssistanceClearing.psn_no, AssistanceClearing.year, AssistanceClearing.inputs_hash)
        .where(
            AssistanceClearing.region_code == region_code,
            AssistanceClearing.taken_back_at.is_(None),
        )
        .order_by(AssistanceClearing.id)
    ).all()
    return {(psn_no, year): digest for psn_no, year, digest in rows}


def refresh(session: Session, region_code: str, *, now: datetime) -> list[ClearingSuggestion]:
    """Replace the region's suggestions by what is found now (one person-year computation per
    candidate)."""
    last = _last_inputs(session, region_code)
    candidates = clearing_candidates.with_anything(session, region_code)
    found: list[ClearingSuggestion] = []
    for recipient in clearings.recipients_of(session, sorted(candidates)):
        for year in sorted(candidates[recipient.psn_no]):
            person_year, holdings = clearings.compute(session, recipient, year)
            if person_year.difference_fen == 0:
                continue
            if last.get((recipient.psn_no, year)) == inputs_hash(person_year, holdings):
                continue  # nothing changed since the last clearing
            found.append(
                ClearingSuggestion(
                    psn_no=recipient.psn_no,
                    region_code=region_code,
                    year=year,
                    difference_fen=person_year.difference_fen,
                    found_at=now,
                )
            )
    session.execute(delete(ClearingSuggestion).where(ClearingSuggestion.region_code == region_code))
    session.add_all(found)
    session.flush()
    return found


def listing(session: Session, region_code: str | None) -> list[ClearingSuggestion]:
    query = select(ClearingSuggestion).order_by(
        ClearingSuggestion.region_code, ClearingSuggestion.psn_no, ClearingSuggestion.year
    )
    if region_code is not None:
        query = query.where(ClearingSuggestion.region_code == region_code)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Outcome:
    psn_no: str
    year: int
    reference: str
    clearing: clearings.AssistanceClearing | None  # None: skipped
    created: bool = False
    skipped: str | None = None  # `nothing-to-clear`


def batch_reference(prefix: str, psn_no: str, year: int) -> str:
    return f"{prefix}:{psn_no}:{year}"


def clear_many(
    session: Session,
    *,
    region_code: str,
    reference_prefix: str,
    persons: list[tuple[str, int]] | None,
    resolution: Resolution | None,
    actor: Principal,
    now: datetime,
) -> list[Outcome]:
    """A case worker clears several person-years (`persons`) or every suggestion of the region
    (None), each under `<reference_prefix>:<psn_no>:<year>`: a replay of a reference already
    cleared with the same request, a zero difference skipped (`nothing-to-clear`)."""
    if persons is None:
        persons = [(row.psn_no, row.year) for row in listing(session, region_code)]
    for index, (psn_no, year) in enumerate(persons):
        if len(batch_reference(reference_prefix, psn_no, year)) > REFERENCE_MAX:
            raise Invalid.field(
                f"persons.{index}.psn_no",
                "reference_too_long",
                f"{batch_reference(reference_prefix, psn_no, year)} is longer than "
                f"{REFERENCE_MAX} characters: use a shorter reference_prefix",
            )
    outcomes = []
    for psn_no, year in dict.fromkeys(persons):
        reference = batch_reference(reference_prefix, psn_no, year)
        recipient = recipients.get(session, psn_no)
        if recipient.region_code != region_code:
            raise Invalid.field("persons", "person_of_region", f"{psn_no} is not of {region_code}")
        try:
            row, created = clearings.clear(
                session,
                reference=reference,
                psn_no=psn_no,
                year=year,
                resolution=resolution,
                actor=actor,
                now=now,
            )
        except Conflict as refused:
            if refused.code != "nothing-to-clear":
                raise
            outcomes.append(Outcome(psn_no, year, reference, None, skipped=refused.code))
            continue
        outcomes.append(Outcome(psn_no, year, reference, row, created))
    return outcomes
