"""The columns every payable document's table carries for the flow (`app.payables.service`):
who computed, confirmed, disputed and approved it and when, and its current payment. A kind's
model inherits them (after its own columns) and adds its amounts; `status_check()` is the
table's check on the status values of `machine.DocumentStatus`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime
from app.payables.machine import DocumentStatus


def status_check() -> CheckConstraint:
    """CHECK status IN (every DocumentStatus value), named "status" (as migrated)."""
    quoted = ", ".join(f"'{status.value}'" for status in DocumentStatus)
    return CheckConstraint(f"status IN ({quoted})", name="status")


class PayableColumns:
    """Mixin of the flow's columns (declared after the kind's own, as the migrations made
    them)."""

    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_by: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmation_reference: Mapped[str | None] = mapped_column(String(80))
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_reason: Mapped[str | None] = mapped_column(String(300))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    instruction_id: Mapped[str | None] = mapped_column(String(30))  # the current payment
    payment_result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
