"""The stored items of the assistance computation (SPEC-ASSISTANCE A4, A10 "Items"), read
set-based: a person's settlements of a year in one query, the settlements a batch of
deductions names in one query per chunk, and the region's `610` switch-on date.

An item is a settlement of a person in the register dated (Shanghai date) on or after the
day the person's region switched its `610` fund on, not revoked, whatever its `maf_pay`
(zero included); and, with applications (issue 22 part 2), each invoice of an application.
The invoice side is a seam: `invoice_items` and `find_invoices` answer nothing until the
applications' table exists; part 2 fills them in and nothing else here changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.assistance.policy import Insurers, Item, gross_base, visit_of
from app.institutions import rules as institution_rules
from app.institutions import service as institutions
from app.institutions.models import ASSISTANCE_INSUTYPE
from app.settlements.models import Revocation, Settlement

PAIRS_PER_QUERY = 400  # (fixmedins_code, setl_id) pairs: two bound parameters each


def settlement_key(fixmedins_code: str, setl_id: str) -> str:
    return f"S:{fixmedins_code}:{setl_id}"


def invoice_key(invoice_no: str) -> str:
    return f"I:{invoice_no}"


def switched_on(session: Session, region_code: str) -> date | None:
    """The first day of the region's `610` fund (its first active policy version), None
    while the region has none: no settlement is an item then."""
    fund = institutions.find_fund_ledger(session, region_code, ASSISTANCE_INSUTYPE)
    if fund is None:
        return None
    return institution_rules.switched_on_from(institutions.policies(session, fund.id))


@dataclass(frozen=True)
class StoredItem:
    """An item as stored, with what the person-year shows besides the rules' Item."""

    item: Item
    maf_pay_fen: int  # the hospital's advance (granted); 0 for an invoice


def _settlement_item(row: Settlement) -> StoredItem:
    insurers = Insurers(
        hifp_fen=row.hifp_pay_fen,
        hifob_fen=row.hifob_pay_fen,
        hifmi_fen=row.hifmi_pay_fen,
        cvlserv_fen=row.cvlserv_pay_fen,
        hifes_fen=row.hifes_pay_fen,
        oth_fen=row.oth_pay_fen,
    )
    item = Item(
        key=settlement_key(row.fixmedins_code, row.setl_id),
        at=row.setl_time,
        visit=visit_of(row.med_type),
        gross_base_fen=gross_base(row.inscp_scp_amt_fen, insurers),
    )
    return StoredItem(item, row.maf_pay_fen)


def settlement_items(
    session: Session, psn_no: str, year: int, *, since: date | None
) -> list[StoredItem]:
    """The person's unrevoked settlements dated in `year` and on or after `since` (the
    switch-on; None: none at all), in one query."""
    if since is None:
        return []
    first = max(since, date(year, 1, 1))
    last = date(year, 12, 31)
    if first > last:
        return []
    revoked = select(Revocation.id).where(Revocation.settlement_id == Settlement.id).exists()
    rows = session.scalars(
        select(Settlement)
        .where(
            Settlement.psn_no == psn_no,
            Settlement.setl_date >= first,
            Settlement.setl_date <= last,
            ~revoked,
        )
        .order_by(Settlement.setl_time, Settlement.id)
    )
    return [_settlement_item(row) for row in rows]


def invoice_items(session: Session, psn_no: str, year: int) -> list[StoredItem]:
    """SEAM (issue 22 part 2): the invoices of the person's unrejected applications dated in
    `year`, as items (`invoice_key`, `invoice_time(date)`, their visit, their gross base).
    No applications are stored yet: none."""
    del session, psn_no, year
    return []


@dataclass(frozen=True)
class NamedItem:
    """What a deduction needs to know of the item it names."""

    psn_no: str
    day: date
    revoked: bool


def find_settlements(
    session: Session, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], NamedItem]:
    """The settlements of the given (fixmedins_code, setl_id) pairs, revoked ones flagged;
    one query per chunk of pairs."""
    wanted = sorted(set(pairs))
    found: dict[tuple[str, str], NamedItem] = {}
    for start in range(0, len(wanted), PAIRS_PER_QUERY):
        chunk = wanted[start : start + PAIRS_PER_QUERY]
        rows = session.execute(
            select(
                Settlement.fixmedins_code,
                Settlement.setl_id,
                Settlement.psn_no,
                Settlement.setl_date,
                Revocation.id,
            )
            .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
            .where(tuple_(Settlement.fixmedins_code, Settlement.setl_id).in_(chunk))
        )
        for code, setl_id, psn_no, day, revocation_id in rows:
            found[(code, setl_id)] = NamedItem(psn_no, day, revocation_id is not None)
    return found


def find_invoices(session: Session, invoice_nos: Sequence[str]) -> dict[str, NamedItem]:
    """SEAM (issue 22 part 2): the invoices of the given numbers (of an unrejected
    application; a rejected application's invoices count as revoked). None stored yet."""
    del session, invoice_nos
    return {}
