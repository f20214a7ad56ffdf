"""Reads of the case worker's assistance pages (救助对象): the register searched by number or
name, a person's payments, claims and deductions, and their person-year through the
assistance services. No rule here: the services compute, this module gathers (each list one
bounded query)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.assistance import claims, items, person_reads, policy_source, recipients, register
from app.assistance.models import Recipient, RecipientCategory
from app.assistance.person_models import PersonClaim, PersonPayment
from app.assistance.person_year import PersonYear, person_year
from app.assistance.policy import Holding
from app.auth.principal import Principal

PEOPLE_MAX = 500
PAYMENTS_MAX = 200
CLAIMS_MAX = 200
NAME_CHARS_MAX = 50


@dataclass(frozen=True)
class PersonRow:
    """A recipient as the list shows it: the certificate number masked but for admins."""

    psn_no: str
    name: str
    certno: str
    region_code: str
    holdings: tuple[Holding, ...]
    bank_ready: bool


def _shown_certno(certno: str, viewer: Principal) -> str:
    return certno if viewer.role == "admin" else register.mask_certno(certno)


def _row(recipient: Recipient, held: Sequence[Holding], viewer: Principal) -> PersonRow:
    return PersonRow(
        psn_no=recipient.psn_no,
        name=recipient.name,
        certno=_shown_certno(recipient.certno, viewer),
        region_code=recipient.region_code,
        holdings=tuple(held),
        bank_ready=bool(
            recipient.bank_account and recipient.bank_account_name and recipient.bank_code
        ),
    )


def search(
    session: Session,
    viewer: Principal,
    *,
    text: str | None,
    region_code: str | None,
    category: str | None,
    after_psn_no: str | None,
    limit: int,
) -> list[PersonRow]:
    """Recipients by psn_no: `text` matches the number's start or a part of the name; with
    `category`, those who ever held it. At most `limit` rows (the caller reads one more)."""
    assert 0 < limit <= PEOPLE_MAX + 1
    query = select(Recipient).order_by(Recipient.psn_no).limit(limit)
    if text:
        query = query.where(
            or_(
                Recipient.psn_no.startswith(text, autoescape=True),
                Recipient.name.contains(text[:NAME_CHARS_MAX], autoescape=True),
            )
        )
    if region_code is not None:
        query = query.where(Recipient.region_code == region_code)
    if category is not None:
        query = query.where(
            exists().where(
                RecipientCategory.recipient_id == Recipient.id,
                RecipientCategory.category == category,
            )
        )
    if after_psn_no is not None:
        query = query.where(Recipient.psn_no > after_psn_no)
    people = list(session.scalars(query))
    held = recipients.holdings_of(session, [p.id for p in people])
    return [_row(p, held[p.id], viewer) for p in people]


def person(session: Session, psn_no: str, viewer: Principal) -> PersonRow:
    """One recipient (404 when not in the register)."""
    found = recipients.get(session, psn_no)
    return _row(found, recipients.holdings(session, found.id), viewer)


def year_of(session: Session, psn_no: str, year: int) -> PersonYear:
    """The person-year afresh from everything stored, under the region's stored policy."""
    found = recipients.get(session, psn_no)
    policy_for = policy_source.policy_for_region(session, found.region_code)
    return person_year(session, psn_no, year, policy_for)


def payments(session: Session, psn_no: str) -> list[PersonPayment]:
    """The person's payments, newest first (at most PAYMENTS_MAX)."""
    rows = person_reads.listing(
        session, psn_no=psn_no, kind=None, status=None, after_id=None, limit=PAYMENTS_MAX
    )
    return sorted(rows, key=lambda p: p.id, reverse=True)


def person_claims(session: Session, psn_no: str) -> list[PersonClaim]:
    """The person's claims (negative clearing results), oldest first."""
    return list(
        session.scalars(
            select(PersonClaim)
            .where(PersonClaim.psn_no == psn_no)
            .order_by(PersonClaim.made_at, PersonClaim.reference)
            .limit(CLAIMS_MAX)
        )
    )


def receivable_fen(session: Session, psn_no: str) -> int:
    """What the person owes in all (Σ open claims; the register's region and any other)."""
    return sum(row["balance_fen"] for row in claims.receivables(session, psn_no=psn_no))


def years_offered(this_year: int, chosen: int, first: date | None) -> list[int]:
    """The year selector: from the region's 610 switch-on year (or five years back) to this
    year, the chosen one included."""
    start = first.year if first is not None else this_year - 5
    years = set(range(max(start, this_year - 10), this_year + 1)) | {chosen}
    return sorted(years, reverse=True)


def switched_on(session: Session, region_code: str) -> date | None:
    return items.switched_on(session, region_code)
