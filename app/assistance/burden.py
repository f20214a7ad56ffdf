"""The burden reminder (综合减负提醒, SPEC-ASSISTANCE A8; issue 22 item 5): a recipient's
self-paid cost of a year over the line (`burden_line_bp` of last year's income) raises one
alert per person-year for the case worker to arrange comprehensive relief before further
assistance.

Self-paid cost of an item = `medfee_sumamt` − every payer (the insurers and `maf_pay`; the
person's own account `acct_pay` and cash are the person's), floored at 0; of a person-year the
sum over its items (A4: the unrevoked settlements dated on or after the region's `610`
switch-on and the invoices of live applications). Read set-based: one grouped query per table
for every person of the year at once. Flush-only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.alerts.service import raise_alert
from app.assistance import items, policies
from app.assistance.deduction_models import DeductionRecord
from app.assistance.models import Recipient
from app.assistance.person_models import ApplicationInvoice, PersonPayment
from app.assistance.rules import DeductionKind, burden_line_exceeded
from app.money import yuan
from app.settlements.models import Revocation, Settlement

KIND = "assistance_burden"


def subject(region_code: str, psn_no: str, year: int) -> str:
    return f"{region_code}:{psn_no}:{year}"


@dataclass(frozen=True)
class Burden:
    """One person-year over its line."""

    psn_no: str
    region_code: str
    year: int
    self_paid_fen: int
    income_fen: int
    burden_line_bp: int

    @property
    def subject(self) -> str:
        return subject(self.region_code, self.psn_no, self.year)


@dataclass(frozen=True)
class Reminded:
    over_line: int  # person-years over their line
    raised: list[str]  # the subjects raised now (the others had theirs)
    resolved: list[str]  # open reminders whose person-year has its burden relief recorded now


def _floored(expression: ColumnElement[int]) -> ColumnElement[int]:
    return case((expression > 0, expression), else_=0)


def _settlement_self_paid(
    session: Session, year: int, since: dict[str, date], psn_nos: Collection[str] | None
) -> dict[str, int]:
    """Σ per person of the year's unrevoked settlements on or after their region's switch-on
    (`since`: region -> first day; a region without one has no items): one grouped query."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    switched = [
        and_(Recipient.region_code == region, Settlement.setl_date >= day)
        for region, day in since.items()
        if day <= last
    ]
    if not switched:
        return {}
    own = (
        Settlement.medfee_sumamt_fen
        - Settlement.hifp_pay_fen
        - Settlement.hifob_pay_fen
        - Settlement.hifmi_pay_fen
        - Settlement.cvlserv_pay_fen
        - Settlement.hifes_pay_fen
        - Settlement.oth_pay_fen
        - Settlement.maf_pay_fen
    )
    revoked = select(Revocation.id).where(Revocation.settlement_id == Settlement.id).exists()
    query = (
        select(Settlement.psn_no, func.sum(_floored(own)))
        .join(Recipient, Recipient.psn_no == Settlement.psn_no)
        .where(
            Settlement.setl_date >= first,
            Settlement.setl_date <= last,
            or_(false(), *switched),
            ~revoked,
        )
        .group_by(Settlement.psn_no)
    )
    if psn_nos is not None:
        query = query.where(Settlement.psn_no.in_(sorted(psn_nos)))
    return {psn_no: int(total) for psn_no, total in session.execute(query)}


def _invoice_self_paid(
    session: Session, year: int, psn_nos: Collection[str] | None
) -> dict[str, int]:
    """Σ per person of the year's invoices of live applications: one grouped query."""
    own = (
        ApplicationInvoice.medfee_sumamt_fen
        - ApplicationInvoice.hifp_pay_fen
        - ApplicationInvoice.hifob_pay_fen
        - ApplicationInvoice.hifmi_pay_fen
        - ApplicationInvoice.cvlserv_pay_fen
        - ApplicationInvoice.hifes_pay_fen
        - ApplicationInvoice.oth_pay_fen
    )
    query = (
        select(PersonPayment.psn_no, func.sum(_floored(own)))
        .join(PersonPayment, PersonPayment.id == ApplicationInvoice.payment_id)
        .where(
            ApplicationInvoice.active_invoice_no.is_not(None),
            ApplicationInvoice.invoice_date >= date(year, 1, 1),
            ApplicationInvoice.invoice_date <= date(year, 12, 31),
        )
        .group_by(PersonPayment.psn_no)
    )
    if psn_nos is not None:
        query = query.where(PersonPayment.psn_no.in_(sorted(psn_nos)))
    return {psn_no: int(total) for psn_no, total in session.execute(query)}


def self_paid(
    session: Session, year: int, psn_nos: Collection[str] | None = None
) -> dict[str, int]:
    """Self-paid cost of the year per person with items (all persons, or those given)."""
    regions = session.scalars(select(Recipient.region_code).distinct()).all()
    since = {
        region: day for region in regions if (day := items.switched_on(session, region)) is not None
    }
    totals = _settlement_self_paid(session, year, since, psn_nos)
    for psn_no, fen in _invoice_self_paid(session, year, psn_nos).items():
        totals[psn_no] = totals.get(psn_no, 0) + fen
    return totals


def over_the_line(
    session: Session, year: int, *, on: date, psn_nos: Collection[str] | None = None
) -> list[Burden]:
    """The person-years of `year` over their line, by psn_no. The line is the region's policy
    in force on `on` (capped to the year's last day); a region without a policy in force has
    no line (nobody is assisted there yet)."""
    paid = self_paid(session, year, psn_nos)
    if not paid:
        return []
    day = min(on, date(year, 12, 31))
    persons = session.execute(
        select(Recipient.psn_no, Recipient.region_code, Recipient.last_year_income_fen)
        .where(Recipient.psn_no.in_(sorted(paid)))
        .order_by(Recipient.psn_no)
    ).all()
    lines: dict[str, int | None] = {}
    found: list[Burden] = []
    for psn_no, region_code, income_fen in persons:
        if region_code not in lines:
            policy = policies.policy_on(session, region_code, day)
            lines[region_code] = None if policy is None else policy.burden_line_bp
        line_bp = lines[region_code]
        if line_bp is None or not burden_line_exceeded(paid[psn_no], income_fen, line_bp):
            continue
        found.append(Burden(psn_no, region_code, year, paid[psn_no], income_fen, line_bp))
    return found


def _percent(bp: int) -> str:
    return f"{(Decimal(bp) / 100).normalize():f}%"


def detail(burden: Burden) -> str:
    return (
        f"救助对象 {burden.psn_no}（统筹区 {burden.region_code}）{burden.year} 年个人自付费用 "
        f"{yuan(burden.self_paid_fen)} 元，超过上年度家庭收入 {yuan(burden.income_fen)} 元的 "
        f"{_percent(burden.burden_line_bp)}（综合减负线）：请经办人员先安排综合减负，再继续救助。"
    )


def remind(
    session: Session,
    year: int,
    *,
    on: date,
    now: datetime,
    psn_nos: Collection[str] | None = None,
) -> Reminded:
    """Raise the reminder of every person-year of `year` over its line that has none yet
    (one per person-year, ever: an acknowledged or resolved one is not raised again) and no
    burden relief (综合减负) recorded yet; resolve the open reminders of the year whose
    person-year has its relief recorded (the case worker arranged it: the reminder is done).
    Returns the subjects raised and resolved now and how many were over the line."""
    over = over_the_line(session, year, on=on, psn_nos=psn_nos)
    relieved = set(
        session.scalars(
            select(DeductionRecord.psn_no).where(
                DeductionRecord.type == DeductionKind.BURDEN_RELIEF.value,
                DeductionRecord.year == year,
            )
        )
    )
    alerts = session.scalars(
        select(Alert).where(Alert.kind == KIND, Alert.subject.like(f"%:{year}"))
    ).all()
    existing = {alert.subject for alert in alerts}
    resolved: list[str] = []
    for alert in alerts:
        if alert.resolved_at is None and _person(alert.subject) in relieved:
            alert.resolved_at = now
            resolved.append(alert.subject)
    raised: list[str] = []
    for burden in over:
        if burden.subject in existing or burden.psn_no in relieved:
            continue
        raise_alert(session, kind=KIND, subject=burden.subject, detail=detail(burden), now=now)
        raised.append(burden.subject)
    session.flush()
    return Reminded(over_line=len(over), raised=raised, resolved=resolved)


def _person(subject_: str) -> str:
    """The person of a reminder's subject `<region>:<psn_no>:<year>`."""
    return subject_.split(":", 1)[1].rsplit(":", 1)[0]
