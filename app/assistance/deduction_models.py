"""The deduction data of individual clearing (扣减数据, SPEC-ASSISTANCE A7, issue 22 item 3).

One row per record a case worker entered or imported, idempotent on its own `reference`.
A per-item deduction names its item (`fixmedins_code` + `setl_id`, or `invoice_no`; `item_key`
is the rules' key `S:<fixmedins_code>:<setl_id>` / `I:<invoice_no>`); burden relief names a
person-year. `year` is the item's year for a per-item deduction (an item's date never
changes), the named year for relief: the person-year reads its deductions by (psn_no, year).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.assistance.rules import DeductionKind
from app.db import Base, BigId, Fen, UTCDateTime
from app.settlements.models import Settlement

KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in DeductionKind)


class DeductionRecord(Base):
    __tablename__ = "assistance_deduction"
    __table_args__ = (
        CheckConstraint(f"type IN ({KIND_VALUES})", name="type"),
        CheckConstraint("amount_fen > 0", name="amount"),
        CheckConstraint(
            "(type = 'burden_relief' AND item_key IS NULL) "
            "OR (type <> 'burden_relief' AND item_key IS NOT NULL)",
            name="names_item_or_year",
        ),
        Index("ix_assistance_deduction_person_year", "psn_no", "year", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    psn_no: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    fixmedins_code: Mapped[str | None] = mapped_column(String(12))
    setl_id: Mapped[str | None] = mapped_column(String(30))
    invoice_no: Mapped[str | None] = mapped_column(String(40))
    item_key: Mapped[str | None] = mapped_column(String(80))
    amount_fen: Mapped[int] = mapped_column(Fen)
    content_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


# The person-year (app/assistance/person_year.py) reads a person's settlements of a year in
# one query: settlements had no index by person. Declared here, by the reader that needs it,
# so app/settlements stays unaware of assistance (the migration 0022 creates it).
SETTLEMENT_BY_PERSON = Index("ix_settlement_person", Settlement.psn_no, Settlement.setl_date)
