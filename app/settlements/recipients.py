"""Who holds a medical-assistance category on a day (SPEC-ASSISTANCE A3 `not_a_recipient`),
read for a whole upload at once. The register belongs to app/assistance, which sits above
settlements: its tables are named here in SQL (docs/architecture.md) and
tests/unit/test_settlement_recipient_tables.py checks the names against the models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import BigInteger, Date, String, column, select, table
from sqlalchemy.orm import Session

from app.db import any_of, in_chunks

RECIPIENT = table("recipient", column("id", BigInteger), column("psn_no", String))
RECIPIENT_CATEGORY = table(
    "recipient_category",
    column("recipient_id", BigInteger),
    column("valid_from", Date),
    column("valid_to", Date),
)


def holding_on(session: Session, wanted: Iterable[tuple[str, date]]) -> set[tuple[str, date]]:
    """The (psn_no, day) pairs of `wanted` on which the person holds any category
    (`valid_to` inclusive, null open); one query per chunk of persons."""
    pairs = set(wanted)
    if not pairs:
        return set()
    spans: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for chunk in in_chunks(session, sorted({psn_no for psn_no, _ in pairs})):
        rows = session.execute(
            select(
                RECIPIENT.c.psn_no, RECIPIENT_CATEGORY.c.valid_from, RECIPIENT_CATEGORY.c.valid_to
            )
            .join(RECIPIENT_CATEGORY, RECIPIENT_CATEGORY.c.recipient_id == RECIPIENT.c.id)
            .where(any_of(session, RECIPIENT.c.psn_no, chunk))
        )
        for psn_no, valid_from, valid_to in rows:
            spans[psn_no].append((valid_from, valid_to))
    return {
        (psn_no, day)
        for psn_no, day in pairs
        if any(start <= day and (end is None or day <= end) for start, end in spans[psn_no])
    }
